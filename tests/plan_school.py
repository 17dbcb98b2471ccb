"""A school made from a plan file and a staff list written in the test, as a school would write
them: the shared set-up of the plan-file tests."""

from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import School
from models.db import session_scope
from services.people import import_people
from services.plan_files import dump_text, read_plan, write_workbook
from services.plan_store import export_plan, import_plan


def plan_file(folder: Path, text: str, name: str = "ke-hoach.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def import_school(engine: Engine, plan: Path, people: str, now: datetime) -> Engine:
    """The plan imported at `now`, then the staff list (CSV text) beside it."""
    staff = plan_file(plan.parent, people, "can-bo.csv")
    with session_scope(engine) as session:
        import_plan(session, read_plan(plan), now=now)
        import_people(session, session.exec(select(School)).one(), staff)
    return engine


def exported_again(engine: Engine, folder: Path, fmt: str) -> Path:
    """The school's plan exported as a `fmt` file (yaml, json or xlsx), for reading back."""
    with Session(engine) as session:
        plan = export_plan(session, session.exec(select(School)).one())
    path = folder / f"again.{fmt}"
    if fmt == "xlsx":
        write_workbook(plan, path)
    else:
        path.write_text(dump_text(plan, fmt), encoding="utf-8")
    return path
