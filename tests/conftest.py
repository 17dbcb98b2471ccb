"""Tests use a real SQLite file, or PostgreSQL when TEST_DATABASE_URL is set (CI runs both)."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel
from typer.testing import CliRunner

import models  # noqa: F401  (registers every table)
from bot.cli import app
from bot.settings import Settings
from models.db import make_engine, upgrade_schema

pytest_plugins = [
    "tests.chat_school",
    "tests.reminder_school",
    "tests.sweep_rig",
    "tests.zalo_harness",
    "tests.telegram_harness",
]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    return url or f"sqlite:///{tmp_path_factory.mktemp('db') / 'dondoc-test.db'}"


@pytest.fixture(scope="session")
def migrated_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    upgrade_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(migrated_engine: Engine) -> Engine:
    """The migrated database, emptied before each test."""
    with migrated_engine.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):
            connection.execute(table.delete())
    return migrated_engine


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


class Cli:
    """`dondoc` invoked in-process against the test database, from an empty working folder."""

    def __init__(self, runner: CliRunner) -> None:
        self.runner = runner

    def __call__(self, *args: str | Path, expect: int = 0, input: str | None = None):
        result = self.runner.invoke(app, [str(a) for a in args], input=input)
        assert result.exit_code == expect, (result.exit_code, result.output, result.exception)
        return result


@pytest.fixture
def cli(engine: Engine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    for field in Settings.model_fields:
        if field != "database_url":
            monkeypatch.delenv(field.upper(), raising=False)
    return Cli(CliRunner())


def pytest_report_header() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    return f"database: {'PostgreSQL (TEST_DATABASE_URL)' if url else 'SQLite file'}"
