"""The staff list: `name,unit,role,phone[,xung_ho][,phu_trach]` rows from CSV or Excel, upserted
into members. `phu_trach` lists the units a vice principal oversees (their brief covers them);
when the column is there it replaces what each listed person oversaw, empty meaning every unit.

A row whose role is the education office (`office`, "Phòng GD&ĐT", "chuyên viên phòng giáo
dục") names someone who follows the school from the office: no unit (the column stays empty),
no task; `Member.office`, and the weekly roll-up of the schools that list them."""

import csv
import io
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from sqlmodel import Session, col, select

from messages import t
from models import Member, Membership, Oversight, Role, School, Unit
from services.tasks import current_units
from services.text import fold
from services.validation import RefusedFile
from services.workbooks import UnreadableWorkbook, open_workbook

HEADERS = {
    "name": ("name", "họ tên", "họ và tên", "ho ten"),
    "unit": ("unit", "tổ/bộ phận", "tổ", "bộ phận", "đơn vị"),
    "role": ("role", "vai trò", "chức vụ"),
    "phone": ("phone", "điện thoại", "số điện thoại", "sđt"),
    "salutation": ("xung_ho", "xưng hô", "salutation"),
    "oversees": ("phu_trach", "phụ trách", "oversees"),
}
OPTIONAL = ("phone", "salutation", "oversees")
ROLE_WORDS = {
    Role.PRINCIPAL: ("principal", "hiệu trưởng"),
    Role.VICE_PRINCIPAL: ("vice_principal", "vice principal", "phó hiệu trưởng"),
    Role.UNIT_HEAD: (
        "unit_head",
        "unit head",
        "tổ trưởng",
        "trưởng bộ phận",
        "tổ trưởng/trưởng bộ phận",
        "tổ trưởng chuyên môn",
    ),
    Role.STAFF: (
        "staff",
        "giáo viên",
        "nhân viên",
        "giáo viên/nhân viên",
        "giáo viên chủ nhiệm",  # a homeroom teacher: a teacher of their unit (no role of its own)
        "gvcn",
    ),
}
OFFICE_WORDS = (
    "office",
    "education office",
    "phòng gd&đt",
    "phòng gd-đt",
    "phòng gdđt",
    "phòng gd",
    "phòng giáo dục",
    "phòng giáo dục và đào tạo",
    "phòng giáo dục & đào tạo",
    "chuyên viên phòng gd&đt",
    "chuyên viên phòng gd",
    "chuyên viên phòng giáo dục",
    "chuyên viên phòng giáo dục và đào tạo",
    "chuyên viên",
)
SALUTATION_WORDS = {  # stored as "thầy" or "cô"
    "thầy": ("thầy", "thay", "thầy giáo", "thay giao"),
    "cô": ("cô", "co", "cô giáo", "co giao"),
}


class PeopleFileError(RefusedFile):
    headline = "people.file_refused"


class StaffRow(NamedTuple):
    number: int
    name: str
    phone: str | None
    unit: Unit | None  # None: the education office's, in no unit
    role: Role | None  # None: the education office
    salutation: str | None  # None: not said
    oversees: tuple[Unit, ...]


@dataclass
class PeopleSummary:
    rows: int
    created: int
    updated: int
    memberships: int


def fold_name(text: str) -> str:
    """Case- and spacing-insensitive comparison key; keeps diacritics (they change meaning)."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip().casefold()


ROLE_BY_WORD = {fold_name(word): role for role, words in ROLE_WORDS.items() for word in words}
OFFICE_BY_WORD = frozenset(fold_name(word) for word in OFFICE_WORDS)
FIELD_BY_HEADER = {fold_name(word): field for field, words in HEADERS.items() for word in words}
SALUTATION_BY_WORD = {
    fold_name(word): salutation for salutation, words in SALUTATION_WORDS.items() for word in words
}


def named(members: Sequence[Member], who: str) -> list[Member]:
    """The members called `who`: as written (case and spacing aside), else without diacritics
    ("do van binh"), the way names are typed on phones."""
    exact = [m for m in members if fold_name(m.name) == fold_name(who)]
    return exact or [m for m in members if fold(m.name) == fold(who)]


def normalize_phone(raw: str) -> str | None:
    digits = re.sub(r"[\s.\-()]", "", raw)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    elif len(digits) == 9 and not digits.startswith("0"):
        digits = "0" + digits  # Excel drops the leading zero of numbers typed as numbers
    return digits if re.fullmatch(r"0\d{9}", digits) else None


def _rows(path: Path) -> Iterator[list[str]]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            workbook = open_workbook(path)
        except UnreadableWorkbook:
            raise PeopleFileError(path, [t("plan.bad_workbook")]) from None
        for values in workbook.worksheets[0].iter_rows(values_only=True):
            yield [_cell_text(value) for value in values]
        workbook.close()
        return
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise PeopleFileError(path, [t("plan.not_utf8")]) from None
    first_line = text.partition("\n")[0]
    yield from csv.reader(io.StringIO(text), delimiter=max(",;\t", key=first_line.count))


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def import_people(session: Session, school: School, path: Path) -> PeopleSummary:
    """Validate every row first; write only if all are good. The caller owns the transaction."""
    if path.suffix.lower() not in (".csv", ".xlsx", ".xlsm"):
        raise PeopleFileError(path, [t("people.unknown_format")])
    if not path.is_file():
        raise PeopleFileError(path, [t("file.not_found", path=path)])
    units = current_units(session, school.id)  # not units taken out of the plan
    unit_by_key = {fold_name(u.code): u for u in units} | {fold_name(u.name): u for u in units}
    known_units = ", ".join(u.code for u in units)

    rows = iter(_rows(path))
    header = [FIELD_BY_HEADER.get(fold_name(cell)) for cell in next(rows, [])]
    missing = [f for f in HEADERS if f not in header and f not in OPTIONAL]
    if missing:
        raise PeopleFileError(path, [t("people.bad_header", missing=", ".join(missing))])

    problems: list[str] = []
    parsed: list[StaffRow] = []
    for number, cells in enumerate(rows, start=2):
        record = {
            f: c.replace("\x00", "").strip() for f, c in zip(header, cells, strict=False) if f
        }
        if not any(record.values()):
            continue
        row_problems = []
        name = re.sub(r"\s+", " ", record.get("name", ""))
        if not name:
            row_problems.append(t("people.missing_name"))
        role_word = fold_name(record.get("role", "") or "staff")
        office = role_word in OFFICE_BY_WORD
        unit = unit_by_key.get(fold_name(record.get("unit", "")))
        if office and record.get("unit"):
            row_problems.append(t("people.office_unit", value=record["unit"]))
        elif unit is None and not office:
            row_problems.append(
                t("people.unknown_unit", value=record.get("unit", ""), known=known_units)
            )
        role = ROLE_BY_WORD.get(role_word)
        if role is None and not office:
            row_problems.append(t("people.unknown_role", value=record.get("role", "")))
        phone = None
        if record.get("phone"):
            phone = normalize_phone(record["phone"])
            if phone is None:
                row_problems.append(t("people.bad_phone", value=record["phone"]))
        salutation = SALUTATION_BY_WORD.get(fold_name(record.get("salutation", "")))
        if record.get("salutation") and salutation is None:
            row_problems.append(t("people.bad_salutation", value=record["salutation"]))
        codes = [c.strip() for c in re.split(r"[,;]", record.get("oversees", "")) if c.strip()]
        oversees = tuple(unit_by_key[fold_name(c)] for c in codes if fold_name(c) in unit_by_key)
        row_problems += [
            t("people.unknown_oversight", value=code, known=known_units)
            for code in codes
            if fold_name(code) not in unit_by_key
        ]
        if codes and (office or role not in (None, Role.VICE_PRINCIPAL)):
            row_problems.append(t("people.oversight_not_vice"))
        problems += [t("people.row", row=number, problem=p) for p in row_problems]
        if not row_problems and (office or (unit is not None and role is not None)):
            parsed.append(StaffRow(number, name, phone, unit, role, salutation, oversees))
    if not parsed and not problems:
        problems.append(t("people.empty"))
    if problems:
        raise PeopleFileError(path, problems)
    return _store(session, school, parsed, path, oversight="oversees" in header)


def _match(
    members: list[Member], name: str, phone: str | None, phone_in_file: dict[int, str]
) -> Member | None:
    """The member a row means: same name and phone; or same name when that member's phone
    was not already given differently earlier in this file (then they are namesakes)."""
    namesakes = [m for m in members if fold_name(m.name) == fold_name(name)]
    if phone:
        same = [m for m in namesakes if m.phone == phone]
        if same:
            return same[0]
        namesakes = [m for m in namesakes if phone_in_file.get(m.id, phone) == phone]
    if len(namesakes) > 1:
        raise AmbiguousName
    return namesakes[0] if namesakes else None


def _name(members: list[Member], member_id: int) -> str:
    return next(member.name for member in members if member.id == member_id)


class AmbiguousName(Exception):
    pass


def _replace_oversight(session: Session, overseen: dict[int, set[int]]) -> None:
    """Each listed member oversees exactly the units their rows name (none: every unit)."""
    rows = session.exec(select(Oversight).where(col(Oversight.member_id).in_(list(overseen))))
    current = {(row.member_id, row.unit_id): row for row in rows}
    wanted = {(member, unit) for member, units in overseen.items() for unit in units}
    for key, row in current.items():
        if key not in wanted:
            session.delete(row)
    session.add_all(
        Oversight(member_id=member, unit_id=unit)
        for member, unit in sorted(wanted - current.keys())
    )


def _office_only(session: Session, office: set[int]) -> None:
    """People of the education office have no place in a unit: what they had goes."""
    if not office:
        return
    for table in (Membership, Oversight):
        for row in session.exec(select(table).where(col(table.member_id).in_(office))):
            session.delete(row)


def _store(
    session: Session,
    school: School,
    parsed: list[StaffRow],
    path: Path,
    *,
    oversight: bool,
) -> PeopleSummary:
    members = list(session.exec(select(Member).where(Member.school_id == school.id)).all())
    created: set[int] = set()
    updated: set[int] = set()
    roles: dict[tuple[int, int], Role] = {}
    phone_in_file: dict[int, str] = {}
    problems: list[str] = []
    overseen: dict[int, set[int]] = {}
    office: dict[int, int] = {}  # member id -> the row that says they are the office's
    in_units: dict[int, int] = {}  # member id -> a row that gives them a unit
    for number, name, phone, unit, role, salutation, oversees in parsed:
        try:
            member = _match(members, name, phone, phone_in_file)
        except AmbiguousName:
            problems.append(t("people.row", row=number, problem=t("people.ambiguous", name=name)))
            continue
        if member is None:
            member = Member(school_id=school.id, name=name, phone=phone)
            session.add(member)
            session.flush()
            members.append(member)
            created.add(member.id)
        elif member.id not in phone_in_file and (member.name, member.phone) != (
            name,
            phone or member.phone,
        ):
            member.name, member.phone = name, phone or member.phone
            updated.add(member.id)
        if salutation and member.salutation != salutation:  # any row of the person may say it
            member.salutation = salutation
            updated.add(member.id)
        phone_in_file.setdefault(member.id, member.phone or "")
        overseen.setdefault(member.id, set()).update(u.id for u in oversees)
        if unit is None or role is None:  # the education office's
            office.setdefault(member.id, number)
            if not member.office:
                member.office = True
                updated.add(member.id)
            continue
        in_units.setdefault(member.id, number)
        if member.office:
            member.office = False
            updated.add(member.id)
        key = (member.id, unit.id)
        if roles.get(key, role) != role:
            problems.append(
                t("people.row", row=number, problem=t("people.conflict", name=name, unit=unit.code))
            )
        roles[key] = role
        membership = session.get(Membership, key)
        if membership is None:
            session.add(Membership(member_id=member.id, unit_id=unit.id, role=role))
        else:
            membership.role = role
    problems += [
        t("people.row", row=max(row, in_units[member_id]),
          problem=t("people.office_and_unit", name=_name(members, member_id)))
        for member_id, row in office.items()
        if member_id in in_units
    ]  # fmt: skip
    if oversight:
        _replace_oversight(session, overseen)
    _office_only(session, set(office) - set(in_units))
    session.flush()
    by_phone: dict[str, list[str]] = {}
    for member in members:
        if member.phone:
            by_phone.setdefault(member.phone, []).append(member.name)
    problems += [
        t("people.shared_phone", phone=phone, names=", ".join(names))
        for phone, names in by_phone.items()
        if len(names) > 1
    ]
    if problems:
        raise PeopleFileError(path, problems)
    return PeopleSummary(
        rows=len(parsed),
        created=len(created),
        updated=len(updated - created),
        memberships=len(roles),
    )
