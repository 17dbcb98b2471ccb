"""`dondoc people import FILE`: the staff list (name, unit, role, phone) from CSV or Excel.

Each test starts from the default plan (units CHIBO, BGH, TCM, CONGDOAN, CHIDOAN, KHUYENHOC,
VANPHONG) and reads the result back from the database.
"""

from pathlib import Path

import openpyxl
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from models import Member, Membership, Oversight, Role, Unit
from tests.conftest import Cli
from tests.db_state import snapshot

HEADER = "name,unit,role,phone"
UNIT_CODES = {"CHIBO", "BGH", "TCM", "CONGDOAN", "CHIDOAN", "KHUYENHOC", "VANPHONG"}

Roster = dict[str, tuple[str | None, dict[str, Role]]]


def write_csv(folder: Path, rows: list[str], name: str = "danh-sach.csv", **options: str) -> Path:
    path = folder / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding=options.get("encoding", "utf-8"))
    return path


def roster(engine: Engine) -> Roster:
    """name → (phone, {unit code: role}) for every member."""
    with Session(engine) as session:
        result: Roster = {}
        for member in session.exec(select(Member).order_by(col(Member.id))):
            units = session.exec(
                select(Unit.code, Membership.role)
                .join(Membership, col(Membership.unit_id) == col(Unit.id))
                .where(Membership.member_id == member.id)
            ).all()
            result[member.name] = (member.phone, {code: Role(role) for code, role in units})
        return result


def counts(engine: Engine) -> tuple[int, int]:
    with Session(engine) as session:
        members = session.exec(select(func.count()).select_from(Member)).one()
        memberships = session.exec(select(func.count()).select_from(Membership)).one()
    return members, memberships


def refuse(cli: Cli, engine: Engine, path: Path) -> str:
    """Import `path`, expect exit code 2 and an untouched database; return the message."""
    before = snapshot(engine)
    result = cli("people", "import", path, expect=2)
    assert snapshot(engine) == before
    assert f"Không nhập danh sách {path.name}; cơ sở dữ liệu giữ nguyên" in result.output
    assert "Traceback" not in result.output
    return result.output


@pytest.fixture
def plan(cli: Cli) -> None:
    cli("plan", "import")


@pytest.fixture
def staff(cli: Cli, engine: Engine, plan: None, tmp_path: Path) -> Roster:
    """A first staff list already imported, so refused files have something to leave alone."""
    path = write_csv(
        tmp_path,
        ["Trần Văn An,BGH,principal,0912345678", "Lê Thị Hoa,TCM,unit_head,0987654321"],
        name="danh-sach-dau.csv",
    )
    cli("people", "import", path)
    return roster(engine)


# --- accepted files ---------------------------------------------------------------------------


def test_english_roles_and_unit_codes(cli: Cli, engine: Engine, plan: None, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        [
            "Trần Văn An,BGH,principal,0912345678",
            "Phạm Thị Bình,BGH,vice_principal,0912345679",
            "Lê Thị Hoa,TCM,unit_head,0987654321",
            "Ngô Văn Cường,VANPHONG,staff,0987654322",
        ],
    )
    result = cli("people", "import", path)
    assert "Đã nhập 4 dòng: 4 người mới, 0 người cập nhật; 4 lượt" in result.output
    assert roster(engine) == {
        "Trần Văn An": ("0912345678", {"BGH": Role.PRINCIPAL}),
        "Phạm Thị Bình": ("0912345679", {"BGH": Role.VICE_PRINCIPAL}),
        "Lê Thị Hoa": ("0987654321", {"TCM": Role.UNIT_HEAD}),
        "Ngô Văn Cường": ("0987654322", {"VANPHONG": Role.STAFF}),
    }


def test_vietnamese_role_labels(cli: Cli, engine: Engine, plan: None, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        [
            "Người Một,BGH,Hiệu trưởng,",
            "Người Hai,BGH,Phó hiệu trưởng,",
            "Người Ba,TCM,Tổ trưởng/Trưởng bộ phận,",
            "Người Bốn,TCM,Giáo viên/Nhân viên,",
            "Người Năm,CONGDOAN,Tổ trưởng,",
            "Người Sáu,CHIDOAN,Giáo viên,",
            "Người Bảy,VANPHONG,NHÂN VIÊN,",
        ],
    )
    cli("people", "import", path)
    roles = {name: units for name, (_, units) in roster(engine).items()}
    assert roles == {
        "Người Một": {"BGH": Role.PRINCIPAL},
        "Người Hai": {"BGH": Role.VICE_PRINCIPAL},
        "Người Ba": {"TCM": Role.UNIT_HEAD},
        "Người Bốn": {"TCM": Role.STAFF},
        "Người Năm": {"CONGDOAN": Role.UNIT_HEAD},
        "Người Sáu": {"CHIDOAN": Role.STAFF},
        "Người Bảy": {"VANPHONG": Role.STAFF},
    }


def test_empty_role_means_staff(cli: Cli, engine: Engine, plan: None, tmp_path: Path) -> None:
    cli("people", "import", write_csv(tmp_path, ["Lê Thị Hoa,VANPHONG,,"]))
    assert roster(engine) == {"Lê Thị Hoa": (None, {"VANPHONG": Role.STAFF})}


def test_unit_by_name_in_any_case_or_by_lowercase_code(
    cli: Cli, engine: Engine, plan: None, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path,
        [
            "Người Một,Văn phòng,staff,",
            "Người Hai,VĂN PHÒNG,staff,",
            "Người Ba,ban giám hiệu,principal,",
            "Người Bốn,tcm,staff,",
        ],
    )
    cli("people", "import", path)
    units = {name: set(units) for name, (_, units) in roster(engine).items()}
    assert units == {
        "Người Một": {"VANPHONG"},
        "Người Hai": {"VANPHONG"},
        "Người Ba": {"BGH"},
        "Người Bốn": {"TCM"},
    }


def test_person_in_two_rows_is_one_member_with_two_memberships(
    cli: Cli, engine: Engine, plan: None, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path,
        ["Lê Thị Hoa,TCM,Tổ trưởng,0987654321", "Lê Thị Hoa,CONGDOAN,Giáo viên,0987654321"],
    )
    result = cli("people", "import", path)
    assert "1 người mới" in result.output
    assert "2 lượt thuộc tổ/bộ phận" in result.output
    assert roster(engine) == {
        "Lê Thị Hoa": ("0987654321", {"TCM": Role.UNIT_HEAD, "CONGDOAN": Role.STAFF})
    }
    assert counts(engine) == (1, 2)


@pytest.mark.parametrize(
    "written",
    ["+84 912 345 678", "+84912345678", "84912345678", "0912.345.678", "0912-345-678", "912345678"],
)
def test_phone_numbers_are_normalized(
    cli: Cli, engine: Engine, plan: None, tmp_path: Path, written: str
) -> None:
    cli("people", "import", write_csv(tmp_path, [f'Lê Thị Hoa,VANPHONG,staff,"{written}"']))
    assert roster(engine)["Lê Thị Hoa"][0] == "0912345678"


def test_semicolon_separated_csv(cli: Cli, engine: Engine, plan: None, tmp_path: Path) -> None:
    path = tmp_path / "danh-sach.csv"
    path.write_text(
        "name;unit;role;phone\n"
        "Trần Văn An;Ban giám hiệu;Hiệu trưởng;+84 912 345 678\n"
        "Lê Thị Hoa;TCM;Tổ trưởng/Trưởng bộ phận;0987654321\n",
        encoding="utf-8",
    )
    cli("people", "import", path)
    assert roster(engine) == {
        "Trần Văn An": ("0912345678", {"BGH": Role.PRINCIPAL}),
        "Lê Thị Hoa": ("0987654321", {"TCM": Role.UNIT_HEAD}),
    }


def test_utf8_with_bom(cli: Cli, engine: Engine, plan: None, tmp_path: Path) -> None:
    path = write_csv(tmp_path, ["Trần Văn An,BGH,Hiệu trưởng,0912345678"], encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    cli("people", "import", path)
    assert roster(engine) == {"Trần Văn An": ("0912345678", {"BGH": Role.PRINCIPAL})}


def test_xlsx_with_the_same_header(cli: Cli, engine: Engine, plan: None, tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(","))
    sheet.append(["Trần Văn An", "BGH", "Hiệu trưởng", "+84 912 345 678"])
    sheet.append(["Lê Thị Hoa", "Văn phòng", "Giáo viên/Nhân viên", 987654321])  # typed as number
    path = tmp_path / "danh-sach.xlsx"
    workbook.save(path)
    cli("people", "import", path)
    assert roster(engine) == {
        "Trần Văn An": ("0912345678", {"BGH": Role.PRINCIPAL}),
        "Lê Thị Hoa": ("0987654321", {"VANPHONG": Role.STAFF}),
    }


def test_importing_the_same_file_again_changes_nothing(
    cli: Cli, engine: Engine, plan: None, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path,
        [
            "Trần Văn An,BGH,principal,0912345678",
            "Lê Thị Hoa,TCM,unit_head,0987654321",
            "Lê Thị Hoa,VANPHONG,staff,0987654321",
        ],
    )
    cli("people", "import", path)
    first_roster, first_counts = roster(engine), counts(engine)
    result = cli("people", "import", path)
    assert "0 người mới, 0 người cập nhật" in result.output
    assert counts(engine) == first_counts == (2, 3)
    assert roster(engine) == first_roster


def test_reimport_updates_a_changed_role(
    cli: Cli, engine: Engine, staff: Roster, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path,
        ["Trần Văn An,BGH,principal,0912345678", "Lê Thị Hoa,TCM,Giáo viên,0987654321"],
    )
    cli("people", "import", path)
    assert counts(engine) == (2, 2)
    assert roster(engine)["Lê Thị Hoa"] == ("0987654321", {"TCM": Role.STAFF})
    assert roster(engine)["Trần Văn An"] == staff["Trần Văn An"]


def salutations(engine: Engine) -> dict[str, str | None]:
    with Session(engine) as session:
        return {m.name: m.salutation for m in session.exec(select(Member).order_by(col(Member.id)))}


def write_with_xung_ho(folder: Path, rows: list[str], header: str = "xung_ho") -> Path:
    path = folder / "xung-ho.csv"
    path.write_text("\n".join([f"{HEADER},{header}", *rows]) + "\n", encoding="utf-8")
    return path


def test_xung_ho_is_stored_as_thay_or_co(
    cli: Cli, engine: Engine, plan: None, tmp_path: Path
) -> None:
    path = write_with_xung_ho(
        tmp_path,
        [
            "Người Một,TCM,staff,,thầy",
            "Người Hai,TCM,staff,,Cô",
            "Người Ba,TCM,staff,,thay",
            "Người Bốn,TCM,staff,,co",
            "Người Năm,TCM,staff,,Thầy giáo",
            "Người Sáu,TCM,staff,, cô  giáo ",
            "Người Bảy,TCM,staff,,",
        ],
    )
    cli("people", "import", path)
    assert salutations(engine) == {
        "Người Một": "thầy",
        "Người Hai": "cô",
        "Người Ba": "thầy",
        "Người Bốn": "cô",
        "Người Năm": "thầy",
        "Người Sáu": "cô",
        "Người Bảy": None,
    }


@pytest.mark.parametrize("header", ["Xưng hô", "salutation", "XUNG_HO"])
def test_xung_ho_header_in_other_words(
    cli: Cli, engine: Engine, plan: None, tmp_path: Path, header: str
) -> None:
    cli("people", "import", write_with_xung_ho(tmp_path, ["Lê Thị Hoa,TCM,staff,,cô"], header))
    assert salutations(engine) == {"Lê Thị Hoa": "cô"}


def test_xung_ho_in_an_xlsx_file(cli: Cli, engine: Engine, plan: None, tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append(["Họ tên", "Tổ/bộ phận", "Vai trò", "Điện thoại", "Xưng hô"])
    workbook.active.append(["Trần Văn An", "BGH", "Hiệu trưởng", None, "Thầy"])
    path = tmp_path / "danh-sach.xlsx"
    workbook.save(path)
    cli("people", "import", path)
    assert salutations(engine) == {"Trần Văn An": "thầy"}


def test_a_list_without_xung_ho_or_with_it_empty_keeps_the_salutation(
    cli: Cli, engine: Engine, plan: None, tmp_path: Path
) -> None:
    rows = ["Trần Văn An,BGH,principal,0912345678", "Lê Thị Hoa,TCM,unit_head,0987654321"]
    cli("people", "import", write_with_xung_ho(tmp_path, [f"{rows[0]},thầy", f"{rows[1]},cô"]))
    without = cli("people", "import", write_csv(tmp_path, rows))
    assert "0 người mới, 0 người cập nhật" in without.output
    empty = cli("people", "import", write_with_xung_ho(tmp_path, [f"{rows[0]},", f"{rows[1]},"]))
    assert "0 người mới, 0 người cập nhật" in empty.output
    assert salutations(engine) == {"Trần Văn An": "thầy", "Lê Thị Hoa": "cô"}


def test_a_changed_or_later_given_xung_ho_updates_the_person_once(
    cli: Cli, engine: Engine, staff: Roster, tmp_path: Path
) -> None:
    path = write_with_xung_ho(
        tmp_path,
        [
            "Trần Văn An,BGH,principal,0912345678,thầy",
            "Lê Thị Hoa,TCM,unit_head,0987654321,",
            "Lê Thị Hoa,CONGDOAN,staff,0987654321,cô",
        ],
    )
    result = cli("people", "import", path)
    assert "0 người mới, 2 người cập nhật" in result.output
    assert salutations(engine) == {"Trần Văn An": "thầy", "Lê Thị Hoa": "cô"}


def write_with_oversight(folder: Path, rows: list[str], header: str = "phu_trach") -> Path:
    path = folder / "phu-trach.csv"
    path.write_text("\n".join([f"{HEADER},{header}", *rows]) + "\n", encoding="utf-8")
    return path


def oversight(engine: Engine) -> dict[str, list[str]]:
    """name → the codes of the units the person oversees, for everyone who oversees some."""
    with Session(engine) as session:
        rows = session.exec(
            select(Member.name, Unit.code)
            .join(Oversight, col(Oversight.member_id) == col(Member.id))
            .join(Unit, col(Unit.id) == col(Oversight.unit_id))
            .order_by(col(Member.name), col(Unit.code))
        ).all()
    result: dict[str, list[str]] = {}
    for name, code in rows:
        result.setdefault(name, []).append(code)
    return result


@pytest.mark.parametrize("header", ["phu_trach", "Phụ trách", "oversees"])
def test_phu_trach_names_the_units_a_vice_principal_oversees(
    cli: Cli, engine: Engine, plan: None, tmp_path: Path, header: str
) -> None:
    rows = [
        "Trần Văn An,BGH,principal,0912345678,",
        'Phạm Thị Lan,BGH,vice_principal,0912000002,"TCM, vanphong"',
        "Vũ Văn Tâm,BGH,Phó hiệu trưởng,0912000003,CHIDOAN;Công đoàn",
    ]
    cli("people", "import", write_with_oversight(tmp_path, rows, header))
    assert oversight(engine) == {
        "Phạm Thị Lan": ["TCM", "VANPHONG"],
        "Vũ Văn Tâm": ["CHIDOAN", "CONGDOAN"],
    }


def test_reimporting_replaces_what_a_person_oversees(
    cli: Cli, engine: Engine, plan: None, tmp_path: Path
) -> None:
    lan = "Phạm Thị Lan,BGH,vice_principal,0912000002"
    cli("people", "import", write_with_oversight(tmp_path, [f"{lan},TCM;VANPHONG"]))
    cli("people", "import", write_with_oversight(tmp_path, [f"{lan},CHIDOAN"]))
    assert oversight(engine) == {"Phạm Thị Lan": ["CHIDOAN"]}
    cli("people", "import", write_csv(tmp_path, [lan]))  # no phu_trach column: kept
    assert oversight(engine) == {"Phạm Thị Lan": ["CHIDOAN"]}
    cli("people", "import", write_with_oversight(tmp_path, [f"{lan},"]))  # empty: every unit
    assert oversight(engine) == {}


# --- refused files ----------------------------------------------------------------------------


def test_an_unknown_unit_in_phu_trach_is_refused_with_its_row(
    cli: Cli, engine: Engine, staff: Roster, tmp_path: Path
) -> None:
    path = write_with_oversight(
        tmp_path, ["Phạm Thị Lan,BGH,vice_principal,0912000002,TCM; THUVIEN"]
    )
    output = refuse(cli, engine, path)
    assert (
        "dòng 2: cột phụ trách ghi 'THUVIEN', không phải tổ/bộ phận nào; hãy ghi các mã cách "
        "nhau bởi dấu phẩy hoặc chấm phẩy, trong số: " in output
    )


def test_phu_trach_is_only_for_vice_principals(
    cli: Cli, engine: Engine, staff: Roster, tmp_path: Path
) -> None:
    path = write_with_oversight(tmp_path, ["Lê Thị Hoa,TCM,unit_head,0987654321,TCM"])
    output = refuse(cli, engine, path)
    assert "dòng 2: cột phụ trách chỉ ghi cho Phó hiệu trưởng" in output


def test_unknown_unit_is_refused_listing_the_unit_codes(
    cli: Cli, engine: Engine, staff: Roster, tmp_path: Path
) -> None:
    path = write_csv(tmp_path, ["Người Mới,VANPHONG,staff,", "Người Khác,Thư viện,staff,"])
    output = refuse(cli, engine, path)
    assert "dòng 3: không có tổ/bộ phận 'Thư viện'" in output
    known = output.split("một trong: ", 1)[1].split(".", 1)[0]
    assert set(known.split(", ")) == UNIT_CODES


def test_unknown_role_is_refused_listing_the_labels(
    cli: Cli, engine: Engine, staff: Roster, tmp_path: Path
) -> None:
    output = refuse(cli, engine, write_csv(tmp_path, ["Người Mới,VANPHONG,Bảo vệ,"]))
    assert "dòng 2: vai trò 'Bảo vệ' không hợp lệ" in output
    assert (
        "Hiệu trưởng, Phó hiệu trưởng, Tổ trưởng/Trưởng bộ phận, Giáo viên/Nhân viên hoặc "
        "Phòng GD&ĐT" in output
    )


def test_bad_phone_is_refused_with_an_example(
    cli: Cli, engine: Engine, staff: Roster, tmp_path: Path
) -> None:
    output = refuse(cli, engine, write_csv(tmp_path, ["Người Mới,VANPHONG,staff,12345"]))
    assert "dòng 2: số điện thoại '12345' không hợp lệ" in output
    assert "10 chữ số, ví dụ 0912345678" in output


def test_missing_name_is_refused(cli: Cli, engine: Engine, staff: Roster, tmp_path: Path) -> None:
    path = write_csv(tmp_path, ["Người Mới,VANPHONG,staff,", ",TCM,staff,0911111111"])
    output = refuse(cli, engine, path)
    assert "dòng 3: thiếu họ tên" in output


def test_every_bad_row_is_reported(cli: Cli, engine: Engine, staff: Roster, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path, ["Người Một,THUVIEN,staff,", "Người Hai,TCM,staff,", "Người Ba,TCM,janitor,"]
    )
    output = refuse(cli, engine, path)
    assert "dòng 2: không có tổ/bộ phận 'THUVIEN'" in output
    assert "dòng 4: vai trò 'janitor' không hợp lệ" in output
    assert "dòng 3" not in output


def test_bad_header_is_refused_naming_the_missing_columns(
    cli: Cli, engine: Engine, staff: Roster, tmp_path: Path
) -> None:
    path = tmp_path / "danh-sach.csv"
    path.write_text("ho ten,to,chuc vu\nNgười Mới,VANPHONG,staff\n", encoding="utf-8")
    output = refuse(cli, engine, path)
    assert "dòng tiêu đề cần các cột name,unit,role,phone" in output
    assert "đang thiếu: unit, role" in output


def test_bad_xung_ho_is_refused_with_its_row(
    cli: Cli, engine: Engine, staff: Roster, tmp_path: Path
) -> None:
    path = write_with_xung_ho(tmp_path, ["Người Mới,TCM,staff,,cô", "Người Khác,TCM,staff,,anh"])
    output = refuse(cli, engine, path)
    assert "dòng 3: xưng hô 'anh' không hợp lệ; hãy ghi thầy hoặc cô, hoặc để trống" in output
    assert "dòng 2" not in output


# --- product bugs (these tests fail on purpose; see the report) --------------------------------


def test_two_people_with_the_same_name_but_different_phones_stay_two_members(
    cli: Cli, engine: Engine, plan: None, tmp_path: Path
) -> None:
    """Namesakes are common; a second phone number must not be dropped silently."""
    path = write_csv(
        tmp_path,
        ["Nguyễn Thị Lan,TCM,staff,0911111111", "Nguyễn Thị Lan,VANPHONG,staff,0922222222"],
    )
    cli("people", "import", path)
    with Session(engine) as session:
        phones = set(session.exec(select(Member.phone)).all())
    assert phones == {"0911111111", "0922222222"}


def test_a_phone_moved_to_another_person_does_not_swallow_the_first_person(
    cli: Cli, engine: Engine, staff: Roster, tmp_path: Path
) -> None:
    """Lê Thị Hoa's number in the first list was really Nguyễn Văn Dũng's; the corrected list
    names both of them, so both must be members afterwards."""
    fixed = write_csv(
        tmp_path,
        ["Nguyễn Văn Dũng,VANPHONG,staff,0987654321", "Lê Thị Hoa,TCM,unit_head,0933333333"],
        name="sua-so.csv",
    )
    cli("people", "import", fixed)
    found = roster(engine)
    assert found.get("Nguyễn Văn Dũng", (None,))[0] == "0987654321"
    assert found.get("Lê Thị Hoa") == ("0933333333", {"TCM": Role.UNIT_HEAD})
