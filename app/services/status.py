"""What this workstation holds (`python -m app status`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from app.db import schema
from app.db.models import AuditEntry
from app.repositories import patients, sync_state
from app.repositories.uow import unit_of_work
from app.services.sync_status import sync_status

if TYPE_CHECKING:
    from app.services.workspace import Workspace


def collect_status(ws: Workspace) -> dict[str, Any]:
    store = ws.store
    with unit_of_work(store, ws.system) as ctx:
        s = ctx.session
        pending = sync_state.pending_count(ctx)
        audit_entries = s.execute(sa.select(sa.func.count()).select_from(AuditEntry)).scalar_one()
        patient_count = patients.count(ctx) if ws.clinic else 0
        sync = sync_status(ctx)
    backups = sorted((store.home / "backups").glob("glowdesk-*.db")) if (store.home / "backups").exists() else []
    return {
        "home": str(store.home),
        "encrypted": True,
        "key_source": store.key_source,
        "schema": schema.HEAD,
        "device_id": store.device_id,
        "clinic": ws.clinic.name if ws.clinic else None,
        "clinic_id": ws.clinic.id if ws.clinic else None,
        "demo": ws.is_demo,
        "patients": patient_count,
        "pending_changes": pending,
        "audit_entries": audit_entries,
        "last_backup": backups[-1].name if backups else None,
        **sync,
    }
