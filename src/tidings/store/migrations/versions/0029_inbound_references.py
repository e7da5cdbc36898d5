"""inbound_references: carriers' ids of inbound messages already stored, per account

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 16:10:00.000000

A carrier that sends a message again until it is acknowledged (Meta's webhooks, for as long
as seven days) may send it again after a restart. The id it gave the message (a wamid) is
kept with the message, in the transaction that stores it, and a message with an id already
kept is not stored twice.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbound_references",
        sa.Column("reference", sa.String(length=255), nullable=False),
        sa.Column("account_id", sa.String(length=26), nullable=False),
        sa.Column("message_id", sa.String(length=26), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("reference", "account_id", name=op.f("pk_inbound_references")),
    )


def downgrade() -> None:
    op.drop_table("inbound_references")
