from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Literal, TypedDict, Unpack
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from messages import t
from services.reminders import CalendarDefaults
from services.school_calendar import CalendarError, parse_quiet_hours, parse_working_days

DEAD_AFTER_BEATS = 3


class ConfigError(Exception):
    """A configuration value is missing or malformed; the message is one line for the user."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = "sqlite:///./data/dondoc.db"
    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_bot_username: str | None = None
    default_timezone: str = "Asia/Ho_Chi_Minh"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    invitation_ttl_days: int = Field(default=14, ge=1, le=365)
    evidence_dir: Path = Path("./data/evidence")
    reports_dir: Path = Path("./data/reports")
    reminder_sweep_seconds: int = Field(default=30, ge=1, le=3600)
    heartbeat_seconds: int = Field(default=10, ge=1, le=300)
    quiet_hours: str = "21:00-06:30"
    working_days: str = "mon-sat"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,256}$")
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    health_port: int | None = Field(default=None, ge=1, le=65535)
    zalo_bot_token: SecretStr | None = None
    zalo_api_base_url: str = "https://bot-api.zaloplatforms.com"
    zalo_webhook_url: str | None = None
    zalo_webhook_secret: SecretStr | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{8,256}$")
    zalo_webhook_listen: str = "0.0.0.0"
    zalo_webhook_port: int = Field(default=8444, ge=1, le=65535)

    @field_validator(
        "webhook_url",
        "webhook_secret",
        "telegram_bot_username",
        "telegram_bot_token",
        "health_port",
        "zalo_bot_token",
        "zalo_webhook_url",
        "zalo_webhook_secret",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("telegram_bot_username")
    @classmethod
    def _username(cls, value: str | None) -> str | None:
        return value.removeprefix("@") if value else value

    @field_validator("quiet_hours", "working_days")
    @classmethod
    def _calendar(cls, value: str, info: ValidationInfo) -> str:
        parse = parse_quiet_hours if info.field_name == "quiet_hours" else parse_working_days
        try:
            parse(value)
        except CalendarError as exc:
            raise ValueError("not a calendar setting") from exc
        return value

    @property
    def dead_after(self) -> timedelta:
        """An instance that missed this many heartbeats is taken for dead: its claims are taken
        over, another may poll, /healthz and `dondoc status` stop counting it."""
        return DEAD_AFTER_BEATS * timedelta(seconds=self.heartbeat_seconds)

    @property
    def calendar_defaults(self) -> CalendarDefaults:
        return CalendarDefaults(quiet_hours=self.quiet_hours, working_days=self.working_days)

    @field_validator("webhook_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError("webhook must be https")
        return value

    @property
    def telegram_file_url(self) -> str:
        """Where files are downloaded from: `.../bot` becomes `.../file/bot`."""
        base = self.telegram_api_base_url.rstrip("/")
        return base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base + "/file/bot"

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
            raise ValueError("unknown database scheme")
        return value

    @field_validator("default_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("unknown time zone") from exc
        return value

    @cached_property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.default_timezone)


class Overrides(TypedDict, total=False):
    """Settings given in code rather than the environment (tests), as the environment writes
    them."""

    database_url: str
    telegram_bot_token: str
    telegram_api_base_url: str
    telegram_bot_username: str
    default_timezone: str
    log_level: str
    invitation_ttl_days: int
    evidence_dir: Path | str
    reports_dir: Path | str
    reminder_sweep_seconds: int
    heartbeat_seconds: int
    quiet_hours: str
    working_days: str
    webhook_url: str
    webhook_secret: str
    webhook_listen: str
    webhook_port: int
    health_port: int | str
    zalo_bot_token: str
    zalo_api_base_url: str
    zalo_webhook_url: str
    zalo_webhook_secret: str
    zalo_webhook_listen: str
    zalo_webhook_port: int


def load_settings(**overrides: Unpack[Overrides]) -> Settings:
    """Read the environment and `.env`; a bad value becomes one readable line, not a traceback."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        variable = str(error["loc"][0]).upper() if error["loc"] else "?"
        value = error.get("input")
        raise ConfigError(
            t(
                "config.invalid",
                variable=variable,
                value=value,
                expected=t(f"config.expected.{variable}"),
            )
        ) from None
