"""The plan itself: tasks and their progress history, evidence, KPIs and their measured values."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import utcnow
from models.enums import Channel, Direction, Role, TaskStatus, UpdateSource, enum_type


class Task(SQLModel, table=True):
    __table_args__ = (
        sa.UniqueConstraint("school_id", "code", "unit_id"),  # a shared task: one row per unit
        sa.CheckConstraint("progress BETWEEN 0 AND 100", name="task_progress_range"),
        sa.CheckConstraint(
            "deadline IS NOT NULL OR recurrence IS NOT NULL", name="task_deadline_or_recurrence"
        ),
        sa.Index("ix_task_school_status_deadline", "school_id", "status", "deadline"),
    )

    id: int = Field(default=None, primary_key=True)  # None until flushed: see models.base
    school_id: int = Field(foreign_key="school.id", ondelete="CASCADE")
    code: str = Field(max_length=40)
    title: str = Field(max_length=300)
    description: str | None = Field(default=None, sa_type=sa.Text)
    section: str | None = Field(default=None, max_length=20)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    deadline: date | None = None
    deadline_text: str | None = Field(default=None, max_length=40)  # as given: "quý II/2026"
    recurrence: str | None = Field(default=None, max_length=100)
    occurrence: date | None = None  # a recurring task's current due date
    date_proposed: bool = False  # the deadline or recurrence is not the plan's: a proposal
    reminders: dict | None = Field(default=None, sa_type=sa.JSON)  # overrides the school's plan
    owner_role: Role | None = Field(  # who carries it out: "Hiệu trưởng phụ trách chung"
        default=None, sa_type=enum_type(Role, "owner_role_enum")
    )
    status: TaskStatus = Field(default=TaskStatus.TODO, sa_type=enum_type(TaskStatus))
    progress: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    archived_at: datetime | None = None  # left out of a re-imported plan (--prune); kept as history

    @property
    def rule(self) -> str:
        """The recurrence of a task without a deadline: the table's check gives it one."""
        if self.recurrence is None:
            raise ValueError(f"task {self.code} has neither a deadline nor a recurrence")
        return self.recurrence


class TaskAssignee(SQLModel, table=True):
    """A person who carries out a task: a member of its unit or of the leadership."""

    __tablename__ = "task_assignee"

    task_id: int = Field(foreign_key="task.id", ondelete="CASCADE", primary_key=True)
    member_id: int = Field(
        foreign_key="member.id", ondelete="CASCADE", primary_key=True, index=True
    )
    assigned_at: datetime = Field(default_factory=utcnow)
    assigned_by_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")


class TaskSupport(SQLModel, table=True):
    """A unit that coordinates on a task (phối hợp) led by the task's own unit (chủ trì)."""

    __tablename__ = "task_support"

    task_id: int = Field(foreign_key="task.id", ondelete="CASCADE", primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", ondelete="CASCADE", primary_key=True, index=True)


class ProgressUpdate(SQLModel, table=True):
    """A report on a task. Evidence (source `evidence`) has no status: it reports files only."""

    __tablename__ = "progress_update"
    __table_args__ = (
        sa.Index("ix_progress_update_task_created", "task_id", "created_at"),
        sa.CheckConstraint(
            "percent IS NULL OR percent BETWEEN 0 AND 100", name="progress_update_percent_range"
        ),
    )

    id: int = Field(default=None, primary_key=True)  # None until flushed: see models.base
    task_id: int = Field(foreign_key="task.id")
    member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    percent: int | None = None
    status: TaskStatus | None = Field(default=None, sa_type=enum_type(TaskStatus))
    note: str | None = Field(default=None, sa_type=sa.Text)
    source: UpdateSource = Field(sa_type=enum_type(UpdateSource))
    previous_status: TaskStatus = Field(
        default=TaskStatus.TODO, sa_type=enum_type(TaskStatus, "previous_status_enum")
    )
    previous_progress: int = 0
    occurrence: date | None = None  # a recurring task's occurrence once the update is made
    undone_at: datetime | None = None


class Attachment(SQLModel, table=True):
    """Evidence (minh chứng) for a task: a photo or document received on a channel."""

    id: int = Field(default=None, primary_key=True)  # None until flushed: see models.base
    task_id: int = Field(foreign_key="task.id", index=True)
    progress_update_id: int | None = Field(default=None, foreign_key="progress_update.id")
    uploaded_by_id: int | None = Field(default=None, foreign_key="member.id")
    channel: Channel = Field(sa_type=enum_type(Channel))
    file_id: str = Field(max_length=255)
    file_unique_id: str | None = Field(default=None, max_length=255)
    file_name: str | None = Field(default=None, max_length=255)
    mime_type: str | None = Field(default=None, max_length=100)
    size_bytes: int | None = None
    local_path: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)


class Kpi(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("school_id", "key", "target_year"),)

    id: int = Field(default=None, primary_key=True)  # None until flushed: see models.base
    school_id: int = Field(foreign_key="school.id", ondelete="CASCADE", index=True)
    key: str = Field(max_length=40)
    name: str = Field(max_length=300)
    measure: str | None = Field(default=None, max_length=40)
    direction: Direction = Field(sa_type=enum_type(Direction))
    target: float  # a range's lower bound
    target_max: float | None = None  # a range's upper bound (direction between), else NULL
    target_year: int
    target_text: str | None = Field(default=None, max_length=100)  # as the plan words it
    section: str | None = Field(default=None, max_length=20)


class KpiValue(SQLModel, table=True):
    __tablename__ = "kpi_value"
    __table_args__ = (
        sa.Index("ix_kpi_value_kpi_recorded", "kpi_id", "recorded_at"),
        sa.CheckConstraint(
            "denominator IS NULL OR denominator > 0", name="kpi_value_positive_denominator"
        ),
    )

    id: int = Field(default=None, primary_key=True)  # None until flushed: see models.base
    kpi_id: int = Field(foreign_key="kpi.id", ondelete="CASCADE")
    value: float
    numerator: int | None = None
    denominator: int | None = None
    recorded_at: datetime = Field(default_factory=utcnow)
    recorded_by_id: int | None = Field(default=None, foreign_key="member.id")
    note: str | None = Field(default=None, sa_type=sa.Text)
