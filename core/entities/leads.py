"""Leads: a person reaching out (form, ad, DM, text), where they came from, and who answers them.

Attribution (UTMs, click ids, landing page, ad ids) is recorded once when the lead arrives; claims,
the first-reply time, reply deadlines and escalations are the server's (see docs/decisions.md,
"Lead routing").
"""

from __future__ import annotations

from core.permissions import Permission
from core.specs import CLINIC_ID, FieldSpec, Kind, Ownership, entity, field, string
from core.specs import FieldType as T

_ATTRIBUTION_REASON = (
    "Where a lead came from (campaign, ad, click ids, landing page) is recorded when the lead "
    "arrives and cannot be changed afterwards."
)
_CLAIM_REASON = (
    "Lead claims are handed out by the clinic server so that two people never call the same "
    "lead; claim the lead while online."
)
_ROUTING_REASON = (
    "Reply deadlines and escalations are kept by the clinic server from the clinic's lead "
    "routing settings; answer the lead (a text or a logged call) to stop its timer."
)


def _attribution(name: str, max_length: int | None = None) -> FieldSpec:
    ftype = T.TEXT if max_length is None else T.STR
    return field(
        name, ftype, null=True, max_length=max_length, owner=Ownership.INSERT_ONLY, reason=_ATTRIBUTION_REASON
    )


LEAD = entity(
    "lead",
    "lead",
    Kind.EDITABLE,
    Permission.LEAD_WRITE,
    [
        CLINIC_ID,
        field("patient_id", T.ID, null=True),
        string("source", 30),
        string("status", 20, default="new"),
        string("service_interest", 160, null=True),
        field("message", T.TEXT, null=True),
        _attribution("utm_source", 200),
        _attribution("utm_medium", 200),
        _attribution("utm_campaign", 200),
        _attribution("utm_content", 200),
        _attribution("utm_term", 200),
        _attribution("fbclid", 500),
        _attribution("gclid", 500),
        _attribution("gbraid", 500),
        _attribution("wbraid", 500),
        _attribution("landing_page"),
        _attribution("referrer"),
        _attribution("campaign_id", 40),
        _attribution("adset_id", 40),
        _attribution("ad_id", 40),
        _attribution("form_id", 40),
        _attribution("external_id", 80),
        field("owner_id", T.ID, null=True),
        field("claimed_by", T.ID, null=True, owner=Ownership.SERVER, reason=_CLAIM_REASON),
        field("claimed_at", T.DATETIME, null=True, owner=Ownership.SERVER, reason=_CLAIM_REASON),
        field("claim_expires_at", T.DATETIME, null=True, owner=Ownership.SERVER, reason=_CLAIM_REASON),
        field(
            "first_reply_at",
            T.DATETIME,
            null=True,
            owner=Ownership.SERVER,
            reason="The first-reply time is recorded by the clinic server when the first message goes out.",
        ),
        field(
            "received_at",
            T.DATETIME,
            owner=Ownership.INSERT_ONLY,
            reason="When a lead arrived is recorded once and cannot be changed.",
        ),
        # when its first reply is due, and whether (and to whom) a missed one was escalated (v2)
        field("sla_due_at", T.DATETIME, null=True, owner=Ownership.SERVER, reason=_ROUTING_REASON),
        field("escalated_at", T.DATETIME, null=True, owner=Ownership.SERVER, reason=_ROUTING_REASON),
        field("escalated_to", T.ID, null=True, owner=Ownership.SERVER, reason=_ROUTING_REASON),
    ],
)
