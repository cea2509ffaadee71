"""Jobs: the durable queue (``job``), clinic-owned, with row-level security.

Besides the usual tenant policy, ``job`` has a ``queue_worker`` policy: a transaction that
declared itself a worker (``glowdesk.queue = 'on'``) may see and claim due jobs of every clinic.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from sync_server.migrations import rls

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Time = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "job",
        sa.Column("clinic_id", sa.String(36), nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(60), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", Time, nullable=False),
        sa.Column("locked_by", sa.String(100), nullable=True),
        sa.Column("locked_until", Time, nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("repeat_seconds", sa.Integer(), nullable=True),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.Column("finished_at", Time, nullable=True),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"], name=op.f("fk_job_clinic_id_clinic")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
        sa.UniqueConstraint("clinic_id", "dedupe_key", name=op.f("uq_job_clinic_id_dedupe_key")),
    )
    op.create_index(op.f("ix_job_status_run_after"), "job", ["status", "run_after"])
    rls.grant_app("job")
    rls.protect_clinic_table("job")
    rls.allow_queue_access("job")


def downgrade() -> None:
    op.drop_table("job")
