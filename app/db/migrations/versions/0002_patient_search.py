"""patient search index (FTS5 over names, phone digit runs, email, Instagram handle)

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from app.db.search_index import index_row

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE VIRTUAL TABLE patient_search USING fts5("
        "patient_id UNINDEXED, names, phones, emails, handles, "
        "tokenize = 'unicode61 remove_diacritics 2')"
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT id, first_name, last_name, preferred_name, phone, email, instagram_handle "
            "FROM patient WHERE deleted = 0"
        )
    ).mappings()
    batch = []
    for r in rows:
        entry = index_row(
            first_name=r["first_name"],
            last_name=r["last_name"],
            preferred_name=r["preferred_name"],
            phone=r["phone"],
            email=r["email"],
            instagram_handle=r["instagram_handle"],
        )
        batch.append({"patient_id": r["id"], **entry})
    if batch:
        conn.execute(
            sa.text(
                "INSERT INTO patient_search(patient_id, names, phones, emails, handles) "
                "VALUES (:patient_id, :names, :phones, :emails, :handles)"
            ),
            batch,
        )


def downgrade() -> None:
    op.execute("DROP TABLE patient_search")
