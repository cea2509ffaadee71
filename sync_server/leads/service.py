"""Lead intake: one path for Meta lead ads, web forms, Instagram DMs and texts from new people.

:func:`intake` (in the caller's transaction, through :class:`ServerWrites`) finds or creates the
client (:func:`sync_server.patients.service.match_or_create`), creates the ``lead`` record with
its attribution (UTMs, click ids, landing page, referrer, Meta form / campaign / ad set / ad
ids; insert-only, as the catalogue says), records a ``lead.received`` timeline entry, gives a new
client their ``first_touch``, routes it (:mod:`sync_server.leads.routing`: an owner by the clinic's
assignment rules and a reply deadline by its source, with a ``lead.assigned`` entry), and asks
messaging for the instant acknowledgement. A lead seen
before (same source and external id, e.g. a Meta lead delivered by webhook and found again by
the sweep) is not created twice. A submission flagged by spam protection becomes a lead in
state ``spam`` without a client record (its contact details kept on the timeline entry) so staff
can review it: nothing is dropped. Services never commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.ids import new_id
from core.states import LeadStatus
from core.sync import ENTITIES
from sync_server.leads import routing
from sync_server.patients import service as patients
from sync_server.patients.service import Person
from sync_server.records.service import ServerWrites
from sync_server.sync.service import iso

META_LEAD_AD = "meta_lead_ad"
WEB_FORM = "web_form"
INSTAGRAM_DM = "instagram_dm"
SMS = "sms"

ATTRIBUTION = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "fbclid", "gclid", "gbraid",
               "wbraid", "landing_page", "referrer", "campaign_id", "adset_id", "ad_id", "form_id")
#: attribution copied onto a new client's first touch
FIRST_TOUCH = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "gclid", "fbclid", "campaign_id", "ad_id",
               "form_id")


@dataclass(frozen=True)
class LeadIntake:
    source: str
    person: Person
    received_at: datetime
    external_id: str | None = None
    message: str | None = None
    service_interest: str | None = None
    attribution: dict[str, str | None] = field(default_factory=dict)
    #: consents the person gave with this lead ({"transactional_sms": {"granted": True, ...}})
    consents: dict[str, Any] = field(default_factory=dict)
    #: spam protection's reason to hold the lead for review (honeypot, rate_limited)
    flagged: str | None = None
    #: extra facts for the timeline entry (organic, platform, answers...) - no secrets
    details: dict[str, Any] = field(default_factory=dict)
    #: send the instant acknowledgement (consent permitting)
    acknowledge: bool = True


@dataclass(frozen=True)
class IntakeResult:
    lead_id: str
    patient_id: str | None
    created_patient: bool
    duplicate: bool = False
    review_id: str | None = None
    acknowledgement_id: str | None = None
    owner_id: str | None = None


def _fit(entity: str, name: str, value: Any) -> Any:
    spec = ENTITIES[entity].fields[name]
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
        if spec.max_length is not None:
            value = value[: spec.max_length]
    return value


def find_by_external_id(writes: ServerWrites, *, source: str, external_id: str) -> tuple[str, dict[str, Any]] | None:
    rows = writes.find("lead", external_id=external_id[:80], source=source)
    return rows[0] if rows else None


def intake(writes: ServerWrites, *, lead: LeadIntake, region: str, timezone: str) -> IntakeResult:
    if lead.external_id:
        seen = find_by_external_id(writes, source=lead.source, external_id=lead.external_id)
        if seen is not None:
            return IntakeResult(seen[0], seen[1].get("patient_id"), False, duplicate=True)
    attribution = {k: _fit("lead", k, lead.attribution.get(k)) for k in ATTRIBUTION}
    received = iso(lead.received_at)
    match: patients.Match | None = None
    lead_id = new_id()
    if lead.flagged is None:
        touch = {"source": lead.source, "at": received, "lead_id": lead_id,
                 **{k: attribution[k] for k in FIRST_TOUCH if attribution[k]}}
        match = patients.match_or_create(writes, person=lead.person, region=region, consents=lead.consents,
                                         first_touch=touch)
    lead_fields = {
        "patient_id": match.patient_id if match else None,
        "source": lead.source,
        "status": (LeadStatus.SPAM if lead.flagged else LeadStatus.NEW).value,
        "service_interest": _fit("lead", "service_interest", lead.service_interest),
        "message": _fit("lead", "message", lead.message),
        "external_id": _fit("lead", "external_id", lead.external_id),
        "received_at": received,
        **attribution,
    }
    decided: routing.Plan | None = None
    if match is not None:
        decided = routing.plan(writes, source=lead.source, service_interest=lead_fields["service_interest"],
                               vip=bool(match.data.get("vip")), received_at=lead.received_at)
        lead_fields.update(decided.fields())
    writes.insert("lead", lead_fields, entity_id=lead_id)
    payload: dict[str, Any] = {"source": lead.source, "service_interest": lead_fields["service_interest"],
                               **{k: v for k, v in lead.details.items() if v is not None}}
    for key in ("form_id", "campaign_id", "ad_id", "utm_campaign"):
        if attribution.get(key):
            payload[key] = attribution[key]
    if lead.flagged:
        payload["flagged"] = lead.flagged
        payload["contact"] = {k: v for k, v in (
            ("name", " ".join(p for p in (lead.person.first_name, lead.person.last_name) if p)),
            ("phone", lead.person.phone), ("email", lead.person.email)) if v}
    if match is not None and match.review_id:
        payload["merge_review_id"] = match.review_id
    writes.append("activity", {
        "patient_id": match.patient_id if match else None, "lead_id": lead_id, "type": "lead.received",
        "actor_id": None, "occurred_at": received, "payload": payload,
    })
    if decided is not None and match is not None:
        routing.record_plan(writes, lead_id=lead_id, patient_id=match.patient_id, decided=decided)
    ack_id = None
    if match is not None and lead.acknowledge:
        from sync_server.messaging import service as messaging

        ack_id = messaging.acknowledge_lead(writes, patient_id=match.patient_id, lead_id=lead_id, source=lead.source,
                                            timezone=timezone)
    return IntakeResult(lead_id, match.patient_id if match else None, bool(match and match.created),
                        review_id=match.review_id if match else None, acknowledgement_id=ack_id,
                        owner_id=decided.assignment.staff_id if decided else None)
