"""Operating dondoc: `dondoc status`, GET /healthz, backups, and the schema migrated only by
`dondoc db upgrade`."""

import asyncio
import json
import socket
import sqlite3
import threading
import urllib.error
import urllib.request
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.health import Health, HealthServer
from bot.runner import RunRole, serve
from bot.settings import load_settings
from models import DeliveryFailure, Instance, Reminder, ReminderKind, ReminderStatus, School
from models.base import utcnow
from models.db import make_engine, upgrade_schema
from scheduler.jobs import FollowUp
from services import instances
from services.status import head_revision
from tests.factories import make_member, make_school, make_unit
from tests.fake_telegram import FakeTelegram

HEAD = head_revision()


def sqlite_only(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's online backup; PostgreSQL is backed up with pg_dump")


# --- the schema is migrated once -----------------------------------------------------------


def test_commands_other_than_db_upgrade_refuse_a_schema_that_is_not_the_newest(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'moi.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    empty = cli("plan", "import", expect=2).output
    assert empty == f"Cơ sở dữ liệu {url} chưa có bảng của dondoc: chạy dondoc db upgrade trước.\n"
    cli("db", "upgrade")
    assert "Đã nhập kế hoạch" in cli("plan", "import").output

    older = f"sqlite:///{tmp_path / 'cu.db'}"
    monkeypatch.setenv("DATABASE_URL", older)
    engine = make_engine(older)
    upgrade_schema(engine, "0005")
    engine.dispose()
    for command in (["invite"], ["plan", "export"], ["reminders"], ["console", "--as", "Mai"]):
        output = cli(*command, expect=2).output
        assert output == (
            f"Cơ sở dữ liệu {older} ở phiên bản 0005, bản dondoc này cần {HEAD}: "
            "chạy dondoc db upgrade trước.\n"
        )
    with closing(sqlite3.connect(tmp_path / "cu.db")) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchone() == ("0005",)


# --- dondoc status ------------------------------------------------------------------------


def failed_reminder(
    session: Session, school: School, member_id: int | None, failure: DeliveryFailure, key: str
) -> None:
    now = utcnow()
    session.add(
        Reminder(
            school_id=school.id,
            recipient_id=member_id,
            dedupe_key=key,
            kind=ReminderKind.OVERDUE,
            occurrence=date(2026, 12, 1),
            due_at=now - timedelta(hours=1),
            claimed_at=now - timedelta(hours=1),
            status=ReminderStatus.FAILED,
            failure=failure,
        )
    )


@pytest.fixture
def busy(session: Session) -> Session:
    """Two schools, one running instance, reminders waiting and some that could not be sent."""
    now = utcnow()
    first = make_school(session, "A", "Trường A")
    second = make_school(session, "B", "Trường B")
    first.followed_up_at = now - timedelta(seconds=40)
    unit_a, unit_b = make_unit(session, first), make_unit(session, second)
    hoa = make_member(session, first, unit_a, "Lê Thị Hoa")
    binh = make_member(session, second, unit_b, "Trần Văn Bình")
    for key, failure, member in (
        ("f1", DeliveryFailure.NO_CHAT, hoa),
        ("f2", DeliveryFailure.NO_CHAT, hoa),
        ("f3", DeliveryFailure.NO_CHAT, binh),
        ("f4", DeliveryFailure.UNREACHABLE, binh),
        ("f5", DeliveryFailure.EXPIRED, hoa),
    ):
        failed_reminder(session, first if member is hoa else second, member.id, failure, key)
    old = Reminder(
        school_id=first.id, recipient_id=hoa.id, dedupe_key="old", kind=ReminderKind.OVERDUE,
        occurrence=date(2026, 1, 1), due_at=now - timedelta(days=30),
        claimed_at=now - timedelta(days=30), status=ReminderStatus.FAILED,
        failure=DeliveryFailure.REFUSED,
    )  # fmt: skip
    session.add(old)  # failed a month ago: not counted
    for key, due, status in (
        ("due1", now - timedelta(minutes=5), ReminderStatus.PENDING),
        ("due2", now - timedelta(minutes=1), ReminderStatus.PENDING),
        ("later", now + timedelta(days=2), ReminderStatus.PENDING),
        ("sending", now - timedelta(seconds=10), ReminderStatus.SENDING),
        ("sent", now - timedelta(days=1), ReminderStatus.SENT),
    ):
        session.add(
            Reminder(
                school_id=first.id, recipient_id=hoa.id, dedupe_key=key,
                kind=ReminderKind.DUE_DAY, occurrence=date(2026, 12, 1), due_at=due,
                status=status,
            )
        )  # fmt: skip
    instances.register(session, "may-1:42:abc123", "all", now - timedelta(seconds=4))
    instances.register(session, "may-2:7:def456", "sweep", now - timedelta(minutes=5))  # dead
    session.commit()
    return session


def test_status_reports_instances_lag_queue_and_who_was_not_reached(cli, busy: Session) -> None:
    result = cli("status")
    lines = result.output.splitlines()
    assert lines[0].startswith("Cơ sở dữ liệu: ") and lines[0].endswith(" — kết nối được.")
    assert lines[1] == f"Lược đồ: phiên bản {HEAD} (mới nhất)."
    assert lines[2] == "Tiến trình dondoc run đang chạy: 1"
    assert lines[3].startswith("  may-1:42:abc123 — all — nhịp tim ")
    assert lines[4:7] == [
        "Lập nhắc việc, lần cuối của từng trường:",
        "  Trường A: lần cuối 40 giây trước",
        "  Trường B: chưa chạy lần nào",
    ]
    assert lines[7] == "Nhắc việc chờ gửi: 2 đã đến hạn, 1 chưa đến hạn, 1 đang gửi."
    assert lines[8] == "Nhắc việc đến hạn lâu nhất chưa gửi: đến hạn 5 phút trước."
    assert lines[9:] == [
        "Không gửi được trong 7 ngày qua: 5 nhắc việc.",
        "  chưa nhắn tin với bot (gửi khi họ tham gia): 3",
        "    Trường A: Lê Thị Hoa (2)",
        "    Trường B: Trần Văn Bình",
        "  đã chặn bot (gửi khi họ nhắn lại): 1 — Trần Văn Bình",
        "  hết hạn trước khi gửi được: 1",
        "Tình trạng: ổn.",
    ]


def test_status_as_json(cli, busy: Session) -> None:
    report = json.loads(cli("status", "--format", "json").output)
    assert report["healthy"] is True
    assert report["database"]["revision"] == report["database"]["head"] == HEAD
    assert [item["name"] for item in report["instances"]] == ["may-1:42:abc123"]
    assert 3 <= report["instances"][0]["heartbeat_age_seconds"] < 60
    assert report["outbox"]["due"] == 2 and report["outbox"]["sending"] == 1
    assert 299 <= report["outbox"]["oldest_due_seconds"] < 360
    undelivered = report["undelivered_7d"]
    assert {cause: item["count"] for cause, item in undelivered.items()} == {
        "no_chat": 3,
        "unreachable": 1,
        "expired": 1,
    }
    assert undelivered["no_chat"]["who"]["Trường A"] == [{"name": "Lê Thị Hoa", "count": 2}]


def test_status_and_healthz_follow_a_slower_heartbeat(
    cli, engine: Engine, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HEARTBEAT_SECONDS=60: an instance whose last beat was 90 s ago is alive (three beats
    make it dead, as for the claims and the poller election), and is said to be after 3 min."""
    now = utcnow()
    instances.register(session, "may-1:1:aaa", "all", now - timedelta(seconds=90))
    session.commit()
    monkeypatch.setenv("HEARTBEAT_SECONDS", "60")
    assert "Tiến trình dondoc run đang chạy: 1" in cli("status").output
    settings = load_settings()
    assert Health(engine, "all", "may-1:1:aaa", settings.dead_after).check()[0] == 200

    session.get(Instance, "may-1:1:aaa").heartbeat_at = now - timedelta(seconds=200)
    session.commit()
    output = cli("status").output
    assert "(không có nhịp tim trong 3 phút qua)" in output
    assert Health(engine, "all", "may-1:1:aaa", settings.dead_after).check()[0] == 503


def test_status_says_when_no_instance_runs(cli) -> None:
    output = cli("status").output
    assert "Không có tiến trình dondoc run nào đang chạy" in output
    assert "Chưa có trường nào: chạy dondoc plan import." in output
    assert output.endswith("Tình trạng: ổn.\n")


def test_status_fails_with_exit_1_when_the_schema_is_behind_or_the_database_is_down(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    older = f"sqlite:///{tmp_path / 'cu.db'}"
    engine = make_engine(older)
    upgrade_schema(engine, "0005")
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", older)
    output = cli("status", expect=1).output
    assert "phiên bản 0005" in output and "chạy dondoc db upgrade" in output
    assert json.loads(cli("status", "--format", "json", expect=1).output)["healthy"] is False

    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody:secret@127.0.0.1:1/none")
    output = cli("status", expect=1).output
    assert "không kết nối được" in output and "***" in output and "secret" not in output
    report = json.loads(cli("status", "--format", "json", expect=1).output)
    assert report["database"]["reachable"] is False


# --- /healthz -----------------------------------------------------------------------------


def get(port: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


async def test_healthz_is_200_while_the_heartbeat_is_recent_and_503_after(
    engine: Engine, session: Session
) -> None:
    now = utcnow()
    instances.register(session, "may-1:1:aaa", "all", now)
    session.commit()
    server = HealthServer(Health(engine, "all", "may-1:1:aaa", timedelta(seconds=30)), 0)
    try:
        code, body = await asyncio.to_thread(get, server.port)
        assert code == 200
        assert body["role"] == "all" and body["database"] is True
        assert body["heartbeat_age_seconds"] < 30
        assert body["waiting"] == {"due": 0, "later": 0, "sending": 0, "oldest_due_seconds": None}

        session.get(Instance, "may-1:1:aaa").heartbeat_at = now - timedelta(minutes=2)
        session.commit()
        code, body = await asyncio.to_thread(get, server.port)
        assert code == 503 and body["database"] is True and body["heartbeat_age_seconds"] >= 120
    finally:
        await server.stop()


async def test_healthz_is_503_when_the_database_does_not_answer() -> None:
    down = make_engine("postgresql://nobody:secret@127.0.0.1:1/none")
    server = HealthServer(Health(down, "poll", None, timedelta(seconds=30)), 0)
    try:
        code, body = await asyncio.to_thread(get, server.port)
    finally:
        await server.stop()
        down.dispose()
    assert code == 503 and body["database"] is False and "secret" not in json.dumps(body)


def free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_dondoc_run_serves_healthz_when_health_port_is_set(
    tg: FakeTelegram, engine: Engine, database_url: str, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    port = free_port()
    settings = load_settings(
        database_url=database_url,
        telegram_bot_token=tg.token,
        telegram_api_base_url=tg.base_url,
        health_port=port,
        webhook_url="",
    )
    swept, sweep_job = asyncio.Event(), FollowUp._sweep_job

    async def first_sweep(self: FollowUp) -> None:  # to stop between sweeps, not during one
        await sweep_job(self)
        swept.set()

    monkeypatch.setattr(FollowUp, "_sweep_job", first_sweep)
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(settings, engine, RunRole.SWEEP, stop))
    try:
        for _ in range(200):
            try:
                code, body = await asyncio.to_thread(get, port)
                break
            except urllib.error.URLError:
                await asyncio.sleep(0.05)
        else:
            pytest.fail("/healthz never answered")
        assert code == 200 and body["role"] == "sweep" and body["instance"]
        await asyncio.wait_for(swept.wait(), 20)
    finally:
        stop.set()
        await asyncio.wait_for(serving, 30)
    with pytest.raises(urllib.error.URLError):
        await asyncio.to_thread(get, port)


# --- backups ------------------------------------------------------------------------------


def rows_of(path: Path) -> dict[str, list[tuple]]:
    """Every table's rows, in a stable order."""
    with closing(sqlite3.connect(path)) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        return {
            table: sorted(connection.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)
            for table in tables
        }


def test_a_backup_taken_while_another_connection_writes_restores_the_same_rows(
    cli, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    sqlite_only(engine)
    cli("plan", "import")
    live = Path(sa.make_url(database_url).database)
    written, stop = [], threading.Event()

    def write() -> None:  # two rows per transaction: a consistent copy has an even number
        with Session(engine) as writer:
            while not stop.is_set():
                n = 2 * len(written)
                for i in (n, n + 1):
                    writer.add(Instance(name=f"w{i:05}", role="sweep", stopped_at=utcnow()))
                writer.commit()
                written.append(n)

    thread = threading.Thread(target=write)
    thread.start()
    try:
        while len(written) < 10:
            threading.Event().wait(0.01)
        backup = tmp_path / "sao-luu" / "dondoc.db"
        output = cli("db", "backup", backup).output
        while len(written) < 30:
            threading.Event().wait(0.01)
    finally:
        stop.set()
        thread.join()
    assert output.endswith(f"(phiên bản {HEAD}) vào {backup}.\n")
    copied = rows_of(backup)
    names = [row[0] for row in copied["instance"]]
    assert len(names) % 2 == 0 and len(names) >= 20
    assert names == [f"w{i:05}" for i in range(len(names))]
    assert len(copied["task"]) == 42
    assert len(rows_of(live)["instance"]) > len(names)  # the writer went on after the backup

    result = cli("db", "restore", backup)
    saved = next(live.parent.glob(f"{live.stem}.truoc-khoi-phuc-*.db"))
    assert f"Đã lưu cơ sở dữ liệu hiện tại vào {saved}." in result.output
    assert "Đã khôi phục" in result.output
    assert rows_of(live) == copied
    assert len(rows_of(saved)["instance"]) > len(names)
    with Session(engine) as session:  # the running engine reads the restored rows
        assert len(session.exec(select(Instance)).all()) == len(names)
    saved.unlink()


def test_a_backup_never_overwrites_a_file(cli, engine: Engine, tmp_path: Path) -> None:
    sqlite_only(engine)
    target = tmp_path / "co-roi.db"
    target.write_text("giữ nguyên", encoding="utf-8")
    assert "đã có" in cli("db", "backup", target, expect=2).output
    assert target.read_text(encoding="utf-8") == "giữ nguyên"


def test_restore_refuses_what_is_not_a_dondoc_database_and_a_running_bot(
    cli, engine: Engine, session: Session, database_url: str, tmp_path: Path
) -> None:
    sqlite_only(engine)
    text = tmp_path / "ghi-chu.txt"
    text.write_text("không phải cơ sở dữ liệu", encoding="utf-8")
    other = tmp_path / "khac.db"
    with closing(sqlite3.connect(other)) as connection:
        connection.execute("CREATE TABLE t (x)")
    for path in (text, other):
        output = cli("db", "restore", path, expect=2).output
        assert "không phải cơ sở dữ liệu SQLite của dondoc" in output
    assert "Không có tệp" in cli("db", "restore", tmp_path / "khong-co.db", expect=2).output

    backup = tmp_path / "sao-luu.db"
    cli("db", "backup", backup)
    instances.register(session, "may-1:1:aaa", "all", utcnow())
    session.commit()
    output = cli("db", "restore", backup, expect=2).output
    assert "Đang có 1 tiến trình dondoc run dùng cơ sở dữ liệu này (may-1:1:aaa)" in output
    assert "--force" in output
    live = Path(sa.make_url(database_url).database)
    assert not list(live.parent.glob("*.truoc-khoi-phuc-*"))
    assert "Đã khôi phục" in cli("db", "restore", backup, "--force").output
    for saved in live.parent.glob(f"{live.stem}.truoc-khoi-phuc-*.db"):
        saved.unlink()


def test_postgresql_backups_are_pg_dump_and_pg_restore_command_lines(
    cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://dondoc:bi-mat@db.truong.vn:5433/dondoc")
    output = cli("db", "backup", "sao-luu.dump", expect=2).output
    assert output.splitlines() == [
        "Với PostgreSQL, sao lưu bằng pg_dump (dondoc không tự làm):",
        "  pg_dump --host=db.truong.vn --port=5433 --username=dondoc --format=custom "
        "--file=sao-luu.dump dondoc",
        "Mật khẩu không được in ra: đặt biến PGPASSWORD hoặc dùng tệp ~/.pgpass.",
    ]
    dump = tmp_path / "sao-luu.dump"
    dump.write_bytes(b"PGDMP\x01\x0e")
    output = cli("db", "restore", dump, expect=2).output
    assert (
        "  pg_restore --host=db.truong.vn --port=5433 --username=dondoc --clean --if-exists "
        f"--no-owner --dbname=dondoc {dump}"
    ) in output
    plain = tmp_path / "sao-luu.sql"
    plain.write_text("-- SQL\n", encoding="utf-8")
    output = cli("db", "restore", plain, expect=2).output
    assert (
        f"psql --host=db.truong.vn --port=5433 --username=dondoc --dbname=dondoc --file={plain}"
        in output
    )
    assert "bi-mat" not in output
