"""listed_contact_fields: how a list shows each of its contacts

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 13:20:00.000000

In ClickSend each list holds its own contacts: the same number in two lists may carry other
names in each. tidings keeps one contact per number; the names a list shows of it live on the
membership. ClickSend's contact ids now name a list and contact pair, so the ids it handed out
for contacts alone name nothing any more.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _target_width(before: int, after: int) -> None:
    # SQLite keeps no widths (see 0015).
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "integer_aliases",
            "target_id",
            type_=sa.String(length=after),
            existing_type=sa.String(length=before),
            existing_nullable=False,
        )


def upgrade() -> None:
    with op.batch_alter_table("list_members") as batch:
        batch.add_column(sa.Column("listed_fields", sa.Text(), nullable=True))
    op.execute("DELETE FROM integer_aliases WHERE kind = 'contact'")
    # A pair's target is "<list id>/<contact id>".
    _target_width(26, 53)


def downgrade() -> None:
    # The pair ids are dropped; the contact ids are handed out again when first shown.
    op.execute("DELETE FROM integer_aliases WHERE kind = 'list_contact'")
    _target_width(53, 26)
    with op.batch_alter_table("list_members") as batch:
        batch.drop_column("listed_fields")
