"""Roles, other schools, groups, Telegram errors, polling and webhook, via the real PTB path.

Staff update tasks assigned to them and see their units' tasks; unit heads update all of their
unit's tasks; the principal and vice principals see and update everything and record KPIs.
Anything else is refused with a message that says why, and nothing changes in the database.
"""

import asyncio
import contextlib
import logging
import re
import socket
import unicodedata
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from sqlmodel import select
from telegram import Update
from telegram.ext import Application

from bot.runner import ALLOWED_UPDATES
from bot.telegram import TelegramSender, build_application
from models import (
    Channel,
    ChatIdentity,
    Kpi,
    KpiValue,
    Member,
    Membership,
    ProgressUpdate,
    Role,
    School,
    Snooze,
    Task,
    TaskAssignee,
    TaskStatus,
    Unit,
    UnitChat,
    UpdateSource,
)
from models.db import session_scope
from scheduler.dispatch import Dispatcher
from services.plan_files import read_plan
from services.plan_store import import_plan
from tests.chat_school import (
    NOW,
    OFFICE_HEAD,
    OFFICE_STAFF,
    PRINCIPAL,
    TCM_HEAD,
    TEACHER,
    VICE,
)
from tests.fake_telegram import FakeTelegram
from tests.telegram_harness import GROUP, TelegramBot, buttons, texts, unlimited

# Telegram user ids of the six people of the `school` fixture.
HIEU, LAN, MAI, NAM, THU, BINH = 101, 102, 103, 104, 105, 106
USER_IDS = dict(
    zip(
        (PRINCIPAL, VICE, OFFICE_HEAD, OFFICE_STAFF, TCM_HEAD, TEACHER),
        (HIEU, LAN, MAI, NAM, THU, BINH),
        strict=True,
    )
)
SCHOOL = "THCS-TT2"
OTHER_SCHOOL = "THCS-KHAC"
OTHER_TITLE = "Hồ sơ mật của trường khác"
GROUP_TITLE = "Tổ Văn phòng"

NOT_ASSIGNED = (
    "Nhiệm vụ {code} chưa được giao cho thầy/cô; chỉ người được giao, tổ trưởng hoặc Ban "
    "giám hiệu cập nhật được. Xin thầy/cô báo tổ trưởng."
)
NOT_YOUR_UNIT = "Nhiệm vụ {code} không thuộc tổ/bộ phận của thầy/cô."
NOT_YOURS_TO_UPDATE = "Nhiệm vụ {code} không thuộc tổ/bộ phận của thầy/cô nên không cập nhật được."
OUTDATED = "Nút này đã cũ. Gõ /viec để xem việc hiện tại."
DENY_KPI = "Chỉ hiệu trưởng và phó hiệu trưởng ghi được chỉ số. Thầy/cô vẫn xem được bằng /chiso."
NOT_HEAD = "Chỉ tổ trưởng/trưởng bộ phận hoặc ban giám hiệu liên kết được nhóm với tổ."
LINKED = (
    "Đã liên kết nhóm này với {unit}. Các lệnh dùng được ngay trong nhóm; câu trả lời "
    "được ghi cho người gửi."
)
HELP_START = "Cách dùng\n/viec — các việc thầy/cô phụ trách"

OTHER_PLAN = f"""
school:
  code: {OTHER_SCHOOL}
  name: Trường THCS Khác
units:
  - code: VANPHONG
    name: Văn phòng trường khác
kpis:
  - key: secret_ratio
    name: Chỉ số riêng của trường khác
    measure: "%"
    direction: "<="
    target: 1
    year: 2026
tasks:
  - code: III.4.2
    title: {OTHER_TITLE}
    unit: VANPHONG
    deadline: 2026-12-20
  - code: IX.9.9
    title: Việc chỉ trường khác có
    unit: VANPHONG
    deadline: 2026-12-21
"""


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


async def join(bot: TelegramBot, *names: str) -> None:
    for name in names:
        await bot.join(USER_IDS[name], name)


async def in_group(bot: TelegramBot, user_id: int, text: str, **message: object):
    return await bot.say(
        user_id,
        text,
        chat_id=GROUP,
        chat_type="supergroup",
        chat_title=GROUP_TITLE,
        **message,
    )


async def linked_group(bot: TelegramBot) -> None:
    """The office head links the group to VANPHONG."""
    sent = await in_group(bot, MAI, "/lienket")
    assert texts(sent) == LINKED.format(unit="Văn phòng")


def task_of(bot: TelegramBot, code: str, school_code: str = SCHOOL) -> Task:
    with bot.school.session() as session:
        return session.exec(
            select(Task)
            .join(School, School.id == Task.school_id)
            .where(School.code == school_code, Task.code == code)
        ).one()


def unit_codes(bot: TelegramBot, unit_code: str) -> list[str]:
    """Codes of the first school's tasks of one unit (all open until someone updates them)."""
    with bot.school.session() as session:
        return list(
            session.exec(
                select(Task.code)
                .join(Unit, Unit.id == Task.unit_id)
                .join(School, School.id == Task.school_id)
                .where(School.code == SCHOOL, Unit.code == unit_code)
                .order_by(Task.code)
            )
        )


def assign(bot: TelegramBot, code: str, name: str) -> None:
    member_id = bot.school.member(name).id
    with session_scope(bot.school.engine) as session:
        session.add(TaskAssignee(task_id=task_of(bot, code).id, member_id=member_id))


def progress_updates(bot: TelegramBot) -> list[ProgressUpdate]:
    with bot.school.session() as session:
        return list(session.exec(select(ProgressUpdate).order_by(ProgressUpdate.id)))


def kpi_values(bot: TelegramBot) -> list[KpiValue]:
    with bot.school.session() as session:
        return list(session.exec(select(KpiValue).order_by(KpiValue.id)))


def identity_of(bot: TelegramBot, name: str) -> ChatIdentity:
    with bot.school.session() as session:
        return session.exec(
            select(ChatIdentity).where(ChatIdentity.member_id == bot.school.member(name).id)
        ).one()


def state(task: Task) -> tuple[TaskStatus, int]:
    return task.status, task.progress


def import_other_school(bot: TelegramBot, tmp_path: Path) -> None:
    path = tmp_path / "other-school.yaml"
    path.write_text(OTHER_PLAN, encoding="utf-8")
    with session_scope(bot.school.engine) as session:
        import_plan(session, read_plan(path), now=NOW)


def recorded(code: str, title: str, progress: int, status: str) -> str:
    return f"Đã ghi cho {code} — {title}:\nTiến độ {progress}% — {status}"


async def answers_quoting(bot: TelegramBot, update: dict) -> list[int | None]:
    """Feed a group message; for each answer, the message id its reply_parameters name.

    Also checks that Telegram showed each answer as a reply to that same message.
    """
    calls_before = len(bot.tg.calls)
    sent = await bot.feed(update)
    calls = [p for m, p in bot.tg.calls[calls_before:] if m == "sendMessage"]
    assert sent and len(calls) == len(sent)
    quoted = [
        (bot.tg.message(m["chat_id"], m["message_id"]).get("reply_to_message") or {}).get(
            "message_id"
        )
        for m in sent
    ]
    named = [(p.get("reply_parameters") or {}).get("message_id") for p in calls]
    assert quoted == named
    return named


async def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """A bounded wait for work done by PTB's own tasks (polling, webhook)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"nothing happened within {seconds} s")
        await asyncio.sleep(0.01)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def post_update(port: int, update: dict, secret: str | None) -> httpx.Response:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    async with httpx.AsyncClient(timeout=5, trust_env=False) as client:
        return await client.post(f"http://127.0.0.1:{port}/telegram", json=update, headers=headers)


@contextlib.asynccontextmanager
async def serving_webhook(app: Application, port: int) -> AsyncIterator[None]:
    """PTB's webhook server on 127.0.0.1:port, as `run_webhook` starts it; stopped cleanly."""
    await app.start()
    try:
        await app.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="telegram",
            webhook_url="https://bot.example.invalid/telegram",
            secret_token="s3cret-token",
            allowed_updates=ALLOWED_UPDATES,
        )
        yield
    finally:
        if app.updater.running:
            await app.updater.stop()
        await app.stop()


# --------------------------------------------------------------------------------------------
# 1. Roles: what each person sees and may update
# --------------------------------------------------------------------------------------------


async def test_office_staff_see_only_their_own_tasks_in_viec(bot: TelegramBot) -> None:
    await join(bot, OFFICE_STAFF)
    shown = texts(await bot.say(NAM, "/viec"))
    assert shown.startswith("Chưa có việc nào được giao riêng cho thầy/cô.")
    assign(bot, "III.4.2", OFFICE_STAFF)
    shown = texts(await bot.say(NAM, "/viec"))
    assert shown.startswith("Việc đang mở (1), hạn gần nhất trước:\n1. III.4.2 ")
    for code in unit_codes(bot, "VANPHONG") + unit_codes(bot, "TCM"):
        assert code == "III.4.2" or f" {code} " not in shown


async def test_office_staff_cannot_update_a_unit_task_not_assigned_to_him(
    bot: TelegramBot,
) -> None:
    await join(bot, OFFICE_STAFF)
    for command in ("/capnhat III.4.2 50", "/xong III.4.2", "/vuong III.4.2 thiếu máy quét"):
        assert texts(await bot.say(NAM, command)) == NOT_ASSIGNED.format(code="III.4.2")
    assert progress_updates(bot) == []
    assert state(task_of(bot, "III.4.2")) == (TaskStatus.TODO, 0)


async def test_office_staff_updates_a_task_once_it_is_assigned_to_him(bot: TelegramBot) -> None:
    await join(bot, OFFICE_STAFF)
    assign(bot, "III.4.2", OFFICE_STAFF)
    task = task_of(bot, "III.4.2")
    sent = await bot.say(NAM, "/capnhat III.4.2 50")
    assert texts(sent) == recorded("III.4.2", task.title, 50, "đang thực hiện")
    assert buttons(sent[0]) == [("↩️ Hoàn tác", f"u:{progress_updates(bot)[0].id}")]
    [update] = progress_updates(bot)
    assert (update.task_id, update.member_id, update.percent) == (
        task.id,
        bot.school.member(OFFICE_STAFF).id,
        50,
    )
    assert state(task_of(bot, "III.4.2")) == (TaskStatus.IN_PROGRESS, 50)


async def test_office_staff_neither_sees_nor_updates_a_tcm_task(bot: TelegramBot) -> None:
    await join(bot, OFFICE_STAFF)
    title = task_of(bot, "III.5.5").title
    for command, refusal in (
        ("/viec III.5.5", NOT_YOUR_UNIT),
        ("/capnhat III.5.5 50", NOT_YOURS_TO_UPDATE),
        ("/xong III.5.5", NOT_YOURS_TO_UPDATE),
    ):
        shown = texts(await bot.say(NAM, command))
        assert shown == refusal.format(code="III.5.5")
        assert title not in shown
    assert progress_updates(bot) == []
    assert state(task_of(bot, "III.5.5")) == (TaskStatus.TODO, 0)


async def test_staff_see_and_update_a_task_of_another_unit_assigned_to_them(
    bot: TelegramBot,
) -> None:
    await join(bot, OFFICE_STAFF)
    assign(bot, "III.5.5", OFFICE_STAFF)
    task = task_of(bot, "III.5.5")
    assert "1. III.5.5 " in texts(await bot.say(NAM, "/viec"))
    card = texts(await bot.say(NAM, "/viec III.5.5"))
    assert card.startswith(
        f"III.5.5 — {task.title}\nTổ/bộ phận: Tổ chuyên môn · Phụ trách: Lê Văn Nam\n"
    )
    sent = await bot.say(NAM, "/xong III.5.5")
    assert texts(sent) == recorded("III.5.5", task.title, 100, "hoàn thành")
    assert [u.member_id for u in progress_updates(bot)] == [bot.school.member(OFFICE_STAFF).id]


async def test_the_office_head_updates_every_office_task_but_not_tcms(bot: TelegramBot) -> None:
    await join(bot, OFFICE_HEAD)
    office = unit_codes(bot, "VANPHONG")
    assert len(office) >= 2
    for code in office:
        sent = await bot.say(MAI, f"/capnhat {code} 30")
        assert texts(sent) == recorded(code, task_of(bot, code).title, 30, "đang thực hiện")
    refusal = texts(await bot.say(MAI, "/capnhat III.5.5 30"))
    assert refusal == NOT_YOURS_TO_UPDATE.format(code="III.5.5")
    updated = {task_of(bot, code).id for code in office}
    assert {u.task_id for u in progress_updates(bot)} == updated
    assert state(task_of(bot, "III.5.5")) == (TaskStatus.TODO, 0)


@pytest.mark.parametrize("leader", [PRINCIPAL, VICE])
async def test_principal_and_vice_principal_see_and_update_any_task(
    bot: TelegramBot, leader: str
) -> None:
    await join(bot, leader)
    user_id = USER_IDS[leader]
    task = task_of(bot, "III.1.1")  # Chi bộ's task: neither leader belongs to CHIBO
    card = await bot.say(user_id, "/viec III.1.1")
    assert card[0]["plain_text"].startswith(f"III.1.1 — {task.title}\nTổ/bộ phận: Chi bộ\n")
    assert [label for label, _ in buttons(card[0])][:2] == ["✅ Hoàn thành", "📈 Cập nhật tiến độ"]
    sent = await bot.say(user_id, "/capnhat III.1.1 40")
    assert texts(sent) == recorded("III.1.1", task.title, 40, "đang thực hiện")
    sent = await bot.say(user_id, "/capnhat III.5.5 60")  # and TCM's
    assert texts(sent) == recorded("III.5.5", task_of(bot, "III.5.5").title, 60, "đang thực hiện")
    member_id = bot.school.member(leader).id
    assert [(u.member_id, u.percent) for u in progress_updates(bot)] == [
        (member_id, 40),
        (member_id, 60),
    ]


@pytest.mark.parametrize("payload", ["d:{task}", "p:{task}", "p:{task}:50", "b:{task}"])
async def test_a_staff_member_pressing_a_unit_task_button_in_a_group_is_refused_privately(
    bot: TelegramBot, payload: str
) -> None:
    """The refusal pops up for the presser alone; the group is not told about it."""
    await join(bot, OFFICE_HEAD, OFFICE_STAFF)
    await linked_group(bot)
    task = task_of(bot, "III.4.2")
    message = await bot.open_task(MAI, "III.4.2", chat_id=GROUP)
    sent = await bot.press(
        NAM, message, payload.format(task=task.id), check_button=payload != "p:{task}:50"
    )
    assert sent == []
    assert bot.answers()[-1] == NOT_ASSIGNED.format(code="III.4.2")
    assert progress_updates(bot) == []
    assert state(task_of(bot, "III.4.2")) == (TaskStatus.TODO, 0)


async def test_the_office_heads_button_press_in_the_group_is_recorded_for_her(
    bot: TelegramBot,
) -> None:
    await join(bot, OFFICE_HEAD, OFFICE_STAFF)
    await linked_group(bot)
    task = task_of(bot, "III.4.2")
    message = await bot.open_task(NAM, "III.4.2", chat_id=GROUP)
    sent = await bot.press(MAI, message, f"d:{task.id}")
    assert texts(sent) == recorded("III.4.2", task.title, 100, "hoàn thành")
    [update] = progress_updates(bot)
    assert (update.member_id, update.source) == (
        bot.school.member(OFFICE_HEAD).id,
        UpdateSource.BUTTON,
    )
    assert state(task_of(bot, "III.4.2")) == (TaskStatus.DONE, 100)


async def test_only_the_sender_of_an_update_can_undo_it(bot: TelegramBot) -> None:
    await join(bot, OFFICE_HEAD, OFFICE_STAFF)
    await linked_group(bot)
    confirmation = (await in_group(bot, MAI, "/capnhat III.4.2 40"))[0]
    [(_, undo)] = buttons(confirmation)
    sent = await bot.press(NAM, confirmation, undo)
    assert texts(sent) == "Chỉ người đã gửi cập nhật này mới hoàn tác được."
    assert bot.answers()[-1] == "Chỉ người đã gửi cập nhật này mới hoàn tác được."
    assert [u.undone_at for u in progress_updates(bot)] == [None]
    assert state(task_of(bot, "III.4.2")) == (TaskStatus.IN_PROGRESS, 40)


async def test_a_teacher_of_another_unit_pressing_done_in_the_group_is_refused(
    bot: TelegramBot,
) -> None:
    await join(bot, OFFICE_HEAD, TEACHER)
    await linked_group(bot)
    task = task_of(bot, "III.4.2")
    message = await bot.open_task(MAI, "III.4.2", chat_id=GROUP)
    sent = await bot.press(BINH, message, f"d:{task.id}")
    assert sent == []
    assert bot.answers()[-1] == NOT_YOUR_UNIT.format(code="III.4.2")
    assert progress_updates(bot) == []
    assert state(task_of(bot, "III.4.2")) == (TaskStatus.TODO, 0)


# --------------------------------------------------------------------------------------------
# 1b. KPIs
# --------------------------------------------------------------------------------------------


async def test_everyone_sees_every_kpi_with_its_target_and_no_data_yet(bot: TelegramBot) -> None:
    await join(bot, OFFICE_STAFF)
    shown = texts(await bot.say(NAM, "/chiso"))
    assert shown.startswith("Chỉ số so với mục tiêu\n")
    with bot.school.session() as session:
        kpis = session.exec(select(Kpi)).all()
    for kpi in kpis:
        assert f"{kpi.name} [{kpi.key}] — mục tiêu {kpi.target_year}:" in shown
    lines = [line for line in shown.splitlines() if line.startswith("• ")]
    assert len(lines) == len(kpis)
    assert all("; chưa có số liệu" in line for line in lines)
    assert (
        "• Tỷ lệ học sinh bỏ học, lưu ban [dropout] — mục tiêu 2026: không quá 0,5%; "
        "chưa có số liệu"
    ) in shown
    # targets read as the plan words them
    assert "• Số lớp [classes] — mục tiêu 2026: 38 lớp;" in shown
    assert (
        "• Sĩ số tối đa mỗi lớp [class_size] — mục tiêu 2026: không quá 45 học sinh/lớp;" in shown
    )
    assert "• Hiệu suất đào tạo [efficiency] — mục tiêu 2026: trên 96%;" in shown
    assert "[teachers_standard] — mục tiêu 2026: ít nhất 99%;" in shown
    assert "[pcgd] — mục tiêu 2026: duy trì mức độ 3;" in shown
    assert "[pcgd] — mục tiêu 2030: giữ chuẩn mức độ 3;" in shown
    assert "[completion] — mục tiêu 2030: 100%;" in shown
    assert "[staffing] — mục tiêu 2026: phải đạt;" in shown
    assert "≤" not in shown and "≥" not in shown
    assert shown.endswith(
        "Ghi số liệu: /chiso mã giá trị, ví dụ /chiso dropout 0,4 hoặc /chiso dropout 3/620"
    )


@pytest.mark.parametrize("leader", [PRINCIPAL, VICE])
async def test_leaders_record_a_kpi_and_see_it_against_target(
    bot: TelegramBot, leader: str
) -> None:
    await join(bot, leader)
    sent = await bot.say(USER_IDS[leader], "/chiso dropout 0,4")
    assert texts(sent) == (
        "Đã ghi Tỷ lệ học sinh bỏ học, lưu ban: 0,4%\nMục tiêu 2026: không quá 0,5% — đạt"
    )
    [value] = kpi_values(bot)
    assert (value.value, value.numerator, value.denominator) == (0.4, None, None)
    assert value.recorded_by_id == bot.school.member(leader).id
    listed = texts(await bot.say(USER_IDS[leader], "/chiso"))
    assert (
        "• Tỷ lệ học sinh bỏ học, lưu ban [dropout] — mục tiêu 2026: không quá 0,5%; "
        "mới nhất 0,4% (26/11/2026) — đạt"
    ) in listed


async def test_a_kpi_given_as_a_count_is_stored_with_numerator_and_denominator(
    bot: TelegramBot,
) -> None:
    await join(bot, PRINCIPAL)
    sent = await bot.say(HIEU, "/chiso dropout 3/620")
    assert texts(sent) == (
        "Đã ghi Tỷ lệ học sinh bỏ học, lưu ban: 0,48% (3/620)\nMục tiêu 2026: không quá 0,5% — đạt"
    )
    [value] = kpi_values(bot)
    assert (value.numerator, value.denominator) == (3, 620)
    assert value.value == pytest.approx(300 / 620)


async def test_a_kpi_below_its_target_is_not_met(bot: TelegramBot) -> None:
    await join(bot, PRINCIPAL)
    sent = await bot.say(HIEU, "/chiso efficiency 95")
    assert texts(sent) == "Đã ghi Hiệu suất đào tạo: 95%\nMục tiêu 2026: trên 96% — chưa đạt"
    assert [v.value for v in kpi_values(bot)] == [95.0]


async def test_a_yes_no_kpi_takes_co_or_khong(bot: TelegramBot) -> None:
    await join(bot, PRINCIPAL)
    sent = await bot.say(HIEU, "/chiso staffing có")
    assert texts(sent) == (
        "Đã ghi Đủ giáo viên, nhân viên theo Đề án vị trí việc làm: có\n"
        "Mục tiêu 2026: phải đạt — đạt"
    )
    sent = await bot.say(HIEU, "/chiso staffing không")
    assert texts(sent).endswith(": không\nMục tiêu 2026: phải đạt — chưa đạt")
    assert [v.value for v in kpi_values(bot)] == [1.0, 0.0]
    sent = await bot.say(HIEU, "/chiso staffing maybe")
    assert texts(sent) == (
        'Chỉ số staffing chỉ nhận có hoặc không, ví dụ: /chiso staffing có (thầy/cô đã gõ "maybe").'
    )
    assert len(kpi_values(bot)) == 2


async def test_a_yes_no_kpi_typed_with_combining_accents_is_understood(bot: TelegramBot) -> None:
    """Vietnamese keyboards set to "Unicode tổ hợp" send "có" as o + U+0301 (NFD)."""
    await join(bot, PRINCIPAL)
    typed = unicodedata.normalize("NFD", "có")
    assert typed != "có"
    sent = await bot.say(HIEU, f"/chiso staffing {typed}")
    assert texts(sent) == (
        "Đã ghi Đủ giáo viên, nhân viên theo Đề án vị trí việc làm: có\n"
        "Mục tiêu 2026: phải đạt — đạt"
    )
    assert [v.value for v in kpi_values(bot)] == [1.0]


async def test_a_bad_kpi_value_says_what_to_type(bot: TelegramBot) -> None:
    await join(bot, PRINCIPAL)
    for value in ("abc", "150", "7/5", "1/0"):
        sent = await bot.say(HIEU, f"/chiso dropout {value}")
        assert texts(sent) == (
            f'Giá trị "{value}" không hợp lệ. Thầy/cô vui lòng ghi một số (dấu phẩy thập phân '
            "được), ví dụ /chiso dropout 0,4 — hoặc số đếm, ví dụ /chiso dropout 3/620."
        )
    assert kpi_values(bot) == []


async def test_an_unknown_kpi_key_lists_the_keys(bot: TelegramBot) -> None:
    await join(bot, PRINCIPAL)
    shown = texts(await bot.say(HIEU, "/chiso xyz 1"))
    assert shown.startswith("Không có chỉ số xyz. Các mã chỉ số: accreditation, class_size, ")
    assert "dropout" in shown and "staffing" in shown and shown.endswith(".")
    assert kpi_values(bot) == []


@pytest.mark.parametrize("name", [OFFICE_STAFF, OFFICE_HEAD, TCM_HEAD])
async def test_only_leaders_record_kpis(bot: TelegramBot, name: str) -> None:
    await join(bot, name)
    assert texts(await bot.say(USER_IDS[name], "/chiso dropout 0,4")) == DENY_KPI
    assert kpi_values(bot) == []


# --------------------------------------------------------------------------------------------
# 1c. Another school's data is never visible
# --------------------------------------------------------------------------------------------


async def test_a_principal_sees_only_his_schools_task_of_a_shared_code(
    bot: TelegramBot, tmp_path: Path
) -> None:
    import_other_school(bot, tmp_path)
    await join(bot, PRINCIPAL)
    own = task_of(bot, "III.4.2")
    card = await bot.say(HIEU, "/viec III.4.2")
    shown = texts(card)
    assert shown.startswith(f"III.4.2 — {own.title}\nTổ/bộ phận: Văn phòng\n")
    assert OTHER_TITLE not in shown
    assert buttons(card[0])[0] == ("✅ Hoàn thành", f"d:{own.id}")

    await bot.say(HIEU, "/capnhat III.4.2 20")
    assert state(task_of(bot, "III.4.2", OTHER_SCHOOL)) == (TaskStatus.TODO, 0)
    assert [u.task_id for u in progress_updates(bot)] == [own.id]


async def test_another_schools_codes_and_kpis_are_unknown(bot: TelegramBot, tmp_path: Path) -> None:
    import_other_school(bot, tmp_path)
    await join(bot, PRINCIPAL)
    assert texts(await bot.say(HIEU, "/viec IX.9.9")) == (
        "Không có nhiệm vụ mã IX.9.9. Xin thầy/cô gõ /viec để xem mã các việc."
    )
    listed = texts(await bot.say(HIEU, "/chiso"))
    assert "secret_ratio" not in listed and "trường khác" not in listed
    shown = texts(await bot.say(HIEU, "/chiso secret_ratio 0,5"))
    assert shown.startswith("Không có chỉ số secret_ratio. Các mã chỉ số: accreditation, ")
    assert "secret_ratio" not in shown.partition("Các mã chỉ số:")[2]
    assert kpi_values(bot) == []


@pytest.mark.parametrize("payload", ["d:{task}", "p:{task}:50", "z:{task}:h1", "u:{update}"])
async def test_a_button_naming_another_schools_row_is_answered_as_outdated(
    bot: TelegramBot, tmp_path: Path, payload: str
) -> None:
    import_other_school(bot, tmp_path)
    await join(bot, PRINCIPAL)
    other = task_of(bot, "III.4.2", OTHER_SCHOOL)
    with session_scope(bot.school.engine) as session:
        foreign = ProgressUpdate(
            task_id=other.id,
            percent=10,
            status=TaskStatus.IN_PROGRESS,
            source=UpdateSource.COMMAND,
            previous_status=TaskStatus.TODO,
            previous_progress=0,
            created_at=NOW,
        )
        session.add(foreign)
        session.flush()
        foreign_id = foreign.id
    message = await bot.open_task(HIEU, "III.4.2")
    data = payload.format(task=other.id, update=foreign_id)
    sent = await bot.press(HIEU, message, data, check_button=False)
    assert sent == []
    assert bot.answers()[-1] == OUTDATED
    assert state(task_of(bot, "III.4.2", OTHER_SCHOOL)) == (TaskStatus.TODO, 0)
    assert [(u.id, u.undone_at) for u in progress_updates(bot)] == [(foreign_id, None)]
    with bot.school.session() as session:
        assert session.exec(select(Snooze)).all() == []


# --------------------------------------------------------------------------------------------
# 2. Group chats
# --------------------------------------------------------------------------------------------


async def test_the_office_head_links_a_group_to_her_unit(bot: TelegramBot) -> None:
    await join(bot, OFFICE_HEAD)
    sent = await in_group(bot, MAI, "/lienket")
    assert texts(sent) == LINKED.format(unit="Văn phòng")
    with bot.school.session() as session:
        link = session.exec(select(UnitChat)).one()
        unit = session.get(Unit, link.unit_id)
    assert (link.channel, link.chat_id, unit.code, link.title) == (
        Channel.TELEGRAM,
        str(GROUP),
        "VANPHONG",
        GROUP_TITLE,
    )
    assert link.linked_by_id == bot.school.member(OFFICE_HEAD).id


@pytest.mark.parametrize("name", [TEACHER, OFFICE_STAFF])
async def test_a_teacher_cannot_link_a_group(bot: TelegramBot, name: str) -> None:
    await join(bot, name)
    assert texts(await in_group(bot, USER_IDS[name], "/lienket")) == NOT_HEAD
    assert texts(await in_group(bot, USER_IDS[name], "/lienket VANPHONG")) == NOT_HEAD
    with bot.school.session() as session:
        assert session.exec(select(UnitChat)).all() == []


async def test_linking_in_a_private_chat_says_to_use_it_in_a_group(bot: TelegramBot) -> None:
    await join(bot, OFFICE_HEAD)
    assert texts(await bot.say(MAI, "/lienket")) == (
        "Lệnh /lienket dùng trong nhóm: xin thầy/cô thêm bot vào nhóm của tổ rồi gõ /lienket ở đó."
    )
    with bot.school.session() as session:
        assert session.exec(select(UnitChat)).all() == []


async def test_a_leader_heading_several_units_is_asked_to_choose(bot: TelegramBot) -> None:
    await join(bot, PRINCIPAL)
    sent = await in_group(bot, HIEU, "/lienket")
    assert texts(sent) == (
        "Thầy/cô phụ trách nhiều tổ/bộ phận; xin gõ /lienket mã tổ, một trong: "
        "CHIBO, BGH, TCM, CONGDOAN, CHIDOAN, KHUYENHOC, VANPHONG."
    )
    with bot.school.session() as session:
        assert session.exec(select(UnitChat)).all() == []
    sent = await in_group(bot, HIEU, "/lienket VANPHONG")
    assert texts(sent) == LINKED.format(unit="Văn phòng")
    with bot.school.session() as session:
        link = session.exec(select(UnitChat)).one()
        assert session.get(Unit, link.unit_id).code == "VANPHONG"


async def test_a_head_of_two_units_chooses_and_cannot_pick_a_unit_she_does_not_head(
    bot: TelegramBot,
) -> None:
    await join(bot, OFFICE_HEAD)
    with session_scope(bot.school.engine) as session:
        union = session.exec(select(Unit).where(Unit.code == "CONGDOAN")).one()
        session.add(
            Membership(
                member_id=bot.school.member(OFFICE_HEAD).id, unit_id=union.id, role=Role.UNIT_HEAD
            )
        )
    assert texts(await in_group(bot, MAI, "/lienket")) == (
        "Thầy/cô phụ trách nhiều tổ/bộ phận; xin gõ /lienket mã tổ, một trong: CONGDOAN, VANPHONG."
    )
    assert texts(await in_group(bot, MAI, "/lienket TCM")) == (
        "Không có tổ/bộ phận TCM mà thầy/cô phụ trách; xin chọn một trong: CONGDOAN, VANPHONG."
    )
    assert texts(await in_group(bot, MAI, "/lienket vanphong")) == LINKED.format(unit="Văn phòng")


@pytest.mark.parametrize("name", [OFFICE_STAFF, PRINCIPAL])
async def test_viec_in_the_linked_group_lists_the_units_tasks(bot: TelegramBot, name: str) -> None:
    await join(bot, OFFICE_HEAD, name)
    await linked_group(bot)
    shown = texts(await in_group(bot, USER_IDS[name], "/viec"))
    office = unit_codes(bot, "VANPHONG")
    assert shown.startswith(f"Việc đang mở ({len(office)}), hạn gần nhất trước:")
    for code in office:
        assert re.search(rf"^\d+\. {re.escape(code)} ", shown, flags=re.M)
    for code in unit_codes(bot, "BGH"):  # the principal's own unit is not this group's
        assert not re.search(rf"^\d+\. {re.escape(code)} ", shown, flags=re.M)


async def test_the_bots_answers_in_a_group_reply_to_the_senders_message(
    bot: TelegramBot,
) -> None:
    await join(bot, OFFICE_HEAD)
    mai = bot.tg.user(MAI)
    update = bot.tg.message_update(
        mai, "/lienket", chat_id=GROUP, chat_type="supergroup", chat_title=GROUP_TITLE
    )
    assert await answers_quoting(bot, update) == [update["message"]["message_id"]]
    update = bot.tg.message_update(mai, "/viec III.4.2", chat_id=GROUP, chat_type="supergroup")
    assert await answers_quoting(bot, update) == [update["message"]["message_id"]]


async def test_the_bots_answers_in_a_private_chat_quote_nothing(bot: TelegramBot) -> None:
    await join(bot, OFFICE_HEAD)
    update = bot.tg.message_update(bot.tg.user(MAI), "/viec III.4.2")
    assert await answers_quoting(bot, update) == [None]


async def test_a_reply_in_the_group_is_his_and_refused_when_not_assigned_to_him(
    bot: TelegramBot,
) -> None:
    await join(bot, OFFICE_HEAD, OFFICE_STAFF)
    await linked_group(bot)
    message = await bot.open_task(MAI, "III.4.2", chat_id=GROUP)
    sent = await in_group(bot, NAM, "50%", reply_to_message_id=message["message_id"])
    assert texts(sent) == NOT_ASSIGNED.format(code="III.4.2")
    assert progress_updates(bot) == []
    assert state(task_of(bot, "III.4.2")) == (TaskStatus.TODO, 0)


async def test_a_reply_in_the_group_is_recorded_for_the_sender_not_the_one_who_asked(
    bot: TelegramBot,
) -> None:
    await join(bot, OFFICE_HEAD, OFFICE_STAFF)
    await linked_group(bot)
    assign(bot, "III.4.2", OFFICE_STAFF)
    task = task_of(bot, "III.4.2")
    message = await bot.open_task(MAI, "III.4.2", chat_id=GROUP)
    sent = await in_group(
        bot, NAM, "50% đã số hoá khối 6", reply_to_message_id=message["message_id"]
    )
    assert texts(sent) == (
        recorded("III.4.2", task.title, 50, "đang thực hiện") + "\nGhi chú: đã số hoá khối 6"
    )
    [update] = progress_updates(bot)
    assert update.member_id == bot.school.member(OFFICE_STAFF).id
    assert (update.source, update.percent) == (UpdateSource.REPLY, 50)


async def test_a_teachers_reply_in_the_group_to_an_office_task_is_refused(
    bot: TelegramBot,
) -> None:
    await join(bot, OFFICE_HEAD, TEACHER)
    await linked_group(bot)
    message = await bot.open_task(MAI, "III.4.2", chat_id=GROUP)
    sent = await in_group(bot, BINH, "xong", reply_to_message_id=message["message_id"])
    assert texts(sent) == NOT_YOURS_TO_UPDATE.format(code="III.4.2")
    assert progress_updates(bot) == []


async def test_ordinary_chatter_in_a_group_gets_no_answer(bot: TelegramBot) -> None:
    await join(bot, OFFICE_HEAD, OFFICE_STAFF)
    await linked_group(bot)
    link_message = bot.tg.sent_to(GROUP)[-1]
    assert await in_group(bot, NAM, "chào cả nhà") == []
    assert await in_group(bot, NAM, "50%") == []
    assert await in_group(bot, MAI, "xong") == []
    assert await in_group(bot, NAM, "ok", reply_to_message_id=link_message["message_id"]) == []
    assert progress_updates(bot) == []


# --------------------------------------------------------------------------------------------
# 3. Errors: blocked users, rate limits and network failures never stop the bot
# --------------------------------------------------------------------------------------------


async def test_a_user_who_blocked_the_bot_is_marked_unreachable(bot: TelegramBot) -> None:
    await join(bot, OFFICE_STAFF)
    bot.tg.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=NAM)
    assert await bot.say(NAM, "/huongdan") == []  # no exception escapes process_update
    assert bot.tg.calls_of("sendMessage")[-1]["chat_id"] == NAM
    identity = identity_of(bot, OFFICE_STAFF)
    assert (identity.chat_id, identity.unreachable_at) == (str(NAM), NOW)


async def test_writing_again_makes_the_user_reachable(bot: TelegramBot) -> None:
    await join(bot, OFFICE_STAFF)
    bot.tg.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=NAM)
    await bot.say(NAM, "/huongdan")
    assert identity_of(bot, OFFICE_STAFF).unreachable_at is not None
    bot.school.clock.advance(hours=2)
    sent = await bot.say(NAM, "/huongdan")
    assert texts(sent).startswith(HELP_START)
    assert identity_of(bot, OFFICE_STAFF).unreachable_at is None


async def test_a_blocked_user_does_not_mark_others_unreachable(bot: TelegramBot) -> None:
    await join(bot, OFFICE_STAFF, OFFICE_HEAD)
    bot.tg.fail_next("sendMessage", 403, chat_id=NAM)
    await bot.say(NAM, "/huongdan")
    assert texts(await bot.say(MAI, "/huongdan")).startswith(HELP_START)
    assert identity_of(bot, OFFICE_HEAD).unreachable_at is None


@pytest.mark.parametrize(
    ("code", "retry_after"), [(429, 1), (500, None), (502, None)], ids=["429", "500", "502"]
)
async def test_an_answer_telegram_would_not_take_is_kept_and_sent_later(
    bot: TelegramBot, caplog: pytest.LogCaptureFixture, code: int, retry_after: int | None
) -> None:
    await join(bot, OFFICE_STAFF)
    bot.tg.fail_next("sendMessage", code, retry_after=retry_after, chat_id=NAM)
    with caplog.at_level(logging.WARNING, logger="bot.telegram"):
        assert await bot.say(NAM, "/huongdan") == []
    warnings = [r for r in caplog.records if r.name == "bot.telegram"]
    assert [r.levelno for r in warnings] == [logging.WARNING]
    assert "waits in the outbox" in warnings[0].getMessage()
    assert texts(await bot.say(NAM, "/huongdan")).startswith(HELP_START)
    assert identity_of(bot, OFFICE_STAFF).unreachable_at is None

    bot.school.clock.advance(minutes=1)
    sweep = Dispatcher(
        bot.school.engine, bot.school.core.config, {Channel.TELEGRAM: TelegramSender(bot.app.bot)},
        bot.school.core.remember, bot.school.core.mark_unreachable, clock=bot.school.clock,
    )  # fmt: skip
    before = len(bot.tg.sent)
    assert (await sweep.sweep()).messages == 1
    assert texts(bot.tg.sent[before:]).startswith(HELP_START)
    assert bot.tg.sent[-1]["chat_id"] == NAM


async def test_a_retry_after_is_waited_out_and_the_message_delivered(
    tg: FakeTelegram, bot: TelegramBot
) -> None:
    app = build_application(
        bot.school.core,
        token=tg.token,
        base_url=tg.base_url,
        base_file_url=tg.base_file_url,
        rate_limiter=unlimited(max_retries=1),
    )
    await app.initialize()
    try:
        await join(bot, OFFICE_STAFF)
        tg.fail_next("sendMessage", 429, retry_after=1, chat_id=NAM)
        update = tg.message_update(tg.user(NAM), "/huongdan")
        before, calls_before = len(tg.sent), len(tg.calls)
        await app.process_update(Update.de_json(update, app.bot))
        assert texts(tg.sent[before:]).startswith(HELP_START)
        attempts = [method for method, _ in tg.calls[calls_before:] if method == "sendMessage"]
        assert len(attempts) == 2  # refused with 429, then sent after waiting 1 s
    finally:
        await app.shutdown()


# --------------------------------------------------------------------------------------------
# 4. Polling and webhook: the same handlers fed by PTB's Updater
# --------------------------------------------------------------------------------------------


async def test_polling_answers_a_queued_update(bot: TelegramBot) -> None:
    await join(bot, OFFICE_STAFF)
    app, tg = bot.app, bot.tg
    before = len(tg.sent)
    await app.start()
    try:
        await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=ALLOWED_UPDATES)
        tg.queue(tg.message_update(tg.user(NAM), "/huongdan"))
        await wait_until(lambda: len(tg.sent) > before)
    finally:
        if app.updater.running:
            await app.updater.stop()
        await app.stop()
    assert texts(tg.sent[before:]).startswith(HELP_START)
    assert tg.calls_of("getUpdates")[-1]["allowed_updates"] == ALLOWED_UPDATES


async def test_the_webhook_refuses_a_wrong_or_missing_secret(bot: TelegramBot) -> None:
    await join(bot, OFFICE_STAFF)
    app, tg, port = bot.app, bot.tg, free_port()
    before = len(tg.sent)
    async with serving_webhook(app, port):
        assert tg.webhook["url"] == "https://bot.example.invalid/telegram"
        assert tg.webhook["secret_token"] == "s3cret-token"
        wrong = await post_update(port, tg.message_update(tg.user(NAM), "/viec"), "wrong-token")
        missing = await post_update(port, tg.message_update(tg.user(NAM), "/chiso"), None)
        assert (wrong.status_code, missing.status_code) == (403, 403)
        # Updates are handled in order: once this one is answered, the refused ones never were.
        right = await post_update(
            port, tg.message_update(tg.user(NAM), "/huongdan"), "s3cret-token"
        )
        assert right.status_code == 200
        await wait_until(lambda: len(tg.sent) > before)
    [answer] = tg.sent[before:]
    assert answer["plain_text"].startswith(HELP_START)


async def test_the_webhook_answers_an_update_with_the_right_secret(bot: TelegramBot) -> None:
    await join(bot, OFFICE_HEAD, OFFICE_STAFF)
    assign(bot, "III.4.2", OFFICE_STAFF)
    app, tg, port = bot.app, bot.tg, free_port()
    before = len(tg.sent)
    async with serving_webhook(app, port):
        response = await post_update(
            port, tg.message_update(tg.user(NAM), "/capnhat III.4.2 70"), "s3cret-token"
        )
        assert response.status_code == 200
        await wait_until(lambda: len(tg.sent) > before)
    assert texts(tg.sent[before:]) == recorded(
        "III.4.2", task_of(bot, "III.4.2").title, 70, "đang thực hiện"
    )
    [update] = progress_updates(bot)
    assert update.member_id == bot.school.member(OFFICE_STAFF).id


async def test_a_group_linked_by_one_school_cannot_be_taken_over_by_another(
    bot: TelegramBot, tmp_path: Path
) -> None:
    await join(bot, OFFICE_HEAD)
    await linked_group(bot)
    import_other_school(bot, tmp_path)
    with session_scope(bot.school.engine) as session:
        other = session.exec(select(School).where(School.code == OTHER_SCHOOL)).one()
        unit = session.exec(select(Unit).where(Unit.school_id == other.id)).one()
        head = Member(school_id=other.id, name="Người trường khác")
        session.add(head)
        session.flush()
        session.add(Membership(member_id=head.id, unit_id=unit.id, role=Role.UNIT_HEAD))
        session.add(
            ChatIdentity(
                member_id=head.id, channel=Channel.TELEGRAM, external_user_id="777", chat_id="777"
            )
        )
    sent = await in_group(bot, 777, "/lienket")
    assert texts(sent).startswith("Nhóm này đã được liên kết với một tổ của trường khác")
    with bot.school.session() as session:
        link = session.exec(select(UnitChat)).one()
        assert session.get(Unit, link.unit_id).code == "VANPHONG"
        assert session.get(Unit, link.unit_id).school_id != other.id


async def test_an_answer_kept_in_a_group_still_answers_the_senders_message(
    bot: TelegramBot,
) -> None:
    """Telegram would not take the answer at once (502): when it goes out later it is still
    shown as the answer to the message it answers, not loose in the group."""
    await join(bot, OFFICE_HEAD)
    await linked_group(bot)
    update = bot.tg.message_update(
        bot.tg.user(MAI), "/viec III.4.2", chat_id=GROUP, chat_type="supergroup"
    )
    bot.tg.fail_next("sendMessage", 502, chat_id=GROUP)
    assert await bot.feed(update) == []
    bot.school.clock.advance(minutes=1)
    sweep = Dispatcher(
        bot.school.engine, bot.school.core.config, {Channel.TELEGRAM: TelegramSender(bot.app.bot)},
        bot.school.core.remember, bot.school.core.mark_unreachable, clock=bot.school.clock,
    )  # fmt: skip
    assert (await sweep.sweep()).messages == 1
    sent = bot.tg.sent[-1]
    quoted = bot.tg.message(sent["chat_id"], sent["message_id"]).get("reply_to_message") or {}
    assert (sent["chat_id"], quoted.get("message_id")) == (GROUP, update["message"]["message_id"])
