"""The command line as a school's administrator meets it: set-up, demo and configuration errors."""

import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.settings import Settings
from messages import CATALOG
from models import School

REPO = Path(__file__).resolve().parents[1]


def test_db_upgrade_creates_the_schema_and_is_repeatable(cli, session: Session) -> None:
    assert "phiên bản mới nhất" in cli("db", "upgrade").output
    cli("db", "upgrade")
    assert session.exec(select(School)).all() == []


def test_demo_prints_a_vietnamese_overview_from_a_fresh_database(cli, tmp_path: Path) -> None:
    output = cli("demo", "--out", tmp_path / "demo").output
    assert output.startswith("Trường THCS Thị Trấn 2")
    assert "■ Văn phòng (VANPHONG)" in output
    assert "III.1.11 Báo cáo định kỳ hằng tháng" in output
    assert "ngày 25 hằng tháng; lần tới" in output
    assert "hạn 25/12/2026" in output
    assert "Tỷ lệ học sinh bỏ học, lưu ban [dropout]: ≤ 0,5%" in output
    assert "Hiệu suất đào tạo [efficiency]: trên 96%" in output
    assert "Giáo viên đạt chuẩn theo Nghị quyết số 71-NQ/TW [teachers_standard]: ≥ 99%" in output
    assert "CHỈ SỐ MỤC TIÊU NĂM 2030" in output
    assert (tmp_path / "demo" / "dondoc-demo.db").is_file()


def test_demo_plays_a_school_week_and_ends_with_the_digest(cli, tmp_path: Path) -> None:
    output = cli("demo", "--out", tmp_path / "demo").output
    week = output[output.index("MỘT TUẦN MÔ PHỎNG (30/11/2026 – 04/12/2026)") :]
    for day in ("Thứ Hai 30/11/2026", "Thứ Ba 01/12/2026", "Thứ Sáu 04/12/2026"):
        assert f"══ {day} ══" in week
    assert "07:30 📨 dondoc → Trần Thị Mai (Văn phòng):\n      ⏰ Nhắc việc: 2 việc" in week
    assert "07:45 💬 Trần Thị Mai: (bấm nút «✅ III.4.4»)" in week
    assert "Đã ghi cho III.2.7" in week  # the late task, done a fortnight after its deadline
    assert "📝 Tuần này Chi hội Khuyến học còn 3 việc đang mở chưa có báo cáo" in week  # silent
    digest = week[week.index("BÁO CÁO TUẦN GỬI Nguyễn Văn Hiếu") :]
    assert "Báo cáo tuần 2026-W49 — Trường THCS Thị Trấn 2" in digest
    assert "Tổ/bộ phận: Ban giám hiệu, Chi hội Khuyến học" in digest
    assert "Tỷ lệ học sinh bỏ học, lưu ban: 0,48% (3/620)" in digest
    folder = tmp_path / "demo" / "THCS-TT2" / "2026-W49"
    assert (folder / "bao-cao-tuan-2026-W49.xlsx").is_file()
    assert (folder / "tien-do-2026-W49.png").is_file()


def test_demo_starts_again_from_scratch_each_time(cli, tmp_path: Path) -> None:
    first = cli("demo", "--out", tmp_path).output
    second = cli("demo", "--out", tmp_path).output
    assert first == second


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
    assert output.startswith("Báo cáo tuần 2026-W48 — Trường THCS Thị Trấn 2\n")
    assert "Kỳ báo cáo: từ 00:00 23/11/2026" in output
    assert "Tiến độ chung: 0% · hoàn thành 0/38 nhiệm vụ" in output
    assert (tmp_path / "out" / "bao-cao-tuan-2026-W48.xlsx").is_file()
    assert (tmp_path / "out" / "tien-do-2026-W48.png").is_file()
    assert "2026-W99" in cli("digest", "--week", "2026-W99", expect=2).output


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
