"""Arbitrary input from linked and unlinked people: always a reply or a deliberate silence, never
an error, and no row changes unless the reply says what was recorded."""

import hashlib

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from handlers.chat import Incoming
from messages import h
from models import Channel
from services.progress import IncomingFile
from tests.chat_school import OFFICE_HEAD, TEACHER, ChatSchool
from tests.db_state import snapshot

WATCHED = ("task", "progress_update", "attachment", "kpi_value", "chatidentity", "invitation",
           "snooze", "unit_chat", "member", "membership", "unit", "kpi", "school",
           "task_assignee")  # fmt: skip
CONFIRMATIONS = (
    "Đã ghi",
    "Đã hoàn tác",
    "Được rồi",
    "Chào",
    "Đã liên kết",
    "Đã chuyển",
    "Đã giao",
    "Switched",
)
INTERNAL_ERROR = str(h("error.internal"))
LINKED, STRANGER = "1001", "2002"
TASK_MESSAGE = "42"  # a bot message about task III.4.2 in the linked member's chat

FILES = st.lists(
    st.builds(
        IncomingFile,
        kind=st.sampled_from(["photo", "document"]),
        file_id=st.text(min_size=1, max_size=80),
        file_unique_id=st.none() | st.text(max_size=40),
        file_name=st.none() | st.text(max_size=300),
        mime_type=st.none() | st.text(max_size=50),
    ),
    max_size=2,
).map(tuple)
PAYLOADS = st.text(max_size=64) | st.builds(
    lambda action, number, choice: f"{action}:{number}{choice}",
    st.sampled_from("dpzbuxvag"),
    st.integers(min_value=-5, max_value=60) | st.integers(min_value=-(10**12), max_value=10**12),
    st.sampled_from(
        ["", ":", ":h1", ":d1", ":d3", ":50", ":101", ":x", ":1", ":1:d", ":2:n", ":1:50", ":9:101"]
    ),
)
COMMAND_WORDS = ["viec", "capnhat", "xong", "vuong", "giao", "chiso", "lienket", "ngonngu",
                 "huongdan", "start", "tasks", "update", "done", "assign", "zzz"]  # fmt: skip
TEXTS = st.text(max_size=300) | st.builds(
    lambda word, args: f"/{word} {args}", st.sampled_from(COMMAND_WORDS), st.text(max_size=80)
)


def fingerprint(engine: Engine) -> str:
    return hashlib.sha256(repr(snapshot(engine, WATCHED)).encode()).hexdigest()


@pytest.fixture
def linked(school: ChatSchool) -> ChatSchool:
    school.core.handle(
        Incoming(Channel.TELEGRAM, LINKED, LINKED, text=f"/start {school.codes[OFFICE_HEAD]}")
    )
    school.core.handle(
        Incoming(Channel.TELEGRAM, "1003", "1003", text=f"/start {school.codes[TEACHER]}")
    )
    return school


@settings(
    max_examples=1500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    user=st.sampled_from([LINKED, STRANGER, "1003"]),
    text=TEXTS,
    button=st.none() | PAYLOADS,
    files=FILES,
    is_group=st.booleans(),
    reply_to=st.none() | st.just(TASK_MESSAGE) | st.text(max_size=12),
)
@example(user=LINKED, text="", button=":²", files=(), is_group=False, reply_to=None)  # found once
@example(user=LINKED, text="/truong ²", button=None, files=(), is_group=False, reply_to=None)
def test_any_input_gets_an_answer_or_silence_and_changes_nothing_silently(
    linked: ChatSchool,
    user: str,
    text: str,
    button: str | None,
    files: tuple[IncomingFile, ...],
    is_group: bool,
    reply_to: str | None,
) -> None:
    before = fingerprint(linked.engine)
    chat = "-100555" if is_group else user
    incoming = Incoming(
        Channel.TELEGRAM, user, chat, text=text, is_group=is_group, reply_to=reply_to,
        button=button, files=files,
    )  # fmt: skip
    outcome = linked.core.handle(incoming)

    texts = [reply.text for reply in outcome.replies] + [outcome.notice or ""]
    assert all(INTERNAL_ERROR not in shown for shown in texts)
    assert all(reply.text for reply in outcome.replies)
    for reply in outcome.replies:
        for row in reply.buttons:
            assert all(0 < len(b.payload.encode()) <= 64 for b in row)
    if not outcome.replies and not outcome.notice:
        assert is_group or button is not None, "a private message must get an answer"
    if fingerprint(linked.engine) != before:
        assert any(shown.startswith(CONFIRMATIONS) for shown in texts), texts
