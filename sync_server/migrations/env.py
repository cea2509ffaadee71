"""Alembic environment of the server database.

Run through ``python -m sync_server migrate`` (which passes an open connection), or with the
Alembic CLI for development: ``alembic -c sync_server/alembic.ini revision --autogenerate -m ...``
(the URL then comes from the GLOWDESK_ settings).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from sync_server.migrations.models import load_all_models

#: pg_advisory_xact_lock key: "glowdesk" as an int. Two processes migrating at once take turns.
_MIGRATION_LOCK = 0x676C6F776465736B

config = context.config
target_metadata = load_all_models()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from sync_server.db import Database
    from sync_server.settings import Settings

    db = Database(Settings())
    try:
        with db.engine.begin() as conn:
            _run(conn)
    finally:
        db.dispose()
