"""compliance settings: the hard error run that makes a recipient undeliverable, START reply

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 11:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("compliance_settings") as batch:
        batch.add_column(
            sa.Column("hard_error_limit", sa.Integer(), server_default="3", nullable=False)
        )
        batch.add_column(sa.Column("start_reply", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("compliance_settings") as batch:
        batch.drop_column("start_reply")
        batch.drop_column("hard_error_limit")
