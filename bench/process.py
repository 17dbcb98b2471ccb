"""The `dondoc run` process: start-up time (from exec to its first getUpdates, and to the first
reminder its first sweep sends) and peak RSS (VmHWM), idle and after the B2 fan-out (5,000
messages, all roles); `dondoc demo` for reference. `.venv/bin/python -m bench.process`; writes
bench/results/process.md."""

import asyncio
import os
import platform
import signal
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bench.fanout import Fake, peak_rss_mb, run_once
from data import DEFAULT_PLAN
from models.base import utcnow
from models.db import make_engine, session_scope, upgrade_schema
from services.plan_files import read_plan
from services.plan_store import import_plan
from tests.crowd import owe_reminders
from tests.fake_telegram import Params
from tests.processes import DONDOC, run_environment

RUNS = 3
IDLE_SECONDS = 5.0
RESULTS = Path(__file__).parent / "results" / "process.md"


class PolledFake(Fake):
    """The fake noting when the first getUpdates came."""

    def __init__(self) -> None:
        super().__init__()
        self.first_poll: float | None = None

    async def _get_updates(self, params: Params) -> list:
        if self.first_poll is None:
            self.first_poll = time.monotonic()
        return await super()._get_updates(params)


@dataclass(frozen=True)
class Idle:
    to_poll: float  # seconds from exec to the first getUpdates
    to_sweep: float  # seconds from exec to the reminder the first sweep sends
    rss: float  # MB, VmHWM after IDLE_SECONDS more


def school(url: str) -> int:
    """The default plan and one teacher owed one reminder: what the first sweep sends."""
    engine = make_engine(url)
    upgrade_schema(engine)
    with session_scope(engine) as session:
        import_plan(session, read_plan(DEFAULT_PLAN), now=utcnow())
    (chat,) = owe_reminders(engine, 1, utcnow())
    engine.dispose()
    return chat


async def idle_run(folder: Path) -> Idle:
    url = f"sqlite:///{folder / 'idle.db'}"
    chat = await asyncio.to_thread(school, url)
    async with PolledFake() as tg:
        env = run_environment(tg, url, folder, REMINDER_SWEEP_SECONDS="30")
        began = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            DONDOC, "run", cwd=folder, env=env, stderr=subprocess.DEVNULL
        )
        try:
            deadline = began + 60
            while tg.first_poll is None or chat not in tg.send_times:
                if time.monotonic() > deadline:
                    raise RuntimeError("dondoc run did not poll or sweep within a minute")
                await asyncio.sleep(0.01)
            await asyncio.sleep(IDLE_SECONDS)
            rss = peak_rss_mb(process.pid)
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), timeout=30)
        return Idle(tg.first_poll - began, tg.send_times[chat][0] - began, rss)


def demo(folder: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of `dondoc demo`."""
    began = time.monotonic()
    child = subprocess.Popen(
        [DONDOC, "demo", "--out", str(folder / "demo")], stdout=subprocess.DEVNULL, cwd=folder
    )
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise RuntimeError(f"dondoc demo failed ({child.returncode})")
    return time.monotonic() - began, usage.ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        idles = []
        for run in range(RUNS):
            (folder / str(run)).mkdir()
            idles.append(asyncio.run(idle_run(folder / str(run))))
        busy = asyncio.run(run_once(None, folder, role="all"))
        demo_seconds, demo_rss = demo(folder)
    poll = statistics.median(idle.to_poll for idle in idles)
    sweep = statistics.median(idle.to_sweep for idle in idles)
    rss = statistics.median(idle.rss for idle in idles)
    text = "\n".join(
        [
            "## The process: start-up time and peak RSS",
            "",
            f"{datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}, SQLite, against the fake Bot API; "
            "`.venv/bin/python -m bench.process`",
            "",
            "| process | exec → first getUpdates s | exec → first reminder sent s | peak RSS MB |",
            "|---|---:|---:|---:|",
            f"| `dondoc run`, idle (median of {RUNS}, RSS {IDLE_SECONDS:g} s after start-up) "
            f"| {poll:.2f} | {sweep:.2f} | {rss:.0f} |",
            f"| `dondoc run`, after the B2 fan-out ({busy.sent:,} messages, {busy.rate:.1f}/s) "
            f"| | {busy.startup:.2f} | {busy.peak_rss:.0f} |",
            f"| `dondoc demo` (a school week, {demo_seconds:.1f} s wall) | | | {demo_rss:.0f} |",
            "",
        ]
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
