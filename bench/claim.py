"""B4: the outbox claim as the outbox grows — 10k, 100k, 1M rows of history with ~300 rows due —
and with a 50,000-row backlog after an outage. `python -m bench.claim`; BENCH_DATABASE_URL for
PostgreSQL (default: a temporary SQLite file). Writes bench/results/claim-<database>.md."""

import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models import Reminder, School
from models.db import make_engine, upgrade_schema
from services import outbox

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
SIZES = (10_000, 100_000, 1_000_000)
DUE = 300
BACKLOG = 50_000
RUNS = 15
CHUNK = 20_000
RESULTS = Path(__file__).parent / "results"


def fill(engine: Engine, total: int, due: int) -> None:
    """`total` rows: `due` pending and due now, the rest sent long ago or pending later."""
    with engine.begin() as connection:
        connection.execute(sa.delete(Reminder))
        if not connection.execute(sa.select(sa.func.count()).select_from(School)).scalar():
            connection.execute(sa.insert(School), [{"code": "BENCH", "name": "Bench",
                               "settings": {}, "timezone": "UTC", "created_at": NOW}])  # fmt: skip
    for start in range(0, total, CHUNK):
        rows = [_row(n, due, total) for n in range(start, min(total, start + CHUNK))]
        with engine.begin() as connection:
            connection.execute(sa.insert(Reminder), rows)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text("ANALYZE reminder"))
        else:
            connection.execute(sa.text("ANALYZE"))


def _row(n: int, due: int, total: int) -> dict[str, object]:
    if n < due:
        status, due_at, sent_at = "pending", NOW - timedelta(seconds=n), None
    elif n % 10 == 0:
        status, due_at, sent_at = "pending", NOW + timedelta(minutes=n % 5000), None
    else:
        status, due_at = "sent", NOW - timedelta(minutes=n)
        sent_at = due_at
    return {"school_id": 1, "dedupe_key": f"bench:{total}:{n}", "kind": "before_1d",
            "occurrence": due_at.date(), "due_at": due_at, "status": status, "attempts": 0,
            "claim_version": 0, "created_at": due_at, "sent_at": sent_at}  # fmt: skip


def time_claims(engine: Engine, limit: int = 500) -> tuple[float, float, int]:
    """Median and p95 ms of one claim (then rolled back, so every run claims the same rows)."""
    samples, claimed = [], 0
    for _ in range(RUNS):
        with Session(engine) as session:
            start = time.perf_counter()
            claimed = len(outbox.claim_due(session, NOW, "bench", limit))
            samples.append((time.perf_counter() - start) * 1000)
            session.rollback()
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1], claimed


def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(url or f"sqlite:///{Path(folder) / 'claim.db'}")
        upgrade_schema(engine)
        lines = ["| rows | due | claimed | median ms | p95 ms |", "|---:|---:|---:|---:|---:|"]
        for total, due in [*((size, DUE) for size in SIZES), (BACKLOG + 10_000, BACKLOG)]:
            fill(engine, total, due)
            median, p95, claimed = time_claims(engine)
            lines.append(f"| {total:,} | {due:,} | {claimed} | {median:.1f} | {p95:.1f} |")
            print(lines[-1], flush=True)
        database = engine.dialect.name
        engine.dispose()
    header = [
        f"## B4 — the outbox claim ({database})",
        "",
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {sys.platform}; "
        f"a claim of up to 500 rows, median of {RUNS}.",
        "",
    ]
    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / f"claim-{database}.md"
    target.write_text("\n".join(header + lines) + "\n", encoding="utf-8")
    print(f"written to {target}")


if __name__ == "__main__":
    main()
