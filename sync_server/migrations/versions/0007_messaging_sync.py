"""Messaging syncs to the desktops: a message remembers the clinic template it was written from.

(The synced ``message``, ``message_template`` and ``message_read`` rows live in ``sync_row`` like
every synced record; this revision only adds the column the outbox needs.)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message") as batch:
        batch.add_column(sa.Column("template_id", sa.String(36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("message") as batch:
        batch.drop_column("template_id")
