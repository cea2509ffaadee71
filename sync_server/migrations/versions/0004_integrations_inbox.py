"""Integrations (settings, sealed secrets, routes) and the webhook inbox.

- ``integration``: per clinic and provider, settings and the Fernet-sealed secrets;
- ``integration_route``: page / Instagram account / number → clinic. Before the clinic is known a
  transaction that presented a route key (``glowdesk.credential``) may read the rows with that key;
- ``webhook_event``: the inbox, unique (source, external_id).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from sync_server.migrations import rls

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Time = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _clinic_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"], name=op.f(f"fk_{table}_clinic_id_clinic"))


def upgrade() -> None:
    op.create_table(
        "integration",
        sa.Column("clinic_id", sa.String(36), nullable=False),
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("config", JSON, nullable=False),
        sa.Column("sealed", sa.Text(), nullable=True),
        sa.Column("updated_at", Time, nullable=False),
        _clinic_fk("integration"),
        sa.PrimaryKeyConstraint("clinic_id", "provider", name=op.f("pk_integration")),
    )
    op.create_table(
        "integration_route",
        sa.Column("route_key", sa.String(200), nullable=False),
        sa.Column("clinic_id", sa.String(36), nullable=False),
        sa.Column("provider", sa.String(20), nullable=False),
        _clinic_fk("integration_route"),
        sa.PrimaryKeyConstraint("route_key", "clinic_id", name=op.f("pk_integration_route")),
    )
    op.create_table(
        "webhook_event",
        sa.Column("clinic_id", sa.String(36), nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("source", sa.String(30), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("sender_key", sa.String(64), nullable=True),
        sa.Column("flag", sa.String(40), nullable=True),
        sa.Column("received_at", Time, nullable=False),
        sa.Column("processed_at", Time, nullable=True),
        sa.Column("outcome", sa.String(200), nullable=True),
        _clinic_fk("webhook_event"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_event")),
        sa.UniqueConstraint("source", "external_id", name=op.f("uq_webhook_event_source_external_id")),
    )
    op.create_index(op.f("ix_webhook_event_clinic_id_source_sender_key_received_at"), "webhook_event",
                    ["clinic_id", "source", "sender_key", "received_at"])
    for table in ("integration", "integration_route", "webhook_event"):
        rls.grant_app(table)
        rls.protect_clinic_table(table)
    rls.allow_lookup_by_credential("integration_route", "route_key")


def downgrade() -> None:
    op.drop_table("webhook_event")
    op.drop_table("integration_route")
    op.drop_table("integration")
