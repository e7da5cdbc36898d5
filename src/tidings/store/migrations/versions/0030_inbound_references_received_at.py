"""inbound_references.received_at indexed: the references are pruned by age

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 19:00:00.000000

A carrier's id of an inbound message is kept only for as long as the carrier may send the
message again (``TIDINGS_INBOUND_REFERENCE_RETENTION_DAYS``); the pruning finds the older
ones by this index instead of reading the whole table.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_inbound_references_received_at", "inbound_references", ["received_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_inbound_references_received_at", table_name="inbound_references")
