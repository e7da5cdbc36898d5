"""idempotency.created_at indexed: expired idempotency records are pruned by age

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07 20:00:00.000000

A request_id / Idempotency-Key replays its first answer for ``TIDINGS_IDEMPOTENCY_DAYS``;
after that its record is only taking room, and the pruning finds the expired ones by this
index instead of reading the whole table.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_idempotency_created_at", "idempotency", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_idempotency_created_at", table_name="idempotency")
