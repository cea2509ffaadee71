"""The lead board's live timers as text (pure functions; the screen calls them every second with
the time, never re-reading the store): time left for the first reply or how overdue it is, and
who holds a claim and for how long."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.services.leads import LeadRow

#: under this many seconds left the reply timer turns amber
WARN_SECONDS = 60


@dataclass(frozen=True)
class Timer:
    text: str
    tone: str  # ok, warn, danger, muted, neutral (chip tones)
    tip: str = ""


def span(seconds: float) -> str:
    """``4:05`` under an hour, ``1 h 05 m`` under a day, ``2 d 3 h`` beyond."""
    s = max(0, int(seconds))
    if s < 3600:
        return f"{s // 60}:{s % 60:02d}"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60:02d} m"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def coarse(seconds: float) -> str:
    """A span short enough for a chip: ``4:05``, ``13 h``, ``2 d 3 h``."""
    s = max(0, int(seconds))
    if 3600 <= s < 86400:
        return f"{s // 3600} h"
    return span(s)


def reply_timer(lead: LeadRow, now: datetime) -> Timer:
    """The first-reply timer of a lead: running, answered, overdue (and escalated)."""
    if lead.first_reply_at is not None:
        wait = span((lead.first_reply_at - lead.received_at).total_seconds())
        return Timer("Answered", "ok", f"First reply {wait} after it arrived")
    if not lead.open:
        return Timer("\u2014", "muted")
    if not lead.waiting_for_reply:
        return Timer("Contacted", "neutral")
    if lead.sla_due_at is None:
        return Timer("No timer", "muted", "Leads from this source have no reply deadline")
    left = (lead.sla_due_at - now).total_seconds()
    if left > 0:
        return Timer(f"{span(left)} left", "warn" if left <= WARN_SECONDS else "ok", "Time left for the first reply")
    if lead.escalated_at is not None:
        to = f" to {lead.escalated_to_name}" if lead.escalated_to_name else ""
        return Timer(f"Escalated \u00b7 {coarse(-left)}", "danger",
                     f"The first reply was missed ({span(-left)} overdue) and escalated{to}")
    return Timer(f"Overdue {coarse(-left)}", "danger",
                 f"The first reply is {span(-left)} overdue; a manager will be told")


def claim_text(lead: LeadRow, now: datetime, me: str | None) -> str:
    """Who holds the lead's claim, and for how much longer ("" when nobody does)."""
    if not lead.claimed_by:
        return ""
    who = "you" if lead.claimed_by == me else (lead.claimed_by_name or "someone")
    if lead.claim_expires_at is None:
        return f"Claimed by {who} (in contact)"
    left = (lead.claim_expires_at - now).total_seconds()
    if left <= 0:
        return f"Claim by {who} lapsing"
    return f"Claimed by {who} \u00b7 {span(left)}"


def owner_text(lead: LeadRow, now: datetime, me: str | None) -> str:
    """The owner column: whoever holds a running claim (first name, with its time left), else
    the owner."""
    if lead.claimed_by and lead.claim_expires_at is not None:
        name = lead.claimed_by_name.split(" ")[0] if lead.claimed_by_name else "Someone"
        who = "You" if lead.claimed_by == me else name
        left = (lead.claim_expires_at - now).total_seconds()
        return f"{who} \u00b7 claim {span(left)}" if left > 0 else f"{who} \u00b7 claim lapsing"
    return lead.owner or "Unassigned"
