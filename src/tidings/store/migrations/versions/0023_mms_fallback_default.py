"""accounts.mms_fallback_sms: an account's default for the SMS that goes instead of an MMS

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 12:00:00.000000

An MMS that names no ``fallback_sms`` of its own takes its account's: when the MMSC reports that
the handset cannot take MMS, the text and links to the media go as an SMS. Off by default, as
before this column.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "accounts",
        sa.Column("mms_fallback_sms", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("accounts", "mms_fallback_sms")
