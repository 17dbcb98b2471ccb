"""kpi target range

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27

A KPI whose target is a range ("đạt 95–98%"): direction `between`, the lower bound in
kpi.target and the upper bound in kpi.target_max (NULL for every other direction). The direction
column grows to fit 'between'.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DIRECTIONS = "'<=', '>=', '<', '>', '=', 'yes_no'"


def upgrade() -> None:
    with op.batch_alter_table("kpi", schema=None) as batch_op:
        batch_op.add_column(sa.Column("target_max", sa.Float(), nullable=True))
        batch_op.drop_constraint(op.f("ck_kpi_direction_enum"), type_="check")
        batch_op.alter_column(
            "direction",
            existing_type=sa.String(length=6),
            type_=sa.String(length=7),
            existing_nullable=False,
        )
        batch_op.create_check_constraint(
            op.f("ck_kpi_direction_enum"), sa.text(f"direction IN ({DIRECTIONS}, 'between')")
        )


def downgrade() -> None:
    op.execute("DELETE FROM kpi WHERE direction = 'between'")
    with op.batch_alter_table("kpi", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_kpi_direction_enum"), type_="check")
        batch_op.alter_column(
            "direction",
            existing_type=sa.String(length=7),
            type_=sa.String(length=6),
            existing_nullable=False,
        )
        batch_op.create_check_constraint(
            op.f("ck_kpi_direction_enum"), sa.text(f"direction IN ({DIRECTIONS})")
        )
        batch_op.drop_column("target_max")
