"""Exporting one clinic from the server: owners only, audited, from one consistent snapshot.

1. A write transaction finds the clinic, checks the owner's name and PIN, and appends a
   ``clinic.export`` audit entry naming them; it commits before any patient row is read, so an
   export that fails halfway has still been recorded as attempted.
2. A read transaction (PostgreSQL: ``REPEATABLE READ``, as the row-level-secured application
   role, so it can only ever see this clinic; SQLite: one deferred transaction, a WAL snapshot)
   streams every row to :func:`core.export.write_export`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from core.errors import PermissionDenied
from core.export import AUDIT, FORMAT_VERSION, ExportClinic, Manifest, write_export
from core.export.writer import prepare_folder
from core.permissions import Permission, has_permission
from sync_server.audit import service as audit
from sync_server.clinics import service as clinics
from sync_server.db import Database
from sync_server.sync import service as sync

REQUEST = "python -m sync_server export"


class ExportNotAllowed(PermissionDenied):
    code = "export_not_allowed"


def export_clinic(db: Database, *, slug: str, staff_name: str, pin: str, out: Path, now: datetime) -> Manifest:
    """Write the server's copy of the clinic ``slug`` into the new or empty folder ``out``, in
    the name of the owner ``staff_name`` (checked with their PIN)."""
    out = Path(out).expanduser().absolute()
    created = prepare_folder(out)
    try:
        with db.transaction(write=True) as session:
            clinic = clinics.open_clinic(session, slug=slug)
            owner = clinics.authenticate_staff(session, clinic_id=clinic.id, display_name=staff_name, pin=pin)
            if not has_permission(owner.role, Permission.DATA_EXPORT):
                raise ExportNotAllowed(
                    "Only an owner of the clinic may export its data (every client's record, in clear). "
                    "Ask an owner to run the export with their name and PIN."
                )
            audit.append(
                session, clinic_id=clinic.id, actor=audit.Actor(staff_id=owner.id, via="cli"),
                action="clinic.export", entity="clinic", entity_id=clinic.id,
                detail={"folder": str(out), "format_version": FORMAT_VERSION, "source": "server"}, now=now,
            )
            info = ExportClinic(clinic.id, clinic.slug, clinic.name, clinic.region, clinic.currency, clinic.timezone)
    except BaseException:
        if created:
            out.rmdir()
        raise
    with db.transaction(write=False, app_role=True) as session:
        if db.dialect == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        clinics.open_clinic(session, slug=slug)

        def read(source: str) -> Iterator[dict[str, Any]]:
            if source == AUDIT:
                return audit.export_entries(session, clinic_id=info.id)
            return sync.export_rows(session, clinic_id=info.id, entity=source)

        return write_export(
            out, read=read, clinic=info, origin="server", exported_at=now, request=f"{REQUEST} --clinic {slug}",
            audit_prefix=info.id, exported_by={"staff_id": owner.id, "name": owner.display_name},
            created_folder=created,
        )
