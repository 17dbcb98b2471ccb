"""bench/RESULTS.md: one page from bench/results/*.md — for each bench its target, whether this
run meets it, the machine, the date and the command, then the tables themselves.
`.venv/bin/python -m bench.report` (the last step of `make bench`)."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).parent
RESULTS = HERE / "results"
PAGE = HERE / "RESULTS.md"
PG = "BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:55433/dondoc_bench "


@dataclass(frozen=True)
class Verdict:
    met: bool | None  # None: no target
    result: str


@dataclass(frozen=True)
class Bench:
    name: str
    file: str
    target: str
    command: str
    judge: Callable[[str], Verdict]


def rows(text: str) -> list[list[str]]:
    """The body rows of the markdown tables in `text`, as cells."""
    found = []
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and not set(line) <= set("|-: ") and cells[0][:1].isdigit():
            found.append(cells)
    return found


def number(cell: str) -> float:
    return float(re.sub(r"[^\d.]", "", cell.split("/")[0]))


def updates(text: str) -> Verdict:
    ratio = float(re.search(r"\*\*([\d.]+)×\*\*", text).group(1))  # type: ignore[union-attr]
    goal = " (goal 1.3× met)" if ratio <= 1.3 else ""
    return Verdict(ratio <= 1.5, f"{ratio:.2f}× the bare PTB bot's CPU per update{goal}")


def fanout(text: str) -> Verdict:
    (row,) = rows(text)
    share, too_many, duplicates, unsent = row[4], int(row[6]), int(row[7]), int(row[8])
    met = number(share) >= 95 and not too_many and not duplicates and not unsent
    return Verdict(
        met,
        f"{row[3]} msg/s = {share} of 30/s; {too_many} × 429, {duplicates} duplicates, "
        f"{unsent} rows unsent",
    )


def digest(database: str) -> Callable[[str], Verdict]:
    def judge(text: str) -> Verdict:
        section = next(
            part
            for part in text.split("\n## ")[1:]
            if part.startswith(database) and "before" not in part.split("\n", 1)[0]
        )
        table = rows(section)
        wall = {int(row[0]): number(row[4]) for row in table}
        cpu = {int(row[0]): number(row[5]) for row in table}
        met = max(wall.values()) <= 100
        return Verdict(
            met,
            f"median {min(wall.values()):.0f}–{max(wall.values()):.0f} ms wall "
            f"({min(cpu.values()):.0f}–{max(cpu.values()):.0f} ms CPU) from "
            f"{min(wall):,} to {max(wall):,} schools",
        )

    return judge


def claim(text: str) -> Verdict:
    """Flat: the median ms per claimed row, at every size and with the backlog, within 1.5× of
    the smallest history's (a claim of more due rows takes longer, as it should)."""
    table = rows(text)
    per_row = [number(row[3]) / number(row[2]) for row in table]
    medians = [number(row[3]) for row in table]
    worst = max(per_row) / per_row[0]
    return Verdict(
        worst <= 1.5,
        f"median {min(medians):.1f}–{max(medians):.1f} ms a claim (10k → 1M rows, 50k backlog); "
        f"per claimed row at most {worst:.2f}× the 10k figure",
    )


def informational(text: str) -> Verdict:
    return Verdict(None, "start-up time and peak RSS: see below")


BENCHES = (
    Bench("B1 chat updates", "updates.md", "CPU per update ≤ 1.5× a bare PTB bot (goal 1.3×)",
          "python -m bench.updates", updates),
    Bench("B2 reminder fan-out", "fanout.md", "≥ 95 % of 30 msg/s, zero 429, zero duplicates",
          "python -m bench.fanout", fanout),
    Bench("B3 weekly digest (SQLite)", "digest.md", "≤ 100 ms, flat from 1 to 1,000 schools",
          "python -m bench.digest", digest("sqlite")),
    Bench("B3 weekly digest (PostgreSQL)", "digest.md", "≤ 100 ms, flat from 1 to 1,000 schools",
          PG + "python -m bench.digest", digest("postgresql")),
    Bench("B4 outbox claim (SQLite)", "claim-sqlite.md", "flat from 10k to 1M rows and with a "
          "50,000-row backlog", "python -m bench.claim", claim),
    Bench("B4 outbox claim (PostgreSQL)", "claim-postgresql.md", "flat from 10k to 1M rows and "
          "with a 50,000-row backlog", PG + "python -m bench.claim", claim),
    Bench("The process", "process.md", "none (for reference)", "python -m bench.process",
          informational),
)  # fmt: skip


def machine(text: str) -> str:
    cpus = re.search(r"(\d+) CPUs|CPUs: (\d+)", text)
    python = re.search(r"Python ([\d.]+)", text)
    count = next(group for group in cpus.groups() if group) if cpus else "?"
    return f"{count} CPUs, Python {python.group(1) if python else '?'}"


def date(text: str, path: Path) -> str:
    found = re.search(r"\d{4}-\d{2}-\d{2}", text)
    return found.group(0) if found else f"{datetime.fromtimestamp(path.stat().st_mtime):%Y-%m-%d}"


def demoted(text: str) -> str:
    """The file's first heading as a third-level one, the others as fourth-level."""
    text = re.sub(r"^#+ ", "#### ", text.strip(), flags=re.MULTILINE)
    return re.sub(r"^#### ", "### ", text, count=1)


def page() -> str:
    lines = [
        "# dondoc benchmarks",
        "",
        "Assembled by `.venv/bin/python -m bench.report` from `bench/results/*.md`; `make bench` "
        "runs every bench (SQLite; the PostgreSQL passes of B3 and B4 too when "
        "`BENCH_DATABASE_URL` is set), then this report. Commands run from the repository root "
        "with `.venv/bin/`.",
        "",
        "| bench | target | this run | met | machine | date | reproduce |",
        "|---|---|---|---|---|---|---|",
    ]
    details: list[tuple[str, str]] = []
    for bench in BENCHES:
        path = RESULTS / bench.file
        if not path.exists():
            lines.append(f"| {bench.name} | {bench.target} | not run | — | | | `{bench.command}` |")
            continue
        text = path.read_text(encoding="utf-8")
        try:
            verdict = bench.judge(text)
        except (StopIteration, AttributeError, ValueError):
            verdict = Verdict(None, "no result for this database")
        met = {True: "yes", False: "**no**", None: "—"}[verdict.met]
        lines.append(
            f"| {bench.name} | {bench.target} | {verdict.result} | {met} | {machine(text)} "
            f"| {date(text, path)} | `{bench.command}` |"
        )
        if bench.file not in {detail for detail, _ in details}:
            details.append((bench.file, text))
    lines += ["", "## The tables", ""]
    for _, text in details:
        lines += [demoted(text), ""]
    return "\n".join(lines)


def main() -> None:
    PAGE.write_text(page(), encoding="utf-8")
    print(f"written to {PAGE}")


if __name__ == "__main__":
    main()
