"""Recording progress on a task (the one place that changes a task's status), undo, evidence."""

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, bindparam
from sqlmodel import Session, col, select

from models import Attachment, Channel, Member, ProgressUpdate, Task, TaskStatus, UpdateSource

# Updates nobody reported: the bot moving a recurring task on to its next occurrence, and the
# state a plan file gives a task (a school starting mid-year).
NOT_REPORTS = (UpdateSource.SYSTEM, UpdateSource.IMPORT)


def is_report() -> ColumnElement[bool]:
    """An update that counts as someone reporting: not undone, and not one of `NOT_REPORTS`."""
    return and_(
        col(ProgressUpdate.source).not_in(NOT_REPORTS), col(ProgressUpdate.undone_at).is_(None)
    )


class UndoRefused(Exception):
    """The catalogue key of the reason is the exception's argument."""


@dataclass(frozen=True)
class IncomingFile:
    """A photo or document as a channel received it; `asdict` keeps it while it waits."""

    kind: str  # "photo" or "document"
    file_id: str
    file_unique_id: str | None = None
    file_name: str | None = None
    mime_type: str | None = None
    size_bytes: int | None = None


def record_progress(
    session: Session,
    task: Task,
    member: Member | None,
    *,
    source: UpdateSource,
    now: datetime,
    percent: int | None = None,
    status: TaskStatus | None = None,
    note: str | None = None,
) -> ProgressUpdate:
    """Apply a report to the task and keep it in the history; 100 % means done, done means 100 %."""
    if percent is not None and not 0 <= percent <= 100:
        raise ValueError(f"percent out of range: {percent}")
    if status is None:
        if percent is None:
            status = task.status
        elif percent == 100:
            status = TaskStatus.DONE
        else:
            status = (
                TaskStatus.IN_PROGRESS
                if percent > 0 or task.status != TaskStatus.TODO
                else task.status
            )
    if status == TaskStatus.DONE:
        percent = 100
    update = ProgressUpdate(
        task_id=task.id,
        member_id=member.id if member else None,
        created_at=now,
        percent=percent,
        status=status,
        note=note,
        source=source,
        previous_status=task.status,
        previous_progress=task.progress,
        occurrence=task.occurrence,
    )
    task.status = status
    if percent is not None:
        task.progress = percent
    task.updated_at = now
    session.add(update)
    session.add(task)
    session.flush()
    return update


DONE_AT = (
    select(ProgressUpdate.created_at)
    .where(
        ProgressUpdate.task_id == bindparam("task"),
        ProgressUpdate.status == TaskStatus.DONE,
        col(ProgressUpdate.undone_at).is_(None),
    )
    .order_by(col(ProgressUpdate.created_at).desc(), col(ProgressUpdate.id).desc())
)  # built once: asked for each done task shown


def done_on(session: Session, task: Task, tz: ZoneInfo) -> date | None:
    """The day a done task was marked done (its latest "done" report standing), else None."""
    if task.status != TaskStatus.DONE:
        return None
    at = session.exec(DONE_AT, params={"task": task.id}).first()
    return (at or task.updated_at).astimezone(tz).date()


def undo_update(session: Session, update: ProgressUpdate, member: Member, now: datetime) -> Task:
    """Take back the latest report on a task, restoring the task as it was before it."""
    if update.undone_at is not None:
        raise UndoRefused("undo.already")
    if update.member_id != member.id:
        raise UndoRefused("undo.not_yours")
    latest = session.exec(
        select(ProgressUpdate)
        .where(ProgressUpdate.task_id == update.task_id, col(ProgressUpdate.undone_at).is_(None))
        .order_by(col(ProgressUpdate.created_at).desc(), col(ProgressUpdate.id).desc())
    ).first()
    if latest is None or latest.id != update.id:
        raise UndoRefused("undo.newer_exists")
    task = session.get_one(Task, update.task_id)
    task.status, task.progress, task.updated_at = (
        update.previous_status,
        update.previous_progress,
        now,
    )
    update.undone_at = now
    session.add_all([task, update])
    session.flush()
    return task


def evidence_path(evidence_dir: Path, school_code: str, task: Task, file: IncomingFile) -> Path:
    suffix = (
        Path(file.file_name).suffix if file.file_name else (".jpg" if file.kind == "photo" else "")
    )
    stem = "".join(
        ch if ch.isalnum() or ch in "-_" else "_" for ch in (file.file_unique_id or file.file_id)
    )
    task_folder = "".join(ch if ch.isalnum() or ch in ".-_" else "_" for ch in task.code)
    return evidence_dir / school_code / task_folder / f"{stem[:80]}{suffix[:10]}"


def record_evidence(
    session: Session,
    task: Task,
    member: Member,
    files: list[IncomingFile],
    *,
    channel: Channel,
    note: str | None,
    paths: list[Path],
    now: datetime,
) -> ProgressUpdate:
    """Evidence is an entry of its own: files (and the caption as its note) that neither change
    the task's status nor carry one."""
    update = ProgressUpdate(
        task_id=task.id,
        member_id=member.id,
        created_at=now,
        status=None,
        note=note,
        source=UpdateSource.EVIDENCE,
        previous_status=task.status,
        previous_progress=task.progress,
        occurrence=task.occurrence,
    )
    session.add(update)
    session.flush()
    for file, path in zip(files, paths, strict=True):
        session.add(
            Attachment(
                task_id=task.id,
                progress_update_id=update.id,
                uploaded_by_id=member.id,
                channel=channel,
                file_id=file.file_id,
                file_unique_id=file.file_unique_id,
                file_name=file.file_name,
                mime_type=file.mime_type,
                size_bytes=file.size_bytes,
                local_path=str(path),
                created_at=now,
            )
        )
    session.flush()
    return update
