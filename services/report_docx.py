"""The official periodic report as a Word document, in the layout of Vietnamese administrative
documents (Decree 30/2020/NĐ-CP, Appendix I): A4, margins top and bottom 20 mm, left 30 mm,
right 15 mm; Times New Roman; the issuing body (the parent body, then the school) beside the
national motto, the number and the place-date line beneath them, the document's type and
subject, the body, the recipients ("Nơi nhận") beside the signature block. Page numbers at the
top, centred, from the second page.

The facts come from services/period_report.py; every text from the message catalogue.
"""

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Length, Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from messages import format_date, format_percent, format_quantity, t
from models import Direction
from services.digest import KpiItem
from services.digest_files import kpi_model
from services.kpi_forecast import Outlook
from services.period_report import FOLLOWED, Category, Entry, PeriodKind, PeriodReport
from services.plan_text import describe_recurrence, describe_target
from services.school_settings import Letterhead

FONT = "Times New Roman"
BODY_PT = 14
TABLE_PT = 13
TEXT_WIDTH = Mm(210 - 30 - 15)
HEADER_WIDTH = Mm(170)  # a little wider than the text, into the margins: the motto fits a line
HEADER_LEFT = Mm(65)  # the issuing body's column; the motto's takes the rest
RECIPIENTS_LEFT = Mm(80)
FIRST_LINE = Mm(12.7)
ROMAN = ("I", "II", "III", "IV", "V", "VI")


def period_text(report: PeriodReport, locale: str = "vi") -> str:
    """ "tháng 12 năm 2026", "quý IV năm 2026"."""
    period = report.period
    if period.kind == PeriodKind.MONTH:
        return t("official.period.month", locale, month=period.number, year=period.year)
    return t("official.period.quarter", locale, roman=period.roman, year=period.year)


def day_month(day: date) -> tuple[str, str]:
    """The day and month as the decree writes them: a zero before days under 10 and before
    months 1 and 2 ("ngày 05 tháng 01", "ngày 15 tháng 3")."""
    return f"{day.day:02d}", f"{day.month:02d}" if day.month <= 2 else str(day.month)


def write_report(
    report: PeriodReport,
    path: Path,
    *,
    issued: date,
    letterhead: Letterhead | None = None,
    locale: str = "vi",
) -> Path:
    """Write the report of `report`'s period to `path` (.docx), dated `issued`."""
    head = letterhead or Letterhead()
    document = Document()
    _page(document, report, locale)
    _letterhead(document, report, head, issued, locale)
    _body(document, report, locale)
    _closing(document, report, head, locale)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


# --- page and styles ---------------------------------------------------------------------------


def _page(document: DocxDocument, report: PeriodReport, locale: str) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    section.header_distance = section.footer_distance = Mm(10)
    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(BODY_PT)
    fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), FONT)
    language = OxmlElement("w:lang")
    language.set(qn("w:val"), "vi-VN" if locale == "vi" else "en-GB")
    normal.element.get_or_add_rPr().append(language)
    spacing = normal.paragraph_format
    spacing.space_before, spacing.space_after, spacing.line_spacing = Pt(0), Pt(6), 1.15
    # the page number, at the top in the middle, from the second page on
    section.different_first_page_header_footer = True
    number = section.header.paragraphs[0]
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    number._p.append(field)
    properties = document.core_properties
    properties.title = _subject(report, locale)
    properties.author = report.school_name
    properties.language = "vi-VN" if locale == "vi" else "en-GB"


def _text(
    paragraph: Paragraph,
    text: str,
    *,
    size: float = BODY_PT,
    bold: bool = False,
    italic: bool = False,
) -> Paragraph:
    run = paragraph.add_run(text)
    run.font.size = Pt(size)
    run.bold, run.italic = bold or None, italic or None
    return paragraph


def _centred(cell: _Cell, text: str, *, first: bool = False, **style: object) -> Paragraph:
    paragraph = cell.paragraphs[0] if first else cell.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph.paragraph_format.line_spacing = 1.0
    return _text(paragraph, text, **style)  # type: ignore[arg-type]


def _rule(paragraph: Paragraph, width: Length, length: Length) -> None:
    """The short line drawn under the school's name, the motto and the subject: the paragraph's
    bottom border, `length` long in the middle of a column `width` wide."""
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for name, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "auto")):
        bottom.set(qn(name), value)
    border.append(bottom)
    paragraph._p.get_or_add_pPr().insert_element_before(
        border, "w:shd", "w:tabs", "w:spacing", "w:ind", "w:jc", "w:rPr"
    )
    side = Length((width - length) // 2)
    layout = paragraph.paragraph_format
    layout.left_indent = layout.right_indent = side
    layout.space_before, layout.space_after = Pt(0), Pt(6)
    layout.line_spacing = Pt(3)


def _widths(table: Table, widths: list[Length]) -> None:
    """Fixed column widths, in the table's grid (what LibreOffice reads) and in every cell (what
    Word reads); rows are not split across pages."""
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    for row in table.rows:
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width


def _borderless(
    document: DocxDocument, rows: int, left: Length, width: Length = TEXT_WIDTH
) -> tuple[list[_Cell], list[_Cell]]:
    table = document.add_table(rows=rows, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _widths(table, [left, Length(width - left)])
    return [row.cells[0] for row in table.rows], [row.cells[1] for row in table.rows]


# --- the letterhead ----------------------------------------------------------------------------


def _letterhead(
    document: DocxDocument, report: PeriodReport, head: Letterhead, issued: date, locale: str
) -> None:
    (body, number), (motto, dated) = _borderless(document, 2, HEADER_LEFT, HEADER_WIDTH)
    right = Length(HEADER_WIDTH - HEADER_LEFT)
    if head.parent:
        _centred(body, head.parent.upper(), first=True, size=12)
        _centred(body, report.school_name.upper(), size=12, bold=True)
    else:
        _centred(body, report.school_name.upper(), first=True, size=12, bold=True)
    _rule(body.add_paragraph(), HEADER_LEFT, Mm(25))
    _centred(motto, t("official.motto.nation", locale), first=True, size=12, bold=True)
    _centred(motto, t("official.motto.words", locale), size=13, bold=True)
    _rule(motto.add_paragraph(), right, Mm(62))
    _centred(number, t("official.number", locale, issuer=report.issuer_code), first=True, size=13)
    day, month = day_month(issued)
    place = head.place or t("official.place_unknown", locale)
    line = t("official.place_date", locale, place=place, day=day, month=month, year=issued.year)
    _centred(dated, line, first=True, size=BODY_PT, italic=True)

    kind = document.add_paragraph()
    kind.alignment = WD_ALIGN_PARAGRAPH.CENTER
    kind.paragraph_format.space_before, kind.paragraph_format.space_after = Pt(18), Pt(0)
    _text(kind, t("official.type", locale), bold=True)
    subject = document.add_paragraph()
    subject.alignment = WD_ALIGN_PARAGRAPH.CENTER
    subject.paragraph_format.space_after = Pt(0)
    _text(subject, _subject(report, locale), bold=True)
    if not report.complete:
        tz = ZoneInfo(report.timezone)
        local = report.end.astimezone(tz)
        so_far = t("official.so_far", locale, time=f"{local:%H:%M}", date=format_date(local))
        note = document.add_paragraph()
        note.alignment = WD_ALIGN_PARAGRAPH.CENTER
        note.paragraph_format.space_after = Pt(0)
        _text(note, so_far, italic=True)
    _rule(document.add_paragraph(), TEXT_WIDTH, Mm(40))


def _plan(report: PeriodReport, locale: str) -> str:
    return report.plan_title or t("official.subject.no_plan", locale)


def _subject(report: PeriodReport, locale: str) -> str:
    """ "Kết quả thực hiện Kế hoạch số 28/KH-THCSTT2 ngày 29/01/2026 …, tháng 12 năm 2026"."""
    return t(
        "official.subject", locale, plan=_plan(report, locale), period=period_text(report, locale)
    )


# --- the body ----------------------------------------------------------------------------------


def _paragraph(document: DocxDocument, text: str = "", **style: object) -> Paragraph:
    paragraph = document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    paragraph.paragraph_format.first_line_indent = FIRST_LINE
    return _text(paragraph, text, **style) if text else paragraph  # type: ignore[arg-type]


def _heading(document: DocxDocument, number: int, key: str, locale: str) -> None:
    _paragraph(document, f"{ROMAN[number]}. {t(key, locale)}", bold=True)


def _body(document: DocxDocument, report: PeriodReport, locale: str) -> None:
    period = period_text(report, locale)
    plan = _plan(report, locale)
    _paragraph(
        document, t("official.intro", locale, plan=plan, school=report.school_name, period=period)
    )
    counts = report.counts
    done = counts[Category.ON_TIME] + counts[Category.LATE]
    rate = format_percent(100 * done / report.followed if report.followed else 0, 1, locale)

    _heading(document, 0, "official.h.general", locale)
    _paragraph(
        document,
        t(
            "official.general.tasks",
            locale,
            units=report.units,
            followed=report.followed,
            ongoing=counts[Category.ONGOING],
        ),
    )
    _paragraph(
        document,
        t(
            "official.general.activity",
            locale,
            updates=report.updates,
            done=report.done_in_period,
            rate=rate,
        ),
    )

    _heading(document, 1, "official.h.results", locale)
    _counts_table(document, report, locale)
    for number, category in enumerate(Category, start=1):
        entries = report.of(category)
        name = t(f"official.cat.{category.value}", locale)
        heading = t("official.cat.heading", locale, number=number, name=name, count=len(entries))
        _paragraph(document, heading, bold=True, italic=True)
        for entry in entries:
            _paragraph(document, _entry_text(entry, report.as_of, locale), size=TABLE_PT)
        if not entries:
            _paragraph(document, t("official.none", locale), size=TABLE_PT)

    _heading(document, 2, "official.h.kpis", locale)
    if report.kpis:
        _kpi_table(document, report, locale)
    else:
        _paragraph(document, t("official.kpi.none", locale))

    _heading(document, 3, "official.h.notes", locale)
    tz = ZoneInfo(report.timezone)
    for note in report.notes:
        paragraph = _paragraph(document)
        who = note.who or t("digest.unknown_sender", locale)
        source = t(
            "official.note.source", locale, unit=note.unit, code=note.code, who=who,
            date=format_date(note.at, tz),
        )  # fmt: skip
        _text(paragraph, source, size=TABLE_PT)
        _text(
            paragraph, t("official.note.quote", locale, note=note.note), size=TABLE_PT, italic=True
        )
    if not report.notes:
        _paragraph(document, t("official.note.none", locale))

    _heading(document, 4, "official.h.next", locale)
    for line in next_steps(report, locale):
        _paragraph(document, line)
    _paragraph(document, t("official.closing", locale, period=period, school=report.school_name))


def _entry_text(entry: Entry, as_of: date, locale: str) -> str:
    item = entry.task
    title = " ".join(item.title.split())
    if entry.recurrence:
        rule = describe_recurrence(entry.recurrence, locale)
        if entry.category == Category.ONGOING:
            key = "official.entry.ongoing"
            return t(key, locale, code=item.code, title=title, unit=item.unit, rule=rule,
                     progress=entry.progress)  # fmt: skip
        title = t("official.entry.recurring", locale, title=title, rule=rule)
    due = format_date(entry.due) if entry.due else ""
    if item.proposed and entry.due:
        due = t("official.entry.proposed", locale, date=due)
    common = {"code": item.code, "title": title, "unit": item.unit, "due": due}
    done = format_date(entry.done_on) if entry.done_on else ""
    if entry.category == Category.ON_TIME:
        return t("official.entry.on_time", locale, done=done, **common)
    if entry.category == Category.LATE:
        return t("official.entry.late", locale, days=entry.days_late, done=done, **common)
    if entry.category == Category.IN_TIME:
        return t("official.entry.in_time", locale, progress=entry.progress, **common)
    days = (as_of - entry.due).days if entry.due else 0
    return t("official.entry.overdue", locale, days=days, progress=entry.progress, **common)


def _grid(
    document: DocxDocument, header: list[str], widths: list[Length], rows: list[list[str]]
) -> Table:
    table = document.add_table(rows=1 + len(rows), cols=len(header))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _widths(table, widths)
    table.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))  # on every page
    for index, row in enumerate([header, *rows]):
        for column, (cell, text) in enumerate(zip(table.rows[index].cells, row, strict=True)):
            paragraph = cell.paragraphs[0]
            paragraph.paragraph_format.space_after = Pt(0)
            paragraph.paragraph_format.line_spacing = 1.0
            numeric = column == 0 or (index > 0 and column >= len(header) - 2 and len(header) == 4)
            if index == 0 or numeric:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _text(paragraph, text, size=TABLE_PT, bold=index == 0)
    spacer = document.add_paragraph()
    spacer.paragraph_format.space_after = Pt(0)
    return table


def _counts_table(document: DocxDocument, report: PeriodReport, locale: str) -> None:
    counts, followed = report.counts, report.followed

    def share(count: int) -> str:
        return format_percent(100 * count / followed, 1, locale) if followed else "—"

    rows = [
        [str(number), t(f"official.cat.{category.value}", locale), str(counts[category]),
         share(counts[category])]
        for number, category in enumerate(FOLLOWED, start=1)
    ]  # fmt: skip
    rows.append(["", t("official.table.total", locale), str(followed), share(followed)])
    rows.append(["5", t("official.cat.ongoing", locale), str(counts[Category.ONGOING]), "—"])
    header = [
        t("official.table.number", locale), t("official.table.category", locale),
        t("official.table.count", locale), t("official.table.share", locale),
    ]  # fmt: skip
    _grid(document, header, [Mm(12), Mm(98), Mm(30), Mm(25)], rows)


def kpi_value_text(item: KpiItem, locale: str, tz: ZoneInfo) -> str:
    """The latest value before the period's end, with the day it was recorded."""
    if item.value is None or item.recorded_at is None:
        return t("official.kpi.no_value", locale)
    if item.direction == Direction.YES_NO:
        value = t("kpi.yes" if item.value else "kpi.no", locale)
    else:
        value = format_quantity(item.value, item.measure, locale)
        if item.numerator is not None:
            value += f" ({item.numerator}/{item.denominator})"
    return t("official.kpi.recorded", locale, value=value, date=format_date(item.recorded_at, tz))


def _kpi_table(document: DocxDocument, report: PeriodReport, locale: str) -> None:
    tz = ZoneInfo(report.timezone)
    rows = [
        [
            str(number),
            " ".join(item.name.split()),
            t("official.kpi.target_year", locale, target=describe_target(kpi_model(item), locale),
              year=item.target_year),
            kpi_value_text(item, locale, tz),
            t(f"digest.kpi.status.{item.outlook.value}", locale),
        ]
        for number, item in enumerate(report.kpis, start=1)
    ]  # fmt: skip
    header = [
        t("official.table.number", locale), t("official.kpi.name", locale),
        t("official.kpi.target", locale),
        t("official.kpi.value", locale, date=format_date(report.as_of)),
        t("official.kpi.outlook", locale),
    ]  # fmt: skip
    _grid(document, header, [Mm(12), Mm(55), Mm(35), Mm(35), Mm(28)], rows)


def next_steps(report: PeriodReport, locale: str) -> list[str]:
    """What the next period must do, from the numbers: the overdue first, then what falls due
    by the end of the next period, the indicators not met or at risk, the ongoing work."""
    lines = []
    overdue = list(dict.fromkeys(entry.task.code for entry in report.of(Category.OVERDUE)))
    if overdue:
        lines.append(
            t("official.next.overdue", locale, count=len(overdue), codes=", ".join(overdue))
        )
    until = report.period.next.last_day
    due = list(
        dict.fromkeys(
            entry.task.code
            for entry in report.of(Category.IN_TIME)
            if entry.due is not None and entry.due <= until
        )
    )
    if due:
        lines.append(
            t("official.next.due", locale, count=len(due), date=format_date(until),
              codes=", ".join(due))
        )  # fmt: skip
    weak = [
        " ".join(item.name.split())
        for item in report.kpis
        if item.outlook in (Outlook.AT_RISK, Outlook.NOT_MET)
    ]
    if weak:
        lines.append(t("official.next.kpis", locale, count=len(weak), names="; ".join(weak)))
    lines.append(t("official.next.ongoing", locale))
    return lines


# --- recipients and signature ------------------------------------------------------------------


def _closing(document: DocxDocument, report: PeriodReport, head: Letterhead, locale: str) -> None:
    document.add_paragraph().paragraph_format.space_after = Pt(0)
    (recipients,), (signature,) = _borderless(document, 1, RECIPIENTS_LEFT)
    first = recipients.paragraphs[0]
    first.paragraph_format.space_after = Pt(0)
    _text(first, t("official.recipients", locale), size=12, bold=True, italic=True)
    lines = [
        *([t("official.recipient.parent", locale, parent=head.parent)] if head.parent else []),
        t("official.recipient.leaders", locale),
        t("official.recipient.units", locale),
        t("official.recipient.archive", locale),
    ]
    for line in lines:
        paragraph = recipients.add_paragraph()
        paragraph.paragraph_format.space_after = Pt(0)
        paragraph.paragraph_format.line_spacing = 1.0
        _text(paragraph, line, size=11)
    _centred(signature, t("official.signer", locale), first=True, size=BODY_PT, bold=True)
    for _ in range(4):  # room for the signature and the seal
        _centred(signature, "")
    signer = head.signer or report.principal
    if signer:
        _centred(signature, signer, bold=True)
