"""What is in the database, to check that a refused action left it exactly as it was."""

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

Snapshot = dict[str, list[tuple[object, ...]]]


def snapshot(engine: Engine, tables: tuple[str, ...] | None = None) -> Snapshot:
    """Every row of every table (or of the tables named), in primary-key order."""
    chosen = [t for t in SQLModel.metadata.sorted_tables if tables is None or t.name in tables]
    with engine.connect() as connection:
        return {
            table.name: [
                tuple(row)
                for row in connection.execute(sa.select(table).order_by(*table.primary_key.columns))
            ]
            for table in chosen
        }


def row_counts(engine: Engine) -> dict[str, int]:
    return {name: len(rows) for name, rows in snapshot(engine).items()}
