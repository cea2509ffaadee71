"""Sync protocol v1: merge bookkeeping on sync rows, conflict records, appointment slots.

- ``sync_row.meta`` holds :meth:`core.merge.RowState.to_meta` (field stamps, losing writes,
  deletes); ``sync_row.created_at`` when the row was first accepted;
- ``sync_conflict`` gains the conflict's kind and both writes' stamps, and a unique key so that
  one losing write is recorded once;
- ``appointment_slot``: the time each active appointment holds its provider, room and device
  (double-booking checks), clinic-owned and protected by row-level security.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from sync_server.migrations import rls

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Time = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("sync_row") as batch:
        batch.add_column(sa.Column("meta", JSON, nullable=True))
        batch.add_column(sa.Column("created_at", Time, nullable=True))
    with op.batch_alter_table("sync_conflict") as batch:
        batch.add_column(sa.Column("kind", sa.String(20), nullable=False, server_default="concurrent_edit"))
        batch.add_column(sa.Column("winner_hlc", sa.String(100), nullable=False, server_default=""))
        batch.add_column(sa.Column("winner_staff_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("loser_hlc", sa.String(100), nullable=False, server_default=""))
        batch.create_unique_constraint(
            "uq_sync_conflict_key", ["clinic_id", "entity", "entity_id", "field", "kind", "loser_hlc"]
        )
    # the defaults only filled rows that existed before; the application always sets them
    with op.batch_alter_table("sync_conflict") as batch:
        batch.alter_column("kind", server_default=None)
        batch.alter_column("winner_hlc", server_default=None)
        batch.alter_column("loser_hlc", server_default=None)

    op.create_table(
        "appointment_slot",
        sa.Column("clinic_id", sa.String(36), nullable=False),
        sa.Column("appointment_id", sa.String(36), nullable=False),
        sa.Column("provider_id", sa.String(36), nullable=False),
        sa.Column("room_id", sa.String(36), nullable=True),
        sa.Column("device_id", sa.String(36), nullable=True),
        sa.Column("start_at", Time, nullable=False),
        sa.Column("end_at", Time, nullable=False),
        sa.Column("held_from", Time, nullable=False),
        sa.Column("held_until", Time, nullable=False),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"], name=op.f("fk_appointment_slot_clinic_id_clinic")),
        sa.PrimaryKeyConstraint("clinic_id", "appointment_id", name=op.f("pk_appointment_slot")),
    )
    for column in ("provider_id", "room_id", "device_id"):
        op.create_index(
            op.f(f"ix_appointment_slot_clinic_id_{column}_held_from"), "appointment_slot",
            ["clinic_id", column, "held_from"],
        )
    rls.grant_app("appointment_slot")
    rls.protect_clinic_table("appointment_slot")


def downgrade() -> None:
    op.drop_table("appointment_slot")
    with op.batch_alter_table("sync_conflict") as batch:
        batch.drop_constraint("uq_sync_conflict_key", type_="unique")
        batch.drop_column("loser_hlc")
        batch.drop_column("winner_staff_id")
        batch.drop_column("winner_hlc")
        batch.drop_column("kind")
    with op.batch_alter_table("sync_row") as batch:
        batch.drop_column("created_at")
        batch.drop_column("meta")
