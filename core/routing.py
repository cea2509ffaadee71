"""Lead routing as pure functions: who gets a new lead, when its first reply is due, when a
claim lapses, and who hears about a missed reply. The server applies them (``sync_server.leads``);
the desktop uses the same ones to show the timers.

The clinic's routing lives in ``clinic.settings["lead_routing"]`` (server-side, synced to the
desktops read-only)::

    {
      "claim_minutes": 10,                         # a claim lapses after this without contact
      "sla_minutes": {"web_form": 5, "phone": 15},  # first reply due after N minutes, per source
                                                   # (null: no timer for that source)
      "after_hours": "next_opening",               # a lead that arrives while the clinic is
                                                   # closed is due N minutes after it opens
                                                   # ("clock": counts from arrival anyway)
      "rules": [                                   # tried in order; the first that gives an
        {"kind": "service", "match": ["laser"], "staff": ["<id>"]},      # on-shift person wins
        {"kind": "vip", "roles": ["manager"]},
        {"kind": "round_robin", "roles": ["front_desk"]},
        {"kind": "fewest_open", "roles": ["front_desk", "manager"]}
      ],
      "fallback": "<staff id>",                    # nobody matched or is on shift: this person
      "escalate_to": ["<staff id>"]                # missed replies go to them (default: the
    }                                              # managers, then the owners)

Working hours are a weekly rota per staff member (``staff.working_hours``, in the clinic's time
zone): ``{"mon": [["09:00", "13:00"], ["14:00", "18:00"]], "sat": [["10:00", "14:00"]]}``. A staff
member without a rota is on shift whenever the clinic is open (``clinic.settings
["opening_hours"]``, default Monday to Saturday 9:00-19:00).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Any, Final

from core.errors import ValidationError

DAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_LABELS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

DEFAULT_CLAIM_MINUTES: Final = 10
MAX_CLAIM_MINUTES: Final = 24 * 60
MAX_SLA_MINUTES: Final = 7 * 24 * 60
#: first reply due after N minutes, by lead source (DOMAIN.md: first human contact within 5
#: minutes for hot leads, 15 for warm, 60 for cold); None: no timer (the person is in the clinic)
DEFAULT_SLA_MINUTES: Final[Mapping[str, int | None]] = {
    "meta_lead_ad": 5,
    "google_ads": 5,
    "web_form": 5,
    "instagram_dm": 5,
    "sms": 5,
    "phone": 15,
    "referral": 15,
    "manual": 60,
    "walk_in": None,
}
#: the timer of a source not listed above
DEFAULT_SLA: Final = 5
NEXT_OPENING = "next_opening"
CLOCK = "clock"
#: the clinic's opening hours when its settings name none (Monday to Saturday 9:00-19:00)
DEFAULT_OPENING_HOURS: Final[Mapping[str, Any]] = {d: ["09:00", "19:00"] for d in DAYS[:6]}

ROLES: Final = ("owner", "manager", "provider", "front_desk", "medical_director")

# --- weekly hours ----------------------------------------------------------------------------

#: weekday (0 = Monday) -> spans in minutes after midnight, [start, end), end <= 1440
WeeklyHours = dict[int, tuple[tuple[int, int], ...]]

_HHMM = re.compile(r"^(\d{1,2})(?::(\d{2}))?$")


class RoutingSettingsError(ValidationError):
    """Lead routing settings (or working hours) that cannot be used; the sentence says why."""

    code = "invalid_routing"


def _minutes(text: str, *, what: str) -> int:
    match = _HHMM.match(text.strip())
    if not match:
        raise RoutingSettingsError(f"{what}: '{text}' is not a time such as 9:00 or 17:30.")
    hours, minutes = int(match.group(1)), int(match.group(2) or 0)
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise RoutingSettingsError(f"{what}: '{text}' is not a time of day.")
    return hours * 60 + minutes


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_hours(value: Any, *, what: str = "Working hours") -> WeeklyHours:
    """Stored hours (``{"mon": [["09:00", "17:00"]], ...}``; one pair per day is accepted too)."""
    if value in (None, {}):
        return {}
    if not isinstance(value, Mapping):
        raise RoutingSettingsError(f"{what} must list days such as mon, tue with their times.")
    out: WeeklyHours = {}
    for key, spans in value.items():
        day = str(key).strip().lower()[:3]
        if day not in DAYS:
            raise RoutingSettingsError(f"{what}: '{key}' is not a day of the week.")
        if spans in (None, []):
            continue
        if isinstance(spans, Sequence) and len(spans) == 2 and all(isinstance(s, str) for s in spans):
            spans = [spans]
        if not isinstance(spans, Sequence) or isinstance(spans, str):
            raise RoutingSettingsError(f"{what}: the times of {key} must be pairs such as 09:00-17:00.")
        parsed: list[tuple[int, int]] = []
        for span in spans:
            if not isinstance(span, Sequence) or isinstance(span, str) or len(span) != 2:
                raise RoutingSettingsError(f"{what}: the times of {key} must be pairs such as 09:00-17:00.")
            start = _minutes(str(span[0]), what=what)
            end = _minutes(str(span[1]), what=what)
            if end <= start:
                raise RoutingSettingsError(
                    f"{what}: on {DAY_LABELS[DAYS.index(day)]} a shift must end after it starts "
                    f"({_hhmm(start)}-{_hhmm(end)})."
                )
            parsed.append((start, end))
        parsed.sort()
        for (_, end_a), (start_b, _) in zip(parsed, parsed[1:], strict=False):
            if start_b < end_a:
                raise RoutingSettingsError(f"{what}: the shifts of {DAY_LABELS[DAYS.index(day)]} overlap.")
        out[DAYS.index(day)] = tuple(parsed)
    return out


def hours_to_json(hours: WeeklyHours) -> dict[str, list[list[str]]]:
    return {DAYS[d]: [[_hhmm(a), _hhmm(b)] for a, b in spans] for d, spans in sorted(hours.items()) if spans}


_RANGE = re.compile(r"^\s*([A-Za-z]{3})[a-z]*\s*(?:[-\u2013]\s*([A-Za-z]{3})[a-z]*)?\s*$")


def hours_from_text(text: str) -> dict[str, list[list[str]]]:
    """Working hours typed as ``Mon-Fri 9:00-17:00; Sat 10:00-14:00`` (several shifts of a day
    separated by commas: ``Tue 9-13, 14-18``). Empty text: no rota of one's own."""
    out: dict[int, list[tuple[int, int]]] = {}
    for part in (p.strip() for p in text.replace("\n", ";").split(";")):
        if not part:
            continue
        head, _, tail = part.partition(" ")
        days_text, spans_text = head, tail
        days_match = _RANGE.match(days_text)
        if not days_match or not spans_text.strip():
            raise RoutingSettingsError(f"Working hours: '{part}' is not like 'Mon-Fri 9:00-17:00'.")
        first, last = days_match.group(1).lower(), (days_match.group(2) or days_match.group(1)).lower()
        if first not in DAYS or last not in DAYS:
            raise RoutingSettingsError(f"Working hours: '{days_text}' is not a day or a range of days.")
        i, j = DAYS.index(first), DAYS.index(last)
        days = list(range(i, j + 1)) if i <= j else [*range(i, 7), *range(0, j + 1)]
        for span in (s.strip() for s in spans_text.split(",")):
            start_text, sep, end_text = span.replace("\u2013", "-").partition("-")
            if not sep:
                raise RoutingSettingsError(f"Working hours: '{span}' is not a shift such as 9:00-17:00.")
            start = _minutes(start_text, what="Working hours")
            end = _minutes(end_text, what="Working hours")
            for d in days:
                out.setdefault(d, []).append((start, end))
    stored = {DAYS[d]: [[_hhmm(a), _hhmm(b)] for a, b in spans] for d, spans in sorted(out.items())}
    parse_hours(stored)  # the same checks as stored hours (order, overlaps)
    return stored


def hours_to_text(value: Any) -> str:
    """Stored hours as people type them: ``Mon-Fri 09:00-17:00; Sat 10:00-14:00``."""
    hours = parse_hours(value)
    groups: list[tuple[list[int], tuple[tuple[int, int], ...]]] = []
    for d in range(7):
        spans = hours.get(d)
        if not spans:
            continue
        if groups and groups[-1][1] == spans and groups[-1][0][-1] == d - 1:
            groups[-1][0].append(d)
        else:
            groups.append(([d], spans))
    parts = []
    for days, spans in groups:
        label = DAY_LABELS[days[0]] if len(days) == 1 else f"{DAY_LABELS[days[0]]}-{DAY_LABELS[days[-1]]}"
        parts.append(f"{label} " + ", ".join(f"{_hhmm(a)}-{_hhmm(b)}" for a, b in spans))
    return "; ".join(parts)


def clinic_hours(settings: Mapping[str, Any] | None) -> WeeklyHours:
    """The clinic's opening hours from its settings (``opening_hours``), or the default."""
    raw = (settings or {}).get("opening_hours")
    try:
        return parse_hours(raw if isinstance(raw, Mapping) else DEFAULT_OPENING_HOURS, what="Opening hours")
    except RoutingSettingsError:
        return parse_hours(DEFAULT_OPENING_HOURS)


def is_within(hours: WeeklyHours, local: datetime) -> bool:
    """Whether a local (clinic time zone) moment falls inside these hours."""
    minute = local.hour * 60 + local.minute
    return any(a <= minute < b for a, b in hours.get(local.weekday(), ()))


def next_start(hours: WeeklyHours, local: datetime) -> datetime | None:
    """The next moment at or after ``local`` that is inside ``hours`` (None: never)."""
    if is_within(hours, local):
        return local
    minute = local.hour * 60 + local.minute
    for days in range(8):
        day: date = (local + timedelta(days=days)).date()
        for start, _end in hours.get(day.weekday(), ()):
            if days == 0 and start <= minute:
                continue
            naive = datetime.combine(day, time(0)) + timedelta(minutes=start)
            return naive.replace(tzinfo=local.tzinfo)
    return None


# --- the policy ------------------------------------------------------------------------------


class RuleKind(StrEnum):
    #: leads whose service interest mentions one of ``match`` go to the rule's people
    SERVICE = "service"
    #: leads of a VIP client go to the rule's people (seniors)
    VIP = "vip"
    #: every lead, to whoever of the rule's people has waited longest for one
    ROUND_ROBIN = "round_robin"
    #: every lead, to whoever of the rule's people has the fewest open leads
    FEWEST_OPEN = "fewest_open"


class Pick(StrEnum):
    ROUND_ROBIN = "round_robin"
    FEWEST_OPEN = "fewest_open"


RULE_LABELS: Final = {
    RuleKind.SERVICE: "service interest",
    RuleKind.VIP: "VIP client",
    RuleKind.ROUND_ROBIN: "round robin",
    RuleKind.FEWEST_OPEN: "fewest open leads",
}


@dataclass(frozen=True)
class Rule:
    kind: RuleKind
    staff: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    match: tuple[str, ...] = ()
    pick: Pick = Pick.FEWEST_OPEN

    def describe(self) -> str:
        if self.kind is RuleKind.SERVICE:
            return f"service interest '{', '.join(self.match)}'"
        return RULE_LABELS[self.kind]


@dataclass(frozen=True)
class RoutingPolicy:
    rules: tuple[Rule, ...] = ()
    fallback: str | None = None
    claim_minutes: int = DEFAULT_CLAIM_MINUTES
    #: overrides of DEFAULT_SLA_MINUTES (None: no timer for that source)
    sla_minutes: Mapping[str, int | None] = field(default_factory=dict)
    after_hours: str = NEXT_OPENING
    escalate_to: tuple[str, ...] = ()

    def sla_for(self, source: str) -> int | None:
        if source in self.sla_minutes:
            return self.sla_minutes[source]
        return DEFAULT_SLA_MINUTES.get(source, DEFAULT_SLA)

    def staff_ids(self) -> set[str]:
        """Every staff id the policy names (for checks and for showing names)."""
        ids = {i for r in self.rules for i in r.staff} | set(self.escalate_to)
        if self.fallback:
            ids.add(self.fallback)
        return ids


def _str_list(value: Any, *, what: str, field: str | None = None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Sequence) or not all(isinstance(v, str) and v.strip() for v in value):
        raise RoutingSettingsError(f"{what} must be a list of names or ids.", field=field)
    return tuple(dict.fromkeys(v.strip() for v in value))


def _whole(value: Any, *, what: str, low: int, high: int, field: str | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RoutingSettingsError(f"{what} must be a whole number of minutes from {low} to {high}.",
                                   field=field)
    return value


def parse_rule(raw: Any, number: int) -> Rule:
    what = f"Rule {number}"
    at = f"rules[{number}]"
    if not isinstance(raw, Mapping):
        raise RoutingSettingsError(f"{what} must be an object with a kind.", field=at)
    unknown = set(raw) - {"kind", "staff", "roles", "match", "pick"}
    if unknown:
        raise RoutingSettingsError(
            f"{what} has settings Glowdesk does not know: {', '.join(sorted(unknown))}.", field=at
        )
    try:
        kind = RuleKind(str(raw.get("kind", "")).strip().lower())
    except ValueError:
        kinds = ", ".join(k.value for k in RuleKind)
        raise RoutingSettingsError(f"{what}: the kind must be one of {kinds}.", field=f"{at}.kind") from None
    staff = _str_list(raw.get("staff"), what=f"{what}'s staff", field=f"{at}.staff")
    roles = tuple(r.lower() for r in _str_list(raw.get("roles"), what=f"{what}'s roles", field=f"{at}.roles"))
    bad_roles = [r for r in roles if r not in ROLES]
    if bad_roles:
        raise RoutingSettingsError(f"{what}: '{bad_roles[0]}' is not a role ({', '.join(ROLES)}).",
                                   field=f"{at}.roles")
    if not staff and not roles:
        raise RoutingSettingsError(f"{what} ({kind.value}) must name its staff or roles.",
                                   field=f"{at}.staff")
    match = tuple(m.lower() for m in _str_list(raw.get("match"), what=f"{what}'s match", field=f"{at}.match"))
    if kind is RuleKind.SERVICE and not match:
        raise RoutingSettingsError(f"{what} (service) must list the words to match, such as laser.",
                                     field=f"{at}.match")
    if kind is not RuleKind.SERVICE and match:
        raise RoutingSettingsError(f"{what}: only a service rule matches words.", field=f"{at}.match")
    default_pick = Pick.ROUND_ROBIN if kind is RuleKind.ROUND_ROBIN else Pick.FEWEST_OPEN
    try:
        pick = Pick(str(raw.get("pick") or default_pick.value))
    except ValueError:
        raise RoutingSettingsError(f"{what}: pick is round_robin or fewest_open.",
                                     field=f"{at}.pick") from None
    if kind in (RuleKind.ROUND_ROBIN, RuleKind.FEWEST_OPEN) and pick.value != kind.value:
        raise RoutingSettingsError(f"{what}: a {kind.value} rule always picks by {kind.value}.",
                                     field=f"{at}.pick")
    return Rule(kind, staff, roles, match, pick)


def parse_policy(raw: Mapping[str, Any] | None) -> RoutingPolicy:
    """The policy from ``clinic.settings["lead_routing"]``; raises RoutingSettingsError with a
    sentence for settings that cannot be used (the server refuses to store them)."""
    if not raw:
        return RoutingPolicy()
    if not isinstance(raw, Mapping):
        raise RoutingSettingsError("Lead routing settings must be an object.")
    unknown = set(raw) - {"rules", "fallback", "claim_minutes", "sla_minutes", "after_hours", "escalate_to"}
    if unknown:
        raise RoutingSettingsError(
            f"Lead routing has settings Glowdesk does not know: {', '.join(sorted(unknown))}."
        )
    rules_raw = raw.get("rules") or []
    if not isinstance(rules_raw, Sequence) or isinstance(rules_raw, str):
        raise RoutingSettingsError("Lead routing rules must be a list.", field="rules")
    rules = tuple(parse_rule(r, i) for i, r in enumerate(rules_raw, start=1))
    fallback = raw.get("fallback")
    if fallback is not None and (not isinstance(fallback, str) or not fallback.strip()):
        raise RoutingSettingsError("The fallback must be one staff member.", field="fallback")
    claim = raw.get("claim_minutes", DEFAULT_CLAIM_MINUTES)
    claim = _whole(claim, what="The claim time", low=1, high=MAX_CLAIM_MINUTES, field="claim_minutes")
    sla_raw = raw.get("sla_minutes") or {}
    if not isinstance(sla_raw, Mapping):
        raise RoutingSettingsError("Reply times must be listed per source, such as web_form: 5.",
                                   field="sla_minutes")
    sla: dict[str, int | None] = {}
    for source, minutes in sla_raw.items():
        if minutes is None:
            sla[str(source)] = None
        else:
            sla[str(source)] = _whole(
                minutes, what=f"The reply time of {source}", low=1, high=MAX_SLA_MINUTES,
                field=f"sla_minutes.{source}")
    after = str(raw.get("after_hours") or NEXT_OPENING)
    if after not in (NEXT_OPENING, CLOCK):
        raise RoutingSettingsError("after_hours is next_opening or clock.", field="after_hours")
    escalate = _str_list(raw.get("escalate_to"), what="escalate_to", field="escalate_to")
    return RoutingPolicy(rules, fallback.strip() if fallback else None, claim, sla, after, escalate)


def policy_to_settings(policy: RoutingPolicy) -> dict[str, Any]:
    """The stored form of a policy (what :func:`parse_policy` reads back)."""
    rules: list[dict[str, Any]] = []
    for r in policy.rules:
        entry: dict[str, Any] = {"kind": r.kind.value}
        if r.staff:
            entry["staff"] = list(r.staff)
        if r.roles:
            entry["roles"] = list(r.roles)
        if r.match:
            entry["match"] = list(r.match)
        if r.kind in (RuleKind.SERVICE, RuleKind.VIP):
            entry["pick"] = r.pick.value
        rules.append(entry)
    out: dict[str, Any] = {
        "rules": rules,
        "claim_minutes": policy.claim_minutes,
        "sla_minutes": dict(policy.sla_minutes),
        "after_hours": policy.after_hours,
    }
    if policy.fallback:
        out["fallback"] = policy.fallback
    if policy.escalate_to:
        out["escalate_to"] = list(policy.escalate_to)
    return out


# --- people and their work -------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """A staff member as routing sees them."""

    id: str
    name: str
    role: str
    active: bool = True
    #: their own rota; None or empty: the clinic's opening hours
    hours: WeeklyHours | None = None

    def on_shift(self, local: datetime, clinic: WeeklyHours) -> bool:
        return self.active and is_within(self.hours or clinic, local)


@dataclass(frozen=True)
class LeadFacts:
    source: str
    service_interest: str | None = None
    vip: bool = False


@dataclass(frozen=True)
class Workload:
    #: open leads owned, per staff id
    open_leads: Mapping[str, int] = field(default_factory=dict)
    #: when each staff member was last given a lead (ISO text or datetime; missing: never)
    last_assigned: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Assignment:
    staff_id: str | None
    #: the rule that decided (1-based), None for the fallback or nobody
    rule: int | None
    #: a sentence for the timeline: why this person (or why nobody)
    reason: str


def rule_applies(rule: Rule, lead: LeadFacts) -> bool:
    if rule.kind is RuleKind.SERVICE:
        interest = (lead.service_interest or "").lower()
        return any(word in interest for word in rule.match)
    if rule.kind is RuleKind.VIP:
        return lead.vip
    return True


def candidates(rule: Rule, staff: Sequence[Member]) -> list[Member]:
    """The rule's people, active only: named ones first (in the rule's order), then by role."""
    by_id = {m.id: m for m in staff}
    chosen: dict[str, Member] = {}
    for sid in rule.staff:
        member = by_id.get(sid)
        if member is not None and member.active:
            chosen.setdefault(member.id, member)
    for member in staff:
        if member.active and member.role in rule.roles:
            chosen.setdefault(member.id, member)
    return list(chosen.values())


def _stamp(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def pick(pool: Sequence[Member], how: Pick, workload: Workload) -> Member:
    """Round robin: whoever was given a lead longest ago (never first); fewest open: the fewest
    open leads, then the longest wait. Ties keep the pool's order."""
    order = {m.id: i for i, m in enumerate(pool)}

    def waited(m: Member) -> str:
        return _stamp(workload.last_assigned.get(m.id))

    if how is Pick.ROUND_ROBIN:
        return min(pool, key=lambda m: (waited(m), order[m.id]))
    return min(pool, key=lambda m: (workload.open_leads.get(m.id, 0), waited(m), order[m.id]))


def assign(
    lead: LeadFacts,
    policy: RoutingPolicy,
    staff: Sequence[Member],
    workload: Workload,
    *,
    local_now: datetime,
    clinic: WeeklyHours,
) -> Assignment:
    """Who gets this lead: the first rule that applies and has someone on shift, else the
    fallback (on shift or not), else nobody (the lead waits unassigned, its timer running)."""
    for number, rule in enumerate(policy.rules, start=1):
        if not rule_applies(rule, lead):
            continue
        pool = [m for m in candidates(rule, staff) if m.on_shift(local_now, clinic)]
        if not pool:
            continue
        chosen = pick(pool, rule.pick, workload)
        return Assignment(chosen.id, number, f"rule {number} ({rule.describe()})")
    by_id = {m.id: m for m in staff}
    fallback = by_id.get(policy.fallback or "")
    if fallback is not None and fallback.active:
        why = "no rule matched" if policy.rules else "no rules are set"
        return Assignment(fallback.id, None, f"fallback ({why})")
    if not policy.rules:
        return Assignment(None, None, "no routing rules are set")
    return Assignment(None, None, "nobody named by the rules is on shift, and there is no fallback")


# --- timers ----------------------------------------------------------------------------------


def sla_due(
    received_at: datetime, source: str, policy: RoutingPolicy, *, tz: tzinfo, clinic: WeeklyHours
) -> datetime | None:
    """When the first reply to a lead is due (None: no timer for its source).

    With ``after_hours = next_opening`` a lead that arrives while the clinic is closed is due
    N minutes after the clinic next opens.
    """
    minutes = policy.sla_for(source)
    if minutes is None:
        return None
    start = received_at
    if policy.after_hours == NEXT_OPENING and clinic:
        opens = next_start(clinic, received_at.astimezone(tz))
        if opens is not None:
            start = max(received_at, opens.astimezone(received_at.tzinfo))
    return start + timedelta(minutes=minutes)


def claim_expiry(claimed_at: datetime, policy: RoutingPolicy) -> datetime:
    return claimed_at + timedelta(minutes=policy.claim_minutes)


def escalation_target(
    policy: RoutingPolicy, staff: Sequence[Member], *, local_now: datetime, clinic: WeeklyHours
) -> str | None:
    """Who hears about a missed reply: the first on-shift person of ``escalate_to`` (default:
    managers, then owners); if nobody is on shift, the first of them; None if there is nobody."""
    by_id = {m.id: m for m in staff}
    if policy.escalate_to:
        people = [by_id[i] for i in policy.escalate_to if i in by_id and by_id[i].active]
    else:
        people = [m for m in staff if m.active and m.role == "manager"]
        people += [m for m in staff if m.active and m.role == "owner"]
    if not people:
        return None
    for member in people:
        if member.on_shift(local_now, clinic):
            return member.id
    return people[0].id


__all__ = [
    "CLOCK",
    "DAYS",
    "DEFAULT_CLAIM_MINUTES",
    "DEFAULT_OPENING_HOURS",
    "DEFAULT_SLA",
    "DEFAULT_SLA_MINUTES",
    "NEXT_OPENING",
    "Assignment",
    "LeadFacts",
    "Member",
    "Pick",
    "RoutingPolicy",
    "RoutingSettingsError",
    "Rule",
    "RuleKind",
    "WeeklyHours",
    "Workload",
    "assign",
    "candidates",
    "claim_expiry",
    "clinic_hours",
    "escalation_target",
    "hours_from_text",
    "hours_to_json",
    "hours_to_text",
    "is_within",
    "next_start",
    "parse_hours",
    "parse_policy",
    "pick",
    "policy_to_settings",
    "rule_applies",
    "sla_due",
]
