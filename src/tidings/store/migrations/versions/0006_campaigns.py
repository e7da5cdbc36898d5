"""campaigns, and the campaign a message belongs to

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("account_id", sa.String(length=26), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sender", sa.String(length=20), nullable=False),
        sa.Column("targets", sa.Text(), nullable=False),
        sa.Column("list_ids", sa.Text(), nullable=False),
        sa.Column("exclude_list_ids", sa.Text(), nullable=False),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("targets_done", sa.Boolean(), nullable=False),
        sa.Column("expand_cursor", sa.String(length=26), nullable=True),
        sa.Column("expanded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("targets_total", sa.Integer(), nullable=False),
        sa.Column("invalid_counts", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_campaigns_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.create_index("ix_campaigns_account_id_id", ["account_id", "id"], unique=False)
        batch_op.create_index("ix_campaigns_status", ["status"], unique=False)
    # A nullable column without a default: a metadata-only change on both backends, however
    # many messages there are.
    op.add_column("messages", sa.Column("campaign_id", sa.String(length=26), nullable=True))
    op.create_index(
        "ix_messages_campaign_id_status", "messages", ["campaign_id", "status"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_messages_campaign_id_status", table_name="messages")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("campaign_id")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_index("ix_campaigns_status")
        batch_op.drop_index("ix_campaigns_account_id_id")
    op.drop_table("campaigns")
