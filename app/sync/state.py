"""The sync state a person sees: online or offline since when, what is pending, what needs review.

:func:`load_state` reads it from the store (enrolment, cursor, the last attempt's outcome,
counts); :class:`app.sync.runner.SyncRunner` overlays what only a running runner knows
(syncing right now, live channel connected, next retry).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from app.db.store import Store
from app.repositories import sync_state
from app.repositories.context import Ctx
from app.repositories.uow import system_actor, unit_of_work


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(frozen=True)
class SyncState:
    enrolled: bool
    server_url: str | None = None
    #: None until the first attempt of this installation has an outcome
    online: bool | None = None
    offline_since: datetime | None = None
    syncing: bool = False
    pending_changes: int = 0
    last_sync_at: datetime | None = None
    conflicts_to_review: int = 0
    rejected_changes: int = 0
    last_error: str | None = None
    #: set when syncing cannot continue until someone acts (revoked, protocol mismatch)
    stopped_reason: str | None = None
    cursor: int = 0
    live_connected: bool = False
    next_attempt_at: datetime | None = None

    @property
    def stopped(self) -> bool:
        return self.stopped_reason is not None

    @property
    def label(self) -> str:
        """A short status line for the status bar."""
        if self.stopped_reason:
            return f"Sync stopped: {self.stopped_reason}"
        if not self.enrolled:
            return "Not connected to a clinic server"
        if self.syncing:
            return "Syncing…"
        if self.online is False:
            since = f" since {self.offline_since:%H:%M} UTC" if self.offline_since else ""
            return f"Offline{since}; {self.pending_changes} change(s) waiting"
        if self.online is None:
            return "Not synced yet"
        return "Online" if not self.pending_changes else f"Online; {self.pending_changes} change(s) waiting"

    def with_(self, **changes: Any) -> SyncState:
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "enrolled": self.enrolled,
            "server_url": self.server_url,
            "online": self.online,
            "offline_since": self.offline_since.isoformat() if self.offline_since else None,
            "syncing": self.syncing,
            "pending_changes": self.pending_changes,
            "last_sync_at": self.last_sync_at.isoformat() if self.last_sync_at else None,
            "conflicts_to_review": self.conflicts_to_review,
            "rejected_changes": self.rejected_changes,
            "last_error": self.last_error,
            "stopped_reason": self.stopped_reason,
            "cursor": self.cursor,
            "live_connected": self.live_connected,
        }


def read_state(ctx: Ctx) -> SyncState:
    """The stored part of the state, inside a caller's transaction."""
    enrolled = sync_state.enrollment(ctx)
    outcome = sync_state.outcome(ctx)
    return SyncState(
        enrolled=enrolled is not None,
        server_url=enrolled["server_url"] if enrolled else None,
        online=outcome.get("online"),
        offline_since=_when(outcome.get("offline_since")),
        pending_changes=sync_state.pending_count(ctx),
        last_sync_at=_when(outcome.get("last_sync_at")),
        conflicts_to_review=sync_state.conflict_count(ctx),
        rejected_changes=sync_state.rejection_count(ctx),
        last_error=outcome.get("last_error"),
        stopped_reason=outcome.get("stopped"),
        cursor=sync_state.cursor(ctx),
    )


def load_state(store: Store) -> SyncState:
    with unit_of_work(store, system_actor(store)) as ctx:
        return read_state(ctx)
