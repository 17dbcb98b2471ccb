"""The scheduler of a `dondoc run` process. Its jobs only trigger work: the planner writes due
reminders to the outbox, the sweep sends them, the heartbeat says the process is alive (and
renews the lease of what it is sending). All state is in the database, so a restart loses
nothing, and several processes may run side by side (the outbox claim keeps them apart).
APScheduler cannot share a job store between processes; it needs none here."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from models import School
from models.base import utcnow
from models.db import session_scope
from scheduler.dispatch import Dispatcher, SweepResult
from services import instances, received
from services.reminders import CalendarDefaults, plan_school

log = logging.getLogger(__name__)
PLAN_SECONDS = 60
HEARTBEAT_SECONDS = 10
STOP_SECONDS = 8  # a graceful stop waits this long for the message in flight


class FollowUp:
    def __init__(
        self,
        engine: Engine,
        dispatcher: Dispatcher,
        defaults: CalendarDefaults,
        *,
        sweep_seconds: int = 30,
        heartbeat_seconds: int = HEARTBEAT_SECONDS,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.dispatcher = dispatcher
        self.defaults = defaults
        self.sweep_seconds = sweep_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.clock = clock
        self.scheduler: AsyncIOScheduler | None = None
        self._sweeping: asyncio.Task[SweepResult] | None = None
        self._after_beat: Callable[[], Awaitable[None]] | None = None

    def plan(self) -> int:
        """Plan each school in its own transaction: one school's bad data stops only its own."""
        now = self.clock()
        with session_scope(self.engine) as session:
            school_ids = session.exec(select(School.id).order_by(col(School.id))).all()
        created = 0
        for school_id in school_ids:
            try:
                with session_scope(self.engine) as session:
                    school = session.get_one(School, school_id)
                    created += len(plan_school(session, school, now, self.defaults))
            except Exception:
                log.exception("planning reminders for school %s failed", school_id)
        return created

    async def tick(self) -> SweepResult:
        """Plan, then send what is due: one step of the loop (the demo and tests drive it)."""
        await asyncio.to_thread(self.plan)
        return await self.dispatcher.sweep()

    @property
    def name(self) -> str:
        return self.dispatcher.worker

    def register(self, role: str) -> None:
        with session_scope(self.engine) as session:
            instances.register(session, self.name, role, self.clock())

    def heartbeat(self) -> None:
        with session_scope(self.engine) as session:
            instances.beat(session, self.name, self.clock())
            received.forget_old(session, self.clock())

    def start(
        self,
        role: str = "all",
        *,
        sweeps: bool = True,
        after_beat: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Start the jobs on the running event loop: the heartbeat (then `after_beat`), and
        unless not `sweeps` the planner and the sweep. Missed runs are coalesced into one, and
        a late run always runs (the default 1 s grace would drop it)."""
        self.register(role)
        self._after_beat = after_beat
        scheduler = AsyncIOScheduler(timezone=UTC)
        options = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
        now = datetime.now(UTC)
        scheduler.add_job(self._heartbeat_job, "interval", seconds=self.heartbeat_seconds,
                          next_run_time=now, id="heartbeat", **options)  # fmt: skip
        if sweeps:
            scheduler.add_job(self._plan_job, "interval", seconds=PLAN_SECONDS,
                              next_run_time=now, id="plan", **options)  # fmt: skip
            scheduler.add_job(self._sweep_job, "interval", seconds=self.sweep_seconds,
                              next_run_time=now, id="sweep", **options)  # fmt: skip
        scheduler.start()
        self.scheduler = scheduler

    async def stop(self, wait: float = STOP_SECONDS) -> int:
        """A graceful stop: no new jobs; the sweep finishes the message in flight (cancelled
        if it takes longer than `wait`); every row still claimed goes back at once. Returns how
        many rows were given back."""
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
        self.dispatcher.stopping = True
        sweeping = self._sweeping
        if sweeping is not None and not sweeping.done():
            try:
                await asyncio.wait_for(asyncio.shield(sweeping), wait)
            except TimeoutError:
                sweeping.cancel()
            except asyncio.CancelledError:
                pass
            except Exception:
                log.exception("the last sweep failed while stopping")
        released = await asyncio.to_thread(self._stopped)
        if released:
            log.info("stopped: %d reminders given back to the other instances", released)
        return released

    def _stopped(self) -> int:
        with session_scope(self.engine) as session:
            return instances.stopped(session, self.name, self.clock())

    async def _heartbeat_job(self) -> None:
        try:
            await asyncio.to_thread(self.heartbeat)
            if self._after_beat is not None:
                await self._after_beat()
        except asyncio.CancelledError:
            return  # stopping: the stop records it
        except Exception:
            log.exception("the heartbeat failed; the next one tries again")

    async def _plan_job(self) -> None:
        try:
            created = await asyncio.to_thread(self.plan)
        except asyncio.CancelledError:
            return  # stopping mid-plan: planning is idempotent, the next start goes on
        except Exception:
            log.exception("planning reminders failed; the next run tries again")
            return
        if created:
            log.info("planned %d reminders", created)

    async def _sweep_job(self) -> None:
        # Shielded: stopping the scheduler cancels its running jobs, but a sweep ends only
        # after the message in flight (see `stop`).
        self._sweeping = asyncio.ensure_future(self.dispatcher.sweep())
        try:
            result = await asyncio.shield(self._sweeping)
        except asyncio.CancelledError:
            return
        except Exception:
            log.exception("the reminder sweep failed; the next run tries again")
            return
        if result.messages or result.retried or result.failed:
            log.info("reminders: %s", result)
