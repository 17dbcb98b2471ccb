"""Whatever a teacher types, the bot never updates a task they may not update, and never drops
what they wrote: the words it did not parse are recorded (as the note of an update) or kept
(while the bot asks which task or what it means). Only a refusal (not her task), a percentage
above 100 or an invitation code is answered without storing them."""

import re
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
    "dạ", "em", "ạ", "1", "2", "3", "7", ",", "và", "\n", "khối 6", "<b>&", "còn lớp 9A",
    "đã nộp thêm biên bản", "III.5.5 xong, đã nộp thêm biên bản",
]  # fmt: skip
# Words that say what happened: none of them may vanish unless the answer says why.
CONTENT = ("máy", "kinh", "phí", "khối", "lớp", "9A", "nộp", "biên", "bản")
TEXTS = st.lists(st.sampled_from(TOKENS) | st.text(max_size=8), min_size=1, max_size=6).map(
    " ".join
)
# Bot messages the teacher may answer: about her task, about an office task, a numbered list.
THREADS = {"own": ["III.5.5"], "office": ["III.4.2"], "list": ["III.5.5", "III.4.2", "III.3.4"]}
EXCUSED = (
    "không thuộc tổ/bộ phận",  # refusals: not her unit's task, not given to her
    "chưa được giao cho",
    "không cần báo cáo thêm",  # archived
    "phối hợp nên xem được",  # a task her unit only supports
    "tính từ 0 đến 100%",  # a percentage above 100
    "Tài khoản này đã liên kết",  # eight letters and digits: an invitation code, not needed
    "Không có việc nào đang mở",  # nothing left to put the words on
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


def excused(outcome: Outcome) -> bool:
    return any(reason in reply.text for reply in outcome.replies for reason in EXCUSED)


def has_word(word: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) is not None


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
    for words in kept:
        assert all(word in text for word in words.split()), (text, words)
    if excused(outcome):
        return
    stored = " ".join([update.note or "" for update, _ in recorded] + kept)
    replies = [r.text for r in outcome.replies]
    assert recorded or kept or replies, text
    for word in CONTENT:
        if has_word(word, text):
            assert has_word(word, stored), (text, word, stored, replies)
