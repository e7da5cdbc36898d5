"""channels: messages.channel/subject/content, route kinds with their settings, route channels

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 09:00:00.000000

- ``messages.channel`` (default ``sms``), ``subject`` and ``content`` (the JSON of the
  channel's typed content model).
- ``routes.kind`` (default ``smpp``) with ``settings`` and ``secrets`` (JSON, checked by the
  kind's settings model). The SMPP columns become the settings of the ``smpp`` kind, the bind
  password its one secret.
- ``route_channels``: which channels a route carries, and which route is each channel's
  default (``routes.is_default`` becomes the default for ``sms``).
- The carrier reference a report is matched by (``smsc_message_id``) takes 255 characters (a
  SIP Call-ID or an SMTP Message-ID is longer than an SMPP message_id); a parked report keeps
  the status it means besides the far end's word for it, and its error code as text.

On SQLite the SMPP columns are dropped with ``ALTER TABLE ... DROP COLUMN`` rather than a
batch rebuild: with foreign keys on, dropping the old ``routes`` table would set the route of
every sender and message to null.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SMPP_COLUMNS: tuple[tuple[str, sa.types.TypeEngine[Any], bool], ...] = (
    ("host", sa.String(length=255), False),
    ("port", sa.Integer(), False),
    ("system_id", sa.String(length=16), False),
    ("password", sa.String(length=9), False),
    ("system_type", sa.String(length=13), False),
    ("bind_mode", sa.String(length=8), False),
    ("binds", sa.Integer(), False),
    ("window", sa.Integer(), False),
    ("max_tps", sa.Integer(), True),
    ("source_ton", sa.Integer(), True),
    ("source_npi", sa.Integer(), True),
    ("destination_ton", sa.Integer(), False),
    ("destination_npi", sa.Integer(), False),
    ("concat_method", sa.String(length=8), False),
    ("default_encoding", sa.String(length=8), False),
    ("request_receipts", sa.Boolean(), False),
    ("is_default", sa.Boolean(), False),
)
_SECRETS = ("password",)
# SMPP 3.4 Appendix B states → the status each means (dispatch.transports.smpp.RECEIPT_STATUS).
_STATUS_OF_STATE = {
    "DELIVRD": "delivered",
    "UNDELIV": "undelivered",
    "EXPIRED": "expired",
    "REJECTD": "rejected",
    "DELETED": "failed",
    "UNKNOWN": "undelivered",
}


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"

    with op.batch_alter_table("messages") as batch:
        batch.add_column(
            sa.Column("channel", sa.String(length=16), server_default="sms", nullable=False)
        )
        batch.add_column(sa.Column("subject", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("content", sa.Text(), nullable=True))

    op.create_table(
        "route_channels",
        sa.Column("route_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["route_id"],
            ["routes.id"],
            name=op.f("fk_route_channels_route_id_routes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("route_id", "channel", name=op.f("pk_route_channels")),
    )
    with op.batch_alter_table("routes") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=32), server_default="smpp", nullable=False)
        )
        batch.add_column(sa.Column("settings", sa.Text(), server_default="{}", nullable=False))
        batch.add_column(sa.Column("secrets", sa.Text(), server_default="{}", nullable=False))

    names = [name for name, _, _ in _SMPP_COLUMNS]
    routes = sa.table("routes", sa.column("id"), *(sa.column(name) for name in names))
    rows = bind.execute(sa.select(routes)).mappings().all()
    for row in rows:
        settings = {
            name: row[name] for name in names if name not in _SECRETS and name != "is_default"
        }
        settings["request_receipts"] = bool(settings["request_receipts"])
        secrets = {name: row[name] for name in _SECRETS}
        bind.execute(
            sa.text("UPDATE routes SET settings = :settings, secrets = :secrets WHERE id = :id"),
            {"settings": json.dumps(settings), "secrets": json.dumps(secrets), "id": row["id"]},
        )
        bind.execute(
            sa.text(
                "INSERT INTO route_channels (route_id, channel, is_default) "
                "VALUES (:id, 'sms', :is_default)"
            ),
            {"id": row["id"], "is_default": bool(row["is_default"])},
        )
    for name in names:
        _drop_column("routes", name, sqlite=sqlite)

    with op.batch_alter_table("parked_receipts") as batch:
        batch.add_column(sa.Column("status", sa.String(length=16), nullable=True))
        batch.alter_column(
            "error_code",
            type_=sa.String(length=32),
            existing_type=sa.Integer(),
            existing_nullable=True,
            postgresql_using="error_code::text",
        )
        if not sqlite:  # SQLite keeps no widths (see 0015)
            batch.alter_column(
                "state", type_=sa.String(length=32), existing_type=sa.String(length=8)
            )
            batch.alter_column(
                "smsc_message_id", type_=sa.String(length=255), existing_type=sa.String(length=65)
            )
    for state, status in _STATUS_OF_STATE.items():
        bind.execute(
            sa.text("UPDATE parked_receipts SET status = :status WHERE state = :state"),
            {"status": status, "state": state},
        )
    # An SMPP error code 0 meant no error; reports carry none then.
    bind.execute(sa.text("UPDATE parked_receipts SET error_code = NULL WHERE error_code = '0'"))
    if not sqlite:
        op.alter_column(
            "message_parts",
            "smsc_message_id",
            type_=sa.String(length=255),
            existing_type=sa.String(length=65),
            existing_nullable=True,
        )


def downgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if not sqlite:
        op.alter_column(
            "message_parts",
            "smsc_message_id",
            type_=sa.String(length=65),
            existing_type=sa.String(length=255),
            existing_nullable=True,
        )
    with op.batch_alter_table("parked_receipts") as batch:
        batch.drop_column("status")
        batch.alter_column(
            "error_code",
            type_=sa.Integer(),
            existing_type=sa.String(length=32),
            existing_nullable=True,
            postgresql_using="nullif(error_code, '')::integer",
        )
        if not sqlite:
            batch.alter_column(
                "state", type_=sa.String(length=8), existing_type=sa.String(length=32)
            )
            batch.alter_column(
                "smsc_message_id", type_=sa.String(length=65), existing_type=sa.String(length=255)
            )
    # Routes of other kinds than SMPP cannot be kept in the SMPP columns. On SQLite the SMPP
    # columns come back nullable (adding a NOT NULL column needs a default there).
    bind.execute(sa.text("DELETE FROM routes WHERE kind <> 'smpp'"))
    for name, type_, _ in _SMPP_COLUMNS:
        op.add_column("routes", sa.Column(name, type_, nullable=True))
    routes = sa.table("routes", sa.column("id"), sa.column("settings"), sa.column("secrets"))
    defaults = {
        row[0]
        for row in bind.execute(
            sa.text("SELECT route_id FROM route_channels WHERE channel = 'sms' AND is_default")
        )
    }
    for route_id, settings, secrets in bind.execute(sa.select(routes)).all():
        values = {**json.loads(settings), **json.loads(secrets), "is_default": route_id in defaults}
        assignments = ", ".join(f'"{name}" = :{name}' for name in values)
        bind.execute(
            sa.text(f"UPDATE routes SET {assignments} WHERE id = :route_id"),
            {**values, "route_id": route_id},
        )
    if not sqlite:
        for name, type_, nullable in _SMPP_COLUMNS:
            if not nullable:
                op.alter_column("routes", name, existing_type=type_, nullable=False)
    for name in ("secrets", "settings", "kind"):
        _drop_column("routes", name, sqlite=sqlite)
    op.drop_table("route_channels")
    for name in ("content", "subject", "channel"):
        _drop_column("messages", name, sqlite=sqlite)


def _drop_column(table: str, column: str, *, sqlite: bool) -> None:
    """In place on SQLite too (3.35+): a batch rebuild drops the old table, and with foreign
    keys on that nulls or deletes the rows that refer to it (senders, parts, history)."""
    if sqlite:
        op.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
    else:
        op.drop_column(table, column)
