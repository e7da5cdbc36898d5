"""api_keys.role: a key is a tenant's (its account's data) or an operator's (also routes,
accounts and unrouted inbound traffic)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 09:00:00.000000

Every existing key becomes a tenant key: a top-level account no longer manages the shared
routes by being top-level. An operator key is made with ``tidings accounts key ID --operator``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("role", sa.String(16), server_default="tenant", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("role")
