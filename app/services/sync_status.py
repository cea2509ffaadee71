"""The sync part of ``python -m app status``: read from the store, no network.

``online`` / ``offline_since`` / ``last_sync`` describe the last sync attempt made on this
workstation (by the app's background sync or ``python -m app sync``).
"""

from __future__ import annotations

from typing import Any

from app.repositories import sync_state
from app.repositories.context import Ctx


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
