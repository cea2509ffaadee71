"""Initial server schema: clinics, staff, devices, enrollment codes, audit chain, sync tables.

On PostgreSQL also: the ``glowdesk_app`` request role and row-level security on every
clinic-owned table (see sync_server/tenancy.py and docs/server.md).

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from sync_server.migrations import rls
from sync_server.tenancy import APP_ROLE

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Time = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

#: Every table with a clinic_id, in creation order.
CLINIC_TABLES = (
    "staff", "device", "enrollment_code", "audit_entry", "audit_head",
    "clinic_sync_state", "sync_row", "sync_mutation", "sync_conflict",
)


def _clinic_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"], name=op.f(f"fk_{table}_clinic_id_clinic"))


def upgrade() -> None:
    rls.create_app_role()

    op.create_table(
        "clinic",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("slug", sa.String(63), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("region", sa.String(2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinic")),
        sa.UniqueConstraint("slug", name=op.f("uq_clinic_slug")),
    )
    op.create_table(
        "staff",
        sa.Column("clinic_id", sa.String(36), nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("display_name", sa.String(120), nullable=False),
        sa.Column("role", sa.String(30), nullable=False),
        sa.Column("pin_hash", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        _clinic_fk("staff"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("clinic_id", "display_name", name=op.f("uq_staff_clinic_id_display_name")),
        sa.UniqueConstraint("clinic_id", "id", name=op.f("uq_staff_clinic_id_id")),
    )
    op.create_table(
        "device",
        sa.Column("clinic_id", sa.String(36), nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("enrolled_at", Time, nullable=False),
        sa.Column("revoked_at", Time, nullable=True),
        _clinic_fk("device"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device")),
        sa.UniqueConstraint("clinic_id", "id", name=op.f("uq_device_clinic_id_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_device_token_hash")),
    )
    op.create_table(
        "enrollment_code",
        sa.Column("clinic_id", sa.String(36), nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("expires_at", Time, nullable=False),
        sa.Column("used_at", Time, nullable=True),
        sa.Column("used_by_device_id", sa.String(36), nullable=True),
        _clinic_fk("enrollment_code"),
        sa.ForeignKeyConstraint(
            ["clinic_id", "used_by_device_id"], ["device.clinic_id", "device.id"],
            name=op.f("fk_enrollment_code_clinic_id_used_by_device_id_device"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollment_code")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_enrollment_code_code_hash")),
    )
    op.create_table(
        "audit_entry",
        sa.Column("clinic_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", Time, nullable=False),
        sa.Column("staff_id", sa.String(36), nullable=True),
        sa.Column("device_id", sa.String(36), nullable=True),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("entity", sa.String(60), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=True),
        sa.Column("detail", JSON, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        _clinic_fk("audit_entry"),
        sa.PrimaryKeyConstraint("clinic_id", "seq", name=op.f("pk_audit_entry")),
    )
    op.create_table(
        "audit_head",
        sa.Column("clinic_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        _clinic_fk("audit_head"),
        sa.PrimaryKeyConstraint("clinic_id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "clinic_sync_state",
        sa.Column("clinic_id", sa.String(36), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        _clinic_fk("clinic_sync_state"),
        sa.PrimaryKeyConstraint("clinic_id", name=op.f("pk_clinic_sync_state")),
    )
    op.create_table(
        "sync_row",
        sa.Column("clinic_id", sa.String(36), nullable=False),
        sa.Column("entity", sa.String(60), nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("hlc", sa.String(64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.Column("server_seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        _clinic_fk("sync_row"),
        sa.PrimaryKeyConstraint("clinic_id", "entity", "id", name=op.f("pk_sync_row")),
    )
    op.create_index(op.f("ix_sync_row_clinic_id_server_seq"), "sync_row", ["clinic_id", "server_seq"])
    op.create_table(
        "sync_mutation",
        sa.Column("clinic_id", sa.String(36), nullable=False),
        sa.Column("mutation_id", sa.String(36), nullable=False),
        sa.Column("device_id", sa.String(36), nullable=False),
        sa.Column("staff_id", sa.String(36), nullable=True),
        sa.Column("received_at", Time, nullable=False),
        sa.Column("result", JSON, nullable=False),
        _clinic_fk("sync_mutation"),
        sa.ForeignKeyConstraint(
            ["clinic_id", "device_id"], ["device.clinic_id", "device.id"],
            name=op.f("fk_sync_mutation_clinic_id_device_id_device"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id", "staff_id"], ["staff.clinic_id", "staff.id"],
            name=op.f("fk_sync_mutation_clinic_id_staff_id_staff"),
        ),
        sa.PrimaryKeyConstraint("clinic_id", "mutation_id", name=op.f("pk_sync_mutation")),
    )
    op.create_table(
        "sync_conflict",
        sa.Column("clinic_id", sa.String(36), nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("entity", sa.String(60), nullable=False),
        sa.Column("entity_id", sa.String(36), nullable=False),
        sa.Column("field", sa.String(80), nullable=False),
        sa.Column("winning_value", JSON, nullable=True),
        sa.Column("losing_value", JSON, nullable=True),
        sa.Column("losing_device_id", sa.String(36), nullable=True),
        sa.Column("losing_staff_id", sa.String(36), nullable=True),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("resolved", sa.Boolean(), nullable=False),
        sa.Column("resolved_at", Time, nullable=True),
        sa.Column("resolved_by_staff_id", sa.String(36), nullable=True),
        _clinic_fk("sync_conflict"),
        sa.ForeignKeyConstraint(
            ["clinic_id", "losing_device_id"], ["device.clinic_id", "device.id"],
            name=op.f("fk_sync_conflict_clinic_id_losing_device_id_device"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id", "losing_staff_id"], ["staff.clinic_id", "staff.id"],
            name=op.f("fk_sync_conflict_clinic_id_losing_staff_id_staff"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_conflict")),
    )
    op.create_index(op.f("ix_sync_conflict_clinic_id_resolved"), "sync_conflict", ["clinic_id", "resolved"])

    # --- tenancy (PostgreSQL): grants to the request role, then row-level security ---------
    rls.grant_app("alembic_version", "SELECT")
    rls.grant_app("clinic", "SELECT, INSERT, UPDATE")
    for table in CLINIC_TABLES:
        rls.grant_app(table)
    rls.grant_app("audit_entry", "SELECT, INSERT")  # append-only, for the database too

    rls.protect_clinic_table("clinic", column="id")
    rls.allow_lookup_by_slug("clinic")
    for table in CLINIC_TABLES:
        rls.protect_clinic_table(table)
    rls.allow_lookup_by_credential("device", "token_hash")
    rls.allow_lookup_by_credential("enrollment_code", "code_hash")


def downgrade() -> None:
    op.drop_index(op.f("ix_sync_conflict_clinic_id_resolved"), table_name="sync_conflict")
    op.drop_table("sync_conflict")
    op.drop_table("sync_mutation")
    op.drop_index(op.f("ix_sync_row_clinic_id_server_seq"), table_name="sync_row")
    op.drop_table("sync_row")
    op.drop_table("clinic_sync_state")
    op.drop_table("audit_head")
    op.drop_table("audit_entry")
    op.drop_table("enrollment_code")
    op.drop_table("device")
    op.drop_table("staff")
    op.drop_table("clinic")
    rls.drop_app_grants()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"REVOKE ALL ON TABLE alembic_version FROM {APP_ROLE}")
