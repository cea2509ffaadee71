"""Lead routing on the server: assignment at intake, claims that lapse, reply deadlines that
escalate. The rules are :mod:`core.routing`'s pure functions; this module feeds them the clinic
(its settings, staff, rota, workload) and writes their decisions as server-owned facts on the
``lead`` record, with a timeline entry for each, in the caller's transaction. Services never
commit.

- **Assignment** (:func:`plan` at intake, :func:`route_unrouted` for leads typed in at a
  desktop): ``owner_id`` by the clinic's ordered rules, and ``sla_due_at`` by the lead's source;
  a ``lead.assigned`` entry says who and why; a ``lead.sla`` job is queued for the due time.
- **Claims** (:func:`claim`, :func:`release`, requested by a desktop while online): the server
  sets ``claimed_by``/``claimed_at``/``claim_expires_at`` and queues a ``lead.claim`` job for the
  expiry. At expiry (:func:`expire_claim`) a claim whose holder has made contact since claiming
  (a text sent, a call logged) is kept (no expiry any more, and the holder becomes the owner);
  otherwise it lapses. A text sent by the holder keeps the claim at once
  (:func:`contact_made`, called by messaging).
- **Reply deadlines** (:func:`check_sla`): when ``sla_due_at`` passes without a first reply
  (messaging's ``first_reply_at``) or a logged contact, the lead is escalated to a manager
  (``escalated_at``/``escalated_to``, a ``lead.escalated`` entry).
- **The sweep** (:func:`sweep`, every minute per clinic): the safety net for a timer whose job
  did not run, and the router of leads created on a desktop.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from core.errors import ConflictError, NotFoundError, PermissionDenied
from core.routing import (
    Assignment,
    LeadFacts,
    Member,
    RoutingPolicy,
    RoutingSettingsError,
    WeeklyHours,
    Workload,
    assign,
    claim_expiry,
    clinic_hours,
    escalation_target,
    parse_hours,
    parse_policy,
    sla_due,
)
from core.states import OPEN_LEAD_STATES, LeadStatus
from sync_server.clinics import service as clinics
from sync_server.leads import repository
from sync_server.records.service import ServerWrites
from sync_server.sync.service import iso

log = logging.getLogger(__name__)

CLAIM_JOB = "lead.claim"
SLA_JOB = "lead.sla"
SWEEP_JOB = "lead.sweep"
SWEEP_SECONDS = 60
#: a desktop-made lead older than this is not routed by the sweep (it was dealt with in person)
ROUTE_WINDOW = timedelta(hours=24)
#: timeline entries that count as contact with the person (a text sent, a call logged)
CONTACT_TYPES = frozenset({"message.outbound", "lead.contacted", "call.logged"})
_OPEN = frozenset(s.value for s in OPEN_LEAD_STATES)

# timeline entry types written here
ASSIGNED, CLAIMED, RELEASED, CLAIM_KEPT, CLAIM_LAPSED, ESCALATED = (
    "lead.assigned", "lead.claimed", "lead.released", "lead.claim_kept", "lead.claim_lapsed", "lead.escalated")


def parse_at(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


# --- the clinic as routing sees it -----------------------------------------------------------


@dataclass(frozen=True)
class Roster:
    policy: RoutingPolicy
    staff: list[Member]
    tz: ZoneInfo
    hours: WeeklyHours

    def name(self, staff_id: str | None) -> str | None:
        return next((m.name for m in self.staff if m.id == staff_id), None)

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.tz)


def clinic_settings(writes: ServerWrites) -> dict[str, Any]:
    data = writes.get("clinic", writes.clinic_id) or {}
    settings = data.get("settings")
    return dict(settings) if isinstance(settings, dict) else {}


def roster(writes: ServerWrites) -> Roster:
    """The clinic's routing policy, active staff (sign-in records, with the rota of their synced
    staff row) and hours."""
    clinic = clinics.get_clinic(writes.session, clinic_id=writes.clinic_id)
    try:
        tz = ZoneInfo(clinic.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    settings = clinic_settings(writes)
    try:
        policy = parse_policy(settings.get("lead_routing"))
    except RoutingSettingsError as exc:  # stored settings are checked when set; be safe anyway
        log.warning("clinic lead routing settings unusable (%s); routing with the defaults", exc.code)
        policy = RoutingPolicy()
    synced = dict(writes.find("staff"))
    members = []
    for person in clinics.list_staff(writes.session, clinic_id=writes.clinic_id, active_only=True):
        row = synced.get(person.id) or {}
        try:
            hours = parse_hours(row.get("working_hours"))
        except RoutingSettingsError:
            hours = {}
        members.append(Member(person.id, person.display_name, person.role, active=row.get("active", True) is not False,
                              hours=hours or None))
    return Roster(policy, members, tz, clinic_hours(settings))


def _workload(writes: ServerWrites) -> Workload:
    return Workload(repository.open_leads_per_owner(writes.session, clinic_id=writes.clinic_id),
                    repository.last_assigned(writes.session, clinic_id=writes.clinic_id))


# --- assignment ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """Routing's decision for a new lead: its owner and reply deadline."""

    assignment: Assignment
    sla_due_at: datetime | None
    owner_name: str | None

    def fields(self) -> dict[str, Any]:
        return {"owner_id": self.assignment.staff_id, "sla_due_at": iso(self.sla_due_at)}


def plan(writes: ServerWrites, *, source: str, service_interest: str | None, vip: bool, received_at: datetime,
         owner_id: str | None = None, team: Roster | None = None) -> Plan:
    """Who gets a new lead and when its first reply is due (an owner already set is kept)."""
    team = team or roster(writes)
    if owner_id:
        assignment = Assignment(owner_id, None, "owner chosen when the lead was entered")
    else:
        facts = LeadFacts(source, service_interest, vip)
        assignment = assign(facts, team.policy, team.staff, _workload(writes) if team.policy.rules else Workload(),
                            local_now=team.local(writes.now), clinic=team.hours)
    due = sla_due(received_at, source, team.policy, tz=team.tz, clinic=team.hours)
    return Plan(assignment, due, team.name(assignment.staff_id))


def record_plan(writes: ServerWrites, *, lead_id: str, patient_id: str | None, decided: Plan) -> None:
    """The timeline entry of an assignment, and the job that checks the reply deadline."""
    a = decided.assignment
    writes.append("activity", {
        "patient_id": patient_id, "lead_id": lead_id, "type": ASSIGNED, "actor_id": None,
        "occurred_at": iso(writes.now),
        "payload": {"owner_id": a.staff_id, "owner": decided.owner_name, "rule": a.rule, "reason": a.reason,
                    "sla_due_at": iso(decided.sla_due_at)},
    })
    if decided.sla_due_at is not None:
        _queue(writes, SLA_JOB, {"lead_id": lead_id}, f"{SLA_JOB}:{lead_id}:{iso(decided.sla_due_at)}",
               run_after=decided.sla_due_at)
    ensure_sweep(writes)


def route_unrouted(writes: ServerWrites, *, lead_id: str, lead: dict[str, Any], team: Roster) -> bool:
    """Route a lead that did not come through intake (typed in at a desktop): True if routed."""
    received = parse_at(lead.get("received_at"))
    if received is None or team.policy.sla_for(str(lead.get("source"))) is None:
        return False
    patient = writes.get("patient", lead["patient_id"]) if lead.get("patient_id") else None
    decided = plan(writes, source=str(lead.get("source")), service_interest=lead.get("service_interest"),
                   vip=bool((patient or {}).get("vip")), received_at=received, owner_id=lead.get("owner_id"),
                   team=team)
    writes.update("lead", lead_id, decided.fields())
    record_plan(writes, lead_id=lead_id, patient_id=lead.get("patient_id"), decided=decided)
    return True


# --- claims ----------------------------------------------------------------------------------


def _lead(writes: ServerWrites, lead_id: str) -> dict[str, Any]:
    lead = writes.get("lead", lead_id)
    if lead is None:
        raise NotFoundError("There is no such lead in this clinic (it may have been deleted).")
    return lead


def _ago(since: datetime, now: datetime) -> str:
    minutes = int((now - since).total_seconds() // 60)
    return "just now" if minutes < 1 else f"{minutes} minute{'s' if minutes != 1 else ''} ago"


def claim(writes: ServerWrites, *, lead_id: str, staff_id: str, staff_name: str) -> dict[str, Any]:
    """``staff_id`` takes the lead so that nobody else calls the same person; it lapses after
    the clinic's claim time without contact. Refused while someone else holds it."""
    lead = _lead(writes, lead_id)
    now = writes.now
    if lead.get("status") not in _OPEN:
        raise ConflictError(f"This lead is {str(lead.get('status')).replace('_', ' ')}, so there is nothing to "
                            "claim.", code="lead_closed")
    holder = lead.get("claimed_by")
    expires = parse_at(lead.get("claim_expires_at"))
    if holder == staff_id:
        return lead  # already yours: the claim runs as it was
    if holder and (expires is None or expires > now):
        team = roster(writes)
        who = team.name(holder) or "Someone else"
        since = parse_at(lead.get("claimed_at")) or now
        until = "" if expires is None else f"; it lapses at {team.local(expires):%-I:%M %p} without contact"
        raise ConflictError(f"{who} claimed this lead {_ago(since, now)} and is working it{until}.",
                            code="lead_claimed")
    team = roster(writes)
    expires = claim_expiry(now, team.policy)
    writes.update("lead", lead_id, {"claimed_by": staff_id, "claimed_at": iso(now), "claim_expires_at": iso(expires)})
    writes.append("activity", {
        "patient_id": lead.get("patient_id"), "lead_id": lead_id, "type": CLAIMED, "actor_id": staff_id,
        "occurred_at": iso(now),
        "payload": {"claimed_by": staff_id, "by": staff_name, "claim_expires_at": iso(expires),
                    "minutes": team.policy.claim_minutes, "took_over_from": holder},
    })
    _queue(writes, CLAIM_JOB, {"lead_id": lead_id, "claimed_at": iso(now)}, f"{CLAIM_JOB}:{lead_id}:{iso(now)}",
           run_after=expires)
    ensure_sweep(writes)
    return writes.get("lead", lead_id) or lead


def release(writes: ServerWrites, *, lead_id: str, staff_id: str, staff_name: str,
            may_release_others: bool) -> dict[str, Any]:
    """Give a claim back (its holder, or a manager for anyone's)."""
    lead = _lead(writes, lead_id)
    holder = lead.get("claimed_by")
    if not holder:
        return lead
    if holder != staff_id and not may_release_others:
        who = roster(writes).name(holder) or "another staff member"
        raise PermissionDenied(f"This lead is claimed by {who}; only they or a manager can release it.",
                               code="not_your_claim")
    _clear_claim(writes, lead_id, lead, RELEASED, actor=staff_id, extra={"by": staff_name})
    return writes.get("lead", lead_id) or lead


def _clear_claim(writes: ServerWrites, lead_id: str, lead: dict[str, Any], kind: str, *, actor: str | None,
                 extra: dict[str, Any]) -> None:
    writes.update("lead", lead_id, {"claimed_by": None, "claimed_at": None, "claim_expires_at": None})
    writes.append("activity", {
        "patient_id": lead.get("patient_id"), "lead_id": lead_id, "type": kind, "actor_id": actor,
        "occurred_at": iso(writes.now),
        "payload": {"claimed_by": lead.get("claimed_by"), "claimed_at": lead.get("claimed_at"), **extra},
    })


def _keep_claim(writes: ServerWrites, lead_id: str, lead: dict[str, Any], contact: tuple[datetime, str]) -> None:
    holder = lead.get("claimed_by")
    writes.update("lead", lead_id, {"claim_expires_at": None, "owner_id": holder})
    writes.append("activity", {
        "patient_id": lead.get("patient_id"), "lead_id": lead_id, "type": CLAIM_KEPT, "actor_id": None,
        "occurred_at": iso(writes.now),
        "payload": {"claimed_by": holder, "contact": contact[1], "contact_at": iso(contact[0])},
    })


def contact_since(writes: ServerWrites, *, lead_id: str, lead: dict[str, Any], since: datetime,
                  staff_id: str | None = None) -> tuple[datetime, str] | None:
    """The first contact with the lead's person at or after ``since`` (by ``staff_id`` when
    given): a text sent or a call logged by a person, on the lead or on the client's timeline."""
    entries = writes.find("activity", lead_id=lead_id)
    if lead.get("patient_id"):
        entries += writes.find("activity", patient_id=str(lead["patient_id"]))
    found: list[tuple[datetime, str]] = []
    for _id, entry in entries:
        if entry.get("type") not in CONTACT_TYPES or not entry.get("actor_id"):
            continue
        if staff_id is not None and entry.get("actor_id") != staff_id:
            continue
        at = parse_at(entry.get("occurred_at"))
        if at is not None and at >= since:
            found.append((at, str(entry.get("type"))))
    return min(found) if found else None


def expire_claim(writes: ServerWrites, *, lead_id: str, claimed_at: str | None) -> str:
    """The claim's time is up: kept if its holder made contact since claiming, else lapsed."""
    lead = writes.get("lead", lead_id)
    if lead is None or not lead.get("claimed_by"):
        return "no claim"
    if claimed_at is not None and lead.get("claimed_at") != claimed_at:
        return "claimed again since"
    expires = parse_at(lead.get("claim_expires_at"))
    if expires is None:
        return "kept"
    if expires > writes.now:
        return "not due"
    since = parse_at(lead.get("claimed_at")) or expires
    contact = contact_since(writes, lead_id=lead_id, lead=lead, since=since, staff_id=str(lead["claimed_by"]))
    if contact is not None:
        _keep_claim(writes, lead_id, lead, contact)
        return "kept after contact"
    minutes = max(1, round((expires - since).total_seconds() / 60))
    _clear_claim(writes, lead_id, lead, CLAIM_LAPSED, actor=None, extra={"minutes": minutes})
    return "lapsed"


def contact_made(writes: ServerWrites, *, patient_id: str, staff_id: str | None, kind: str) -> None:
    """A person texted (or called) a client: their running claims on the client's open leads are
    kept at once (no expiry any more; they own the lead)."""
    if not staff_id:
        return
    for lead_id, lead in writes.find("lead", patient_id=patient_id):
        if lead.get("status") in _OPEN and lead.get("claimed_by") == staff_id and lead.get("claim_expires_at"):
            _keep_claim(writes, lead_id, lead, (writes.now, kind))


# --- reply deadlines -------------------------------------------------------------------------


def check_sla(writes: ServerWrites, *, lead_id: str, team: Roster | None = None) -> str:
    """Escalate a lead whose first reply is overdue (to a manager; recorded on the lead and its
    timeline). A logged contact before now counts as the first reply."""
    lead = writes.get("lead", lead_id)
    if lead is None or lead.get("status") not in _OPEN:
        return "closed"
    if lead.get("first_reply_at") or lead.get("escalated_at"):
        return "answered" if lead.get("first_reply_at") else "already escalated"
    due = parse_at(lead.get("sla_due_at"))
    if due is None:
        return "no timer"
    if due > writes.now:
        return "not due"
    received = parse_at(lead.get("received_at")) or due
    contact = contact_since(writes, lead_id=lead_id, lead=lead, since=received)
    if contact is not None:
        writes.update("lead", lead_id, {"first_reply_at": iso(contact[0])})
        return "answered (logged contact)"
    if lead.get("status") != LeadStatus.NEW.value:
        return "worked"
    team = team or roster(writes)
    target = escalation_target(team.policy, team.staff, local_now=team.local(writes.now), clinic=team.hours)
    writes.update("lead", lead_id, {"escalated_at": iso(writes.now), "escalated_to": target})
    late = max(0, round((writes.now - due).total_seconds() / 60))
    writes.append("activity", {
        "patient_id": lead.get("patient_id"), "lead_id": lead_id, "type": ESCALATED, "actor_id": None,
        "occurred_at": iso(writes.now),
        "payload": {"sla_due_at": lead.get("sla_due_at"), "minutes_late": late, "escalated_to": target,
                    "escalated_to_name": team.name(target), "owner_id": lead.get("owner_id"),
                    "owner": team.name(lead.get("owner_id")), "source": lead.get("source")},
    })
    return "escalated"


# --- the sweep -------------------------------------------------------------------------------


@dataclass
class SweepReport:
    lapsed: int = 0
    kept: int = 0
    escalated: int = 0
    routed: int = 0
    published: int = 0  # merge reviews given their sync row


def sweep(writes: ServerWrites) -> SweepReport:
    """Timers whose job did not run (claims past expiry, replies past due) and leads made on a
    desktop that were never routed."""
    from sync_server.patients import service as patients

    now = writes.now
    report = SweepReport()
    report.published = patients.publish_reviews(writes)
    team: Roster | None = None
    since = repository.iso_floor(now - ROUTE_WINDOW)
    for lead_id, lead in repository.sweep_candidates(writes.session, clinic_id=writes.clinic_id, since=since):
        expires = parse_at(lead.get("claim_expires_at"))
        if lead.get("claimed_by") and expires is not None and expires <= now:
            outcome = expire_claim(writes, lead_id=lead_id, claimed_at=None)
            report.lapsed += outcome == "lapsed"
            report.kept += outcome == "kept after contact"
        if lead.get("first_reply_at") or lead.get("escalated_at") or lead.get("status") != LeadStatus.NEW.value:
            continue
        due = parse_at(lead.get("sla_due_at"))
        if due is not None and due <= now:
            team = team or roster(writes)
            report.escalated += check_sla(writes, lead_id=lead_id, team=team) == "escalated"
        elif due is None:
            team = team or roster(writes)
            report.routed += route_unrouted(writes, lead_id=lead_id, lead=lead, team=team)
    return report


# --- jobs ------------------------------------------------------------------------------------


def _queue(writes: ServerWrites, kind: str, payload: dict[str, Any], dedupe_key: str, *,
           run_after: datetime, repeat_seconds: int | None = None) -> None:
    from sync_server.jobs import service as jobs

    jobs.enqueue(writes.session, clinic_id=writes.clinic_id, kind=kind, payload=payload, dedupe_key=dedupe_key[:200],
                 now=writes.now, run_after=max(run_after, writes.now), repeat_seconds=repeat_seconds)


def ensure_sweep(writes: ServerWrites) -> None:
    """Queue the clinic's recurring routing sweep once (later runs are queued by each run)."""
    if writes.session.info.get("glowdesk.lead_sweep") == writes.clinic_id:
        return
    writes.session.info["glowdesk.lead_sweep"] = writes.clinic_id
    _queue(writes, SWEEP_JOB, {}, f"{SWEEP_JOB}@first", run_after=writes.now + timedelta(seconds=SWEEP_SECONDS),
           repeat_seconds=SWEEP_SECONDS)


def start_sweep(session: Session, *, clinic_id: str, now: datetime) -> None:
    """Queue the sweep for a clinic (when its routing is set up)."""
    from sync_server.jobs import service as jobs

    jobs.enqueue(session, clinic_id=clinic_id, kind=SWEEP_JOB, payload={}, dedupe_key=f"{SWEEP_JOB}@first", now=now,
                 run_after=now, repeat_seconds=SWEEP_SECONDS)
