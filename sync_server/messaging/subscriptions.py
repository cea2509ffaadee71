"""What the messaging context hears from the contexts below it (see :mod:`sync_server.events`)."""

from __future__ import annotations

from typing import Any

from sync_server.events import Event
from sync_server.messaging.service import move_patient_messages
from sync_server.patients.merge import RECORDS_MERGED
from sync_server.records.service import ServerWrites


def move_thread(writes: ServerWrites, *, merged_id: str, survivor_id: str) -> None:
    """The server's own copy of the merged-away record's thread (the outbox) joins the survivor's."""
    move_patient_messages(writes.session, clinic_id=writes.clinic_id, from_patient=merged_id,
                          to_patient=survivor_id, now=writes.now)


SUBSCRIPTIONS: dict[Event[Any], Any] = {
    RECORDS_MERGED: move_thread,
}
