"""How the timeline reads the entries of lead routing and duplicate handling."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Any

from app.ui.formatting import display_when

_CONTACT = {"text": "after a text", "message.outbound": "after a text", "lead.contacted": "after a call",
            "call.logged": "after a call"}


def _when(value: Any, tz: tzinfo | None, today: date) -> str:
    try:
        return display_when(datetime.fromisoformat(str(value).replace("Z", "+00:00")), tz, today) if value else ""
    except ValueError:
        return ""


def describe_routing(kind: str, payload: dict[str, Any], tz: tzinfo | None, today: date) -> tuple[str, str, str] | None:
    """(title, detail, tone) of a routing or duplicate entry, or None for other kinds."""
    if kind == "lead.assigned":
        owner = payload.get("owner")
        due = _when(payload.get("sla_due_at"), tz, today)
        detail = " \u00b7 ".join(p for p in (str(payload.get("reason") or ""), f"reply due {due}" if due else "") if p)
        return (f"Lead assigned to {owner}" if owner else "Lead waiting for an owner"), detail, "info"
    if kind == "lead.claimed":
        minutes = payload.get("minutes")
        return (f"{payload.get('by') or 'Someone'} claimed the lead",
                f"for {minutes} minutes unless they make contact" if minutes else "", "accent")
    if kind == "lead.released":
        return f"{payload.get('by') or 'Someone'} released the lead", "", "muted"
    if kind == "lead.claim_lapsed":
        minutes = payload.get("minutes")
        return "Claim lapsed", f"no contact within {minutes} minutes" if minutes else "no contact in time", "warn"
    if kind == "lead.claim_kept":
        return "Claim kept", _CONTACT.get(str(payload.get("contact") or ""), "after contact"), "ok"
    if kind == "lead.escalated":
        to = payload.get("escalated_to_name")
        due = _when(payload.get("sla_due_at"), tz, today)
        return ("Missed reply time" + (f": escalated to {to}" if to else ""),
                f"the first reply was due {due}" if due else "", "danger")
    if kind == "patient.merge_review":
        return "Possible duplicate found", "same name, another mobile number: see Duplicates", "warn"
    if kind == "patient.merged":
        name = payload.get("merged_name") or "another"
        return f"Merged with {name}'s record", "the other record's history is now here", "accent"
    if kind == "patient.not_duplicate":
        return "Marked as a different person", "not the same client as the possible duplicate", "muted"
    return None
