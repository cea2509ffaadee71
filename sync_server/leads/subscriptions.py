"""What the leads context hears from the contexts below it (see :mod:`sync_server.events`)."""

from __future__ import annotations

from typing import Any

from sync_server.events import Event
from sync_server.leads import routing
from sync_server.leads.service import INSTAGRAM_DM, SMS, LeadIntake, intake
from sync_server.messaging import service as messaging
from sync_server.records.service import ServerWrites


def take_new_sender(writes: ServerWrites, *, sender: messaging.NewSender, region: str,
                    timezone: str) -> tuple[str | None, str | None]:
    """A new person texted or sent a DM: their record (found or made) and a lead, through intake."""
    result = intake(writes, lead=LeadIntake(
        source=SMS if sender.channel == messaging.SMS else INSTAGRAM_DM, person=sender.person,
        received_at=writes.now, external_id=sender.external_id, message=sender.message,
        consents=dict(sender.consents), details=dict(sender.details), acknowledge=sender.acknowledge,
    ), region=region, timezone=timezone)
    return result.patient_id, result.lead_id


SUBSCRIPTIONS: dict[Event[Any], Any] = {
    messaging.NEW_SENDER: take_new_sender,
    messaging.CONTACT_MADE: routing.contact_made,  # a text from the team keeps the sender's claim
}
