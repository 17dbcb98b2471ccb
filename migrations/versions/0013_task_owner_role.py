"""task owner role

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07

A task the plan gives to a role rather than a unit ("Hiệu trưởng phụ trách chung", "Phó Hiệu
trưởng …"): `owner_role` names it; whoever holds that role carries the task out.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "owner_role",
                sa.Enum(
                    "principal",
                    "vice_principal",
                    "unit_head",
                    "staff",
                    name="owner_role_enum",
                    native_enum=False,
                    create_constraint=True,
                ),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_column("owner_role")
