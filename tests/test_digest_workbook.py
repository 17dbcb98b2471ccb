"""What the principal reads can be checked, and is current: every number of the demo week's
digest is in its workbook; a note superseded by a later report is not shown as the task's."""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import select

from bot.demo import INDENT, TRANSCRIPT, run_demo
from handlers.chat import Incoming, Reply
from messages import t
from models import Channel, Member, Task, TaskStatus, UpdateSource
from models.db import session_scope
from services.digest import DUE_SOON_DAYS
from services.progress import record_progress
from tests.chat_school import PRINCIPAL, TEACHER, ChatSchool
from tests.reminder_school import local

# --- a note superseded by a later report -----------------------------------------------------

SUPERSEDED, CURRENT = "100 % hoàn thành", "còn khối 9 chưa dạy"


def untagged(text: str) -> str:
    return re.sub(r"</?[a-z]+>", "", text)


def test_a_superseded_note_is_not_shown_as_the_tasks(school: ChatSchool) -> None:
    """III.5.5 reported "100 % hoàn thành" on Monday, then 75 % on Wednesday: the principal's
    digest, workbook and /viec card all say 75 %, and none gives Monday's note as the task's."""
    monday, wednesday = local(23, 9, month=11), local(25, 14, month=11)
    with session_scope(school.engine) as session:
        task = session.exec(select(Task).where(Task.code == "III.5.5")).one()
        teacher = session.exec(select(Member).where(Member.name == TEACHER)).one()
        for at, change in (
            (monday, {"status": TaskStatus.DONE, "note": SUPERSEDED}),
            (wednesday, {"percent": 75, "note": CURRENT}),
        ):
            record_progress(session, task, teacher, source=UpdateSource.COMMAND, now=at, **change)
    assert school.task("III.5.5").progress == 75

    def ask(text: str) -> Reply:
        outcome = school.core.handle(Incoming(Channel.TELEGRAM, "101", "101", text=text))
        return outcome.replies[-1]

    assert ask(f"/start {school.codes[PRINCIPAL]}").text

    # The digest (/baocao) does not tell the old note.
    digest = ask("/baocao")
    assert SUPERSEDED not in digest.text

    # The workbook: the task at 75 %, in progress, last reported on Wednesday; in the period's
    # reports the newest of III.5.5 is Wednesday's, with its own note.
    [workbook] = [path for path in digest.files if path.suffix == ".xlsx"]
    book = openpyxl.load_workbook(workbook)
    task_sheet, _, update_sheet, _ = (rows(sheet) for sheet in book.worksheets)
    [row] = [row for row in task_sheet if row["Mã"] == "III.5.5"]
    assert (row["Trạng thái"], row["Tiến độ (%)"]) == (t("status.in_progress"), 75)
    assert row["Báo cáo gần nhất"] == wednesday.replace(tzinfo=None)
    assert SUPERSEDED not in [str(value) for value in row.values()]
    reports = sorted(
        (report for report in update_sheet if report["Mã"] == "III.5.5"),
        key=lambda report: report["Thời gian"],
    )
    assert [(r["Tiến độ (%)"], r["Ghi chú"]) for r in reports] == [
        (100, SUPERSEDED),
        (75, CURRENT),
    ]  # the history, dated; the newest is what holds

    # The /viec card: 75 % now; Monday's note only as an older entry of the history, below
    # Wednesday's.
    card = untagged(ask("/viec III.5.5").text)
    current, _, history = card.partition(untagged(t("task.history")))
    assert "Tiến độ: 75% — đang thực hiện" in current
    assert SUPERSEDED not in current and "100%" not in current
    assert history.index(CURRENT) < history.index(SUPERSEDED)


# --- the demo week's digest against its workbook ----------------------------------------------

DIGEST_TO = "📨 dondoc → Nguyễn Văn Hiếu"  # the demo's principal


@dataclass(frozen=True)
class Received:
    text: str  # the digest as the principal reads it (the console's plain text)
    workbook: Path  # the Excel file attached to it


@pytest.fixture(scope="module")
def demo_digest(tmp_path_factory: pytest.TempPathFactory) -> Received:
    """The demo's week, played once; the digest the principal got on Friday and its workbook."""
    out = tmp_path_factory.mktemp("demo") / "out"
    run_demo(out, write=lambda _: None)
    messages: list[list[str]] = []
    reading = False
    for line in (out / TRANSCRIPT).read_text(encoding="utf-8").splitlines():
        if re.fullmatch(r"\d\d:\d\d 📨 dondoc → .+:", line):
            reading = DIGEST_TO in line
            if reading:
                messages.append([])
        elif reading and (line.startswith(INDENT) or not line):
            messages[-1].append(line.removeprefix(INDENT))
        else:
            reading = False
    [digest] = [lines for lines in messages if lines and lines[0].startswith("📊 ")]
    attached = t("console.file", path="")
    [workbook] = [
        Path(line.removeprefix(attached))
        for line in digest
        if line.startswith(attached) and line.endswith(".xlsx")
    ]
    text = "\n".join(line for line in digest if not line.startswith(attached)).strip()
    return Received(text, workbook)


def rows(sheet: Worksheet) -> list[dict[str, Any]]:
    """A sheet's rows as {header: value}, without the empty rows below them."""
    headers = [str(cell.value) for cell in sheet[1]]
    return [
        dict(zip(headers, values, strict=True))
        for values in sheet.iter_rows(min_row=2, values_only=True)
        if any(value is not None for value in values)
    ]


def section(text: str, title: str) -> list[str]:
    """The lines of the digest's section whose first line `title` (a pattern) starts."""
    [found] = [part.splitlines() for part in text.split("\n\n") if re.match(title, part)]
    return found


def fullmatch(pattern: str, line: str) -> tuple[str, ...]:
    match = re.fullmatch(pattern, line)
    assert match, line
    return match.groups()


def test_every_number_of_the_demo_weeks_digest_is_in_its_workbook(demo_digest: Received) -> None:
    text = demo_digest.text
    book = openpyxl.load_workbook(demo_digest.workbook)
    tasks, units, updates, kpis = (rows(sheet) for sheet in book.worksheets)
    code, unit_of, due, state, against, progress = (
        str(book.worksheets[0].cell(1, column).value) for column in (1, 3, 5, 6, 7, 8)
    )  # Mã, Tổ/bộ phận, Hạn, Trạng thái, So với hạn, Tiến độ (%)
    by_code = {task[code]: task for task in tasks}
    done = {task[code] for task in tasks if task[state] == t("status.done")}
    overdue = {
        task[code]
        for task in tasks
        if task[code] not in done and task[against].startswith("quá hạn ")
    }

    # The figures: done/total, overdue, reports, overall progress.
    year = fullmatch(r"📊 Tuần .+/(\d{4}) — .+", text.splitlines()[0])[0]
    day, month, percent, tasks_done, tasks_total, tasks_overdue, reports = fullmatch(
        r"Từ .+ đến \d\d:\d\d (\d\d)/(\d\d): tiến độ chung ([\d,]+)% · xong (\d+)/(\d+) việc · "
        r"(\d+) việc quá hạn · (\d+) lượt báo cáo",
        text.splitlines()[1],
    )
    today = date(int(year), int(month), int(day))
    assert int(tasks_total) == len(tasks) == sum(unit["Số việc"] for unit in units)
    assert int(tasks_done) == len(done) == sum(unit["Đã xong"] for unit in units)
    assert int(tasks_overdue) == len(overdue) == sum(unit["Quá hạn"] for unit in units)
    assert int(reports) == len(updates)
    mean = sum(task[progress] for task in tasks) / len(tasks)
    assert float(percent.replace(",", ".")) == round(mean, 1)

    # One line per unit: done/total · overdue · last report, as the unit sheet and the tasks say.
    [header, *unit_lines] = section(text, "Tổ/bộ phận")
    assert "(xong/tổng số việc · quá hạn · báo cáo gần nhất)" in header
    assert len(unit_lines) == len(units)
    for line, unit in zip(unit_lines, units, strict=True):
        name, unit_done, unit_total, unit_overdue, last = fullmatch(
            r"• (.+): (\d+)/(\d+) · (\d+) · (.+)", line
        )
        mine = {task[code] for task in tasks if task[unit_of] == name}
        assert name == unit["Tổ/bộ phận"]
        assert int(unit_total) == unit["Số việc"] == len(mine), line
        assert int(unit_done) == unit["Đã xong"] == len(mine & done), line
        assert int(unit_overdue) == unit["Quá hạn"] == len(mine & overdue), line
        reported = unit["Báo cáo gần nhất"]
        assert last == (f"{reported:%d/%m}" if reported else t("digest.unit.never")), line

    # The decision block: the blockers, the KPIs at risk, the units long overdue.
    [header, *decisions] = section(text, r"Cần (thầy|cô|thầy/cô) quyết")
    assert header.endswith(f"({len(decisions)})")
    blocked = [task for task in tasks if task[state] == t("status.blocked")]
    blockers = [line for line in decisions if line.startswith("• 🚧 ")]
    assert len(blockers) == len(blocked)
    for line, task in zip(blockers, blocked, strict=True):
        [report] = [u for u in updates if u["Mã"] == task[code] and u["Trạng thái"] == task[state]]
        assert line == (
            f"• 🚧 {task[code]} gặp vướng mắc từ {report['Thời gian']:%d/%m} "
            f"({report['Người báo cáo']}): {report['Ghi chú']}"
        )
    at_risk = [kpi["Chỉ số"] for kpi in kpis if kpi["Đánh giá"] == t("digest.kpi.status.at_risk")]
    risks = [line for line in decisions if line.startswith("• 📉 ")]
    assert [line.removeprefix("• 📉 ").split(":")[0] for line in risks] == at_risk
    late = [line for line in decisions if line.startswith("• ⏳ ")]
    late_units = set()
    for line in late:
        unit_name, count, threshold, oldest, since = fullmatch(
            r"• ⏳ (.+) \(.+\): (\d+) việc quá hạn hơn (\d+) ngày, lâu nhất (\S+) từ (\d\d/\d\d)",
            line,
        )
        longer = sorted(
            (task for task in tasks if task[unit_of] == unit_name and task[code] in overdue
             and (today - task[due].date()).days > int(threshold)),
            key=lambda task: task[due],
        )  # fmt: skip
        assert (int(count), oldest) == (len(longer), longer[0][code]), line
        assert since == f"{longer[0][due]:%d/%m}", line
        late_units.add(unit_name)
    assert late_units == {
        by_code[task][unit_of]
        for task in overdue
        if (today - by_code[task][due].date()).days > 5  # the default escalation threshold
    }
    assert len(blockers) + len(risks) + len(late) == len(decisions)  # no unit silent this week

    # The tasks to follow up first: how many of how many; each one's unit, countdown, progress.
    [header, *urgent] = section(text, "Cần đôn đốc trước")
    shown, candidates = map(int, fullmatch(r".+\((\d+) trong (\d+) việc .+\)", header))
    horizon = today + timedelta(days=DUE_SOON_DAYS)
    due_soon = [
        task
        for task in tasks
        if task[code] not in done and task[due] and today <= task[due].date() <= horizon
    ]
    assert candidates == len(overdue) + len(due_soon)
    assert shown == sum(line.startswith("• ") for line in urgent)
    unit_name = None
    for line in urgent:
        if not line.startswith("• "):
            unit_name = line
            continue
        task_code, countdown, percent_done = fullmatch(r"• (\S+) .+ — (.+), (\d+)%", line)
        task = by_code[task_code]
        assert (unit_name, countdown, int(percent_done)) == (
            task[unit_of],
            task[against],
            task[progress],
        )

    # The KPIs: met, at risk, not met, without data.
    outlooks = [kpi["Đánh giá"] for kpi in kpis]
    counts = fullmatch(
        r"Chỉ số: (\d+) đạt · (\d+) có nguy cơ không đạt · (\d+) chưa đạt; (\d+) chỉ số chưa có "
        r"số liệu — xem tệp Excel\.",
        section(text, "Chỉ số: ")[0],
    )
    assert [int(n) for n in counts] == [
        outlooks.count(t(f"digest.kpi.status.{outlook}"))
        for outlook in ("met", "at_risk", "not_met", "no_data")
    ]
