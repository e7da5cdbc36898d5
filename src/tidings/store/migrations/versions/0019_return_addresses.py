"""return_addresses: senders' addresses for letters and postcards

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "return_addresses",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("account_id", sa.String(length=26), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("line_1", sa.String(200), nullable=False),
        sa.Column("line_2", sa.String(200), nullable=False),
        sa.Column("city", sa.String(100), nullable=False),
        sa.Column("state", sa.String(100), nullable=False),
        sa.Column("postal_code", sa.String(20), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_return_addresses_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_addresses")),
    )
    op.create_index("ix_return_addresses_account_id_id", "return_addresses", ["account_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_return_addresses_account_id_id", "return_addresses")
    op.drop_table("return_addresses")
