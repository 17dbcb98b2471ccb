"""one account, several schools

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

A chat account may be linked to one member per school (one person working in several schools of
a district): the account's identity rows are unique per member instead of per account.
`selected_at` remembers the school the account last chose to act in. Downgrading keeps the
account's earliest link only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chatidentity", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("selected_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.drop_constraint("uq_chatidentity_channel_external_user_id", type_="unique")
        batch_op.create_unique_constraint(
            "uq_chatidentity_channel_external_user_id_member_id",
            ["channel", "external_user_id", "member_id"],
        )


def downgrade() -> None:
    op.execute(
        "DELETE FROM chatidentity WHERE id NOT IN (SELECT min(id) FROM chatidentity"
        " GROUP BY channel, external_user_id)"
    )
    with op.batch_alter_table("chatidentity", schema=None) as batch_op:
        batch_op.drop_constraint(
            "uq_chatidentity_channel_external_user_id_member_id", type_="unique"
        )
        batch_op.create_unique_constraint(
            "uq_chatidentity_channel_external_user_id", ["channel", "external_user_id"]
        )
        batch_op.drop_column("selected_at")
