"""`dondoc invite`: single-use joining codes for the people who have not linked a chat yet."""

import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models import Channel, ChatIdentity, Invitation, Member
from services.invitations import ALPHABET, CODE_LENGTH, hash_code
from tests.conftest import Cli

PEOPLE = """\
name,unit,role,phone
Trần Văn An,BGH,Hiệu trưởng,0912345678
Lê Thị Hoa,TCM,Tổ trưởng,0987654321
Lê Thị Hoa,VANPHONG,Giáo viên,0987654321
Ngô Văn Cường,Văn phòng,Nhân viên,
"""

SECOND_PLAN = """\
school:
  code: TEST-2
  name: Trường Thứ Hai
units:
  - code: VP
    name: Văn phòng
tasks:
  - code: A.1
    title: Nộp báo cáo
    unit: VP
    deadline: 30/06/2026
"""


def invite_json(cli: Cli, *args: str) -> list[dict[str, Any]]:
    return json.loads(cli("invite", "--format", "json", *args).stdout)


def by_name(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in rows}


def invitations(engine: Engine) -> list[Invitation]:
    with Session(engine) as session:
        return list(session.exec(select(Invitation).order_by(col(Invitation.id))))


def member_id(engine: Engine, name: str) -> int:
    with Session(engine) as session:
        return session.exec(select(Member.id).where(Member.name == name)).one()


@pytest.fixture
def people(cli: Cli, tmp_path: Path) -> None:
    cli("plan", "import")
    path = tmp_path / "danh-sach.csv"
    path.write_text(PEOPLE, encoding="utf-8")
    cli("people", "import", path)


@pytest.fixture
def two_schools(cli: Cli, people: None, tmp_path: Path) -> None:
    path = tmp_path / "truong-2.yaml"
    path.write_text(SECOND_PLAN, encoding="utf-8")
    cli("plan", "import", path)


def test_json_lists_everyone_with_unit_role_and_code(cli: Cli, people: None) -> None:
    rows = by_name(invite_json(cli))
    assert set(rows) == {"Trần Văn An", "Lê Thị Hoa", "Ngô Văn Cường"}
    assert {name: (row["unit"], row["role"]) for name, row in rows.items()} == {
        "Trần Văn An": ("BGH", "principal"),
        "Lê Thị Hoa": ("TCM", "unit_head"),
        "Ngô Văn Cường": ("VANPHONG", "staff"),
    }
    assert rows["Lê Thị Hoa"]["units"] == ["TCM", "VANPHONG"]
    for row in rows.values():
        assert len(row["code"]) == CODE_LENGTH
        assert set(row["code"]) <= set(ALPHABET)
        assert row["telegram_link"] is None
    assert len({row["code"] for row in rows.values()}) == 3


def test_json_gives_a_telegram_link_when_the_bot_username_is_set(
    cli: Cli, people: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "dondoc_test_bot")
    for row in invite_json(cli):
        assert row["telegram_link"] == f"https://t.me/dondoc_test_bot?start={row['code']}"


def test_only_sha256_hashes_of_the_codes_are_stored(cli: Cli, engine: Engine, people: None) -> None:
    codes = [row["code"] for row in invite_json(cli)]
    with engine.connect() as connection:
        table = [tuple(row) for row in connection.execute(sa.select(Invitation.__table__))]
    assert len(table) == 3
    stored_text = repr(table)
    for code in codes:
        assert code not in stored_text
    stored = {invitation.code_hash for invitation in invitations(engine)}
    assert stored == {hashlib.sha256(code.encode()).hexdigest() for code in codes}
    assert stored == {hash_code(code) for code in codes}


def test_codes_expire_after_14_days_by_default(cli: Cli, engine: Engine, people: None) -> None:
    rows = invite_json(cli)
    stored = invitations(engine)
    assert len(stored) == 3
    for invitation in stored:
        assert invitation.expires_at - invitation.created_at == timedelta(days=14)
        assert invitation.used_at is None and invitation.revoked_at is None
    assert {row["expires_at"] for row in rows} == {stored[0].expires_at.isoformat()}


def test_code_lifetime_follows_invitation_ttl_days(
    cli: Cli, engine: Engine, people: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INVITATION_TTL_DAYS", "3")
    invite_json(cli)
    for invitation in invitations(engine):
        assert invitation.expires_at - invitation.created_at == timedelta(days=3)


def test_inviting_again_issues_new_codes_and_revokes_the_unused_ones(
    cli: Cli, engine: Engine, people: None
) -> None:
    first = {row["name"]: row["code"] for row in invite_json(cli)}
    second = {row["name"]: row["code"] for row in invite_json(cli)}
    assert set(first) == set(second)
    assert all(first[name] != second[name] for name in first)

    stored = {row.code_hash: row for row in invitations(engine)}
    assert len(stored) == 6
    for name in first:
        old, new = stored[hash_code(first[name])], stored[hash_code(second[name])]
        assert old.revoked_at is not None
        assert old.revoked_at == new.created_at
        assert new.revoked_at is None


def test_a_member_linked_to_a_chat_gets_no_invitation(
    cli: Cli, engine: Engine, session: Session, people: None
) -> None:
    session.add(
        ChatIdentity(
            member_id=member_id(engine, "Lê Thị Hoa"),
            channel=Channel.TELEGRAM,
            external_user_id="1001",
            chat_id="1001",
        )
    )
    session.commit()
    assert {row["name"] for row in invite_json(cli)} == {"Trần Văn An", "Ngô Văn Cường"}
    invited = {invitation.member_id for invitation in invitations(engine)}
    assert member_id(engine, "Lê Thị Hoa") not in invited


def test_text_lists_name_units_vietnamese_role_and_code(
    cli: Cli, engine: Engine, people: None
) -> None:
    output = cli("invite").output
    assert output.startswith("Mã mời của Trường THCS Thị Trấn 2 (dùng một lần, hết hạn ")
    lines = {line.split(" — ")[0]: line for line in output.splitlines()[1:]}
    assert set(lines) == {"Trần Văn An", "Lê Thị Hoa", "Ngô Văn Cường"}
    assert lines["Trần Văn An"].startswith("Trần Văn An — BGH — Hiệu trưởng — mã: ")
    assert lines["Lê Thị Hoa"].startswith(
        "Lê Thị Hoa — TCM, VANPHONG — Tổ trưởng/Trưởng bộ phận — mã: "
    )
    assert lines["Ngô Văn Cường"].startswith(
        "Ngô Văn Cường — VANPHONG — Giáo viên/Nhân viên — mã: "
    )
    codes = [line.rsplit("mã: ", 1)[1] for line in lines.values()]
    stored = {invitation.code_hash for invitation in invitations(engine)}
    assert {hash_code(code) for code in codes} == stored


def test_text_prints_the_link_under_each_person(
    cli: Cli, people: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "dondoc_test_bot")
    lines = cli("invite").output.splitlines()[1:]
    for person, link in zip(lines[::2], lines[1::2], strict=True):
        code = person.rsplit("mã: ", 1)[1]
        assert link == f"    liên kết: https://t.me/dondoc_test_bot?start={code}"


def test_with_no_people_there_is_nothing_to_invite(cli: Cli, engine: Engine) -> None:
    cli("plan", "import")
    output = cli("invite").output
    assert "Mọi người đều đã tham gia hoặc chưa có ai" in output
    assert "dondoc people import" in output
    assert invite_json(cli) == []
    assert invitations(engine) == []


def test_two_schools_need_the_school_option(cli: Cli, engine: Engine, two_schools: None) -> None:
    output = cli("invite", expect=2).output
    assert "có 2 trường; hãy thêm --school MÃ" in output
    assert "TEST-2" in output and "THCS-TT2" in output
    assert invitations(engine) == []


def test_school_option_picks_the_school(cli: Cli, engine: Engine, two_schools: None) -> None:
    assert invite_json(cli, "--school", "TEST-2") == []
    rows = invite_json(cli, "--school", "thcs-tt2")
    assert {row["name"] for row in rows} == {"Trần Văn An", "Lê Thị Hoa", "Ngô Văn Cường"}
    assert len(invitations(engine)) == 3


def test_unknown_school_code_lists_the_known_ones(
    cli: Cli, engine: Engine, two_schools: None
) -> None:
    output = cli("invite", "--school", "KHONG-CO", expect=2).output
    assert "Không có trường mã 'KHONG-CO'" in output
    assert "các trường hiện có: TEST-2, THCS-TT2" in output
    assert invitations(engine) == []
