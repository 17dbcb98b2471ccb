"""`dondoc run`: the process that serves the channels (Telegram, Zalo), polling or webhook, and
runs the scheduler that sends reminders and the weekly digest."""

import asyncio
import logging
import signal
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Protocol
from urllib.parse import urlparse

from sqlalchemy.engine import Engine
from telegram.error import Conflict, TelegramError
from telegram.ext import Application

from bot.channels import CHANNELS
from bot.health import start_health
from bot.settings import ConfigError, Settings
from bot.telegram import TelegramSender, build_application, set_command_menu
from bot.zalo import ZaloChannel, ZaloSender, ZaloWebhook
from bot.zalo_api import ZaloBotApi, ZaloError, ZaloUnauthorized
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
        channels=CHANNELS,
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


def run(settings: Settings, engine: Engine, role: RunRole = RunRole.ALL) -> None:
    asyncio.run(serve(settings, engine, role))


async def serve(
    settings: Settings, engine: Engine, role: RunRole, stop: asyncio.Event | None = None
) -> None:
    """Serve Telegram and Zalo (each when its token is set) until SIGINT or SIGTERM (or
    `stop`): then stop taking updates, let the sweep finish the message in flight and give
    back the rest, within 10 seconds."""
    _check(settings)
    core = chat_core(settings, engine)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    takes = role != RunRole.SWEEP
    async with AsyncExitStack() as stack:
        senders: dict[Channel, Sender] = {}
        pollers: list[Poller] = []
        application = None
        if settings.telegram_bot_token is not None:
            application = telegram_application(settings, core)
            await stack.enter_async_context(application)
            await start_telegram(application, engine)
            senders[Channel.TELEGRAM] = TelegramSender(application.bot)
            if takes and settings.webhook_url is not None:
                await take_webhook(application, settings)
            elif takes:
                pollers.append(TelegramPolling(application))
        zalo = None
        if settings.zalo_bot_token is not None:
            zalo = await start_zalo(settings, core, stack)
            senders[Channel.ZALO] = ZaloSender(zalo.api)
            if takes and settings.zalo_webhook_url is not None:
                stack.push_async_callback((await zalo_webhook(settings, zalo)).stop)
            elif takes:
                pollers.append(ZaloPolling(zalo))
        scheduler = follow_up(settings, engine, core, senders)
        election = Election(engine, scheduler.name, settings.dead_after, pollers)
        if application is not None:
            await application.start()
        scheduler.start(role, sweeps=role != RunRole.POLL, after_beat=election.decide)
        health = start_health(
            settings.health_port, engine, role, scheduler.name, settings.dead_after
        )
        log.info("dondoc is running (%s); stop with Ctrl+C or SIGTERM", role)
        try:
            await stop.wait()
        finally:
            if health is not None:
                await health.stop()
            await asyncio.gather(
                *(poller.stop() for poller in pollers if poller.running),
                scheduler.stop(),
                return_exceptions=True,
            )
            if zalo is not None:
                await zalo.drain()
            if application is not None:
                await application.stop()


def _check(settings: Settings) -> None:
    if settings.telegram_bot_token is None and settings.zalo_bot_token is None:
        raise ConfigError(t("run.no_token"))
    if settings.webhook_url is not None and settings.webhook_secret is None:
        raise ConfigError(t("run.webhook_needs_secret"))
    if settings.zalo_webhook_url is not None and settings.zalo_webhook_secret is None:
        raise ConfigError(t("run.zalo_webhook_needs_secret"))


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


async def start_zalo(settings: Settings, core: ChatCore, stack: AsyncExitStack) -> ZaloChannel:
    """The Zalo channel, its token checked (a wrong one stops the start: nothing would work)."""
    assert settings.zalo_bot_token is not None
    api = ZaloBotApi(settings.zalo_bot_token.get_secret_value(), settings.zalo_api_base_url)
    stack.push_async_callback(api.aclose)
    try:
        me = await api.get_me()
    except ZaloUnauthorized as exc:
        raise ConfigError(t("run.zalo_bad_token")) from exc
    except ZaloError as exc:
        log.warning("Zalo did not answer getMe (%s); going on", exc)
    else:
        log.info("Zalo bot %s is up", me.get("account_name") or me.get("id") or "")
    return ZaloChannel(core, api)


async def zalo_webhook(settings: Settings, zalo: ZaloChannel) -> ZaloWebhook:
    """Every instance may take Zalo's webhook too (behind one HTTPS address)."""
    assert settings.zalo_webhook_url and settings.zalo_webhook_secret
    secret = settings.zalo_webhook_secret.get_secret_value()
    server = ZaloWebhook(
        settings.zalo_webhook_url, secret, settings.zalo_webhook_listen,
        settings.zalo_webhook_port, zalo.take,
    )  # fmt: skip
    await zalo.api.set_webhook(settings.zalo_webhook_url, secret)
    return server


class Poller(Protocol):
    """A channel's way of taking updates by polling, started and stopped by the election."""

    @property
    def running(self) -> bool: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


@dataclass
class TelegramPolling:
    """Telegram allows one getUpdates at a time per bot: a 409 Conflict means something outside
    this database polls it: said once, polling stops here, sweeping goes on."""

    application: Application
    refused: bool = False

    @property
    def running(self) -> bool:
        updater = self.application.updater
        return updater is not None and updater.running

    async def start(self) -> None:
        updater = self.application.updater
        assert updater is not None
        if not self.refused:
            await updater.start_polling(allowed_updates=ALLOWED_UPDATES, error_callback=self.error)

    async def stop(self) -> None:
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()

    def error(self, error: TelegramError) -> None:
        """Polling errors are retried by PTB; a Conflict stops polling here."""
        if not isinstance(error, Conflict):
            log.warning("getting updates failed (%s); retrying", error)
            return
        if self.running and not self.refused:
            self.refused = True
            log.warning(t("run.other_poller"))
            asyncio.get_running_loop().create_task(self.stop())


@dataclass
class ZaloPolling:
    """Zalo's long poll: one update per call, no offset, and no polling while a webhook is set
    (a webhook left from an earlier configuration is removed first)."""

    zalo: ZaloChannel
    task: asyncio.Task[None] | None = None
    halt: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    async def start(self) -> None:
        try:
            await self.zalo.api.delete_webhook()
        except ZaloError as exc:
            log.warning("could not remove Zalo's webhook (%s); polling anyway", exc)
        self.halt = asyncio.Event()
        self.task = asyncio.get_running_loop().create_task(self.zalo.poll(self.halt))

    async def stop(self) -> None:
        self.halt.set()
        if self.task is not None:
            self.task.cancel()  # a long poll in progress would take up to 30 s
            await asyncio.gather(self.task, return_exceptions=True)
            self.task = None


@dataclass
class Election:
    """One instance polls each bot at a time. Of the instances that may poll, the one running
    longest does (`instances.poller`); the others stand by and take over within three
    heartbeats of its stopping. Decided after each heartbeat."""

    engine: Engine
    name: str
    dead_after: timedelta
    pollers: list[Poller]

    async def decide(self) -> None:
        if not self.pollers:
            return
        leader = await asyncio.to_thread(self._leader)
        for poller in self.pollers:
            if leader == self.name and not poller.running:
                await poller.start()
                if poller.running:
                    log.info("this instance takes updates (%s)", type(poller).__name__)
            elif leader != self.name and poller.running:
                await poller.stop()
                log.info("instance %s takes the bot's updates now", leader)

    def _leader(self) -> str | None:
        with session_scope(self.engine) as session:
            return instances.poller(session, utcnow(), self.dead_after)
