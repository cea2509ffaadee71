"""lead routing and merge reviews: reply deadlines and escalations on leads, working hours on
staff, merged-away records pointing at their survivor, the possible-duplicates list

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Time = sa.String(length=27)


def upgrade() -> None:
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sla_due_at", Time, nullable=True))
        batch_op.add_column(sa.Column("escalated_at", Time, nullable=True))
        batch_op.add_column(sa.Column("escalated_to", sa.String(length=36), nullable=True))
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_into", sa.String(length=36), nullable=True))
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("working_hours", sa.JSON(), nullable=False, server_default="{}"))
    op.create_table(
        "merge_review",
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("candidate_id", sa.String(length=36), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("opened_at", Time, nullable=False),
        sa.Column("resolved_at", Time, nullable=True),
        sa.Column("resolved_by", sa.String(length=36), nullable=True),
        sa.Column("survivor_id", sa.String(length=36), nullable=True),
        sa.Column("clinic_id", sa.String(length=36), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("hlc", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merge_review")),
    )
    with op.batch_alter_table("merge_review", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_merge_review_clinic_id"), ["clinic_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_merge_review_status"), ["status"], unique=False)


def downgrade() -> None:
    op.drop_table("merge_review")
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_column("working_hours")
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_column("merged_into")
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_column("escalated_to")
        batch_op.drop_column("escalated_at")
        batch_op.drop_column("sla_due_at")
