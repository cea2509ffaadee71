"""What the sync context hears from the contexts below it (see :mod:`sync_server.events`)."""

from __future__ import annotations

from typing import Any

from sync_server.clinics.service import CLINIC_CREATED
from sync_server.events import Event
from sync_server.sync.service import start_clinic

SUBSCRIPTIONS: dict[Event[Any], Any] = {
    CLINIC_CREATED: start_clinic,  # a new clinic's (empty) sequence, in the transaction creating it
}
