"""Leads and messaging: merge reviews, the message thread and outbox, media, SMS opt-outs.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from sync_server.migrations import rls

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Time = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TABLES = ("merge_review", "message", "message_media", "sms_opt_out")


def _clinic_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"], name=op.f(f"fk_{table}_clinic_id_clinic"))


def upgrade() -> None:
    op.create_table(
        "merge_review",
        sa.Column("clinic_id", sa.String(36), nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("patient_id", sa.String(36), nullable=False),
        sa.Column("candidate_id", sa.String(36), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("resolved_at", Time, nullable=True),
        _clinic_fk("merge_review"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merge_review")),
    )
    op.create_index(op.f("ix_merge_review_clinic_id_status"), "merge_review", ["clinic_id", "status"])
    op.create_table(
        "message",
        sa.Column("clinic_id", sa.String(36), nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("patient_id", sa.String(36), nullable=True),
        sa.Column("lead_id", sa.String(36), nullable=True),
        sa.Column("channel", sa.String(12), nullable=False),
        sa.Column("direction", sa.String(10), nullable=False),
        sa.Column("purpose", sa.String(20), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("media", JSON, nullable=False),
        sa.Column("from_addr", sa.String(64), nullable=True),
        sa.Column("to_addr", sa.String(64), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_reason", sa.String(300), nullable=True),
        sa.Column("error_code", sa.String(12), nullable=True),
        sa.Column("provider_sid", sa.String(64), nullable=True),
        sa.Column("author_staff_id", sa.String(36), nullable=True),
        sa.Column("send_after", Time, nullable=True),
        sa.Column("attempt_started_at", Time, nullable=True),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.Column("sent_at", Time, nullable=True),
        sa.Column("delivered_at", Time, nullable=True),
        _clinic_fk("message"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message")),
    )
    op.create_index(op.f("ix_message_clinic_id_patient_id_created_at"), "message",
                    ["clinic_id", "patient_id", "created_at"])
    op.create_index(op.f("ix_message_clinic_id_provider_sid"), "message", ["clinic_id", "provider_sid"])
    op.create_table(
        "message_media",
        sa.Column("clinic_id", sa.String(36), nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("message_id", sa.String(36), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("path", sa.String(300), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        _clinic_fk("message_media"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_media")),
    )
    op.create_table(
        "sms_opt_out",
        sa.Column("clinic_id", sa.String(36), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("keyword", sa.String(20), nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        _clinic_fk("sms_opt_out"),
        sa.PrimaryKeyConstraint("clinic_id", "phone", name=op.f("pk_sms_opt_out")),
    )
    for table in TABLES:
        rls.grant_app(table)
        rls.protect_clinic_table(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
