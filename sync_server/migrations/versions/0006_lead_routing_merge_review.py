"""Lead routing and merge reviews: who resolved a review and which record survived.

(Lead routing itself needs no table: its facts are fields of the synced ``lead`` rows, its
settings live in the clinic's synced settings, its timers are jobs. Reviews opened before this
revision are published to the desktops by the clinic's first lead-routing sweep.)

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("merge_review") as batch:
        batch.add_column(sa.Column("resolved_by", sa.String(36), nullable=True))
        batch.add_column(sa.Column("survivor_id", sa.String(36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("merge_review") as batch:
        batch.drop_column("survivor_id")
        batch.drop_column("resolved_by")
