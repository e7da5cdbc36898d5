"""message results: messages.result, what the far end told besides the status

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 09:30:00.000000

A voice call tells more than its status: the key pressed, a person or a machine, how long it
lasted. ``messages.result`` keeps it as the JSON of the channel's result model
(``core.voice.VoiceResult``), written in the transaction of the status that carried it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("result", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("messages", "result")
