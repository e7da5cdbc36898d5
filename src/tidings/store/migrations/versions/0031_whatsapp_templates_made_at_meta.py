"""whatsapp_templates_made_at_meta: templates imported from a WhatsApp Business Account

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07 19:00:00.000000

A template made at Meta directly (WhatsApp Manager) is imported by a listing of the WABA into
each account whose business numbers send through its route; ``made_at_meta`` tells it from one
an account submitted through tidings, which stays that account's alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("whatsapp_templates") as batch:
        batch.add_column(
            sa.Column("made_at_meta", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("whatsapp_templates") as batch:
        batch.drop_column("made_at_meta")
