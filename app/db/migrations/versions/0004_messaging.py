"""messaging: the shared thread (message), templates, read receipts, fetched attachments

Revision ID: 0004
Revises: 0003

Sync schema 2 adds entities this store did not know, and a workstation on schema 1 skipped
their rows when it pulled them. The sync cursor is therefore moved back to 0 so that the next
pull delivers them (rows already held at their version are applied again unchanged).
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Time = sa.String(length=27)  # app.db.types.UTCDateTime: ISO-8601 UTC text


def _bookkeeping() -> list[sa.Column]:
    return [
        sa.Column("clinic_id", sa.String(length=36), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("hlc", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "message",
        sa.Column("patient_id", sa.String(length=36), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("template_id", sa.String(length=36), nullable=True),
        sa.Column("occurred_at", Time, nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("lead_id", sa.String(length=36), nullable=True),
        sa.Column("author_id", sa.String(length=36), nullable=True),
        sa.Column("media", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_reason", sa.String(length=300), nullable=True),
        sa.Column("error_code", sa.String(length=12), nullable=True),
        sa.Column("provider_message_id", sa.String(length=64), nullable=True),
        sa.Column("send_after", Time, nullable=True),
        sa.Column("sent_at", Time, nullable=True),
        sa.Column("delivered_at", Time, nullable=True),
        *_bookkeeping(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message")),
    )
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_clinic_id"), ["clinic_id"], unique=False)
        batch_op.create_index("ix_message_patient_time", ["patient_id", "occurred_at"], unique=False)
        batch_op.create_index("ix_message_direction_time", ["direction", "occurred_at"], unique=False)

    op.create_table(
        "message_template",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_bookkeeping(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_template")),
    )
    with op.batch_alter_table("message_template", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_template_clinic_id"), ["clinic_id"], unique=False)

    op.create_table(
        "message_read",
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("up_to", Time, nullable=False),
        sa.Column("staff_id", sa.String(length=36), nullable=True),
        sa.Column("read_at", Time, nullable=False),
        *_bookkeeping(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_read")),
    )
    with op.batch_alter_table("message_read", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_read_clinic_id"), ["clinic_id"], unique=False)
        batch_op.create_index("ix_message_read_patient", ["patient_id", "up_to"], unique=False)

    op.create_table(
        "message_attachment",
        sa.Column("media_id", sa.String(length=36), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("fetched_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("media_id", name=op.f("pk_message_attachment")),
    )
    with op.batch_alter_table("message_attachment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_attachment_message_id"), ["message_id"], unique=False)

    # a message's thread asks whether its insert is still in the outbox: an index, not a scan
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_entity_id"), ["entity_id"], unique=False)

    # pull again from the start: rows of the new entities were skipped before this upgrade
    op.execute("UPDATE local_setting SET value = '0' WHERE key = 'sync.cursor'")


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_entity_id"))
    for table in ("message_attachment", "message_read", "message_template", "message"):
        op.drop_table(table)
