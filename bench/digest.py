"""How long one school's weekly digest takes (data, workbook, chart), whether the database holds
1, 10, 100 or 1,000 schools. Not a test: run `python -m bench.digest` and read the table (it is
also written to bench/results/digest.md).

The schools are the default plan with the demo staff, each task given to someone of its unit and
reported on over the term; one school is built through the services, the others are row-for-row
copies of it under their own code (bulk inserts), so 1,000 schools take seconds. SQLite by
default; `BENCH_DATABASE_URL=postgresql://...` runs it on PostgreSQL (that database is wiped);
`BENCH_LABEL=before` files the table under its own heading in bench/results/digest.md.
"""

import os
import platform
import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

import models  # noqa: F401  (registers every table)
from data import DEFAULT_PLAN, DEMO_PEOPLE
from models import Kpi, Member, Membership, School, Task, TaskStatus, UpdateSource
from models.db import make_engine, session_scope, upgrade_schema
from services.assignments import assign
from services.digest import compile_digest
from services.digest_files import write_chart, write_workbook
from services.kpis import parse_value, record_value
from services.people import import_people
from services.plan_files import read_plan
from services.plan_store import import_plan
from services.progress import record_progress

IMPORTED = datetime(2026, 9, 1, 1, 0, tzinfo=UTC)
START = datetime(2026, 11, 29, 17, 0, tzinfo=UTC)  # Monday 30/11/2026 00:00 in Hồ Chí Minh City
END = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)  # Friday 10:00, when the digest goes out
SIZES = (1, 10, 100, 1000)
RUNS = 20
# The rows of one school, parents first; every other table stays empty in the copies.
COPIED = (
    "school", "holiday", "unit", "member", "membership", "oversight", "task", "task_assignee",
    "task_support", "progress_update", "kpi", "kpi_value",
)  # fmt: skip
RESULTS = Path(__file__).parent / "results" / "digest.md"
HEADING = (
    "# The weekly digest of one school: data + workbook + chart (`python -m bench.digest`)\n\n"
)


@dataclass(frozen=True)
class Timing:
    schools: int
    data: list[float]
    workbook: list[float]
    chart: list[float]
    total: list[float]
    cpu: list[float]  # this process's CPU time for the whole digest: what load elsewhere hides


def wiped_engine(url: str) -> Engine:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    upgrade_schema(engine)
    return engine


def build_school(engine: Engine) -> int:
    """The default plan and the demo staff, every task given to someone of its unit, about two
    thirds of them reported on (some this week, a few blocked or done), KPI values recorded."""
    rng = random.Random(71)
    with session_scope(engine) as session:
        import_plan(session, read_plan(DEFAULT_PLAN), now=IMPORTED)
        school = session.exec(select(School)).one()
        import_people(session, school, DEMO_PEOPLE)
        people = session.exec(
            select(Membership.unit_id, Member).join(
                Member, col(Member.id) == col(Membership.member_id)
            )
        ).all()
        by_unit: dict[int, list[Member]] = {}
        for unit_id, member in people:
            by_unit.setdefault(unit_id, []).append(member)
        everyone = [member for _, member in people]
        for task in session.exec(
            select(Task).where(Task.school_id == school.id).order_by(col(Task.id))
        ):
            staff = by_unit.get(task.unit_id) or everyone
            who = rng.choice(staff)
            assign(session, task, [who], by=None, now=IMPORTED)
            if rng.random() < 0.3:
                continue
            moments = [IMPORTED + timedelta(days=rng.randint(7, 80), hours=rng.randint(0, 10))]
            moments.append(moments[0] + timedelta(days=rng.randint(3, 20)))
            moments.append(START + timedelta(hours=rng.randint(1, 100)))  # this week
            for moment in sorted(rng.sample(moments, rng.randint(1, 3))):
                roll = rng.random()
                status = (
                    TaskStatus.BLOCKED if roll < 0.1 else TaskStatus.DONE if roll > 0.85 else None
                )
                percent = None if status else min(100, task.progress + rng.randint(10, 40))
                note = f"Đã triển khai phần việc {task.code}, còn chờ ý kiến tổ"
                record_progress(session, task, who, source=UpdateSource.COMMAND, now=moment,
                                percent=percent, status=status, note=note)  # fmt: skip
        for kpi in session.exec(select(Kpi).where(Kpi.school_id == school.id)):
            text = "có" if kpi.direction == "yes_no" else f"{rng.randint(80, 99)}"
            parsed = parse_value(text, kpi)
            if parsed is not None:
                record_value(session, kpi, parsed, everyone[0], IMPORTED + timedelta(days=40))
        return school.id


def template_rows(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    tables = SQLModel.metadata.tables
    with engine.connect() as connection:
        return {
            name: [dict(row._mapping) for row in connection.execute(sa.select(tables[name]))]
            for name in COPIED
        }


def add_copies(engine: Engine, rows: dict[str, list[dict[str, Any]]], first: int, count: int):
    """Schools number `first` to `first + count - 1`: the template's rows, new ids, own code."""
    tables = SQLModel.metadata.tables
    with engine.begin() as connection:
        next_id = {
            name: (connection.execute(sa.select(sa.func.max(tables[name].c.id))).scalar() or 0) + 1
            for name in COPIED
            if "id" in tables[name].c
        }
        batches: dict[str, list[dict[str, Any]]] = {name: [] for name in COPIED}
        for number in range(first, first + count):
            new_ids: dict[str, dict[int, int]] = {}
            for name in COPIED:
                table = tables[name]
                if "id" in table.c:
                    new_ids[name] = {}
                    for row in rows[name]:
                        new_ids[name][row["id"]] = next_id[name]
                        next_id[name] += 1
                for row in rows[name]:
                    copy = dict(row)
                    if "id" in copy:
                        copy["id"] = new_ids[name][row["id"]]
                    for column in table.c:
                        for key in column.foreign_keys:
                            if copy[column.name] is not None:
                                parent = new_ids[key.column.table.name]
                                copy[column.name] = parent[copy[column.name]]
                    if name == "school":
                        copy["code"] = f"{row['code']}-{number}"
                        copy["name"] = f"{row['name']} ({number})"
                    batches[name].append(copy)
        for name in COPIED:
            for start in range(0, len(batches[name]), 5000):
                connection.execute(tables[name].insert(), batches[name][start : start + 5000])
        if connection.dialect.name == "postgresql":
            for name in next_id:
                connection.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), {next_id[name]})"
                )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("ANALYZE")


def time_digest(engine: Engine, school_id: int, folder: Path, schools: int) -> Timing:
    data, workbook, chart, cpu = [], [], [], []
    with Session(engine) as session:
        school = session.get_one(School, school_id)
        for run in range(RUNS + 1):  # the first run warms up and is not counted
            session.expire_all()
            started, cpu_started = time.perf_counter(), time.process_time()
            digest = compile_digest(session, school, start=START, end=END)
            compiled = time.perf_counter()
            write_workbook(digest, session, folder / f"digest-{schools}.xlsx")
            written = time.perf_counter()
            write_chart(digest, folder / f"digest-{schools}.png")
            drawn = time.perf_counter()
            if run:
                cpu.append(time.process_time() - cpu_started)
                data.append(compiled - started)
                workbook.append(written - compiled)
                chart.append(drawn - written)
            session.rollback()
    total = [a + b + c for a, b, c in zip(data, workbook, chart, strict=True)]
    return Timing(schools, data, workbook, chart, total, cpu)


def ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered) * 1000:.1f} / {p95 * 1000:.1f}"


def section(timings: list[Timing], title: str, build: float) -> str:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    lines = [
        f"## {title}",
        "",
        f"- CPUs: {os.cpu_count()}, Python {platform.python_version()}, {platform.machine()}",
        f"- {RUNS} runs per size after one warm-up; median / p95 in ms; target: total ≤ 100 ms",
        f"- building the schools took {build:.1f} s; load average after the runs: {load}",
        "",
        "| schools | data | workbook | chart | total | total, CPU time |",
        "|--------:|-----:|---------:|------:|------:|----------------:|",
    ]
    for timing in timings:
        cells = [ms(timing.data), ms(timing.workbook), ms(timing.chart), ms(timing.total),
                 ms(timing.cpu)]  # fmt: skip
        lines.append(f"| {timing.schools} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def save(text: str, title: str) -> None:
    """The file keeps one section per database (and label): this run's replaces its own."""
    sections = {}
    if RESULTS.exists():
        for part in RESULTS.read_text(encoding="utf-8").split("\n## ")[1:]:
            sections[part.split("\n", 1)[0]] = "## " + part.rstrip("\n") + "\n"
    sections[title] = text
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(HEADING + "\n".join(sections[key] for key in sorted(sections)), "utf-8")


def main(sizes: tuple[int, ...] = SIZES) -> None:
    url = os.environ.get("BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory() as folder:
        engine = wiped_engine(url or f"sqlite:///{Path(folder) / 'bench.db'}")
        version = ".".join(str(part) for part in engine.dialect.server_version_info or ())
        database = f"{engine.dialect.name} {version}"
        started = time.perf_counter()
        school_id = build_school(engine)
        rows = template_rows(engine)
        build = time.perf_counter() - started
        timings, have = [], 1
        for size in sizes:
            started = time.perf_counter()
            add_copies(engine, rows, have + 1, size - have)
            build += time.perf_counter() - started
            have = size
            timings.append(time_digest(engine, school_id, Path(folder), size))
            print(f"{size} schools: total {ms(timings[-1].total)} ms", flush=True)
        engine.dispose()
    title = database + (f" — {os.environ['BENCH_LABEL']}" if "BENCH_LABEL" in os.environ else "")
    text = section(timings, title, build)
    print(text)
    save(text, title)


if __name__ == "__main__":
    main()
