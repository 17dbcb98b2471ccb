"""The evidence folder (thư mục minh chứng): every photo and file received as evidence, in a zip
organised by plan section, task code and unit, with an index workbook of who sent what, when,
for which task. Ready for an inspection or the school's self-assessment.

Inside the zip: `<section>/<code>/<unit>/<date>_<time>_<sender>_<name>.<ext>`, e.g.
`III.4/III.4.2/Văn phòng/2026-11-26_0930_Trần Thị Mai_bien-ban.jpg`, where the section is the
code's first two levels and the time is the school's. Names keep their Vietnamese letters (the
zip marks them UTF-8) but lose what a file system refuses (`/ \\ : * ? " < > |`, control
characters, Windows' reserved names) and are cut to a length every system takes.

Evidence taken back (its entry undone) is left out: the sender withdrew it. A file the server no
longer has is listed in the index as missing: never a crash, never silently dropped. Files are
streamed into the zip one at a time; the zip is written beside `out` and moved there when done.
"""

import mimetypes
import os
import re
import shutil
import tempfile
import unicodedata
import zipfile
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import sqlalchemy as sa
from sqlmodel import Session, col, or_, select

from messages import t
from models import Attachment, Channel, Member, ProgressUpdate, School, Task, Unit
from services.text import code_key
from services.workbooks import add_sheet

CHUNK = 1 << 20  # bytes copied at a time into the zip
UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"{kind}{n}" for kind in ("COM", "LPT") for n in range(10)),
}
# the longest a path component may be: a whole path stays under Windows' 260 characters
LIMITS = {"section": 20, "code": 40, "unit": 50, "sender": 40, "name": 60, "suffix": 10}
COLUMNS = [
    ("number", 6), ("path", 70), ("code", 12), ("title", 50), ("unit", 24), ("sender", 24),
    ("channel", 10), ("time", 18), ("note", 50), ("file_name", 30), ("size", 12), ("state", 28),
]  # fmt: skip


@dataclass(frozen=True)
class Evidence:
    """One file received as evidence, as stored."""

    attachment_id: int
    task_id: int
    code: str
    title: str
    unit: str
    sender: str | None  # None: the sender's record is gone
    channel: Channel
    at: datetime  # when it was received (UTC)
    note: str | None  # the caption it came with
    file_name: str | None  # as sent (photos have none)
    mime_type: str | None
    size_bytes: int | None  # as the channel said
    source: Path | None  # where the server keeps it

    @property
    def section(self) -> str:
        """The plan section: the code's first two levels ("III.4.2" → "III.4")."""
        return ".".join(self.code.split(".")[:2])


@dataclass(frozen=True)
class ExportedFile:
    evidence: Evidence
    path: str | None  # in the zip; None: the file is missing on the server
    size: int | None  # bytes in the zip, else as the channel said

    @property
    def missing(self) -> bool:
        return self.path is None


@dataclass(frozen=True)
class EvidenceExport:
    zip_path: Path
    index_name: str  # the index workbook's name at the zip's root
    files: list[ExportedFile]

    @property
    def missing(self) -> list[ExportedFile]:
        return [item for item in self.files if item.missing]

    @property
    def stored(self) -> int:
        return len(self.files) - len(self.missing)


@dataclass(frozen=True)
class TaskEvidence:
    """How much evidence a task has: for the chat's overview."""

    code: str
    title: str
    files: int
    latest: datetime


# --- gathering ---------------------------------------------------------------------------------


def evidence_codes(session: Session, school_id: int, written: str) -> list[str]:
    """The codes (current or archived tasks: evidence outlives the plan) that `written` names,
    compared the forgiving way ("iii 4 2" → III.4.2)."""
    codes = session.exec(
        select(Task.code).where(Task.school_id == school_id).order_by(col(Task.id))
    ).all()
    return [code for code in dict.fromkeys(codes) if code_key(code) == code_key(written)]


def gather_evidence(
    session: Session,
    school_id: int,
    *,
    codes: Collection[str] | None = None,
    unit_ids: Collection[int] | None = None,
) -> list[Evidence]:
    """The school's evidence (of the tasks with `codes`, of the units `unit_ids`, if given), in
    the plan's order of tasks, then by the time received. Withdrawn evidence is left out."""
    query = (
        sa.select(Attachment, Task, Unit, Member, ProgressUpdate)
        .join(Task, col(Task.id) == col(Attachment.task_id))
        .join(Unit, col(Unit.id) == col(Task.unit_id))
        .join(Member, col(Member.id) == col(Attachment.uploaded_by_id), isouter=True)
        .join(
            ProgressUpdate,
            col(ProgressUpdate.id) == col(Attachment.progress_update_id),
            isouter=True,
        )
        .where(col(Task.school_id) == school_id)
        .where(or_(col(ProgressUpdate.id).is_(None), col(ProgressUpdate.undone_at).is_(None)))
    )
    if codes is not None:
        query = query.where(col(Task.code).in_(list(codes)))
    if unit_ids is not None:
        query = query.where(col(Task.unit_id).in_(list(unit_ids)))
    rows = session.execute(query).all()
    first_of_code: dict[str, int] = {}
    for _, task, *_ in rows:
        first_of_code[task.code] = min(task.id, first_of_code.get(task.code, task.id))
    rows = sorted(
        rows,
        key=lambda row: (first_of_code[row[1].code], row[1].id, row[0].created_at, row[0].id),
    )
    return [
        Evidence(
            attachment_id=attachment.id,
            task_id=task.id,
            code=task.code,
            title=task.title,
            unit=unit.name,
            sender=member.name if member else None,
            channel=attachment.channel,
            at=attachment.created_at,
            note=update.note if update else None,
            file_name=attachment.file_name,
            mime_type=attachment.mime_type,
            size_bytes=attachment.size_bytes,
            source=Path(attachment.local_path) if attachment.local_path else None,
        )
        for attachment, task, unit, member, update in rows
    ]


def evidence_counts(
    session: Session, school_id: int, unit_ids: Collection[int] | None = None
) -> list[TaskEvidence]:
    """Per task with evidence (the rows of `unit_ids`, if given), in the plan's order: its number
    of files and when the latest came."""
    counts: dict[str, TaskEvidence] = {}
    for item in gather_evidence(session, school_id, unit_ids=unit_ids):
        had = counts.get(item.code)
        counts[item.code] = TaskEvidence(
            item.code,
            had.title if had else item.title,
            (had.files if had else 0) + 1,
            max(had.latest, item.at) if had else item.at,
        )
    return list(counts.values())


# --- the zip -----------------------------------------------------------------------------------


def export_evidence(
    session: Session,
    school: School,
    out: Path,
    *,
    codes: Collection[str] | None = None,
    unit_ids: Collection[int] | None = None,
    locale: str = "vi",
) -> EvidenceExport:
    """Write the school's evidence (see `gather_evidence`) into the zip `out`, with its index."""
    items = gather_evidence(session, school.id, codes=codes, unit_ids=unit_ids)
    return write_zip(items, out, ZoneInfo(school.timezone), locale)


def write_zip(items: list[Evidence], out: Path, tz: ZoneInfo, locale: str = "vi") -> EvidenceExport:
    """The zip `out` of `items`, in their order, with the index workbook at its root."""
    index_name = t("evidence.file.index", locale)
    out.parent.mkdir(parents=True, exist_ok=True)
    exported: list[ExportedFile] = []
    with (
        _Replacing(out) as part,
        zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED) as archive,
    ):
        taken = {index_name.casefold()}
        for item in items:
            name = _unique(zip_path(item, tz, locale), taken)
            size = _add(archive, item, name, tz)
            if size is None:
                exported.append(ExportedFile(item, None, item.size_bytes))
            else:
                taken.add(name.casefold())
                exported.append(ExportedFile(item, name, size))
        with tempfile.TemporaryDirectory(dir=out.parent) as folder:
            workbook = Path(folder) / index_name
            write_index(exported, workbook, tz, locale)
            archive.write(workbook, index_name)
    return EvidenceExport(out, index_name, exported)


class _Replacing:
    """A temporary file beside `out` that becomes `out` once written whole: a zip being
    written is never taken for a finished one, and a failure leaves no half zip behind."""

    def __init__(self, out: Path) -> None:
        self.out = out

    def __enter__(self) -> Path:
        handle, name = tempfile.mkstemp(prefix=".", suffix=".part", dir=self.out.parent)
        os.close(handle)
        self.part = Path(name)
        return self.part

    def __exit__(self, kind: object, *_: object) -> None:
        if kind is None:
            os.replace(self.part, self.out)
        else:
            self.part.unlink(missing_ok=True)


def _add(archive: zipfile.ZipFile, item: Evidence, name: str, tz: ZoneInfo) -> int | None:
    """Stream the file into the zip, dated when it was received; None if the server has it not."""
    if item.source is None:
        return None
    try:
        source = item.source.open("rb")
    except OSError:
        return None
    with source:
        size = os.fstat(source.fileno()).st_size
        local = item.at.astimezone(tz)
        info = zipfile.ZipInfo(name, date_time=_zip_time(local))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        info.file_size = size  # a file over 2 GiB needs ZIP64 from the start
        with archive.open(info, "w") as target:
            shutil.copyfileobj(source, target, CHUNK)
    return size


def _zip_time(moment: datetime) -> tuple[int, int, int, int, int, int]:
    year = min(max(moment.year, 1980), 2107)  # what a zip can date
    return (year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


def zip_path(item: Evidence, tz: ZoneInfo, locale: str = "vi") -> str:
    """Where the file goes in the zip (before any " (2)" that keeps two names apart)."""
    local = item.at.astimezone(tz)
    sender = item.sender or t("evidence.unknown_sender", locale)
    original = Path(item.file_name) if item.file_name else None
    stem = original.stem if original and original.stem else _kind(item, locale)
    suffix = _suffix(item)
    base = "_".join(
        [local.strftime("%Y-%m-%d_%H%M"), safe_part(sender, LIMITS["sender"]),
         safe_part(stem, LIMITS["name"])]
    )  # fmt: skip
    return "/".join(
        [
            safe_part(item.section, LIMITS["section"]),
            safe_part(item.code, LIMITS["code"]),
            safe_part(item.unit, LIMITS["unit"]),
            base + suffix,
        ]
    )


def safe_part(text: str, limit: int) -> str:
    """A path component every system takes: composed Unicode (Vietnamese letters kept), none of
    `/ \\ : * ? " < > |` or control characters, single spaces, no leading or trailing dot or
    space, not a reserved Windows name, at most `limit` characters."""
    text = UNSAFE.sub("_", " ".join(unicodedata.normalize("NFC", text).split()))
    text = text[:limit].strip(" .")
    if not text:
        return "_"
    if text.split(".")[0].upper() in RESERVED:
        text = "_" + text
    return text


def _kind(item: Evidence, locale: str) -> str:
    image = (item.mime_type or "").startswith("image/")
    return t("evidence.file.photo" if image else "evidence.file.document", locale)


def _suffix(item: Evidence) -> str:
    """The original name's extension, else the stored file's, else the type's."""
    for name in (item.file_name, item.source.name if item.source else None):
        suffix = Path(name).suffix if name else ""
        if suffix and re.fullmatch(r"\.[0-9A-Za-z]{1,9}", suffix):
            return suffix.lower()
    guessed = mimetypes.guess_extension(item.mime_type or "") or ""
    return guessed[: LIMITS["suffix"]]


def _unique(name: str, taken: set[str]) -> str:
    """`name`, or with " (2)", " (3)" … before its extension if another file has it (compared
    regardless of case, as Windows and macOS do)."""
    if name.casefold() not in taken:
        return name
    folder, _, file = name.rpartition("/")
    stem, dot, suffix = file.rpartition(".") if "." in file else (file, "", "")
    number = 2
    while True:
        candidate = f"{folder}/{stem} ({number}){dot}{suffix}"
        if candidate.casefold() not in taken:
            return candidate
        number += 1


# --- the index ---------------------------------------------------------------------------------


def write_index(files: list[ExportedFile], path: Path, tz: ZoneInfo, locale: str = "vi") -> None:
    """One sheet, a row per file in the zip's order, bold frozen header; times as naive local
    times of the school's zone (Excel has none), written in openpyxl's write-only mode."""
    workbook = openpyxl.Workbook(write_only=True)
    labels = [(t(f"xlsx.evidence.{column}", locale), width) for column, width in COLUMNS]
    rows = ([number, *row] for number, row in enumerate(_rows(files, tz, locale), start=1))
    add_sheet(workbook, t("xlsx.evidence.sheet", locale), labels, rows)
    workbook.save(path)


def _rows(files: list[ExportedFile], tz: ZoneInfo, locale: str) -> Iterator[list[Any]]:
    for item in files:
        evidence = item.evidence
        state = "missing" if item.missing else "stored"
        yield [
            item.path,
            evidence.code,
            evidence.title,
            evidence.unit,
            evidence.sender or t("evidence.unknown_sender", locale),
            t(f"evidence.channel.{evidence.channel.value}", locale),
            evidence.at.astimezone(tz).replace(tzinfo=None),
            evidence.note,
            evidence.file_name,
            item.size,
            t(f"evidence.state.{state}", locale),
        ]
