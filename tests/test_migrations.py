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
from sqlmodel import Session, select

from models import School
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


AT = "2026-01-01 00:00:00"
FIRST_SCHEMA_ROWS = [
    (
        "school",
        {"id": 1, "code": "S", "name": "Trường", "timezone": "Asia/Ho_Chi_Minh", "created_at": AT},
    ),
    ("unit", {"id": 1, "school_id": 1, "code": "VP", "name": "Văn phòng"}),
    (
        "member",
        {"id": 1, "school_id": 1, "name": "A", "locale": "vi", "active": True, "created_at": AT},
    ),
    (
        "task",
        {
            "id": 1, "school_id": 1, "code": "T", "title": "Việc", "unit_id": 1,
            "deadline": "2026-12-31", "status": "in_progress", "progress": 40,
            "created_at": AT, "updated_at": AT,
        },
    ),
    (
        "progress_update",
        {
            "id": 1, "task_id": 1, "member_id": 1, "created_at": AT, "percent": 40,
            "status": "in_progress", "source": "command",
        },
    ),
    (
        "attachment",
        {
            "id": 1, "task_id": 1, "progress_update_id": 1, "channel": "telegram", "file_id": "F",
            "created_at": AT,
        },
    ),
    (
        "reminder",
        {
            "id": 1, "school_id": 1, "task_id": 1, "recipient_id": 1, "kind": "overdue",
            "occurrence": "2026-12-31", "due_at": AT, "status": "pending", "attempts": 0,
            "created_at": AT,
        },
    ),
]  # fmt: skip


def test_every_migration_applies_on_data_from_the_first_one(blank_engine: Engine) -> None:
    upgrade_schema(blank_engine, "0001")
    with blank_engine.begin() as connection:
        for table, values in FIRST_SCHEMA_ROWS:
            columns = ", ".join(values)
            placeholders = ", ".join(f":{name}" for name in values)
            connection.execute(
                sa.text(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"), values
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
        dedupe_key = connection.exec_driver_sql("SELECT dedupe_key FROM reminder").scalar_one()
    assert set(counts.values()) == {1}
    assert tuple(update) == (40, "todo", 0)
    assert dedupe_key == "task:1:1:overdue:2026-12-31"
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


def test_one_account_in_two_schools_downgrades_to_its_first_link(blank_engine: Engine) -> None:
    upgrade_schema(blank_engine, "0012")
    with blank_engine.begin() as connection:
        for school in (1, 2):
            connection.execute(
                sa.text(
                    "INSERT INTO school (id, code, name, timezone, settings, created_at) "
                    "VALUES (:id, :code, 'Trường', 'Asia/Ho_Chi_Minh', '{}', :at)"
                ),
                {"id": school, "code": f"S{school}", "at": AT},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO member (id, school_id, name, locale, active, brief, created_at) "
                    "VALUES (:id, :id, 'Mai', 'vi', :on, 'daily', :at)"
                ),
                {"id": school, "on": True, "at": AT},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO chatidentity (member_id, channel, external_user_id, chat_id, "
                    "linked_at) VALUES (:id, 'telegram', '42', '42', :at)"
                ),
                {"id": school, "at": AT},
            )
    config = alembic_config(blank_engine)
    with blank_engine.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0011")
        connection.commit()
        kept = connection.exec_driver_sql("SELECT member_id FROM chatidentity").scalars().all()
    assert kept == [1]
    upgrade_schema(blank_engine)


def test_a_savepoint_first_in_a_transaction_is_undone_with_it(engine: Engine) -> None:
    """On both databases a rollback undoes what a savepoint held, even when the savepoint was
    the transaction's first statement (Python's sqlite3 alone would have run it outside)."""
    with Session(engine) as session:
        with session.begin_nested():
            session.add(School(code="TAM", name="Trường tạm"))
        session.rollback()
    with Session(engine) as session:
        assert session.exec(select(School).where(School.code == "TAM")).first() is None
