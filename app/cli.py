"""The headless side of the desktop, for IT staff and scripts (DESIGN.md "Stable interfaces").

Every command exits 0 on success and non-zero with a one-line reason on failure.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from core.errors import GlowdeskError

log = logging.getLogger("app.cli")


class CommandError(GlowdeskError):
    code = "command_failed"


def _home(args: argparse.Namespace, *, demo: bool = False) -> Path:
    from app.services.workspace import default_demo_home, default_home

    if args.home:
        return Path(args.home).expanduser()
    return default_demo_home() if demo else default_home()


def _open(args: argparse.Namespace, *, demo: bool = False) -> Any:
    from app.services.workspace import open_workspace

    return open_workspace(_home(args, demo=demo))


def _actor(ws: Any, args: argparse.Namespace, *, changes_data: bool) -> Any:
    """The acting staff member: --staff/--pin, GLOWDESK_STAFF/GLOWDESK_PIN, or the demo owner."""
    name = getattr(args, "staff", None) or os.environ.get("GLOWDESK_STAFF")
    pin = getattr(args, "pin", None) or os.environ.get("GLOWDESK_PIN")
    if name:
        from app.services.staff import sign_in

        if not pin:
            raise CommandError("Give the staff member's PIN with --pin or GLOWDESK_PIN.")
        return sign_in(ws.store, name=name, pin=pin)
    if ws.is_demo and ws.demo_staff_id:
        return ws.default_actor()
    if changes_data:
        raise CommandError(
            "This command changes clinic data: say who you are with --staff NAME --pin PIN "
            "(or GLOWDESK_STAFF and GLOWDESK_PIN)."
        )
    return ws.system


def _progress_printer(label: str) -> Callable[[int, int], None]:
    last = [0.0]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total or now - last[0] > 0.5:
            last[0] = now
            pct = 100 * done // total if total else 100
            sys.stderr.write(f"\r{label}: {done:,}/{total:,} ({pct}%)")
            if done >= total:
                sys.stderr.write("\n")
            sys.stderr.flush()

    return report


# --- commands --------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    from app.services.demo import generate_demo

    ws = _open(args, demo=True)
    try:
        if ws.clinic is not None and not args.force:
            raise CommandError(
                f"{ws.home} already holds the clinic '{ws.clinic.name}'; use another GLOWDESK_HOME "
                "or --force to add a demo clinic anyway."
            )
        started = time.perf_counter()
        summary = generate_demo(
            ws.store,
            patients=args.patients,
            seed=args.seed,
            progress=None if args.quiet else _progress_printer("demo clinic"),
        )
        took = time.perf_counter() - started
        ws.reload()
        print(
            f"demo clinic ready in {ws.home}: {summary.patients:,} patients, "
            f"{summary.appointments:,} appointments, {summary.leads:,} leads ({took:.1f} s)"
        )
    finally:
        ws.close()
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from app.services.patients import PatientService
    from core.phone import format_phone

    ws = _open(args)
    try:
        clinic = ws.require_clinic()
        actor = _actor(ws, args, changes_data=False)
        service = PatientService(ws.store, clinic_id=clinic.id, region=clinic.region)
        hits = service.search(actor=actor, text=args.text, limit=args.limit)
        if args.json:
            print(json.dumps([h.__dict__ for h in hits], ensure_ascii=False, indent=2))
        else:
            for h in hits:
                name = f"{h.first_name} {h.last_name}".strip()
                if h.preferred_name:
                    name += f' ("{h.preferred_name}")'
                phone = format_phone(h.phone, clinic.region) if h.phone else ""
                print(f"{h.id}  {name:<32} {phone:<16} {h.email or ''}")
            if not hits:
                print("no matching clients", file=sys.stderr)
    finally:
        ws.close()
    return 0


def cmd_import_csv(args: argparse.Namespace) -> int:
    from app.services import csv_import

    ws = _open(args)
    try:
        clinic = ws.require_clinic()
        path = Path(args.file)
        plan = csv_import.plan_import(ws.store, path, clinic_id=clinic.id, region=clinic.region)
        print(plan.report.summary())
        for line in plan.report.problem_lines():
            print(f"  {line}")
        if args.dry_run:
            return 0 if plan.report.ok or args.skip_invalid else 1
        actor = _actor(ws, args, changes_data=True)
        report = csv_import.run_import(
            ws.store,
            plan,
            actor=actor,
            clinic_id=clinic.id,
            region=clinic.region,
            skip_invalid=args.skip_invalid,
            progress=_progress_printer("importing"),
        )
        print(report.summary())
        return 0 if report.imported or report.ok else 1
    finally:
        ws.close()


def cmd_audit(args: argparse.Namespace) -> int:
    from app.services.audit import verify_chain

    ws = _open(args)
    try:
        report = verify_chain(ws.store)
    finally:
        ws.close()
    if report.ok:
        print(f"audit chain ok: {report.checked:,} entries verified")
        return 0
    print(
        f"audit chain broken at entry #{report.broken_seq}: {report.reason} "
        f"({report.checked:,} entries before it are intact)"
    )
    return 1


def cmd_enroll(args: argparse.Namespace) -> int:
    import socket

    from app.sync import enroll

    ws = _open(args)
    try:
        name = args.device_name or socket.gethostname() or "Glowdesk workstation"
        result = enroll(ws.store, args.server_url, args.code, name)
    finally:
        ws.close()
    print(result.line())
    if result.first_sync_error:
        print(
            f"warning: enrolled, but the first sync did not finish: {result.first_sync_error} "
            "(it runs again with 'python -m app sync')",
            file=sys.stderr,
        )
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from app.sync import SyncEngine, SyncRunner, SyncState, remember_staff

    ws = _open(args)
    try:
        if getattr(args, "staff", None) or os.environ.get("GLOWDESK_STAFF"):
            actor = _actor(ws, args, changes_data=False)
            if actor.staff_id:
                remember_staff(ws.store, actor.staff_id)
        engine = SyncEngine.for_store(ws.store)
        if args.once:
            try:
                summary = engine.sync_once()
            finally:
                engine.close()
            print(summary.line())
            return 0

        last: list[str] = []

        def show(state: SyncState) -> None:
            line = state.label
            if state.last_sync_at is not None and not state.syncing:
                line += f" (last sync {state.last_sync_at:%H:%M:%S} UTC, cursor {state.cursor})"
            if state.last_error and state.online is False:
                line += f": {state.last_error}"
            if not state.syncing and line not in last[-1:]:
                last.append(line)
                print(f"{time.strftime('%H:%M:%S')} {line}", flush=True)

        runner = SyncRunner(ws.store, engine=engine, on_state=show)
        runner.start()
        try:
            while runner.running:
                time.sleep(0.2)
        except KeyboardInterrupt:
            runner.stop()
            print("sync stopped", file=sys.stderr)
            return 0
        runner.stop()
        if runner.state.stopped_reason:
            raise CommandError(runner.state.stopped_reason)
        return 0
    finally:
        ws.close()


def cmd_status(args: argparse.Namespace) -> int:
    from app.services.status import collect_status

    ws = _open(args)
    try:
        status = collect_status(ws)
    finally:
        ws.close()
    if args.json:
        print(json.dumps(status, indent=2, default=str))
    else:
        width = max(len(k) for k in status)
        for key, value in status.items():
            print(f"{key:<{width}}  {value}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from app.services.export import export_data

    ws = _open(args)
    try:
        clinic = ws.require_clinic()
        actor = _actor(ws, args, changes_data=False)
        if not actor.staff_id:
            raise CommandError(
                "Exporting the clinic's data needs its owner: say who you are with --staff NAME --pin PIN "
                "(or GLOWDESK_STAFF and GLOWDESK_PIN)."
            )
        started = time.perf_counter()
        manifest = export_data(ws.store, actor=actor, clinic=clinic, out=Path(args.out))
        took = time.perf_counter() - started
    finally:
        ws.close()
    if args.json:
        print(json.dumps(manifest.as_dict(), indent=2))
    else:
        print(f"exported {clinic.name}: {manifest.resources:,} FHIR resources in {len(manifest.output)} NDJSON "
              f"files and {len(manifest.csv)} CSV files to {Path(args.out).expanduser()} ({took:.1f} s); "
              "manifest.json lists counts and SHA-256 checksums")
    return 0


# --- parser ----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description="Glowdesk desktop, headless.")
    parser.add_argument("--home", help="data folder (default: GLOWDESK_HOME or the per-user folder)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def staff_opts(p: argparse.ArgumentParser) -> None:
        p.add_argument("--staff", help="acting staff member's name (or GLOWDESK_STAFF)")
        p.add_argument("--pin", help="their PIN (or GLOWDESK_PIN)")

    p = sub.add_parser("demo", help="create the demo clinic in GLOWDESK_HOME (or the demo folder)")
    p.add_argument("--patients", type=int, default=2000, help="number of patients (default 2000)")
    p.add_argument("--seed", type=int, default=42, help="random seed (same seed, same clinic)")
    p.add_argument("--force", action="store_true", help="add a demo clinic even if one exists")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("search", help="find clients by name, phone digits, email or Instagram")
    p.add_argument("text")
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=int, default=20)
    staff_opts(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("import-csv", help="import a client list exported from another system")
    p.add_argument("file")
    p.add_argument("--dry-run", action="store_true", help="check the file and report; change nothing")
    p.add_argument("--skip-invalid", action="store_true", help="import the good rows, skip bad ones")
    staff_opts(p)
    p.set_defaults(func=cmd_import_csv)

    p = sub.add_parser("audit", help="audit log tools")
    audit_sub = p.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    v = audit_sub.add_parser("verify", help="check the hash chain and name the first broken link")
    v.set_defaults(func=cmd_audit)

    p = sub.add_parser("enroll", help="connect this workstation to its clinic server with a one-time code")
    p.add_argument("server_url", metavar="SERVER_URL", help="the clinic server's address, e.g. https://glowdesk.example.com")
    p.add_argument("code", metavar="CODE", help="the enrollment code from your administrator")
    p.add_argument("--device-name", help="this workstation's name as the server lists it (default: host name)")
    p.set_defaults(func=cmd_enroll)

    p = sub.add_parser("sync", help="sync with the clinic server (in the foreground until Ctrl-C)")
    p.add_argument("--once", action="store_true", help="sync once, print a one-line summary and exit")
    staff_opts(p)
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("export", help="export the clinic's data (FHIR NDJSON, CSV, manifest) into a new folder; owners only")
    p.add_argument("--out", required=True, metavar="DIR", help="a new or empty folder for the export")
    p.add_argument("--json", action="store_true", help="print the manifest as JSON")
    staff_opts(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("status", help="what this workstation holds and its sync state")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args))
    except GlowdeskError as exc:
        print(f"error: {exc.user_message}", file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        print(f"error: no such file: {exc.filename}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; nothing was half-saved", file=sys.stderr)
        return 130
