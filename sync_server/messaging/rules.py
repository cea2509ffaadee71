"""Messaging rules that need no database: opt-out keywords, consent, quiet and opening hours,
templates.

- Keywords are matched as Twilio does: the whole message body, case-insensitive, surrounding
  spaces (and a trailing full stop or exclamation mark) ignored. ``STOP``, ``STOPALL``,
  ``UNSUBSCRIBE``, ``CANCEL``, ``END``, ``QUIT``, ``REVOKE``, ``OPTOUT`` opt out; ``START``,
  ``YES``, ``UNSTOP`` opt back in; ``HELP``, ``INFO`` ask for help.
- Transactional and marketing SMS consent are separate (``patient.consents``); marketing texts
  also wait out the quiet hours (default 20:00-08:00) in the client's time zone.
- Templates follow :mod:`core.templates` (the one implementation: DOMAIN.md's variables plus
  ``opens_at`` and ``clinic_phone`` for these automatic texts, conditionals, a sandbox that
  refuses attribute access); the texts Glowdesk sends by itself are rendered on one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.sms import MAX_BODY_CHARS
from core.templates import SYSTEM_VARIABLES, TemplateProblem, render_template

OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN = frozenset({"START", "YES", "UNSTOP"})
HELP = frozenset({"HELP", "INFO"})

TRANSACTIONAL = "transactional"
MARKETING = "marketing"
PURPOSES = (TRANSACTIONAL, MARKETING)
CONSENT_KEY = {TRANSACTIONAL: "transactional_sms", MARKETING: "marketing_sms"}


DEFAULT_QUIET_HOURS = ("20:00", "08:00")
#: weekday (0 = Monday) -> (opens, closes); Sunday closed
DEFAULT_OPENING_HOURS: dict[int, tuple[str, str]] = {d: ("09:00", "19:00") for d in range(6)}
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def keyword(body: str | None) -> str | None:
    """``"stop"``, ``"start"`` or ``"help"`` when the whole body is such a keyword, else None."""
    word = (body or "").strip().rstrip(".!").strip().upper()
    if word in OPT_OUT:
        return "stop"
    if word in OPT_IN:
        return "start"
    if word in HELP:
        return "help"
    return None


def refusal(*, phone: str | None, consents: dict[str, Any] | None, purpose: str, opted_out: bool) -> str | None:
    """Why a text of ``purpose`` may not be sent to this client, or None when it may."""
    if not phone:
        return "This client has no mobile number on their record, so no text was sent."
    if opted_out:
        return ("This client has opted out of texts (they replied STOP), so no text was sent; they can text START to "
                "opt back in.")
    entry = (consents or {}).get(CONSENT_KEY[purpose])
    if not isinstance(entry, dict) or not entry.get("granted"):
        kind = "marketing" if purpose == MARKETING else "appointment and service"
        return f"This client has not agreed to {kind} texts, so no text was sent."
    return None


def body_problem(body: str) -> str | None:
    """Why a text body cannot be sent as it is (empty, over Twilio's 1,600 characters), or None."""
    if not body.strip():
        return "A text needs some words before it can be sent."
    if len(body) > MAX_BODY_CHARS:
        return f"A text can be at most {MAX_BODY_CHARS} characters (this one has {len(body)}); shorten it."
    return None


def zone(name: str | None, fallback: str) -> ZoneInfo:
    for candidate in (name, fallback, "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def _hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def quiet_until(now: datetime, tz: ZoneInfo, quiet: tuple[str, str] = DEFAULT_QUIET_HOURS) -> datetime | None:
    """The end of the quiet hours if ``now`` falls inside them (in ``tz``), else None."""
    start, end = _hhmm(quiet[0]), _hhmm(quiet[1])
    local = now.astimezone(tz)
    t = local.time()
    inside = (start <= t or t < end) if start > end else (start <= t < end)
    if not inside:
        return None
    day = local.date() if t < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=tz).astimezone(now.tzinfo)


def opening_hours(settings: dict[str, Any] | None) -> dict[int, tuple[str, str]]:
    raw = (settings or {}).get("opening_hours")
    if not isinstance(raw, dict):
        return dict(DEFAULT_OPENING_HOURS)
    out: dict[int, tuple[str, str]] = {}
    for i, day in enumerate(_DAYS):
        value = raw.get(day)
        if isinstance(value, list | tuple) and len(value) == 2:
            out[i] = (str(value[0]), str(value[1]))
    return out


def is_open(now: datetime, tz: ZoneInfo, hours: dict[int, tuple[str, str]]) -> bool:
    local = now.astimezone(tz)
    today = hours.get(local.weekday())
    if today is None:
        return False
    return _hhmm(today[0]) <= local.time() < _hhmm(today[1])


def next_opening(now: datetime, tz: ZoneInfo, hours: dict[int, tuple[str, str]]) -> datetime | None:
    local = now.astimezone(tz)
    for days in range(8):
        day = local.date() + timedelta(days=days)
        span = hours.get(day.weekday())
        if not span:
            continue
        opens = datetime.combine(day, _hhmm(span[0]), tzinfo=tz)
        if opens > local:
            return opens
    return None


# --- templates --------------------------------------------------------------------------------

ACK_OPEN = ("Hi {{ first_name or 'there' }}, thanks for reaching out to {{ clinic_name }}! We got your request"
            "{% if service %} about {{ service }}{% endif %} and will text you back in a few minutes. "
            "Reply STOP to opt out.")
ACK_AFTER_HOURS = ("Hi {{ first_name or 'there' }}, thanks for reaching out to {{ clinic_name }}! We're closed "
                   "right now{% if opens_at %}; we open {{ opens_at }}{% endif %} and will text you then. "
                   "Reply STOP to opt out.")
HELP_REPLY = ("{{ clinic_name }}: for help call {{ clinic_phone or 'the clinic' }}. Msg & data rates may apply. "
              "Reply STOP to opt out.")

#: per source overrides of the acknowledgement (clinic settings ``lead_ack.templates`` win)
DEFAULT_ACK: dict[str, dict[str, str]] = {
    "web_form": {"open": ACK_OPEN, "after_hours": ACK_AFTER_HOURS},
    "meta_lead_ad": {
        "open": ("Hi {{ first_name or 'there' }}, this is {{ clinic_name }}: thanks for your interest"
                 "{% if service %} in {{ service }}{% endif %}! A member of our team will text you in a few minutes. "
                 "Reply STOP to opt out."),
        "after_hours": ACK_AFTER_HOURS,
    },
}

@dataclass(frozen=True)
class Rendered:
    body: str
    template: str  # which one: "<source>.open" / "<source>.after_hours" / "help"


def render(source_text: str, variables: dict[str, Any]) -> str:
    """Render one of the server's own texts (core's rules); one line of text, spaces collapsed."""
    try:
        return render_template(source_text, variables, allowed=SYSTEM_VARIABLES, one_line=True).text
    except TemplateProblem:
        raise ValueError("template does not render") from None


def ack_template(settings: dict[str, Any] | None, source: str, variant: str) -> str:
    configured = ((settings or {}).get("lead_ack") or {}).get("templates") or {}
    for table in (configured, DEFAULT_ACK):
        entry = table.get(source) or table.get("default") or {}
        if isinstance(entry, dict) and isinstance(entry.get(variant), str):
            return str(entry[variant])
    return ACK_OPEN if variant == "open" else ACK_AFTER_HOURS
