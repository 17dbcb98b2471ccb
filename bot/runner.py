"""`dondoc run`: the process that serves the channels (Telegram now), polling or webhook, and
runs the scheduler that sends reminders and the weekly digest."""

import asyncio
import logging
import signal
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from urllib.parse import urlparse

from sqlalchemy.engine import Engine
from telegram.error import Conflict, TelegramError
from telegram.ext import Application

from bot.health import start_health
from bot.settings import ConfigError, Settings
from bot.telegram import TelegramSender, build_application, set_command_menu
from handlers.chat import Sender
from handlers.context import ChatConfig
from handlers.core import ChatCore
from messages import t
from models import BotAccount, Channel
from models.base import utcnow
from models.db import session_scope
from scheduler.dispatch import Dispatcher
from scheduler.jobs import FollowUp
from services import instances

log = logging.getLogger(__name__)
ALLOWED_UPDATES = ["message", "callback_query"]


def chat_config(settings: Settings) -> ChatConfig:
    """What the chat core, its jobs and the CLI take from the settings: the one place to add to."""
    return ChatConfig(
        evidence_dir=settings.evidence_dir,
        reports_dir=settings.reports_dir,
        default_timezone=settings.default_timezone,
    )


def chat_core(settings: Settings, engine: Engine) -> ChatCore:
    return ChatCore(engine, chat_config(settings))


def telegram_application(settings: Settings, core: ChatCore) -> Application:
    if settings.telegram_bot_token is None:
        raise ConfigError(t("run.no_token"))
    return build_application(
        core,
        token=settings.telegram_bot_token.get_secret_value(),
        base_url=settings.telegram_api_base_url,
        base_file_url=settings.telegram_file_url,
    )


async def start_telegram(application: Application, engine: Engine) -> None:
    """Start-up work, callable from tests: the command menu and the bot's username."""
    await set_command_menu(application)
    remember_username(engine, Channel.TELEGRAM, application.bot.username)
    log.info("Telegram bot @%s is up", application.bot.username)


def remember_username(engine: Engine, channel: Channel, username: str) -> None:
    with session_scope(engine) as session:
        account = session.get(BotAccount, channel) or BotAccount(channel=channel, username=username)
        account.username, account.updated_at = username, utcnow()
        session.add(account)


def known_username(engine: Engine, settings: Settings) -> str | None:
    if settings.telegram_bot_username:
        return settings.telegram_bot_username
    with session_scope(engine) as session:
        account = session.get(BotAccount, Channel.TELEGRAM)
        return account.username if account else None


def follow_up(
    settings: Settings, engine: Engine, core: ChatCore, senders: dict[Channel, Sender]
) -> FollowUp:
    """The process's scheduler. It belongs to the process, not to a channel: every channel the
    process runs registers its sender here."""
    dispatcher = Dispatcher(
        engine, core.config, senders, core.remember, core.mark_unreachable,
        dead_after=settings.dead_after,
    )  # fmt: skip
    return FollowUp(
        engine,
        dispatcher,
        settings.calendar_defaults,
        sweep_seconds=settings.reminder_sweep_seconds,
        heartbeat_seconds=settings.heartbeat_seconds,
    )


class RunRole(StrEnum):
    """What a `dondoc run` process does: several may sweep, one polls (or all take the
    webhook behind a load balancer)."""

    ALL = "all"  # take updates and send reminders
    POLL = "poll"  # take updates only (polling, or the webhook)
    SWEEP = "sweep"  # plan and send reminders only


def run_telegram(settings: Settings, engine: Engine, role: RunRole = RunRole.ALL) -> None:
    asyncio.run(serve_telegram(settings, engine, role))


async def serve_telegram(
    settings: Settings, engine: Engine, role: RunRole, stop: asyncio.Event | None = None
) -> None:
    """Serve until SIGINT or SIGTERM (or `stop`): then stop taking updates, let the sweep
    finish the message in flight and give back the rest, within 10 seconds."""
    if settings.webhook_url is not None and settings.webhook_secret is None:
        raise ConfigError(t("run.webhook_needs_secret"))
    core = chat_core(settings, engine)
    application = telegram_application(settings, core)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with application:
        await start_telegram(application, engine)
        sender = TelegramSender(application.bot)
        scheduler = follow_up(settings, engine, core, {Channel.TELEGRAM: sender})
        polling = None
        if role != RunRole.SWEEP and settings.webhook_url is not None:
            await take_webhook(application, settings)
        elif role != RunRole.SWEEP:
            polling = Polling(application, engine, scheduler.name, scheduler.dispatcher.dead_after)
        await application.start()
        scheduler.start(
            role, sweeps=role != RunRole.POLL, after_beat=polling.decide if polling else None
        )
        health = start_health(
            settings.health_port, engine, role, scheduler.name, settings.dead_after
        )
        log.info("dondoc is running (%s); stop with Ctrl+C or SIGTERM", role)
        try:
            await stop.wait()
        finally:
            if health is not None:
                await health.stop()
            updater = application.updater
            await asyncio.gather(
                updater.stop() if updater and updater.running else asyncio.sleep(0),
                scheduler.stop(),
                return_exceptions=True,
            )
            await application.stop()


async def take_webhook(application: Application, settings: Settings) -> None:
    """Behind a load balancer every instance may take the webhook."""
    updater = application.updater
    assert updater is not None and settings.webhook_url and settings.webhook_secret
    await updater.start_webhook(
        listen=settings.webhook_listen,
        port=settings.webhook_port,
        url_path=urlparse(settings.webhook_url).path.lstrip("/"),
        webhook_url=settings.webhook_url,
        secret_token=settings.webhook_secret.get_secret_value(),
        allowed_updates=ALLOWED_UPDATES,
    )


@dataclass
class Polling:
    """Telegram allows one getUpdates at a time per bot. Of the instances that may poll, the one
    running longest does (`instances.poller`); the others stand by and take over within three
    heartbeats of its stopping. Decided after each heartbeat."""

    application: Application
    engine: Engine
    name: str
    dead_after: timedelta
    refused: bool = False  # Telegram answered 409: a poller outside this database

    async def decide(self) -> None:
        updater = self.application.updater
        assert updater is not None
        leader = await asyncio.to_thread(self._leader)
        if leader == self.name and not updater.running and not self.refused:
            await updater.start_polling(allowed_updates=ALLOWED_UPDATES, error_callback=self.error)
            log.info("this instance takes the bot's updates")
        elif leader != self.name and updater.running:
            await updater.stop()
            log.info("instance %s takes the bot's updates now", leader)

    def _leader(self) -> str | None:
        with session_scope(self.engine) as session:
            return instances.poller(session, utcnow(), self.dead_after)

    def error(self, error: TelegramError) -> None:
        """Polling errors are retried by PTB; a Conflict means something else polls this bot:
        say so once, stop polling here, keep sweeping."""
        if not isinstance(error, Conflict):
            log.warning("getting updates failed (%s); retrying", error)
            return
        updater = self.application.updater
        if updater is not None and updater.running and not self.refused:
            self.refused = True
            log.warning(t("run.other_poller"))
            asyncio.get_running_loop().create_task(updater.stop())
