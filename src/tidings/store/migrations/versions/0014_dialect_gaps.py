"""channel consent: WhatsApp opt-ins and opt-outs per account, sender and recipient

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 11:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_consents",
        sa.Column("account_id", sa.String(length=26), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("sender", sa.String(length=32), nullable=False),
        sa.Column("recipient", sa.String(length=32), nullable=False),
        sa.Column("opted_in", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_channel_consents_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint(
            "account_id", "channel", "sender", "recipient", name=op.f("pk_channel_consents")
        ),
    )


def downgrade() -> None:
    op.drop_table("channel_consents")
