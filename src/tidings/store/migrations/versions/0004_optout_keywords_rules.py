"""opt-out registry and blocklist, compliance settings, keywords, inbound rules

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(
    table: str, column: str, target: str, ondelete: str | None = None
) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "compliance_settings",
        sa.Column("account_id", sa.String(length=26), nullable=False),
        sa.Column("optout_scope", sa.String(length=8), nullable=False),
        sa.Column("stop_words", sa.Text(), nullable=False),
        sa.Column("stop_reply", sa.Text(), nullable=True),
        sa.Column("help_text", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _fk("compliance_settings", "account_id", "accounts"),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_compliance_settings")),
    )
    op.create_table(
        "suppressions",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("account_id", sa.String(length=26), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("sender", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("suppressions", "account_id", "accounts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppressions")),
        sa.UniqueConstraint(
            "account_id",
            "phone",
            "kind",
            "sender",
            name=op.f("uq_suppressions_account_id_phone_kind_sender"),
        ),
    )
    with op.batch_alter_table("suppressions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_suppressions_account_id_kind_id", ["account_id", "kind", "id"], unique=False
        )
    op.create_table(
        "keywords",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("account_id", sa.String(length=26), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("keyword", sa.String(length=64), nullable=False),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("add_to_list_id", sa.String(length=26), nullable=True),
        sa.Column("remove_from_list_id", sa.String(length=26), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _fk("keywords", "account_id", "accounts"),
        _fk("keywords", "add_to_list_id", "contact_lists", ondelete="SET NULL"),
        _fk("keywords", "remove_from_list_id", "contact_lists", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_keywords")),
        sa.UniqueConstraint(
            "account_id", "number", "keyword", name=op.f("uq_keywords_account_id_number_keyword")
        ),
    )
    op.create_table(
        "inbound_rules",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("account_id", sa.String(length=26), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("dedicated_number", sa.String(length=20), nullable=False),
        sa.Column("message_search_type", sa.Integer(), nullable=False),
        sa.Column("message_search_term", sa.String(length=200), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("action_address", sa.Text(), nullable=True),
        sa.Column("webhook_type", sa.String(length=8), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _fk("inbound_rules", "account_id", "accounts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_rules")),
    )
    with op.batch_alter_table("inbound_rules", schema=None) as batch_op:
        batch_op.create_index("ix_inbound_rules_account_id_id", ["account_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_table("inbound_rules")
    op.drop_table("keywords")
    op.drop_table("suppressions")
    op.drop_table("compliance_settings")
