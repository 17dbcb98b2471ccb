"""Reminders outlive outages, crashes, stalls and late joiners: the outbox's promises, with a
controlled clock (each test's sweeps are what the scheduler would run minute by minute)."""

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import select

from handlers.chat import DeliveryError, Incoming, Reply
from handlers.core import ChatCore
from models import (
    Channel,
    ChatIdentity,
    DeliveryFailure,
    Instance,
    Member,
    Reminder,
    ReminderStatus,
    School,
)
from models.db import session_scope
from scheduler.dispatch import Dispatcher
from scheduler.jobs import FollowUp
from services import instances, outbox
from services.invitations import issue_invitations
from services.reminders import CalendarDefaults
from tests.reminder_school import local
from tests.sweep_rig import MONDAY, RecordingSender, Rig

KINDS = ("before_1d", "before_7d", "overdue")


@dataclass
class Outage(RecordingSender):
    """Telegram answers 502 Bad Gateway until `until`."""

    until: datetime | None = None
    clock: Rig | None = None

    async def send(self, chat_id: str, reply: Reply) -> str:
        assert self.clock is not None and self.until is not None
        if self.clock.clock.now < self.until:
            raise DeliveryError("Bad Gateway")
        return await super().send(chat_id, reply)


def rows(rig: Rig) -> list[Reminder]:
    with session_scope(rig.engine) as session:
        return list(session.exec(select(Reminder).order_by(Reminder.id)))


def duplicates(sender: RecordingSender) -> list[tuple[str, str]]:
    seen = [(chat, reply.text) for chat, reply in sender.sent]
    return [pair for pair in set(seen) if seen.count(pair) > 1]


async def minute_by_minute(rig: Rig, dispatcher: Dispatcher, minutes: int) -> None:
    for _ in range(minutes):
        await dispatcher.sweep()
        rig.clock.advance(minutes=1)


async def test_a_thirty_minute_outage_delays_reminders_but_loses_none(rig: Rig) -> None:
    await asyncio.to_thread(rig.follow_up.plan)
    sender = Outage(until=MONDAY + timedelta(minutes=30), clock=rig)
    dispatcher = rig.dispatcher(sender)
    await minute_by_minute(rig, dispatcher, 30)
    assert sender.sent == []
    assert {row.status for row in rows(rig)} == {ReminderStatus.PENDING}
    await minute_by_minute(rig, dispatcher, 10)  # the longest pause between tries is 5 minutes
    assert {row.status for row in rows(rig)} == {ReminderStatus.SENT}
    assert {row.chat_id for row in rows(rig)} == {chat for chat, _ in sender.sent}
    assert duplicates(sender) == []


async def test_pauses_between_tries_grow_and_are_spread(rig: Rig) -> None:
    pauses = [outbox.backoff(attempt) for attempt in range(1, 9)]
    assert pauses[0] <= timedelta(seconds=30) and pauses[-1] <= timedelta(minutes=5)
    assert max(pauses) >= timedelta(minutes=2, seconds=30)
    assert len({outbox.backoff(3) for _ in range(20)}) > 1  # jitter: not all at the same moment


async def test_a_reminder_undeliverable_until_it_is_stale_is_recorded_as_expired(
    rig: Rig,
) -> None:
    await asyncio.to_thread(rig.follow_up.plan)
    sender = Outage(until=MONDAY + timedelta(days=30), clock=rig)
    dispatcher = rig.dispatcher(sender)
    for _ in range(26 * 4):  # a day and more; a sweep every 15 minutes retries what is due
        await dispatcher.sweep()
        rig.clock.advance(minutes=15)
    by_kind = {kind: [row for row in rows(rig) if row.kind == kind] for kind in KINDS}
    for kind in ("before_1d",):  # worth a day: stale by now
        assert by_kind[kind] and {row.failure for row in by_kind[kind]} == {DeliveryFailure.EXPIRED}
    for kind in ("before_7d", "overdue"):  # still worth sending when the outage ends
        assert by_kind[kind] and {row.status for row in by_kind[kind]} == {ReminderStatus.PENDING}


async def test_crashes_while_sending_are_not_counted_as_failed_tries(rig: Rig) -> None:
    await asyncio.to_thread(rig.follow_up.plan)
    for crash in range(20):  # claimed, then the process is killed before it records anything
        with session_scope(rig.engine) as session:
            assert outbox.claim_due(session, rig.clock.now, f"killed-{crash}")
        rig.clock.advance(seconds=outbox.LEASE.total_seconds() + 1)
    sender = RecordingSender(failures=[DeliveryError("Bad Gateway")])
    await rig.dispatcher(sender).sweep()
    assert max(row.attempts for row in rows(rig)) == 1
    assert {row.status for row in rows(rig)} == {ReminderStatus.PENDING, ReminderStatus.SENT}
    rig.clock.advance(minutes=1)
    await rig.dispatcher(sender).sweep()
    assert {row.status for row in rows(rig)} == {ReminderStatus.SENT}
    assert max(row.claim_version for row in rows(rig)) >= 21


async def test_a_person_who_joins_after_their_reminder_fell_due_still_gets_it(rig: Rig) -> None:
    with session_scope(rig.engine) as session:
        head = session.exec(select(Member).where(Member.name == "Tổ Trưởng")).one()
        session.delete(
            session.exec(select(ChatIdentity).where(ChatIdentity.member_id == head.id)).one()
        )
    await rig.follow_up.tick()
    assert rig.sender.to("Tổ Trưởng") == []
    waiting = [row for row in rows(rig) if row.failure == DeliveryFailure.NO_CHAT]
    assert waiting and {row.recipient_id for row in waiting} == {head.id}

    rig.clock.advance(hours=2)
    with session_scope(rig.engine) as session:
        school = session.exec(select(School)).one()
        codes = {
            issued.member.name: issued.code
            for issued in issue_invitations(session, school, now=rig.clock.now, ttl_days=14)
        }
    core = ChatCore(rig.engine, rig.follow_up.dispatcher.config, clock=rig.clock)
    joined = core.handle(Incoming(Channel.TELEGRAM, "505", "505", f"/start {codes['Tổ Trưởng']}"))
    assert "Tổ Trưởng" in joined.replies[0].text
    await rig.follow_up.tick()
    [late] = rig.sender.to("Tổ Trưởng")
    assert "T.TCM" in late


async def test_a_person_who_unblocked_the_bot_gets_what_was_held_back(rig: Rig) -> None:
    await asyncio.to_thread(rig.follow_up.plan)
    with session_scope(rig.engine) as session:
        head = session.exec(select(Member).where(Member.name == "Tổ Trưởng")).one()
        identity = session.exec(select(ChatIdentity).where(ChatIdentity.member_id == head.id)).one()
        identity.unreachable_at = rig.clock.now
    await rig.follow_up.dispatcher.sweep()
    assert rig.sender.to("Tổ Trưởng") == []
    core = ChatCore(rig.engine, rig.follow_up.dispatcher.config, clock=rig.clock)
    core.handle(Incoming(Channel.TELEGRAM, "505", "505", "/viec"))
    rig.sender.sent.clear()
    await rig.follow_up.dispatcher.sweep()
    assert len(rig.sender.to("Tổ Trưởng")) == 1


@dataclass
class Stalling(RecordingSender):
    """Its first send hangs until `resume` is set (a flood wait, a frozen process)."""

    resume: asyncio.Event | None = None
    started: asyncio.Event | None = None

    async def send(self, chat_id: str, reply: Reply) -> str:
        assert self.resume is not None and self.started is not None
        if not self.started.is_set():
            self.started.set()
            await self.resume.wait()
        return await super().send(chat_id, reply)


def stalling() -> Stalling:
    return Stalling(resume=asyncio.Event(), started=asyncio.Event())


def follow_up(rig: Rig, sender: RecordingSender) -> FollowUp:
    return FollowUp(rig.engine, rig.dispatcher(sender), CalendarDefaults(), clock=rig.clock)


async def two_instances(rig: Rig) -> tuple[Stalling, RecordingSender, FollowUp, FollowUp]:
    """Reminders planned; two running instances, the first with a sender that will stall."""
    await asyncio.to_thread(rig.follow_up.plan)
    a, b = stalling(), RecordingSender()
    first, second = follow_up(rig, a), follow_up(rig, b)
    first.register("all")
    second.register("all")
    return a, b, first, second


async def test_a_sweep_waiting_out_a_long_flood_wait_keeps_its_claim(rig: Rig) -> None:
    a, b, first, second = await two_instances(rig)
    sweeping = asyncio.create_task(first.dispatcher.sweep())
    await a.started.wait()
    for _ in range(10):  # 100 s of flood wait; both instances' heartbeats go on
        rig.clock.advance(seconds=10)
        await asyncio.to_thread(first.heartbeat)
        await asyncio.to_thread(second.heartbeat)
        assert (await second.dispatcher.sweep()).sent == 0
    rig.clock.advance(seconds=outbox.LEASE.total_seconds())
    await asyncio.to_thread(first.heartbeat)
    assert (await second.dispatcher.sweep()).sent == 0
    a.resume.set()
    result = await sweeping
    assert result.messages == 4 and b.sent == []
    assert {row.status for row in rows(rig)} == {ReminderStatus.SENT}


async def test_a_frozen_sweep_loses_its_claim_and_sends_nothing_it_no_longer_holds(
    rig: Rig,
) -> None:
    a, b, first, second = await two_instances(rig)
    sweeping = asyncio.create_task(first.dispatcher.sweep())
    await a.started.wait()  # frozen mid-send: no heartbeat any more
    rig.clock.advance(seconds=outbox.DEAD_AFTER.total_seconds() + 1)
    await asyncio.to_thread(second.heartbeat)
    taken = await second.dispatcher.sweep()
    assert taken.messages == 4  # without waiting for the lease: the heartbeat stopped
    a.resume.set()
    result = await sweeping
    assert result.lost == 3 and len(a.sent) == 1  # only the message that was in flight
    assert len(duplicates(RecordingSender(sent=a.sent + b.sent))) <= 1
    assert {row.status for row in rows(rig)} == {ReminderStatus.SENT}


async def test_a_graceful_stop_finishes_the_message_in_flight_and_gives_back_the_rest(
    rig: Rig,
) -> None:
    await asyncio.to_thread(rig.follow_up.plan)
    a, b = stalling(), RecordingSender()
    first = follow_up(rig, a)
    first.register("all")
    first._sweeping = asyncio.ensure_future(first.dispatcher.sweep())
    await a.started.wait()
    stopping = asyncio.create_task(first.stop())
    await asyncio.sleep(0.05)
    a.resume.set()
    released = await stopping
    assert released == 3 and len(a.sent) == 1
    assert [row.claimed_by for row in rows(rig) if row.status == ReminderStatus.SENDING] == []
    with session_scope(rig.engine) as session:
        assert session.get(Instance, first.name).stopped_at == rig.clock.now
    await follow_up(rig, b).dispatcher.sweep()  # another instance, at once: no lease to wait
    assert len(b.sent) == 3 and duplicates(RecordingSender(sent=a.sent + b.sent)) == []


async def test_a_graceful_stop_does_not_wait_for_a_send_that_hangs(rig: Rig) -> None:
    await asyncio.to_thread(rig.follow_up.plan)
    a = stalling()
    first = follow_up(rig, a)
    first.register("all")
    first._sweeping = asyncio.ensure_future(first.dispatcher.sweep())
    await a.started.wait()
    released = await first.stop(wait=0.1)
    assert released == len(rows(rig))
    assert {row.status for row in rows(rig)} == {ReminderStatus.PENDING}


def test_instances_that_stopped_long_ago_are_forgotten(rig: Rig) -> None:
    with session_scope(rig.engine) as session:
        instances.register(session, "old", "all", MONDAY - timedelta(days=8))
    with session_scope(rig.engine) as session:
        instances.register(session, "new", "sweep", MONDAY)
    with session_scope(rig.engine) as session:
        assert [i.name for i in session.exec(select(Instance))] == ["new"]
        assert [i.name for i in instances.alive(session, MONDAY, outbox.DEAD_AFTER)] == ["new"]


async def test_the_principal_reads_in_the_digest_who_could_not_be_reminded(rig: Rig) -> None:
    with session_scope(rig.engine) as session:
        head = session.exec(select(Member).where(Member.name == "Tổ Trưởng")).one()
        session.delete(
            session.exec(select(ChatIdentity).where(ChatIdentity.member_id == head.id)).one()
        )
        staff = session.exec(select(Member).where(Member.name == "Trưởng Văn Phòng")).one()
        blocked = session.exec(select(ChatIdentity).where(ChatIdentity.member_id == staff.id)).one()
        blocked.unreachable_at = rig.clock.now
    await rig.follow_up.tick()
    rig.clock.now = local(4, 16, 31)  # Friday: the digest
    await rig.follow_up.tick()
    [digest] = [text for text in rig.sender.to("Hiệu Trưởng") if text.startswith("📊")]
    assert (
        "📭 <b>Chưa nhắc được</b> trong kỳ này:\n"
        "• 1 người chưa kết nối với bot: Tổ Trưởng. Lời nhắc sẽ tới khi họ kết nối "
        "(văn phòng gửi lại mã mời: dondoc invite).\n"
        "• 1 người đã chặn bot: Trưởng Văn Phòng. Lời nhắc sẽ tới khi họ nhắn lại cho bot."
    ) in digest


def test_the_dry_run_shows_an_answer_waiting_in_the_outbox(rig: Rig, cli) -> None:
    core = ChatCore(rig.engine, rig.follow_up.dispatcher.config, clock=rig.clock)
    core.keep_reply(Channel.TELEGRAM, "505", Reply("Đã ghi nhận <b>T.TCM</b>: 50%."))
    output = cli("reminders", "--at", "2026-11-30T08:00").output
    assert "── Câu trả lời chờ gửi lại tới chat 505 ──\nĐã ghi nhận T.TCM: 50%." in output
