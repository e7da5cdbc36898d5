"""TrueDialog dialect: integer id aliases and per-account callback tokens

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 11:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "truedialog_ids",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.String(length=26), nullable=False),
        sa.Column("account_id", sa.String(length=26), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_truedialog_ids_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_truedialog_ids")),
        sa.UniqueConstraint("kind", "target_id", name=op.f("uq_truedialog_ids_kind_target_id")),
    )
    op.create_table(
        "truedialog_accounts",
        sa.Column("account_id", sa.String(length=26), nullable=False),
        sa.Column("callback_token", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_truedialog_accounts_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_truedialog_accounts")),
    )


def downgrade() -> None:
    op.drop_table("truedialog_accounts")
    op.drop_table("truedialog_ids")
