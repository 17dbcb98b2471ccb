"""The command line as a school's administrator meets it: set-up, demo and configuration errors."""

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from alembic.script import ScriptDirectory
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.cli import app
from bot.demo import INDENT
from bot.settings import Settings
from data import DEFAULT_PLAN
from messages import CATALOG
from models import School
from models.db import alembic_config, make_engine, upgrade_schema

REPO = Path(__file__).resolve().parents[1]


def test_db_upgrade_says_whether_it_created_upgraded_or_had_nothing_to_do(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'moi.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    head = ScriptDirectory.from_config(alembic_config(make_engine(url))).get_current_head()
    created = cli("db", "upgrade").output
    assert created == f"Đã tạo các bảng dữ liệu của dondoc trong {url} (phiên bản {head}).\n"
    again = cli("db", "upgrade").output
    assert again == f"Cơ sở dữ liệu {url} đã ở phiên bản mới nhất ({head}); không cần làm gì.\n"

    older = f"sqlite:///{tmp_path / 'cu.db'}"
    monkeypatch.setenv("DATABASE_URL", older)
    engine = make_engine(older)
    upgrade_schema(engine, "0005")
    engine.dispose()
    upgraded = cli("db", "upgrade").output
    assert upgraded == f"Đã nâng cấp cơ sở dữ liệu {older} từ phiên bản 0005 lên {head}.\n"


def test_db_upgrade_is_repeatable_and_keeps_the_data(cli, session: Session) -> None:
    cli("db", "upgrade")
    assert "phiên bản mới nhất" in cli("db", "upgrade").output
    assert session.exec(select(School)).all() == []


@dataclass(frozen=True)
class Demo:
    story: str  # what `dondoc demo` prints
    out: Path  # its output folder

    @property
    def lines(self) -> list[str]:
        return self.story.splitlines()

    @property
    def transcript(self) -> str:
        return (self.out / "nhat-ky-tuan.txt").read_text(encoding="utf-8")


def run_demo(out: Path) -> Demo:
    result = CliRunner().invoke(app, ["demo", "--out", str(out)])
    assert result.exit_code == 0, (result.output, result.exception)
    return Demo(result.output, out)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """One run of the demo, shared: it plays a whole week."""
    return run_demo(tmp_path_factory.mktemp("demo") / "out")


def messages_in(transcript: str) -> list[tuple[str, str, str]]:
    """Every message of the bot in a transcript: (day, header, text as the console shows it)."""
    messages: list[tuple[str, str, list[str]]] = []
    day, reading = "", False
    for line in transcript.splitlines():
        if line.startswith("══ "):
            day, reading = line, False
        elif re.fullmatch(r"\d\d:\d\d 📨 dondoc → .+:", line):
            messages.append((day, line, []))
            reading = True
        elif reading and (line.startswith(INDENT) or not line):
            messages[-1][2].append(line.removeprefix(INDENT))
        else:
            reading = False
    return [(day, header, "\n".join(text).strip("\n")) for day, header, text in messages]


def days_of(lines: list[str]) -> dict[str, list[str]]:
    days: dict[str, list[str]] = {}
    for line in lines:
        if line.startswith("══ Thứ"):
            days[line] = []
        elif days and line:
            days[list(days)[-1]].append(line)
    return days


def test_demo_tells_a_school_week_in_a_short_story(demo: Demo) -> None:
    plan = yaml.safe_load(DEFAULT_PLAN.read_text(encoding="utf-8"))
    assert len(demo.lines) <= 150
    intro = "\n".join(demo.lines[:6])
    assert "Trường THCS Thị Trấn 2" in intro
    assert f"{len(plan['units'])} tổ/bộ phận, {len(plan['tasks'])} nhiệm vụ" in intro
    assert str(demo.out / "dondoc-demo.db") in intro
    assert (demo.out / "dondoc-demo.db").is_file()
    days = days_of(demo.lines)
    assert list(days)[:5] == [
        "══ Thứ Hai 30/11/2026 ══",
        "══ Thứ Ba 01/12/2026 ══",
        "══ Thứ Tư 02/12/2026 ══",
        "══ Thứ Năm 03/12/2026 ══",
        "══ Thứ Sáu 04/12/2026 ══",
    ]
    monday = days["══ Thứ Hai 30/11/2026 ══"]
    pressed = monday.index("07:45 💬 Trần Thị Mai: III.4.4 xong ạ")
    reminded = [
        line for line in monday[:pressed] if line.startswith("07:30 📨 dondoc → Trần Thị Mai")
    ]
    assert len(reminded) == 1 and "III.4.4" in reminded[0]  # one line for the whole reminder
    assert monday[pressed + 1].startswith("      ↳ dondoc: ") and "III.4.4" in monday[pressed + 1]
    wednesday = days["══ Thứ Tư 02/12/2026 ══"]
    said = wednesday.index("14:00 💬 Đỗ Văn Bình: dạ e làm dc 60% r ạ, còn khối 9")
    confirmed = wednesday[said + 1]
    assert confirmed.startswith("      ↳ dondoc: ") and "III.5.5" in confirmed


def test_demo_says_the_dates_it_shows_are_proposals_not_the_plans(demo: Demo) -> None:
    """The plan gives its tasks no dates: the demo says so first, and the overview at the head of
    the week's log marks every date of a task as a proposal."""
    note = (
        "Kế hoạch không ghi ngày cho các nhiệm vụ: ngày có ghi (đề xuất) là đề xuất của dữ liệu "
        "mặc định, nhà trường xác nhận hoặc sửa rồi nhập lại tệp kế hoạch."
    )
    assert note in demo.lines[:6]
    overview = demo.transcript[: demo.transcript.index("══ Thứ Hai 30/11/2026 ══")]
    assert note in overview
    when = [line.strip() for line in overview.splitlines() if line.startswith(" " * 6)]
    dated = [line for line in when if not line.endswith("không có hạn")]
    assert len(dated) > 30
    assert all(line.startswith("hạn đề xuất ") or "(đề xuất); lần tới" in line for line in dated)


def test_demo_ends_with_the_principals_digest_in_full_and_the_files(demo: Demo) -> None:
    lines = demo.lines
    start = next(i for i, line in enumerate(lines) if line.startswith("══ BÁO CÁO TUẦN"))
    end = next(i for i, line in enumerate(lines) if line.startswith("Cả tuần: "))
    assert "Nguyễn Văn Hiếu" in lines[start]
    digest = "\n".join(lines[start + 1 : end]).strip("\n")
    received = [
        text
        for day, header, text in messages_in(demo.transcript)
        if day == "══ Thứ Sáu 04/12/2026 ══" and "→ Nguyễn Văn Hiếu (Ban giám hiệu)" in header
    ]
    assert any(text.startswith(digest) for text in received)
    assert len(digest.splitlines()) > 5  # printed whole, as the principal read it
    [workbook] = demo.out.rglob("*.xlsx")
    [chart] = demo.out.rglob("*.png")
    ending = "\n".join(lines[end:])
    for path in (workbook, chart, demo.out / "nhat-ky-tuan.txt", demo.out / "dondoc-demo.db"):
        assert path.is_file() and str(path) in ending


def test_the_demo_weeks_digest_is_one_short_message_deciding_first(demo: Demo) -> None:
    """What the principal reads on Friday: one message under 2,000 characters that starts with
    what needs his decision; docs/digest-example.txt is that message, as the README shows it."""
    friday = [
        text
        for day, header, text in messages_in(demo.transcript)
        if day == "══ Thứ Sáu 04/12/2026 ══"
        and header.startswith("16:30 📨 dondoc → Nguyễn Văn Hiếu")
    ]
    [digest] = friday  # one message, with its two files
    text = digest[: digest.index("📎 Tệp đính kèm")].strip()
    assert len(text) < 2000
    lines = text.splitlines()
    assert lines[0] == "📊 Tuần 30/11–06/12/2026 — Trường THCS Thị Trấn 2"
    assert lines[2] == "" and lines[3].startswith("Cần thầy quyết (")
    assert re.search(r"\d+ chỉ số chưa có số liệu — xem tệp Excel\.", text)
    example = (REPO / "docs" / "digest-example.txt").read_text(encoding="utf-8")
    assert example.strip() == text


def test_the_transcript_has_the_plan_and_every_message_in_full(demo: Demo) -> None:
    plan = yaml.safe_load(DEFAULT_PLAN.read_text(encoding="utf-8"))
    transcript = demo.transcript
    assert transcript.startswith("Trường THCS Thị Trấn 2")
    overview = transcript[: transcript.index("══ Thứ Hai 30/11/2026 ══")]
    assert all(task["code"] in overview for task in plan["tasks"])
    messages = messages_in(transcript)
    assert f"dondoc gửi {len(messages)} tin nhắn" in demo.story
    headers = {(day, header) for day, header, _ in messages}
    for day, lines in days_of(demo.lines).items():
        for line in lines:
            if match := re.match(r"(\d\d:\d\d 📨 dondoc → .+?\)):", line):
                assert (day, f"{match[1]}:") in headers, line
    [(_, _, reminder)] = [
        message
        for message in messages
        if message[:2]
        == ("══ Thứ Hai 30/11/2026 ══", "07:30 📨 dondoc → Trần Thị Mai (Văn phòng):")
    ]
    titles = {task["code"]: task["title"] for task in plan["tasks"]}
    assert titles["III.4.2"] in reminder and titles["III.4.4"] in reminder
    assert titles["III.4.4"] not in demo.story  # the story tells it in one line


def test_a_busier_week_is_summarised_to_stay_within_the_bound(
    demo: Demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bound = len(demo.lines) - 5  # as if the digest had grown by five lines
    monkeypatch.setattr("bot.demo.MAX_STORY_LINES", bound)
    shorter = run_demo(tmp_path / "out")
    assert len(shorter.lines) <= bound
    assert any(
        re.match(r"\d\d:\d\d 📨 … và \d+ tin nhắn khác cho ", line) for line in shorter.lines
    )
    assert "14:00 💬 Đỗ Văn Bình: dạ e làm dc 60% r ạ, còn khối 9" in shorter.lines
    assert shorter.transcript == demo.transcript.replace(str(demo.out), str(shorter.out))


def test_demo_starts_again_from_scratch_each_time(demo: Demo) -> None:
    again = run_demo(demo.out)
    assert again.story == demo.story
    assert again.transcript == demo.transcript


def test_the_installed_console_script_runs_the_demo(tmp_path: Path) -> None:
    result = subprocess.run(
        [Path(sys.executable).with_name("dondoc"), "demo", "--out", tmp_path / "out"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Trường THCS Thị Trấn 2" in result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DEFAULT_TIMEZONE", "Asia/Saigon_Typo", "Asia/Ho_Chi_Minh"),
        ("DATABASE_URL", "mysql://x", "postgresql://"),
        ("LOG_LEVEL", "LOUD", "DEBUG, INFO, WARNING, ERROR"),
        ("INVITATION_TTL_DAYS", "mười bốn", "từ 1 đến 365"),
    ],
)
def test_a_bad_setting_is_one_clear_line_naming_the_variable(
    cli, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    result = cli("db", "upgrade", expect=2)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert variable in lines[0] and expected in lines[0] and "Traceback" not in result.output


def test_settings_come_from_a_dotenv_file(cli, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DEFAULT_TIMEZONE=Nowhere/Land\n", encoding="utf-8")
    result = cli("db", "upgrade", expect=2)
    assert "DEFAULT_TIMEZONE" in result.output and "Nowhere/Land" in result.output


def test_an_unreachable_database_is_reported_not_raised(
    cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody:secret@127.0.0.1:1/none")
    result = cli("db", "upgrade", expect=2)
    assert "DATABASE_URL" in result.output
    assert "secret" not in result.output


def test_the_template_command_writes_an_empty_workbook(cli, tmp_path: Path) -> None:
    target = tmp_path / "mau.xlsx"
    result = cli("plan", "template", "--out", target)
    assert str(target) in result.output
    assert target.stat().st_size > 0


def test_the_digest_command_prints_the_week_and_writes_the_files(cli, tmp_path: Path) -> None:
    cli("plan", "import")
    output = cli("digest", "--week", "2026-W48", "--out", tmp_path / "out").output
    assert output.startswith("📊 Tuần 23/11–29/11/2026 — Trường THCS Thị Trấn 2\n")
    assert "Từ 00:00 23/11 đến " in output
    assert "tiến độ chung 0% · xong 0/42 việc" in output
    assert (tmp_path / "out" / "bao-cao-tuan-2026-W48.xlsx").is_file()
    assert (tmp_path / "out" / "tien-do-2026-W48.png").is_file()
    assert "Tuần '2026-W99' không có" in cli("digest", "--week", "2026-W99", expect=2).output


def test_the_digest_command_archives_its_files_in_reports_dir(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reports = tmp_path / "bao-cao"
    monkeypatch.setenv("REPORTS_DIR", str(reports))
    cli("plan", "import")
    output = cli("digest", "--week", "2026-W48").output
    folder = reports / "THCS-TT2" / "2026-W48"
    assert (folder / "bao-cao-tuan-2026-W48.xlsx").is_file()
    assert (folder / "tien-do-2026-W48.png").is_file()
    assert str(folder / "bao-cao-tuan-2026-W48.xlsx") in output
    assert not (tmp_path / "data").exists()


def test_the_console_archives_a_requested_report_in_reports_dir(
    cli, school, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reports = tmp_path / "bao-cao"
    monkeypatch.setenv("REPORTS_DIR", str(reports))
    output = cli("console", "--as", "Nguyễn Văn Hiếu", input="/baocao\n/thoat\n").output
    [workbook] = reports.glob("THCS-TT2/*/bao-cao-tuan-*.xlsx")
    assert f"Tệp đính kèm: {workbook}" in output
    assert not (tmp_path / "data").exists()


def test_every_setting_is_documented_and_explained_when_wrong() -> None:
    documented = {
        line.split("=", 1)[0]
        for line in (REPO / ".env.example").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    }
    variables = {name.upper() for name in Settings.model_fields}
    assert documented == variables
    assert all(f"config.expected.{variable}" in CATALOG for variable in variables)
