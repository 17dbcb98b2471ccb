"""`dondoc run`: the process that serves the channels (Telegram now), polling or webhook, and
runs the scheduler that sends reminders and the weekly digest."""

import logging
from urllib.parse import urlparse

from sqlalchemy.engine import Engine
from telegram.ext import Application

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
    dispatcher = Dispatcher(engine, core.config, senders, core.remember, core.mark_unreachable)
    return FollowUp(
        engine,
        dispatcher,
        settings.calendar_defaults,
        sweep_seconds=settings.reminder_sweep_seconds,
    )


def run_telegram(settings: Settings, engine: Engine) -> None:
    core = chat_core(settings, engine)
    application = telegram_application(settings, core)
    scheduler: list[FollowUp] = []

    async def post_init(app: Application) -> None:
        await start_telegram(app, engine)
        scheduler.append(
            follow_up(settings, engine, core, {Channel.TELEGRAM: TelegramSender(app.bot)})
        )
        scheduler[0].start()

    async def post_shutdown(app: Application) -> None:
        for running in scheduler:
            running.stop()

    application.post_init = post_init
    application.post_shutdown = post_shutdown
    if settings.webhook_url is None:
        application.run_polling(allowed_updates=ALLOWED_UPDATES)
        return
    if settings.webhook_secret is None:
        raise ConfigError(t("run.webhook_needs_secret"))
    application.run_webhook(
        listen=settings.webhook_listen,
        port=settings.webhook_port,
        url_path=urlparse(settings.webhook_url).path.lstrip("/"),
        webhook_url=settings.webhook_url,
        secret_token=settings.webhook_secret.get_secret_value(),
        allowed_updates=ALLOWED_UPDATES,
    )
