"""``python -m sync_server lead-routing show | set | hours``: a clinic's lead routing (see
docs/server.md, "Lead routing"). Prints JSON; staff are named by display name."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.clock import HybridLogicalClock, SystemClock
from core.sync import SERVER_NODE
from sync_server import commands
from sync_server.commands import CommandError
from sync_server.settings import Settings

Add = Callable[..., argparse.ArgumentParser]


def _writes(session: Any, clinic_id: str) -> Any:
    from sync_server.audit.service import Actor
    from sync_server.records.service import ServerWrites

    return ServerWrites(session, clinic_id=clinic_id, now=SystemClock().now(), hlc=HybridLogicalClock(SERVER_NODE),
                        actor=Actor.cli())


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    from sync_server.leads import settings as lead_settings

    with commands.clinic_transaction(settings, args.clinic) as (session, clinic_id):
        shown = lead_settings.describe(_writes(session, clinic_id))
    commands.emit({"clinic": args.clinic, **shown})
    return 0


def _sla(values: list[str]) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for item in values:
        source, sep, minutes = item.partition("=")
        if not sep or not source.strip():
            raise CommandError(f"--sla takes SOURCE=MINUTES (or SOURCE=off), not '{item}'.")
        if minutes.strip().lower() in ("off", "none", ""):
            out[source.strip()] = None
            continue
        try:
            out[source.strip()] = int(minutes)
        except ValueError:
            raise CommandError(f"--sla {item}: the minutes must be a whole number (or off).") from None
    return out


def cmd_set(args: argparse.Namespace, settings: Settings) -> int:
    from sync_server.leads import settings as lead_settings

    changes: dict[str, Any] = {}
    if args.file:
        try:
            loaded = json.loads(Path(args.file).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise CommandError(f"{args.file} is not JSON (line {exc.lineno}: {exc.msg}).") from None
        if not isinstance(loaded, dict):
            raise CommandError(f"{args.file} must hold a JSON object such as {{\"rules\": [...]}}.")
        changes.update(loaded.get("lead_routing", loaded))
    if args.claim_minutes is not None:
        changes["claim_minutes"] = args.claim_minutes
    if args.sla:
        changes["sla_minutes"] = {**(changes.get("sla_minutes") or {}), **_sla(args.sla)}
    if args.after_hours:
        changes["after_hours"] = args.after_hours
    if args.fallback:
        changes["fallback"] = args.fallback
    if args.no_fallback:
        changes["fallback"] = None
    if args.escalate_to:
        changes["escalate_to"] = args.escalate_to
    if args.clear_rules:
        changes["rules"] = []
    if not changes:
        raise CommandError("Nothing to set: pass --file and/or options (see --help).")
    with commands.clinic_transaction(settings, args.clinic) as (session, clinic_id):
        shown = lead_settings.set_routing(_writes(session, clinic_id), changes=changes)
    commands.emit({"clinic": args.clinic, **shown})
    return 0


def cmd_hours(args: argparse.Namespace, settings: Settings) -> int:
    from sync_server.leads import settings as lead_settings

    with commands.clinic_transaction(settings, args.clinic) as (session, clinic_id):
        shown = lead_settings.set_hours(_writes(session, clinic_id), staff=args.staff, hours_text=args.hours)
    commands.emit({"clinic": args.clinic, **shown})
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("lead-routing", help="A clinic's lead routing: assignment rules, claim and reply times, "
                       "working hours.", description="A clinic's lead routing (see docs/server.md).")
    routing_sub = p.add_subparsers(dest="lead_routing_command", required=True, metavar="SUBCOMMAND")
    s = routing_sub.add_parser("show", help="Print the clinic's routing and each person's working hours (JSON).",
                               description="Print the clinic's routing and each person's working hours (JSON).")
    s.add_argument("--clinic", required=True, metavar="SLUG", help="the clinic's slug")
    s.set_defaults(func=cmd_show)
    s = routing_sub.add_parser(
        "set", help="Change the clinic's routing (only what is given changes); prints it.",
        description="Change the clinic's routing: rules from a JSON file (staff by name), claim time, reply "
        "times per source, after-hours behaviour, fallback, escalation. Only what is given changes; the "
        "result is checked before anything is stored.")
    s.add_argument("--clinic", required=True, metavar="SLUG", help="the clinic's slug")
    s.add_argument("--file", metavar="PATH", help="JSON with any of: rules, fallback, claim_minutes, sla_minutes, "
                   "after_hours, escalate_to")
    s.add_argument("--claim-minutes", type=int, metavar="N", help="a claim lapses after N minutes without contact")
    s.add_argument("--sla", action="append", metavar="SOURCE=MINUTES",
                   help="first reply due after MINUTES for leads from SOURCE (or SOURCE=off); repeatable")
    s.add_argument("--after-hours", choices=("next_opening", "clock"),
                   help="leads arriving while closed: due after opening (default) or by the clock")
    s.add_argument("--fallback", metavar="NAME", help="who gets a lead when no rule finds someone on shift")
    s.add_argument("--no-fallback", action="store_true", help="no fallback: such leads wait unassigned")
    s.add_argument("--escalate-to", action="append", metavar="NAME",
                   help="who hears about a missed reply (repeatable; default: managers, then owners)")
    s.add_argument("--clear-rules", action="store_true", help="remove every assignment rule")
    s.set_defaults(func=cmd_set)
    s = routing_sub.add_parser("hours", help="Set a staff member's weekly working hours (who is on shift).",
                               description="Set a staff member's weekly working hours, in the clinic's time zone, "
                               "such as \"Mon-Fri 9:00-17:00; Sat 10:00-14:00\" (empty: the clinic's opening hours).")
    s.add_argument("--clinic", required=True, metavar="SLUG", help="the clinic's slug")
    s.add_argument("--staff", required=True, metavar="NAME", help="the staff member's display name")
    s.add_argument("--hours", required=True, metavar="TEXT", help='such as "Mon-Fri 9:00-17:00; Sat 10-14"')
    s.set_defaults(func=cmd_hours)
