"""campaigns.channel, subject and content: a campaign sends MMS as well as SMS

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 12:30:00.000000

A campaign's messages take its channel, subject and content (the JSON of the channel's content
model, e.g. an MMS's media refs) as a single send's do. Campaigns made before are SMS.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "campaigns", sa.Column("channel", sa.String(16), nullable=False, server_default="sms")
    )
    op.add_column("campaigns", sa.Column("subject", sa.String(255), nullable=True))
    op.add_column("campaigns", sa.Column("content", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("campaigns", "content")
    op.drop_column("campaigns", "subject")
    op.drop_column("campaigns", "channel")
