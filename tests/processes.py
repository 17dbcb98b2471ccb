"""`dondoc run` as a real process against the fake Bot API: its environment, and waiting on it.
Shared by the process tests and the benches."""

import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fake_telegram import FakeTelegram

DONDOC = Path(sys.executable).with_name("dondoc")


def run_environment(
    tg: FakeTelegram, database_url: str, folder: Path, **settings: str
) -> dict[str, str]:
    """The environment of a `dondoc run` talking to `tg`: the database, the fake's token and
    address, data folders inside `folder`, warnings only, no webhook and no health port; then
    `settings` (e.g. REMINDER_SWEEP_SECONDS="1")."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TELEGRAM_BOT_TOKEN": tg.token,
        "TELEGRAM_API_BASE_URL": tg.base_url,
        "EVIDENCE_DIR": str(folder / "evidence"),
        "REPORTS_DIR": str(folder / "reports"),
        "LOG_LEVEL": "WARNING",
        **settings,
    }
    for name in ("WEBHOOK_URL", "HEALTH_PORT"):
        env.pop(name, None)
    return env


async def wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    """Poll `condition` until it holds; the test fails after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            pytest.fail("timed out waiting for the bot")
        await asyncio.sleep(0.02)
