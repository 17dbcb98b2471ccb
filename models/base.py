from datetime import UTC, datetime

from sqlmodel import SQLModel

# Named constraints let Alembic alter them later, on SQLite too. Every table module imports
# this one, so the convention is in place before the first table is declared.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# A table's `id` is None from the row's creation to its flush (`Field(default=None)`), yet typed
# `int`: the code reads the ids of stored rows only, and `int | None` would make every use check
# for a None that cannot be there.


def utcnow() -> datetime:
    return datetime.now(UTC)
