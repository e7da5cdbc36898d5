"""whatsapp_template_status: a template's review status kept, as Meta's webhook tells it

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 15:30:00.000000

A template submitted for review to a route's WhatsApp Business Account keeps the route, the
name and id Meta knows it by and its status (PENDING, APPROVED, REJECTED, PAUSED, DISABLED...),
changed by the ``message_template_status_update`` webhook and by listings of the account.
Templates submitted through ``/v1/whatsapp/templates`` keep their components (header, footer,
buttons as submitted). A name may exist in several languages, as at Meta.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("whatsapp_templates") as batch:
        batch.add_column(sa.Column("name", sa.String(length=512), nullable=True))
        batch.add_column(sa.Column("route_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("status", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("meta_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("status_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("status_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("components", sa.Text(), nullable=True))
        batch.drop_constraint("uq_whatsapp_templates_account_id_display_name", type_="unique")
        batch.create_unique_constraint(
            "uq_whatsapp_templates_account_id_display_name_language",
            ["account_id", "display_name", "language"],
        )
        batch.create_index("ix_whatsapp_templates_route_id_name", ["route_id", "name"])


def downgrade() -> None:
    op.execute(
        "DELETE FROM whatsapp_templates WHERE id NOT IN "
        "(SELECT MIN(id) FROM whatsapp_templates GROUP BY account_id, display_name)"
    )
    with op.batch_alter_table("whatsapp_templates") as batch:
        batch.drop_index("ix_whatsapp_templates_route_id_name")
        batch.drop_constraint(
            "uq_whatsapp_templates_account_id_display_name_language", type_="unique"
        )
        batch.create_unique_constraint(
            "uq_whatsapp_templates_account_id_display_name", ["account_id", "display_name"]
        )
        for column in (
            "components",
            "status_at",
            "status_reason",
            "meta_id",
            "status",
            "route_id",
            "name",
        ):
            batch.drop_column(column)
