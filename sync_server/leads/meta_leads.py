"""Meta lead ads: a ``leadgen`` webhook carries ids only; the job fetches the lead from the Graph
API, maps its ``field_data`` onto the client and creates the lead with its form, campaign, ad set
and ad ids (a lead without an ad id is organic). The recurring sweep lists each connected form's
recent leads and stores any the webhooks missed, through the same inbox (so nothing is doubled).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from core.phone import try_normalize_phone
from sync_server.integrations import service as integrations
from sync_server.jobs.service import JobError
from sync_server.jobs.worker import JobContext
from sync_server.leads import service as leads
from sync_server.messaging import service as messaging
from sync_server.patients.service import Person, split_name
from sync_server.records.service import ServerWrites
from sync_server.sync.service import iso
from sync_server.webhooks import meta as meta_webhooks
from sync_server.webhooks import service as inbox
from sync_server.webhooks.models import WebhookEvent

SWEEP_JOB = "meta.sweep"
#: how far back the sweep looks for leads (Meta keeps them for 90 days)
SWEEP_WINDOW = timedelta(days=2)

_CONTACT = {"full_name", "name", "first_name", "last_name", "phone_number", "phone", "email", "email_address"}
_INTEREST_WORDS = ("treatment", "service", "interest", "procedure")


def _answers(lead: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in lead.get("field_data") or []:
        name = str(item.get("name", "")).strip()
        values = [str(v) for v in item.get("values") or [] if v is not None]
        if name:
            out[name.lower()] = ", ".join(values)
    return out


def to_intake(lead: dict[str, Any], hint: dict[str, Any], *, now: datetime, region: str) -> leads.LeadIntake:
    """A Graph lead (``GET /{leadgen_id}``) as a :class:`LeadIntake`; ``hint`` is the webhook's ids."""
    answers = _answers(lead)
    first, last = answers.get("first_name", ""), answers.get("last_name", "")
    if not (first or last):
        first, last = split_name(answers.get("full_name") or answers.get("name"))
    phone = answers.get("phone_number") or answers.get("phone")
    email = answers.get("email") or answers.get("email_address")
    interest = next((v for k, v in answers.items() if any(w in k for w in _INTEREST_WORDS)), None)
    other = [f"{k.replace('_', ' ')}: {v}" for k, v in answers.items()
             if k not in _CONTACT and v and v != interest]
    ad_id = lead.get("ad_id") or hint.get("ad_id") or None
    organic = bool(lead.get("is_organic")) or not ad_id
    attribution = {
        "form_id": str(lead.get("form_id") or hint.get("form_id") or "") or None,
        "ad_id": None if organic else str(ad_id),
        "adset_id": None if organic else (str(lead.get("adset_id") or hint.get("adgroup_id") or "") or None),
        "campaign_id": None if organic else (str(lead.get("campaign_id") or "") or None),
        "utm_source": {"fb": "facebook", "ig": "instagram"}.get(str(lead.get("platform") or ""), None),
        "utm_medium": None if organic else "paid_social",
    }
    created = _created_time(lead.get("created_time")) or now
    consents: dict[str, Any] = {}
    if try_normalize_phone(phone, region):
        # the person asked the clinic to contact them about this inquiry, giving their number
        consents["transactional_sms"] = {"granted": True, "at": iso(created), "source": "meta_lead_ad",
                                         "basis": "inquiry"}
    for response in lead.get("custom_disclaimer_responses") or []:
        if "market" in str(response.get("checkbox_key", "")).lower():
            consents["marketing_sms"] = {"granted": bool(response.get("is_checked")), "at": iso(created),
                                         "source": "meta_lead_ad"}
    return leads.LeadIntake(
        source=leads.META_LEAD_AD, received_at=created, external_id=str(lead.get("id") or hint.get("leadgen_id")),
        person=Person(first_name=first, last_name=last, phone=phone, email=email),
        service_interest=interest, message="\n".join(other) or None, attribution=attribution, consents=consents,
        details={"organic": organic, "platform": lead.get("platform")},
    )


def _created_time(value: Any) -> datetime | None:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str) and value:
        try:
            return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z").astimezone(UTC)
        except ValueError:
            return None
    return None


def _graph(ctx: JobContext) -> tuple[Any, integrations.MetaAccount]:
    from sync_server.integrations.meta_graph import GraphClient

    with ctx.transaction(write=False) as session:
        account = integrations.meta_account(session, clinic_id=ctx.clinic_id,
                                            secret_key=ctx.settings.ensure_secret_key())
    if account is None or not account.page_token:
        raise JobError("Meta is not connected for this clinic (no page token); set it with integrations set.",
                       permanent=True)
    return GraphClient(ctx.settings.meta_graph_url, access_token=account.page_token,
                       app_secret=account.app_secret), account


# --- the leadgen event ------------------------------------------------------------------------


def prepare_leadgen(ctx: JobContext, event: WebhookEvent) -> dict[str, Any]:
    client, _ = _graph(ctx)
    with client:
        lead: dict[str, Any] = client.lead(str(event.payload["leadgen_id"]))
    return lead


def apply_leadgen(session: Session, ctx: JobContext, event: WebhookEvent, lead: dict[str, Any]) -> str:
    writes = ServerWrites(session, clinic_id=ctx.clinic_id, now=ctx.now(), hlc=ctx.worker.hlc)
    profile = messaging.clinic_profile(session, clinic_id=ctx.clinic_id)
    intake = to_intake(lead, event.payload, now=ctx.now(), region=profile.region)
    result = leads.intake(writes, lead=intake, region=profile.region, timezone=profile.timezone)
    if result.duplicate:
        return "lead already recorded"
    return "lead created" + (" (merge review)" if result.review_id else "")


# --- the sweep --------------------------------------------------------------------------------


def sweep(ctx: JobContext) -> None:
    client, account = _graph(ctx)
    since = ctx.now() - SWEEP_WINDOW
    found: list[tuple[str, str]] = []
    with client:
        if not account.page_id:
            return
        for form_id in client.page_forms(account.page_id):
            for lead in client.form_leads(form_id, since=since):
                found.append((form_id, str(lead["id"])))
    with ctx.transaction() as session:
        for form_id, leadgen_id in found:
            inbox.receive(session, clinic_id=ctx.clinic_id, source=meta_webhooks.SOURCE,
                          external_id=f"leadgen:{leadgen_id}", kind=meta_webhooks.LEADGEN,
                          payload={"leadgen_id": leadgen_id, "form_id": form_id, "page_id": account.page_id,
                                   "via": "sweep"}, now=ctx.now())
        ctx.finish(session)
