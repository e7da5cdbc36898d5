"""inbound rules choose the shape of their URL posts; delivery receipt rules

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 11:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_rules") as batch:
        batch.add_column(
            sa.Column(
                "payload_format", sa.String(length=16), server_default="native", nullable=False
            )
        )
    op.create_table(
        "receipt_rules",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("account_id", sa.String(length=26), nullable=False),
        sa.Column("subscription_id", sa.String(length=26), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("match_type", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_receipt_rules_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscriptions.id"],
            name=op.f("fk_receipt_rules_subscription_id_webhook_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipt_rules")),
        sa.UniqueConstraint("subscription_id", name=op.f("uq_receipt_rules_subscription_id")),
    )
    with op.batch_alter_table("receipt_rules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_receipt_rules_account_id_id"), ["account_id", "id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("receipt_rules")
    with op.batch_alter_table("inbound_rules") as batch:
        batch.drop_column("payload_format")
