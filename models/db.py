"""Engine, sessions and schema migrations for SQLite (default) and PostgreSQL."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import Session

import migrations

MIGRATIONS_DIR = Path(migrations.__file__).parent


def normalize_url(url: str) -> str:
    """Plain `postgresql://` URLs use psycopg 3, the driver dondoc ships with."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL syncs at checkpoints, not at every commit: a crash of the application
    # loses nothing, a power loss may lose the last transactions (never corrupts the file).
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _begin_before_savepoint(connection: sa.Connection, _name: str | None) -> None:
    """Python's sqlite3 begins a transaction only before a data change, not before a
    SAVEPOINT: a savepoint as a transaction's first statement would run outside it, and what
    it held would stay after a rollback (the dry run of the planner kept its reminders)."""
    driver = connection.connection.driver_connection
    if driver is not None and not driver.in_transaction:
        driver.execute("BEGIN")


def make_engine(url: str) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite:"):
        path = sa.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "savepoint", _begin_before_savepoint)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back entirely on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    url = engine.url.render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # configparser syntax
    return config


class BrokenForeignKeys(RuntimeError):
    pass


class Migration(NamedTuple):
    before: str | None  # the schema's revision before; None: the database had no schema
    after: str | None


def upgrade_schema(engine: Engine, revision: str = "head") -> Migration:
    """Migrate to `revision`; return the schema's revisions before and after. On SQLite, foreign
    keys are off meanwhile: Alembic rebuilds tables to alter them, and dropping the old copy must
    not cascade; they are checked afterwards."""
    config = alembic_config(engine)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        before = MigrationContext.configure(connection).get_current_revision()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        after = MigrationContext.configure(connection).get_current_revision()
        connection.commit()
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            if broken:
                raise BrokenForeignKeys(str(broken[:5]))
    return Migration(before, after)
