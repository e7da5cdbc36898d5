"""receipts that match no part yet are kept in the database while they wait

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 10:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "parked_receipts",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("smsc_message_id", sa.String(length=65), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parked_receipts")),
    )


def downgrade() -> None:
    op.drop_table("parked_receipts")
