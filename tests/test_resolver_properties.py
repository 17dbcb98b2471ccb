"""Whatever a teacher types, the bot never updates a task they may not update, and never drops
what they wrote: it is recorded (with the words that were not understood as the note), kept
while the bot asks which task or what it means, or answered with what to type instead."""

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import col, func, select

from handlers.chat import Incoming, Outcome
from models import BotMessage, Channel, PendingReport, ProgressUpdate, Task, TaskAssignee
from services.permissions import can_update, load_actor
from tests.chat_school import TEACHER, ChatSchool

USER = "2001"
TOKENS = [
    "III.1.4", "III.5.5", "III.3.4", "III.4.2", "iii14", "III 5.5", "III.9.9", "III.11",
    "xong", "xong rồi ạ", "da xong", "hoàn thành", "ok", "👍", "80%", "50 phần trăm", "150%",
    "dc 70%", "vướng", "vướng: thiếu máy", "chưa làm được vì thiếu kinh phí", "chưa xong",
    "dạ", "em", "ạ", "1", "2", "3", ",", "và", "\n", "khối 6", "<b>&", "còn lớp 9A",
]  # fmt: skip
TEXTS = st.lists(st.sampled_from(TOKENS) | st.text(max_size=8), min_size=1, max_size=6).map(
    " ".join
)
# Bot messages the teacher may answer: about her task, about an office task, a numbered list.
THREADS = {"own": ["III.5.5"], "office": ["III.4.2"], "list": ["III.5.5", "III.4.2", "III.3.4"]}
ANSWERED = (
    "Nhiệm vụ",  # a refusal: not hers, not her unit's
    "Tiến độ của",  # a percentage above 100
    "Không có nhiệm vụ mã",  # a code that names no task
    "Cách dùng",
    "Hệ thống chưa hiểu",
    "Tài khoản này đã liên kết",  # eight letters and digits: an invitation code, not needed
)


@pytest.fixture
def teacher(school: ChatSchool) -> ChatSchool:
    """A teacher of the subject group who has two tasks of her own and is linked on Telegram."""
    school.core.handle(
        Incoming(Channel.TELEGRAM, USER, USER, text=f"/start {school.codes[TEACHER]}")
    )
    with school.session() as session:
        member = school.member(TEACHER)
        for code in ("III.5.5", "III.3.4"):
            session.add(TaskAssignee(task_id=school.task(code).id, member_id=member.id))
        for message_id, codes in THREADS.items():
            numbered = len(codes) > 1
            session.add_all(
                BotMessage(
                    channel=Channel.TELEGRAM, chat_id=USER, message_id=message_id,
                    line=n if numbered else 0, task_id=school.task(code).id,
                    sent_at=school.clock.now,
                )
                for n, code in enumerate(codes, 1)
            )  # fmt: skip
        session.commit()
    return school


def newest(school: ChatSchool, table: type) -> int:
    with school.session() as session:
        return session.exec(select(func.coalesce(func.max(table.id), 0))).one()


def updated_since(school: ChatSchool, after: int) -> list[tuple[ProgressUpdate, Task]]:
    with school.session() as session:
        return list(
            session.exec(
                select(ProgressUpdate, Task)
                .join(Task, col(Task.id) == col(ProgressUpdate.task_id))
                .where(col(ProgressUpdate.id) > after)
            ).all()
        )


def kept_since(school: ChatSchool, after: int) -> list[str]:
    with school.session() as session:
        rows = session.exec(select(PendingReport).where(col(PendingReport.id) > after)).all()
        return [row.text for row in rows]


def answered(outcome: Outcome) -> bool:
    return any(reply.text.startswith(ANSWERED) for reply in outcome.replies)


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=TEXTS, thread=st.none() | st.sampled_from(sorted(THREADS)))
def test_any_text_updates_only_her_tasks_and_keeps_her_words(
    teacher: ChatSchool, text: str, thread: str | None
) -> None:
    last_update, last_kept = newest(teacher, ProgressUpdate), newest(teacher, PendingReport)
    incoming = Incoming(Channel.TELEGRAM, USER, USER, text=text, reply_to=thread)
    outcome = teacher.core.handle(incoming)

    text = unicodedata.normalize("NFC", text).replace("\x00", "")  # as the bot reads it
    with teacher.session() as session:
        actor = load_actor(session, teacher.member(TEACHER))
    recorded = updated_since(teacher, last_update)
    for update, task in recorded:
        assert can_update(actor, task), (text, task.code)
        note = (update.note or "").split()
        assert all(word in text for word in note), (text, update.note)  # her words, no others
    if text.strip().startswith("/") or not text.strip():
        return
    kept = kept_since(teacher, last_kept)
    assert recorded or kept or answered(outcome), (text, [r.text for r in outcome.replies])
    for words in kept:
        assert all(word in text for word in words.split()), (text, words)
