"""The `dondoc` command line. Every command reads DATABASE_URL; only `dondoc db upgrade` migrates
the schema, the others refuse a schema that is not the newest."""

import functools
import json
import logging
import shlex
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn, TypedDict, TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import typer
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlmodel import Session, col, select

from bot import runner
from bot.console import ConsoleChannel, UnknownPerson, console_user
from bot.demo import run_demo
from bot.runner import RunRole, chat_config, chat_core, known_username
from bot.settings import ConfigError, Settings, load_settings
from data import DEFAULT_PLAN
from handlers.context import Context, InSchool
from handlers.official_report import official_folder, render_summary
from handlers.reports import digest_replies, report_folder
from handlers.rollup import default_folder, rollup_text
from messages import format_date, format_datetime, t
from messages.rich import plain
from models import School, Task
from models.base import utcnow
from models.db import Migration, make_engine, normalize_url, session_scope, upgrade_schema
from scheduler.preview import preview
from services.assignments import assign, place_assignees
from services.digest import compile_digest, digest_period, week_period
from services.evidence_export import evidence_codes, export_evidence
from services.instances import alive
from services.invitations import issue_invitations
from services.people import PeopleFileError, import_people
from services.period_report import (
    FuturePeriod,
    PeriodKind,
    compile_period_report,
    parse_period,
    period_of,
)
from services.plan_files import PlanFileError, dump_text, read_plan, write_workbook
from services.plan_store import ImportSummary, export_plan, import_plan
from services.report_docx import write_report
from services.rollup import compile_rollup, write_rollup_workbook
from services.school_settings import letterhead_of
from services.schools import SchoolNotFound, resolve_school
from services.status import (
    UNDELIVERED_DAYS,
    Status,
    read_status,
    schema_advice,
    schema_revision,
)
from services.task_shares import shares_of
from services.tasks import archived_task, find_task, similar_codes
from services.weeks import parse_week

app = typer.Typer(help=t("cli.help"), no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help=t("cli.db"), no_args_is_help=True)
plan_app = typer.Typer(help=t("cli.plan"), no_args_is_help=True)
people_app = typer.Typer(help=t("cli.people"), no_args_is_help=True)
evidence_app = typer.Typer(help=t("cli.evidence"), no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(plan_app, name="plan")
app.add_typer(people_app, name="people")
app.add_typer(evidence_app, name="evidence")

SchoolOption = Annotated[str | None, typer.Option("--school", help=t("cli.school"))]
UserError = (ConfigError, PlanFileError, PeopleFileError, SchoolNotFound, UnknownPerson)
F = TypeVar("F", bound=Callable[..., None])


class ExportFormat(StrEnum):
    YAML = "yaml"
    JSON = "json"
    XLSX = "xlsx"


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def fail(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(2)


def user_errors(command: F) -> F:
    """Known bad input ends the command with its message and exit code 2, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: object, **kwargs: object) -> None:
        try:
            command(*args, **kwargs)
        except UserError as exc:
            fail(str(exc))

    return wrapper  # type: ignore[return-value]


def _unreachable(engine: Engine, exc: OperationalError) -> NoReturn:
    engine.dispose()
    url = engine.url.render_as_string(hide_password=True)
    fail(t("db.unreachable", url=url, reason=str(exc.orig).strip().splitlines()[0]))


def _upgraded(engine: Engine) -> Migration:
    """Bring the schema up to date; an unreachable database ends the command with the reason."""
    try:
        return upgrade_schema(engine)
    except OperationalError as exc:
        _unreachable(engine, exc)


def _checked(engine: Engine) -> None:
    """The schema must be the newest: otherwise the command ends saying what to run (only
    `dondoc db upgrade` migrates)."""
    try:
        revision = schema_revision(engine)
    except OperationalError as exc:
        _unreachable(engine, exc)
    advice = schema_advice(engine.url.render_as_string(hide_password=True), revision)
    if advice is not None:
        engine.dispose()
        fail(advice)


@contextmanager
def database(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.database_url)
    _checked(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@app.callback()
def main() -> None:
    try:
        level = load_settings().log_level
    except ConfigError as exc:
        fail(str(exc))
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLevelName(level)))
    # A sweep that outlasts its interval is normal under load: the next run simply waits.
    logging.getLogger("apscheduler").setLevel(max(logging.ERROR, logging.getLevelName(level)))


@db_app.command("upgrade", help=t("cli.db.upgrade"))
@user_errors
def db_upgrade() -> None:
    engine = make_engine(load_settings().database_url)
    before, after = _upgraded(engine)
    engine.dispose()
    url = engine.url.render_as_string(hide_password=True)
    if before is None:
        typer.echo(t("db.created", url=url, revision=after))
    elif before == after:
        typer.echo(t("db.up_to_date", url=url, revision=after))
    else:
        typer.echo(t("db.upgraded", url=url, before=before, revision=after))


@db_app.command("backup", help=t("cli.db.backup"))
@user_errors
def db_backup(file: Path) -> None:
    url = sa.make_url(normalize_url(load_settings().database_url))
    if url.get_backend_name() != "sqlite":
        _postgresql(t("db.backup.postgresql", command=_pg_command("pg_dump", url, file)), url)
    source = Path(url.database or "")
    if not source.is_file():
        fail(t("db.backup.missing", path=source))
    if file.exists():
        fail(t("db.backup.exists", path=file))
    file.parent.mkdir(parents=True, exist_ok=True)
    _sqlite_copy(source, file)
    revision = _sqlite_revision(file)
    shown = url.render_as_string(hide_password=True)
    typer.echo(t("db.backup.done", url=shown, revision=revision, path=file))


@db_app.command("restore", help=t("cli.db.restore"))
@user_errors
def db_restore(
    file: Path,
    force: Annotated[bool, typer.Option("--force", help=t("cli.db.restore.force"))] = False,
) -> None:
    settings = load_settings()
    url = sa.make_url(normalize_url(settings.database_url))
    if url.get_backend_name() != "sqlite":
        tool = "pg_restore" if _is_pg_dump(file) else "psql"
        command = _pg_command(tool, url, file)
        _postgresql(t("db.restore.postgresql", tool=tool, command=command), url)
    target = Path(url.database or "")
    if not file.is_file():
        fail(t("db.restore.not_found", path=file))
    if target.exists() and target.resolve() == file.resolve():
        fail(t("db.restore.same", path=file))
    revision = _sqlite_revision(file)
    if revision is None:
        fail(t("db.restore.not_dondoc", path=file))
    if target.exists():
        running = _alive(url, settings.dead_after)
        if running and not force:
            fail(t("db.restore.alive", count=len(running), names=", ".join(running)))
        saved = target.with_name(f"{target.stem}.truoc-khoi-phuc-{utcnow():%Y%m%d-%H%M%S}.db")
        _sqlite_copy(target, saved)
        typer.echo(t("db.restore.saved", path=saved))
    _sqlite_copy(file, target)
    shown = url.render_as_string(hide_password=True)
    typer.echo(t("db.restore.done", url=shown, path=file, revision=revision))
    advice = schema_advice(shown, revision)
    if advice is not None:
        typer.echo(advice)


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy while other connections write (WAL included)."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _sqlite_revision(path: Path) -> str | None:
    """The schema revision of a dondoc SQLite file; None for any other file."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    return row[0] if row else None


def _alive(url: sa.URL, dead_after: timedelta) -> list[str]:
    """The `dondoc run` processes whose heartbeat is recent (none before the instance table)."""
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with session_scope(engine) as session:
            return [instance.name for instance in alive(session, utcnow(), dead_after)]
    except SQLAlchemyError:
        return []
    finally:
        engine.dispose()


def _is_pg_dump(file: Path) -> bool:
    """pg_dump's custom format starts with PGDMP; anything else is taken as plain SQL."""
    try:
        with file.open("rb") as stream:
            return stream.read(5) == b"PGDMP"
    except OSError:
        return True


def _pg_command(tool: str, url: sa.URL, file: Path) -> str:
    """The command line for `tool` on the database of `url`, without its password."""
    args = [tool]
    args += [f"--host={url.host}"] if url.host else []
    args += [f"--port={url.port}"] if url.port else []
    args += [f"--username={url.username}"] if url.username else []
    if tool == "pg_dump":
        args += ["--format=custom", f"--file={file}", url.database or ""]
    elif tool == "pg_restore":
        args += ["--clean", "--if-exists", "--no-owner", f"--dbname={url.database}", str(file)]
    else:
        args += [f"--dbname={url.database}", f"--file={file}"]
    return shlex.join(args)


def _postgresql(message: str, url: sa.URL) -> NoReturn:
    fail(message + (f"\n{t('db.password_hidden')}" if url.password else ""))


@app.command("status", help=t("cli.status"))
@user_errors
def status(
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help=t("cli.status.format"))
    ] = OutputFormat.TEXT,
) -> None:
    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        report = read_status(engine, utcnow(), settings.dead_after)
    finally:
        engine.dispose()
    if fmt == OutputFormat.JSON:
        typer.echo(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
    else:
        typer.echo("\n".join(_status_lines(report, settings.dead_after)))
    if not report.healthy:
        raise typer.Exit(1)


def _status_lines(report: Status, dead_after: timedelta) -> list[str]:
    if not report.reachable:
        return [t("status.unreachable", url=report.url, reason=report.error), t("status.unhealthy")]
    lines = [t("status.database", url=report.url)]
    advice = schema_advice(report.url, report.revision)
    if advice is not None:
        return [*lines, advice, t("status.unhealthy")]
    lines.append(t("status.schema", revision=report.revision))
    if report.instances:
        lines.append(t("status.instances", count=len(report.instances)))
        lines += [
            t("status.instance", name=item.name, role=item.role, age=_age(item.heartbeat_age))
            for item in report.instances
        ]
    else:
        lines.append(t("status.no_instances", age=_age(dead_after)))
    lines += _planner_lines(report)
    waiting = report.waiting
    assert waiting is not None  # read whenever the schema is the newest
    lines.append(t("status.waiting", due=waiting.due, later=waiting.later, sending=waiting.sending))
    if waiting.oldest_due is not None:
        lines.append(t("status.oldest_due", age=_age(waiting.oldest_due)))
    return lines + _undelivered_lines(report) + [t("status.healthy")]


def _planner_lines(report: Status) -> list[str]:
    def when(age: timedelta | None) -> str:
        return t("status.planner.never") if age is None else t("status.planner.ago", age=_age(age))

    if not report.planner:
        return [t("status.no_school")]
    if len(report.planner) == 1:
        return [t("status.planner", when=when(report.planner[0].age))]
    return [t("status.planner.schools")] + [
        t("status.planner.school", school=item.school, when=when(item.age))
        for item in report.planner
    ]


def _undelivered_lines(report: Status) -> list[str]:
    if not report.undelivered:
        return [t("status.undelivered.none", days=UNDELIVERED_DAYS)]
    total = sum(item.count for item in report.undelivered)
    lines = [t("status.undelivered", days=UNDELIVERED_DAYS, count=total)]
    for item in report.undelivered:
        cause = t(f"status.cause.{item.cause.value}")
        people = {
            school: ", ".join(
                name if rows == 1 else t("status.person", name=name, count=rows)
                for name, rows in names
            )
            for school, names in item.who.items()
        }
        if not people:
            lines.append(t("status.cause", cause=cause, count=item.count))
        elif len(people) == 1:
            who = next(iter(people.values()))
            lines.append(t("status.cause.who", cause=cause, count=item.count, who=who))
        else:
            lines.append(t("status.cause", cause=cause, count=item.count))
            lines += [
                t("status.cause.school", school=school, who=who) for school, who in people.items()
            ]
    return lines


def _age(delta: timedelta) -> str:
    """A duration the way people say it: 40 giây, 3 phút, 5 giờ, 2 ngày."""
    total = int(delta.total_seconds())
    if total < 90:
        return t("duration.seconds", count=total)
    if total < 90 * 60:
        return t("duration.minutes", count=round(total / 60))
    if total < 48 * 3600:
        return t("duration.hours", count=round(total / 3600))
    return t("duration.days", count=round(total / 86400))


@plan_app.command("import", help=t("cli.plan.import"))
@user_errors
def plan_import(
    file: Annotated[Path | None, typer.Argument(show_default=False)] = None,
    school: SchoolOption = None,
    prune: Annotated[bool, typer.Option("--prune", help=t("cli.plan.prune"))] = False,
) -> None:
    settings = load_settings()
    plan = read_plan(file or DEFAULT_PLAN)
    if school is not None and school.lower() != plan.school.code.lower():
        fail(t("school.mismatch", file_code=plan.school.code, code=school))
    with database(settings) as engine, session_scope(engine) as session:
        summary = import_plan(session, plan, now=utcnow(), prune=prune)
    typer.echo(_imported(summary))


def _imported(summary: ImportSummary) -> str:
    """What the import did, kind by kind: "7 tổ/bộ phận: 7 mới, 0 cập nhật, 0 giữ nguyên"."""
    school = summary.kinds["school"]
    change = "created" if school.created else "updated" if school.updated else "unchanged"
    lines = [
        t("plan.imported", school=summary.school, school_change=t(f"plan.imported.school.{change}"))
    ]
    for kind in ("units", "kpis", "tasks"):
        tally = summary.kinds[kind]
        label = t(f"plan.kind.{kind}", count=tally.total)
        if not tally.total:
            lines.append(t("plan.imported.none", kind=label))
            continue
        counts = {"created": tally.created, "updated": tally.updated, "unchanged": tally.unchanged}
        lines.append(t("plan.imported.kind", count=tally.total, kind=label, **counts))
    return "\n".join(lines + _archive_lines(summary))


def _archive_lines(summary: ImportSummary) -> list[str]:
    """Units and tasks brought back from the archive, archived, or left out of the file but kept;
    for those, how to archive them."""
    lines = []
    for change in ("restored", "archived", "absent"):
        for kind in ("units", "tasks"):
            codes = getattr(summary.kinds[kind], change)
            if codes:
                label = t(f"plan.kind.{kind}", count=len(codes))
                key = "plan.kept" if change == "absent" and summary.pruned else f"plan.{change}"
                lines.append(t(key, count=len(codes), kind=label, codes=", ".join(codes)))
    if not summary.pruned and any(summary.kinds[kind].absent for kind in ("units", "tasks")):
        lines.append(t("plan.prune_hint"))
    return lines


@plan_app.command("export", help=t("cli.plan.export"))
@user_errors
def plan_export(
    fmt: Annotated[
        ExportFormat, typer.Option("--format", help=t("cli.plan.format"))
    ] = ExportFormat.YAML,
    out: Annotated[Path | None, typer.Option("--out", help=t("cli.plan.out"))] = None,
    school: SchoolOption = None,
) -> None:
    if fmt == ExportFormat.XLSX and out is None:
        fail(t("plan.xlsx_needs_out"))
    settings = load_settings()
    with database(settings) as engine, session_scope(engine) as session:
        plan = export_plan(session, resolve_school(session, school))
    if fmt == ExportFormat.XLSX and out is not None:  # refused above without `out`
        write_workbook(plan, out)
    elif out is None:
        typer.echo(dump_text(plan, fmt), nl=False)
        return
    else:
        out.write_text(dump_text(plan, fmt), encoding="utf-8")
    typer.echo(t("plan.exported", path=out), err=True)


@plan_app.command("template", help=t("cli.plan.template"))
def plan_template(
    out: Annotated[Path, typer.Option("--out", help=t("cli.plan.out"))] = Path("ke-hoach-mau.xlsx"),
) -> None:
    write_workbook(None, out)
    typer.echo(t("plan.template_written", path=out))


@people_app.command("import", help=t("cli.people.import"))
@user_errors
def people_import(file: Path, school: SchoolOption = None) -> None:
    settings = load_settings()
    with database(settings) as engine, session_scope(engine) as session:
        summary = import_people(session, resolve_school(session, school), file)
    typer.echo(
        t(
            "people.imported",
            rows=summary.rows,
            created=summary.created,
            updated=summary.updated,
            memberships=summary.memberships,
        )
    )


@evidence_app.command("export", help=t("cli.evidence.export"))
@user_errors
def evidence_export(
    out: Annotated[Path | None, typer.Option("--out", help=t("cli.evidence.out"))] = None,
    school: SchoolOption = None,
    task: Annotated[str | None, typer.Option("--task", help=t("cli.evidence.task"))] = None,
) -> None:
    if out is None:
        fail(t("evidence.cli.needs_out"))
    if out.suffix.lower() != ".zip" or out.is_dir():
        fail(t("evidence.cli.not_zip", path=out))
    settings = load_settings()
    with database(settings) as engine, session_scope(engine) as session:
        target = resolve_school(session, school)
        codes = None if task is None else _evidence_codes(session, target, task)
        try:
            export = export_evidence(session, target, out, codes=codes)
        except OSError as exc:
            fail(t("evidence.cli.cannot_write", path=out, reason=exc.strerror or exc))
    if not export.files:
        typer.echo(t("evidence.cli.none", path=out))
        return
    said = {"school": target.name, "path": out, "index": export.index_name}
    typer.echo(t("evidence.cli.exported", count=export.stored, **said))
    if export.missing:
        typer.echo(t("evidence.cli.missing", count=len(export.missing)))
    tz = ZoneInfo(target.timezone)
    for item in export.missing:
        evidence = item.evidence
        typer.echo(
            t(
                "evidence.cli.missing_line",
                code=evidence.code,
                sender=evidence.sender or t("evidence.unknown_sender"),
                time=format_datetime(evidence.at, tz),
                name=evidence.file_name or evidence.source or "—",
            )
        )


def _evidence_codes(session: Session, school: School, written: str) -> list[str]:
    """The code `written` names (of a current or an archived task), else the command ends
    saying so, with the close codes."""
    codes = evidence_codes(session, school.id, written)
    if codes:
        return codes
    similar = similar_codes(session, school.id, written)
    if similar:
        fail(t("cli.assign.unknown_task_similar", code=written, similar=", ".join(similar)))
    fail(t("cli.assign.unknown_task", code=written))


@app.command("assign", help=t("cli.assign"))
@user_errors
def assign_task(
    code: Annotated[str, typer.Argument(help=t("cli.assign.code"))],
    people: Annotated[list[str], typer.Argument(help=t("cli.assign.people"))],
    school: SchoolOption = None,
) -> None:
    settings = load_settings()
    with database(settings) as engine, session_scope(engine) as session:
        task = _task(session, resolve_school(session, school), code)
        shares = shares_of(session, task)  # a task given to several units: a row per unit
        placed = place_assignees(session, shares, people)
        if placed.refused:
            fail(t("cli.assign.refused", code=task.code, problem=placed.refused[0][1].text()))
        now = utcnow()
        named = {m.id: m for share in shares for m in placed.given[share.id]}
        added = {
            member.id
            for share in shares
            for member in assign(session, share, placed.given[share.id], by=None, now=now)
        }
        names = [member.name for member in named.values() if member.id in added]
        already = [member.name for member in named.values() if member.id not in added]
    typer.echo(_assigned(task.code, names, already))


def _task(session: Session, school: School, code: str) -> Task:
    task = find_task(session, school.id, code)
    archived = archived_task(session, school.id, code) if task is None else None
    if archived is not None and archived.archived_at is not None:
        day = format_date(archived.archived_at, ZoneInfo(school.timezone))
        fail(t("cli.assign.archived_task", code=archived.code, date=day))
    if task is None:
        similar = similar_codes(session, school.id, code)
        if similar:
            fail(t("cli.assign.unknown_task_similar", code=code, similar=", ".join(similar)))
        fail(t("cli.assign.unknown_task", code=code))
    return task


def _assigned(code: str, names: list[str], already: list[str]) -> str:
    added, had = ", ".join(names), ", ".join(already)
    if not names:
        return t("cli.assign.nothing_new", code=code, already=had)
    if not already:
        return t("cli.assign.added", code=code, names=added)
    return t("cli.assign.added_and_already", code=code, names=added, already=had)


class InviteRow(TypedDict):
    name: str
    unit: str | None
    units: list[str]
    role: str
    phone: str | None
    code: str
    expires_at: str
    telegram_link: str | None


@app.command("invite", help=t("cli.invite"))
@user_errors
def invite(
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help=t("cli.invite.format"))
    ] = OutputFormat.TEXT,
    school: SchoolOption = None,
) -> None:
    settings = load_settings()
    with database(settings) as engine, session_scope(engine) as session:
        target = resolve_school(session, school)
        issued = issue_invitations(
            session, target, now=utcnow(), ttl_days=settings.invitation_ttl_days
        )
        username = known_username(engine, settings)
    rows: list[InviteRow] = [
        {
            "name": item.member.name,
            "unit": item.units[0].code if item.units else None,
            "units": [unit.code for unit in item.units],
            "role": "office" if item.member.office else item.role.value,
            "phone": item.member.phone,
            "code": item.code,
            "expires_at": item.expires_at.isoformat(),
            "telegram_link": f"https://t.me/{username}?start={item.code}" if username else None,
        }
        for item in issued
    ]
    if fmt == OutputFormat.JSON:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        typer.echo(t("invite.none"))
        return
    typer.echo(
        t(
            "invite.header",
            school=target.name,
            expires=format_date(issued[0].expires_at, settings.timezone),
        )
    )
    for row in rows:
        typer.echo(
            t(
                "invite.line",
                name=row["name"],
                units=", ".join(row["units"]),
                role=t(f"role.{row['role']}"),
                code=row["code"],
            )
        )
        if row["telegram_link"]:
            typer.echo(t("invite.link", link=row["telegram_link"]))


@app.command("demo", help=t("cli.demo"))
@user_errors
def demo(
    out: Annotated[Path, typer.Option("--out", help=t("cli.demo.out"))] = Path("demo-output"),
) -> None:
    run_demo(out, write=typer.echo)


@app.command("run", help=t("cli.run"))
@user_errors
def run(
    role: Annotated[RunRole, typer.Option("--role", help=t("cli.run.role"))] = RunRole.ALL,
) -> None:
    settings = load_settings()
    with database(settings) as engine:
        runner.run(settings, engine, role)


@app.command("console", help=t("cli.console"))
@user_errors
def console(who: Annotated[str, typer.Option("--as", help=t("cli.console.as"))]) -> None:
    settings = load_settings()
    with database(settings) as engine:
        user_id, first_line = console_user(engine, who)
        channel = ConsoleChannel(chat_core(settings, engine), user_id, write=typer.echo)
        if first_line:
            channel.on_line(first_line)
        channel.run()


@app.command("reminders", help=t("cli.reminders"))
@user_errors
def reminders(
    at: Annotated[str | None, typer.Option("--at", help=t("cli.reminders.at"))] = None,
) -> None:
    settings = load_settings()
    moment = utcnow() if at is None else _moment(at, settings)
    with database(settings) as engine:
        typer.echo(t("preview.header", at=format_datetime(moment, settings.timezone)))
        typer.echo(preview(engine, moment, chat_config(settings), settings.calendar_defaults))


def _moment(text: str, settings: Settings) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(t("cli.bad_moment", value=text))
    return moment if moment.tzinfo else moment.replace(tzinfo=settings.timezone)


@app.command("digest", help=t("cli.digest"))
@user_errors
def digest(
    school: SchoolOption = None,
    week: Annotated[str | None, typer.Option("--week", help=t("cli.digest.week"))] = None,
    out: Annotated[Path | None, typer.Option("--out", help=t("cli.digest.out"))] = None,
    all_schools: Annotated[
        bool, typer.Option("--all-schools", help=t("cli.digest.all_schools"))
    ] = False,
) -> None:
    settings = load_settings()
    if all_schools:
        if school is not None:
            fail(t("cli.digest.all_and_school"))
        _all_schools(settings, week, out)
        return
    with database(settings) as engine, session_scope(engine) as session:
        target = resolve_school(session, school)
        now = utcnow()
        start, end = (
            digest_period(session, target, now)
            if week is None
            else _week(session, target, week, now)
        )
        compiled = compile_digest(session, target, start=start, end=end)
        ctx = InSchool(session=session, now=end, config=chat_config(settings), school=target)
        folder = out or report_folder(ctx, compiled)
        folder.mkdir(parents=True, exist_ok=True)
        replies = digest_replies(ctx, compiled, folder)
    for reply in replies:
        typer.echo(plain(reply.text))
    typer.echo(t("digest.files", files=", ".join(str(path) for path in replies[-1].files)))


def _all_schools(settings: Settings, label: str | None, out: Path | None) -> None:
    """The roll-up of every school of the deployment, as the education office reads it."""
    now = utcnow()
    tz = settings.timezone
    week = None
    if label is not None:
        try:
            week = parse_week(label)
        except ValueError:
            fail(t("cli.bad_week", value=label))
        if week.starts(tz) > now:
            fail(t("cli.future_week", week=week.label, dates=week.dates()))
    with database(settings) as engine, session_scope(engine) as session:
        schools = session.exec(select(School).order_by(col(School.id))).all()
        compiled = compile_rollup(session, schools, now, tz, week)
        ctx = Context(session=session, now=now, config=chat_config(settings))
        text = rollup_text(ctx, compiled)
        folder = out or default_folder(ctx, compiled)
        workbook = folder / t("rollup.file.workbook", week=compiled.week.label)
        write_rollup_workbook(compiled, workbook)
    typer.echo(plain(text))
    typer.echo(t("rollup.files", path=workbook))


@app.command("report", help=t("cli.report"))
@user_errors
def report(
    school: SchoolOption = None,
    period: Annotated[str | None, typer.Option("--period", help=t("cli.report.period"))] = None,
    out: Annotated[Path | None, typer.Option("--out", help=t("cli.report.out"))] = None,
    parent: Annotated[str | None, typer.Option("--parent", help=t("cli.report.parent"))] = None,
    place: Annotated[str | None, typer.Option("--place", help=t("cli.report.place"))] = None,
    signer: Annotated[str | None, typer.Option("--signer", help=t("cli.report.signer"))] = None,
) -> None:
    settings = load_settings()
    with database(settings) as engine, session_scope(engine) as session:
        target = resolve_school(session, school)
        now = utcnow()
        today = now.astimezone(ZoneInfo(target.timezone)).date()
        try:
            wanted = period_of(PeriodKind.MONTH, today) if period is None else parse_period(period)
        except ValueError:
            fail(t("cli.bad_period", value=period))
        try:
            compiled = compile_period_report(session, target, wanted, now)
        except FuturePeriod:
            fail(t("cli.future_period", period=wanted.label))
        ctx = InSchool(session=session, now=now, config=chat_config(settings), school=target)
        folder = out or official_folder(ctx, wanted)
        path = folder / t("report.file.official", period=wanted.label)
        given = {"parent": parent, "place": place, "signer": signer}  # over the plan file's
        head = letterhead_of(target.settings).model_copy(
            update={part: value for part, value in given.items() if value}
        )
        write_report(compiled, path, issued=today, letterhead=head)
        summary = render_summary(ctx, compiled)
    typer.echo(plain(summary))
    typer.echo(t("digest.files", files=str(path)))


def _week(session: Session, school: School, label: str, now: datetime) -> tuple[datetime, datetime]:
    """The period of ISO week `label` (2026-W49): the recorded digest's, else Monday to Sunday
    (to now for this week)."""
    try:
        week = parse_week(label)
    except ValueError:
        fail(t("cli.bad_week", value=label))
    period = week_period(session, school, week, now)
    if period is None:
        fail(t("cli.future_week", week=week.label, dates=week.dates()))
    return period
