"""The evidence folder: photos and files sent as evidence on Telegram and Zalo, exported with
`dondoc evidence export` into a zip by section, task and unit with an index workbook, and sent
by /minhchung (a document on Telegram, a listing on Zalo).

Evidence comes in through the real channels (the Telegram and Zalo harnesses); the clock is
Thursday 26/11/2026 10:00 in Hồ Chí Minh City (see tests/chat_school.py).
"""

import io
import zipfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlmodel import Session, select

from models import Attachment, Member, ProgressUpdate, School, Task, Unit
from models.db import session_scope
from services.evidence_export import safe_part
from services.invitations import issue_invitations
from services.people import import_people
from services.plan_files import read_plan
from services.plan_store import import_plan
from tests.chat_school import NOW, OFFICE_HEAD, PRINCIPAL, TCM_HEAD, TEACHER
from tests.conftest import Cli
from tests.fake_telegram import SentMessage
from tests.telegram_harness import TelegramBot, buttons, texts
from tests.zalo_harness import ZaloBot

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
USERS = {PRINCIPAL: 101, OFFICE_HEAD: 103, TCM_HEAD: 105, TEACHER: 106}
HIEU, MAI, THU, BINH = (USERS[name] for name in (PRINCIPAL, OFFICE_HEAD, TCM_HEAD, TEACHER))
DIGITAL, DATA, PARENTS = "III.4.2", "III.4.1", "III.3.3"  # office, office, leaders
SCHOOL = "THCS-TT2"
INDEX = "danh-muc-minh-chung.xlsx"
HEADER = [
    "STT", "Tệp trong thư mục nén", "Mã nhiệm vụ", "Nhiệm vụ", "Tổ/bộ phận", "Người gửi",
    "Kênh", "Thời gian gửi", "Ghi chú", "Tên tệp gốc", "Dung lượng (byte)", "Tình trạng",
]  # fmt: skip
STORED, MISSING = "có trong tệp nén", "thiếu: không còn trên máy chủ"

OTHER_PLAN = """
school: {code: HB, name: Trường THCS Hòa Bình}
units:
  - {code: VP, name: Văn phòng}
  - {code: BGH, name: Ban giám hiệu}
tasks:
  - {code: III.4.2, title: Hồ sơ số của trường Hòa Bình, unit: VP, deadline: 15/12/2026}
"""
OTHER_PEOPLE = "name,unit,role,phone\nVõ Văn Hùng,BGH,Hiệu trưởng,0912000012\n"
HUNG = 301


# --- helpers -----------------------------------------------------------------------------------


async def join(bot: TelegramBot, *names: str) -> None:
    for name in names:
        await bot.join(USERS[name], name)


async def send_evidence(bot: TelegramBot) -> None:
    """Four files on three tasks: a document and two photos in the same minute from Mai (the
    office head), a photo from the principal an hour and a half later."""
    bot.tg.add_file("DOC1", b"%PDF-1.4 minutes", "documents/bb.pdf", "uniqdoc")
    bot.tg.add_file("PHOTO1", b"\xff\xd8jpeg-one", "photos/p1.jpg", "uniq1")
    bot.tg.add_file("PHOTO2", b"\xff\xd8jpeg-two", "photos/p2.jpg", "uniq2")
    bot.tg.add_file("PHOTO3", b"\xff\xd8jpeg-three", "photos/p3.jpg", "uniq3")
    before = len(stored(bot.school.session))
    document = ("DOC1", "biên bản họp.pdf", "application/pdf")
    await bot.say(MAI, document=document, caption=f"{DIGITAL} biên bản họp: hồ sơ số")
    await bot.say(MAI, photo="PHOTO1", caption=DIGITAL)
    await bot.say(MAI, photo="PHOTO2", caption=f"{DIGITAL} ảnh thứ hai")
    bot.school.clock.advance(minutes=90)
    await bot.say(HIEU, photo="PHOTO3", caption=f"{PARENTS} họp cha mẹ học sinh")
    assert len(stored(bot.school.session)) == before + 4


def stored(session_of) -> list[tuple[Attachment, Task, Unit, Member, ProgressUpdate]]:
    with session_of() as session:
        query = (
            select(Attachment, Task, Unit, Member, ProgressUpdate)
            .join(Task, Task.id == Attachment.task_id)
            .join(Unit, Unit.id == Task.unit_id)
            .join(Member, Member.id == Attachment.uploaded_by_id)
            .join(ProgressUpdate, ProgressUpdate.id == Attachment.progress_update_id)
            .order_by(Attachment.id)
        )
        return list(session.exec(query).all())


def read_zip(data: bytes) -> tuple[dict[str, bytes], list[list[object]]]:
    """The files of a zip (the index left out) and the index's rows, header first."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        files = {name: archive.read(name) for name in archive.namelist()}
    workbook = openpyxl.load_workbook(io.BytesIO(files.pop(INDEX)), read_only=True)
    [sheet] = workbook.worksheets
    assert sheet.title == "Danh mục minh chứng"
    return files, [list(row) for row in sheet.iter_rows(values_only=True)]


def row_of(attachment: Attachment, task: Task, unit: Unit, member: Member, note: str | None):
    """What the index says of a stored file, but its number and its path in the zip."""
    return [
        task.code,
        task.title,
        unit.name,
        member.name,
        "Telegram" if attachment.channel.value == "telegram" else "Zalo",
        attachment.created_at.astimezone(HCM).replace(tzinfo=None),
        note,
        attachment.file_name,
        Path(attachment.local_path).stat().st_size
        if Path(attachment.local_path).exists()
        else attachment.size_bytes,
    ]


def only(sent: list[SentMessage], method: str) -> SentMessage:
    [message] = [m for m in sent if m["method"] == method]
    return message


def add_other_school(session: Session, tmp_path: Path) -> str:
    """A second school in the same database, with a task of the same code; its principal's
    invitation code."""
    plan, people = tmp_path / "hb.yaml", tmp_path / "hb.csv"
    plan.write_text(OTHER_PLAN, encoding="utf-8")
    people.write_text(OTHER_PEOPLE, encoding="utf-8")
    import_plan(session, read_plan(plan), now=NOW)
    school = session.exec(select(School).where(School.code == "HB")).one()
    import_people(session, school, people)
    [issued] = issue_invitations(session, school, now=NOW, ttl_days=14)
    return issued.code


# --- the command line --------------------------------------------------------------------------


async def test_the_zip_and_its_index_hold_every_file_with_its_task_sender_and_time(
    bot: TelegramBot, cli: Cli, tmp_path: Path
) -> None:
    await join(bot, OFFICE_HEAD, PRINCIPAL)
    await send_evidence(bot)
    out = tmp_path / "out" / "minh-chung.zip"
    result = cli("evidence", "export", "--out", out)
    assert result.output == (
        f"Đã ghi 4 tệp minh chứng của Trường THCS Thị Trấn 2 vào {out} (danh mục: {INDEX}).\n"
    )
    files, rows = read_zip(out.read_bytes())
    assert rows[0] == HEADER
    paths = [
        "III.3/III.3.3/Ban giám hiệu/2026-11-26_1130_Nguyễn Văn Hiếu_ảnh.jpg",
        "III.4/III.4.2/Văn phòng/2026-11-26_1000_Trần Thị Mai_biên bản họp.pdf",
        "III.4/III.4.2/Văn phòng/2026-11-26_1000_Trần Thị Mai_ảnh.jpg",
        "III.4/III.4.2/Văn phòng/2026-11-26_1000_Trần Thị Mai_ảnh (2).jpg",
    ]  # the plan's order of tasks (III.3 before III.4), then the order received
    assert [row[1] for row in rows[1:]] == paths
    assert sorted(files) == sorted(paths)  # every file, and nothing else
    assert [row[0] for row in rows[1:]] == [1, 2, 3, 4]
    assert all(row[11] == STORED for row in rows[1:])
    by_path = {row[1]: row for row in rows[1:]}
    for attachment, task, unit, member, update in stored(bot.school.session):
        [path] = [p for p, content in files.items() if content == Path(attachment.local_path)
                  .read_bytes()]  # fmt: skip
        assert by_path[path][2:11] == row_of(attachment, task, unit, member, update.note)
    photo = by_path[paths[2]]
    assert photo[2:11] == [
        DIGITAL, bot.school.task(DIGITAL).title, "Văn phòng", OFFICE_HEAD, "Telegram",
        datetime(2026, 11, 26, 10, 0), None, None, len(b"\xff\xd8jpeg-one"),
    ]  # fmt: skip
    assert by_path[paths[1]][8:10] == ["biên bản họp: hồ sơ số", "biên bản họp.pdf"]
    with zipfile.ZipFile(out) as archive:
        info = archive.getinfo(paths[0])
    assert info.date_time == (2026, 11, 26, 11, 30, 0)  # dated when it was received
    assert info.compress_type == zipfile.ZIP_DEFLATED
    assert not list(out.parent.glob(".*"))  # nothing left of the writing


async def test_one_tasks_export_and_a_file_gone_from_the_server(
    bot: TelegramBot, cli: Cli, tmp_path: Path
) -> None:
    await join(bot, OFFICE_HEAD, PRINCIPAL)
    await send_evidence(bot)
    [gone] = [a for a, *_ in stored(bot.school.session) if a.file_unique_id == "uniq1"]
    Path(gone.local_path).unlink()
    out = tmp_path / "iii-4-2.zip"
    result = cli("evidence", "export", "--out", out, "--task", "iii 4 2")
    assert result.output.splitlines() == [
        f"Đã ghi 2 tệp minh chứng của Trường THCS Thị Trấn 2 vào {out} (danh mục: {INDEX}).",
        "⚠️ 1 tệp không còn trên máy chủ, danh mục ghi là thiếu:",
        f"  – III.4.2 · Trần Thị Mai · 10:00 26/11/2026 · {gone.local_path}",
    ]
    files, rows = read_zip(out.read_bytes())
    assert [row[2] for row in rows[1:]] == [DIGITAL] * 3  # only III.4.2's
    assert [(row[1], row[11]) for row in rows[1:]] == [
        ("III.4/III.4.2/Văn phòng/2026-11-26_1000_Trần Thị Mai_biên bản họp.pdf", STORED),
        (None, MISSING),  # listed, never dropped
        ("III.4/III.4.2/Văn phòng/2026-11-26_1000_Trần Thị Mai_ảnh.jpg", STORED),
    ]
    assert rows[2][5:9] == [OFFICE_HEAD, "Telegram", datetime(2026, 11, 26, 10, 0), None]
    assert rows[2][10] == len(b"\xff\xd8jpeg-one")  # as Telegram said
    assert sorted(files.values()) == [b"%PDF-1.4 minutes", b"\xff\xd8jpeg-two"]


async def test_evidence_taken_back_is_left_out(bot: TelegramBot, cli: Cli, tmp_path: Path) -> None:
    await join(bot, OFFICE_HEAD)
    bot.tg.add_file("PHOTO1", b"\xff\xd8jpeg-one", "photos/p1.jpg", "uniq1")
    confirmation = (await bot.say(MAI, photo="PHOTO1", caption=DIGITAL))[0]
    [(_, undo)] = buttons(confirmation)
    await bot.press(MAI, confirmation, undo)
    out = tmp_path / "mc.zip"
    assert "Chưa có minh chứng nào" in cli("evidence", "export", "--out", out).output
    files, rows = read_zip(out.read_bytes())
    assert files == {} and rows == [HEADER]


async def test_a_second_schools_evidence_never_appears_in_the_first_ones(
    bot: TelegramBot, cli: Cli, tmp_path: Path
) -> None:
    with session_scope(bot.school.engine) as session:
        code = add_other_school(session, tmp_path)
    sent = await bot.say(HUNG, f"/start {code}")
    assert "Võ Văn Hùng" in texts(sent)
    bot.tg.add_file("HB1", b"\xff\xd8hoa-binh", "photos/hb.jpg", "hb-unique")
    await bot.say(HUNG, photo="HB1", caption="III.4.2 hồ sơ Hòa Bình")
    await join(bot, OFFICE_HEAD, PRINCIPAL)
    await send_evidence(bot)
    assert len(stored(bot.school.session)) == 5

    first, second = tmp_path / "tt2.zip", tmp_path / "hb.zip"
    cli("evidence", "export", "--out", first, "--school", SCHOOL)
    cli("evidence", "export", "--out", second, "--school", "hb", "--task", DIGITAL)
    files, rows = read_zip(first.read_bytes())
    assert len(files) == 4 and b"\xff\xd8hoa-binh" not in files.values()
    assert "Võ Văn Hùng" not in {row[5] for row in rows}
    assert "Hồ sơ số của trường Hòa Bình" not in {row[3] for row in rows}
    files, rows = read_zip(second.read_bytes())
    assert list(files.values()) == [b"\xff\xd8hoa-binh"]
    assert [row[1:6] for row in rows[1:]] == [
        [
            "III.4/III.4.2/Văn phòng/2026-11-26_1000_Võ Văn Hùng_ảnh.jpg",
            DIGITAL, "Hồ sơ số của trường Hòa Bình", "Văn phòng", "Võ Văn Hùng",
        ]
    ]  # fmt: skip

    # with two schools, the command asks which
    refused = cli("evidence", "export", "--out", tmp_path / "x.zip", expect=2)
    assert refused.output == (
        "Cơ sở dữ liệu có 2 trường; hãy thêm --school MÃ (một trong: HB, THCS-TT2).\n"
    )


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--out", "minh-chung.txt"], "Tệp ghi ra phải có đuôi .zip"),
        ([], "Cần cho biết tệp nén sẽ ghi, ví dụ: --out minh-chung.zip"),
        (["--out", "a.zip", "--task", "III.4.9"], "Không có nhiệm vụ mã 'III.4.9'; có phải:"),
        (["--out", "a.zip", "--school", "XYZ"], "Không có trường mã 'XYZ'"),
    ],
)
def test_bad_input_ends_with_one_clear_line(cli: Cli, school, args: list[str], said: str) -> None:
    result = cli("evidence", "export", *args, expect=2)
    assert said in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not Path("a.zip").exists()


# --- in chat -----------------------------------------------------------------------------------


async def test_minhchung_sends_the_tasks_zip_on_telegram(bot: TelegramBot) -> None:
    await join(bot, OFFICE_HEAD, PRINCIPAL)
    await send_evidence(bot)
    sent = await bot.say(HIEU, f"/minhchung {DIGITAL}")
    message = only(sent, "sendMessage")
    assert message["plain_text"] == (
        f"📁 Minh chứng {DIGITAL} — {bot.school.task(DIGITAL).title}: 3 tệp\n"
        "Tệp nén kèm theo xếp theo tổ/bộ phận; danh mục Excel bên trong ghi ai gửi tệp nào, "
        "lúc nào."
    )
    document = only(sent, "sendDocument")
    fake_file = bot.tg.files[document["file_id"]]
    assert fake_file.file_name == "minh-chung-III.4.2.zip"
    files, rows = read_zip(fake_file.data)
    assert sorted(files.values()) == [b"%PDF-1.4 minutes", b"\xff\xd8jpeg-one", b"\xff\xd8jpeg-two"]
    assert [row[2] for row in rows[1:]] == [DIGITAL] * 3
    kept = bot.school.core.config.reports_dir / SCHOOL / "minh-chung" / "minh-chung-III.4.2.zip"
    assert kept.read_bytes() == fake_file.data

    # the head of the task's unit gets it too; the English alias works
    assert only(await bot.say(MAI, f"/evidence {DIGITAL}"), "sendDocument")


async def test_minhchung_without_a_code_counts_the_evidence_per_task(bot: TelegramBot) -> None:
    await join(bot, OFFICE_HEAD, PRINCIPAL)
    await send_evidence(bot)
    parents = bot.school.task(PARENTS).title
    assert texts(await bot.say(HIEU, "/minhchung")).splitlines() == [
        "📁 Minh chứng đã nhận (2 việc):",
        f"• {PARENTS} {parents[:47].rstrip()}…: 1 tệp, mới nhất 26/11/2026",
        f"• {DIGITAL} {bot.school.task(DIGITAL).title[:47].rstrip()}…: 3 tệp, mới nhất 26/11/2026",
        "Gõ /minhchung mã để nhận thư mục minh chứng của một việc, ví dụ /minhchung III.4.2.",
    ]
    # a unit head sees their unit's tasks only
    mine = texts(await bot.say(MAI, "/minhchung"))
    assert DIGITAL in mine and PARENTS not in mine


async def test_minhchung_on_zalo_lists_the_files_and_says_where_the_zip_is(
    zalo_bot: ZaloBot,
) -> None:
    await zalo_bot.join(OFFICE_HEAD)
    url = zalo_bot.zalo.photo_url("bien-ban.jpg", b"\xff\xd8zalo-jpeg")
    photo = zalo_bot.zalo.image_update(zalo_bot.user(OFFICE_HEAD), url, f"{DIGITAL} biên bản họp")
    assert "Minh chứng: 1 tệp" in "\n".join(await zalo_bot.send(photo))
    answer = "\n".join(await zalo_bot.say(OFFICE_HEAD, f"/minhchung {DIGITAL}"))
    folder = zalo_bot.school.core.config.reports_dir / SCHOOL / "minh-chung"
    assert answer.splitlines() == [
        f"📁 Minh chứng {DIGITAL} — {zalo_bot.task(DIGITAL).title}: 1 tệp",
        "• 10:00 26/11/2026 — Trần Thị Mai (Zalo): ảnh — biên bản họp",
        "📎 Kênh này không gửi được tệp: tệp nén minh-chung-III.4.2.zip (kèm danh mục Excel) "
        f"đã lưu trên máy chủ, tại {folder}. Thầy/cô nhận được tệp trên Telegram khi liên kết "
        "thêm Telegram và chọn nhận ở đó (/kenh).",
    ]
    files, rows = read_zip((folder / "minh-chung-III.4.2.zip").read_bytes())
    assert list(files.values()) == [b"\xff\xd8zalo-jpeg"]
    assert rows[1][1:10] == [
        "III.4/III.4.2/Văn phòng/2026-11-26_1000_Trần Thị Mai_ảnh.jpg", DIGITAL,
        zalo_bot.task(DIGITAL).title, "Văn phòng", OFFICE_HEAD, "Zalo",
        datetime(2026, 11, 26, 10, 0), "biên bản họp", None,
    ]  # fmt: skip


async def test_a_teacher_and_another_units_head_are_refused(bot: TelegramBot) -> None:
    await join(bot, OFFICE_HEAD, TEACHER, TCM_HEAD)
    bot.tg.add_file("PHOTO1", b"\xff\xd8jpeg-one", "photos/p1.jpg", "uniq1")
    await bot.say(MAI, photo="PHOTO1", caption=DIGITAL)
    refused = await bot.say(BINH, f"/minhchung {DIGITAL}")
    assert texts(refused) == (
        "Chỉ Ban giám hiệu và tổ trưởng nhận được thư mục minh chứng. Thầy/cô vẫn gửi minh "
        "chứng như thường: gửi ảnh hoặc tệp kèm mã việc, ví dụ “III.4.2 biên bản họp”."
    )
    assert "Chỉ Ban giám hiệu" in texts(await bot.say(BINH, "/minhchung"))
    other = await bot.say(THU, f"/minhchung {DIGITAL}")
    assert texts(other) == (
        f"Minh chứng của {DIGITAL} chỉ gửi cho Ban giám hiệu và tổ trưởng của tổ/bộ phận phụ "
        "trách việc này. Xin thầy/cô liên hệ tổ trưởng phụ trách."
    )
    assert bot.tg.calls_of("sendDocument") == []


async def test_an_unknown_code_offers_the_close_ones(bot: TelegramBot) -> None:
    await join(bot, PRINCIPAL)
    [message] = await bot.say(HIEU, "/minhchung III.4.9")
    assert message["plain_text"].startswith("Không có nhiệm vụ mã III.4.9. Có phải thầy/cô")
    offered = [label.split()[0] for label, _ in buttons(message)]
    assert offered and all(code.startswith("III.4.") for code in offered)
    empty = await bot.say(HIEU, f"/minhchung {DATA}")
    assert texts(empty).startswith(f"{DATA} — ")
    assert "chưa có minh chứng nào" in texts(empty)
    assert bot.tg.calls_of("sendDocument") == []


async def test_a_zip_too_big_for_telegram_is_listed_and_kept(
    bot: TelegramBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("handlers.evidence_folder.TELEGRAM_MAX_BYTES", 100)
    await join(bot, OFFICE_HEAD)
    bot.tg.add_file("PHOTO1", b"\xff\xd8jpeg-one", "photos/p1.jpg", "uniq1")
    await bot.say(MAI, photo="PHOTO1", caption=DIGITAL)
    answer = texts(await bot.say(MAI, f"/minhchung {DIGITAL}")).splitlines()
    assert answer[1] == "• 10:00 26/11/2026 — Trần Thị Mai (Telegram): ảnh"
    assert answer[2].startswith("📎 Tệp nén minh-chung-III.4.2.zip (")
    assert "lớn hơn mức Telegram cho phép gửi (0 MB): đã lưu trên máy chủ" in answer[2]
    assert bot.tg.calls_of("sendDocument") == []


@pytest.mark.parametrize(
    ("written", "safe"),
    [
        ("Trần Thị Mai", "Trần Thị Mai"),
        ("Tra\u0300n", "Tràn"),  # decomposed, as some keyboards type it: composed
        ('a/b\\c:d*e?f"g<h>i|j', "a_b_c_d_e_f_g_h_i_j"),
        ("  biên   bản\thọp.  ", "biên bản họp"),
        ("CON", "_CON"),
        ("lpt1.txt", "_lpt1.txt"),
        ("..", "_"),
        ("x" * 80, "x" * 60),
    ],
)
def test_path_parts_are_safe_on_every_system(written: str, safe: str) -> None:
    assert safe_part(written, 60) == safe
