"""Upgrading an existing database keeps every row, on SQLite and PostgreSQL."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from models.db import alembic_config, make_engine, upgrade_schema


@pytest.fixture
def blank_engine(tmp_path: Path) -> Iterator[Engine]:
    """An empty database of the kind under test: a new SQLite file or a new PostgreSQL schema."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield engine
        engine.dispose()
        return
    schema = f"mig_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine = sa.create_engine(
        admin.url, connect_args={"options": f"-csearch_path={schema}"}, poolclass=sa.NullPool
    )
    yield engine
    engine.dispose()
    with admin.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


def test_every_migration_applies_on_data_from_the_first_one(blank_engine: Engine) -> None:
    upgrade_schema(blank_engine, "0001")
    with blank_engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO school (id, code, name, timezone, created_at) "
            "VALUES (1, 'S', 'Trường', 'Asia/Ho_Chi_Minh', '2026-01-01 00:00:00')"
        )
        connection.exec_driver_sql(
            "INSERT INTO unit (id, school_id, code, name) VALUES (1, 1, 'VP', 'VP')"
        )
        connection.exec_driver_sql(
            "INSERT INTO member (id, school_id, name, locale, active, created_at) VALUES (1, 1, 'A', 'vi', true, '2026-01-01 00:00:00')"
        )
        connection.exec_driver_sql(
            "INSERT INTO task (id, school_id, code, title, unit_id, deadline, status, progress, "
            "created_at, updated_at) VALUES (1, 1, 'T', 'Việc', 1, '2026-12-31', 'in_progress', 40, "
            "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
        )
        connection.exec_driver_sql(
            "INSERT INTO progress_update (id, task_id, member_id, created_at, percent, status, source) "
            "VALUES (1, 1, 1, '2026-02-01 00:00:00', 40, 'in_progress', 'command')"
        )
        connection.exec_driver_sql(
            "INSERT INTO attachment (id, task_id, progress_update_id, channel, file_id, created_at) "
            "VALUES (1, 1, 1, 'telegram', 'F', '2026-02-01 00:00:00')"
        )
        connection.exec_driver_sql(
            "INSERT INTO reminder (id, school_id, task_id, recipient_id, kind, occurrence, due_at, "
            "status, attempts, created_at) VALUES (1, 1, 1, 1, 'overdue', '2026-12-31', "
            "'2027-01-02 00:00:00', 'pending', 0, '2026-01-01 00:00:00')"
        )

    upgrade_schema(blank_engine)

    with blank_engine.connect() as connection:
        counts = {
            table: connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
            for table in (
                "school",
                "unit",
                "member",
                "task",
                "progress_update",
                "attachment",
                "reminder",
            )
        }
        update = connection.exec_driver_sql(
            "SELECT percent, previous_status, previous_progress FROM progress_update"
        ).one()
    assert set(counts.values()) == {1}
    assert tuple(update) == (40, "todo", 0)
    head = ScriptDirectory.from_config(alembic_config(blank_engine)).get_current_head()
    with blank_engine.connect() as connection:
        assert (
            connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()
            == head
        )


def test_the_models_match_the_migrations(blank_engine: Engine) -> None:
    upgrade_schema(blank_engine)
    config = alembic_config(blank_engine)
    with blank_engine.connect() as connection:
        config.attributes["connection"] = connection
        command.check(config)
