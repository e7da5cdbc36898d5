"""senders.is_default: the sender an account's messages go out under when a request names none

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 10:00:00.000000

ClickSend's connector has no sender field and TrueDialog's channel 22 means "the account's long
code": both need the account's default sender. At most one per account, by a partial unique
index.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("senders") as batch:
        batch.add_column(
            sa.Column("is_default", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_index(
        "uq_senders_account_id_default",
        "senders",
        ["account_id"],
        unique=True,
        sqlite_where=sa.text("is_default"),
        postgresql_where=sa.text("is_default"),
    )


def downgrade() -> None:
    op.drop_index("uq_senders_account_id_default", table_name="senders")
    with op.batch_alter_table("senders") as batch:
        batch.drop_column("is_default")
