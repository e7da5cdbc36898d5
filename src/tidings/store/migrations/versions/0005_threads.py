"""threads (conversations); messages keep their thread and the contact they matched

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 10:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "threads",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("account_id", sa.String(length=26), nullable=False),
        sa.Column("our_address", sa.String(length=20), nullable=False),
        sa.Column("their_address", sa.String(length=20), nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("inbound_count", sa.Integer(), nullable=False),
        sa.Column("last_message_id", sa.String(length=26), nullable=True),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_direction", sa.String(length=3), nullable=False),
        sa.Column("last_preview", sa.String(length=160), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_threads_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_threads")),
        sa.UniqueConstraint(
            "account_id",
            "our_address",
            "their_address",
            name=op.f("uq_threads_account_id_our_address_their_address"),
        ),
    )
    op.create_index(
        op.f("ix_threads_account_id_last_message_at_id"),
        "threads",
        ["account_id", "last_message_at", "id"],
    )
    op.add_column("messages", sa.Column("thread_id", sa.String(length=26), nullable=True))
    op.add_column("messages", sa.Column("contact_id", sa.String(length=26), nullable=True))
    op.create_index(op.f("ix_messages_thread_id_id"), "messages", ["thread_id", "id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_messages_thread_id_id"), table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("contact_id")
        batch.drop_column("thread_id")
    op.drop_index(op.f("ix_threads_account_id_last_message_at_id"), table_name="threads")
    op.drop_table("threads")
