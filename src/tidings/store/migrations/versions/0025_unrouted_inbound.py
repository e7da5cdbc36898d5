"""unrouted_inbound: inbound messages to numbers no account owns, kept for an operator

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 12:00:00.000000

They used to be acknowledged and dropped with a log line; now they wait here until an operator
assigns them to an account (``POST /v1/inbound/unrouted/{id}/assign``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "unrouted_inbound",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("sender", sa.String(length=20), nullable=False),
        sa.Column("recipient", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("encoding", sa.String(length=8), nullable=False),
        sa.Column("parts_count", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("route_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=True),
        sa.Column("content", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["route_id"],
            ["routes.id"],
            name=op.f("fk_unrouted_inbound_route_id_routes"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unrouted_inbound")),
    )
    op.create_index("ix_unrouted_inbound_recipient", "unrouted_inbound", ["recipient"])


def downgrade() -> None:
    op.drop_index("ix_unrouted_inbound_recipient", "unrouted_inbound")
    op.drop_table("unrouted_inbound")
