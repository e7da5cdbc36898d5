"""messages.request_id as wide as the longest request id an API takes (1,000 characters)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 23:55:00.000000

It was 128 characters, so a longer id (SmartDialog's RequestId may be 1,000) was kept as its
SHA-256 digest, and that is what a message's view showed. SQLite does not enforce the width of
a VARCHAR, so only PostgreSQL's column changes (widening a varchar rewrites no rows there); on
SQLite the schema comparison ignores widths (``store.migrate.compare_column_types``) instead of
rebuilding the messages table and the tables that refer to it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "messages",
            "request_id",
            type_=sa.String(length=1000),
            existing_type=sa.String(length=128),
            existing_nullable=True,
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Ids wider than 128 characters become their digest again, as before this revision.
        op.execute(
            "UPDATE messages SET request_id = 'sha256:' || encode(sha256(convert_to(request_id, "
            "'UTF8')), 'hex') WHERE length(request_id) > 128"
        )
        op.alter_column(
            "messages",
            "request_id",
            type_=sa.String(length=128),
            existing_type=sa.String(length=1000),
            existing_nullable=True,
        )
