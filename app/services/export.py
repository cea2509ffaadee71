"""The workstation's data export (``python -m app export --out DIR``): owners only, audited.

The export is audited first, in its own committed transaction (an export that fails halfway
has still been attempted, and left files behind until it cleaned up), then every row is read
from one snapshot of the store and written by :func:`core.export.write_export`.
"""

from __future__ import annotations

from pathlib import Path

from app.db.store import Store
from app.repositories import audit, export_reads
from app.repositories.context import Actor
from app.repositories.uow import unit_of_work
from app.services.workspace import ClinicInfo
from core.errors import PermissionDenied
from core.export import FORMAT_VERSION, ExportClinic, Manifest, write_export
from core.export.writer import prepare_folder
from core.permissions import Permission, has_permission

REQUEST = "python -m app export"


class ExportNotAllowed(PermissionDenied):
    code = "export_not_allowed"


def check_may_export(actor: Actor) -> None:
    """Only a signed-in owner exports: the export holds every client's data in clear."""
    if not actor.staff_id or not actor.role or not has_permission(actor.role, Permission.DATA_EXPORT):
        raise ExportNotAllowed(
            "Only an owner of the clinic may export its data (every client's record, in clear). "
            "Ask an owner to sign in and export."
        )


def export_data(store: Store, *, actor: Actor, clinic: ClinicInfo, out: Path) -> Manifest:
    """Write this workstation's copy of the clinic's data into the new or empty folder ``out``."""
    check_may_export(actor)
    out = Path(out).expanduser().absolute()
    created = prepare_folder(out)
    try:
        with unit_of_work(store, actor) as ctx:
            audit.append(ctx, "clinic.export", "clinic", clinic.id,
                         {"folder": str(out), "format_version": FORMAT_VERSION, "source": "desktop"})
    except BaseException:
        if created:
            out.rmdir()
        raise
    with unit_of_work(store, actor) as ctx:
        export_reads.begin_snapshot(ctx)
        return write_export(
            out,
            read=lambda source: export_reads.rows(ctx, source, clinic_id=clinic.id),
            clinic=ExportClinic(clinic.id, clinic.slug, clinic.name, clinic.region, clinic.currency, clinic.timezone),
            origin="desktop",
            exported_at=ctx.now(),
            request=REQUEST,
            audit_prefix=store.device_id,
            exported_by={"staff_id": actor.staff_id, "name": actor.name, "device_id": actor.device_id},
            created_folder=created,
        )
