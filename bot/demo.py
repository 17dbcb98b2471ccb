"""`dondoc demo`: the default plan on a fresh SQLite database, no token and no set-up needed."""

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from data import DEFAULT_PLAN
from messages import t
from models.db import make_engine, session_scope, upgrade_schema
from services.overview import render_overview
from services.plan_files import read_plan
from services.plan_store import import_plan
from services.schools import resolve_school


def run_demo(out_dir: Path, now: datetime) -> str:
    out_dir.mkdir(parents=True, exist_ok=True)
    database = out_dir / "dondoc-demo.db"
    for leftover in (database, *(database.with_name(database.name + s) for s in ("-wal", "-shm"))):
        leftover.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{database}")
    try:
        upgrade_schema(engine)
        plan = read_plan(DEFAULT_PLAN)
        with session_scope(engine) as session:
            import_plan(session, plan, now=now)
        with session_scope(engine) as session:
            school = resolve_school(session, None)
            today = now.astimezone(ZoneInfo(school.timezone)).date()
            overview = render_overview(session, school, today)
    finally:
        engine.dispose()
    return "\n".join([overview, "", t("overview.demo_db", path=database), t("overview.next_steps")])
