"""auth_changes: a count of key revocations and account changes, for SQLite's other processes

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 15:40:00.000000

A process remembers verified API keys for a moment. On PostgreSQL a revocation made elsewhere
reaches it by NOTIFY; SQLite has no notices, so the store counts every such change in this one
row, in the change's own transaction, and a process reads the count before it trusts what it
remembers.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "auth_changes",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_changes")),
    )
    op.bulk_insert(table, [{"id": 1, "count": 0}])


def downgrade() -> None:
    op.drop_table("auth_changes")
