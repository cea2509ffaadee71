"""The sync part of ``python -m app status``: read from the store, no network.

``online`` / ``offline_since`` / ``last_sync`` describe the last sync attempt made on this
workstation (by the app's background sync or ``python -m app sync``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.repositories import sync_state
from app.repositories.context import Ctx
from app.repositories.uow import unit_of_work

if TYPE_CHECKING:
    from app.services.workspace import Workspace

#: what a data folder needs before the desk can open (:func:`setup_stage`)
READY = "ready"
ENROL = "enrol"  # no clinic and not enrolled: the first-run screen asks for a code
DOWNLOAD = "download"  # enrolled, but the first download never finished: resume it


def sync_status(ctx: Ctx) -> dict[str, Any]:
    enrolled = sync_state.enrollment(ctx)
    outcome = sync_state.outcome(ctx)
    if enrolled is None:
        state = "not enrolled"
    elif outcome.get("stopped"):
        state = "stopped"
    elif outcome.get("online") is None:
        state = "never synced"
    else:
        state = "online" if outcome.get("online") else "offline"
    return {
        "sync": state,
        "server_url": enrolled["server_url"] if enrolled else None,
        "server_device_id": enrolled["device_id"] if enrolled else None,
        "online": outcome.get("online"),
        "offline_since": outcome.get("offline_since"),
        "last_sync": outcome.get("last_sync_at"),
        "last_sync_error": outcome.get("last_error"),
        "sync_stopped": outcome.get("stopped"),
        "conflicts": sync_state.conflict_count(ctx),
        "rejected_changes": sync_state.rejection_count(ctx),
        "cursor": sync_state.cursor(ctx),
    }


def setup_stage(ws: Workspace) -> str:
    """:data:`READY`, :data:`ENROL` or :data:`DOWNLOAD` (a demo or local clinic is ready)."""
    with unit_of_work(ws.store, ws.system) as ctx:
        enrolled = sync_state.enrollment(ctx)
        finished = sync_state.outcome(ctx).get("last_sync_at")
    if enrolled is None:
        return READY if ws.clinic is not None or ws.is_demo else ENROL
    return READY if finished else DOWNLOAD
