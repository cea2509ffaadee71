"""What every server command shares: the one-line error, JSON output, an open database at the
current schema, and a transaction working for one clinic (by slug).

``python -m sync_server`` (:mod:`sync_server.cli`, an edge) and the contexts' own commands (such
as :mod:`sync_server.leads.cli`) use these; this module sits in the base layer beside
:mod:`sync_server.deps` (the HTTP side's shared dependencies), so a context's commands never
import the command line that registers them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

from sync_server.clinics import service as clinics
from sync_server.db import SCHEMA_HEAD, Database
from sync_server.settings import Settings


class CommandError(Exception):
    """A command cannot do what was asked; the message is the one line the operator sees."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def emit(data: dict[str, Any]) -> None:
    """Print one JSON document (a command's result) on standard output."""
    sys.stdout.write(json.dumps(data, default=str) + "\n")


@contextmanager
def database(settings: Settings, *, migrate: bool = False) -> Iterator[Database]:
    """An open database at the current schema (the embedded SQLite one is migrated on demand)."""
    db = Database(settings)
    try:
        if migrate or settings.is_sqlite:
            db.upgrade()
        else:
            current, expected = db.current_revision(), SCHEMA_HEAD
            if current != expected:
                raise CommandError(
                    f"The database schema is at {current or 'nothing'}, this server needs {expected}:"
                    " run `python -m sync_server migrate` first."
                )
        yield db
    finally:
        db.dispose()


@contextmanager
def clinic_transaction(settings: Settings, slug: str) -> Iterator[tuple[Session, str]]:
    """A writing transaction and the id of the clinic named by ``slug`` (refused if unknown)."""
    with database(settings) as db, db.transaction(write=True) as session:
        clinic = clinics.open_clinic(session, slug=slug)
        yield session, clinic.id
