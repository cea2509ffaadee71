"""``python -m sync_server <command>``: run, migrate and administer the server.

Every command exits 0 on success and otherwise prints one line (``error: <reason>``) on
stderr and exits non-zero; commands that report something print JSON on stdout.
Settings come from the GLOWDESK_ environment (see docs/server.md).
"""

from __future__ import annotations

import argparse
import copy
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import pydantic
from sqlalchemy.exc import SQLAlchemyError

from core.clock import SystemClock
from core.errors import GlowdeskError
from core.permissions import Role
from sync_server import commands
from sync_server.audit import service as audit
from sync_server.clinics import service as clinics
from sync_server.db import Database
from sync_server.settings import Settings

log = logging.getLogger(__name__)


# The shared helpers of every command (the contexts' own commands, such as ``lead-routing``, use
# them too, from sync_server.commands: they sit below the contexts, this module above them).
CommandError = commands.CommandError
_emit = commands.emit
_database = commands.database
_clinic_transaction = commands.clinic_transaction


# --- commands --------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    with _database(settings, migrate=True):
        pass
    settings.ensure_secret_key()
    log_config = _access_log_without_query()
    if args.workers > 1:
        # Each worker process builds its own app (and engine) from the same environment; the
        # job worker, if asked for, runs in this supervising process.
        job_worker = thread = None
        if args.with_worker:
            from sync_server.jobs.worker import Worker, start_thread

            job_worker = Worker(Database(settings))
            thread = start_thread(job_worker)
        try:
            uvicorn.run("sync_server.app:create_app", factory=True, host=args.host, port=args.port,
                        workers=args.workers, log_config=log_config, timeout_graceful_shutdown=10)
        finally:
            if job_worker is not None and thread is not None:
                job_worker.stop()
                thread.join(timeout=30)
                job_worker.db.dispose()
    else:
        from sync_server.app import create_app

        uvicorn.run(create_app(settings, with_worker=args.with_worker), host=args.host, port=args.port,
                    log_config=log_config, timeout_graceful_shutdown=10)
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from sync_server.jobs.worker import Worker, run_until_signalled

    logging.getLogger("sync_server").setLevel(logging.INFO)
    with _database(settings) as db:
        worker = Worker(db, poll_interval=args.poll_interval, batch=args.batch)
        run_until_signalled(worker)
    return 0


_TWILIO_OPTIONS = ("twilio_account_sid", "twilio_auth_token", "twilio_from", "twilio_messaging_service")
_META_OPTIONS = ("meta_app_secret", "meta_verify_token", "meta_page_id", "meta_page_token", "meta_instagram_id")


def cmd_integrations_set(args: argparse.Namespace, settings: Settings) -> int:
    from sync_server.integrations import service as integrations

    secret_key = settings.ensure_secret_key()
    twilio = {name: getattr(args, name) for name in _TWILIO_OPTIONS if getattr(args, name) is not None}
    meta = {name: getattr(args, name) for name in _META_OPTIONS if getattr(args, name) is not None}
    if not twilio and not meta:
        raise CommandError("Nothing to set: pass --twilio-... and/or --meta-... options (see --help).")
    now = SystemClock().now()
    with _clinic_transaction(settings, args.clinic) as (session, clinic_id):
        if twilio:
            clinic = clinics.get_clinic(session, clinic_id=clinic_id)
            integrations.set_twilio(
                session, clinic_id=clinic_id, secret_key=secret_key, region=clinic.region, now=now,
                actor=audit.Actor.cli(), account_sid=twilio.get("twilio_account_sid"),
                auth_token=twilio.get("twilio_auth_token"), from_number=twilio.get("twilio_from"),
                messaging_service_sid=twilio.get("twilio_messaging_service"),
            )
        if meta:
            integrations.set_meta(
                session, clinic_id=clinic_id, secret_key=secret_key, now=now, actor=audit.Actor.cli(),
                app_secret=meta.get("meta_app_secret"), verify_token=meta.get("meta_verify_token"),
                page_id=meta.get("meta_page_id"), page_token=meta.get("meta_page_token"),
                instagram_id=meta.get("meta_instagram_id"),
            )
        from core.clock import HybridLogicalClock
        from core.sync import SERVER_NODE
        from sync_server.messaging import channels
        from sync_server.records.service import ServerWrites

        channels.publish(ServerWrites(session, clinic_id=clinic_id, now=now, hlc=HybridLogicalClock(SERVER_NODE),
                                      actor=audit.Actor.cli()))
        shown = integrations.describe(session, clinic_id=clinic_id, secret_key=secret_key)
    _emit({"clinic": args.clinic, "integrations": shown, "webhooks": _webhook_urls(settings, args.clinic)})
    return 0


def cmd_integrations_show(args: argparse.Namespace, settings: Settings) -> int:
    from sync_server.integrations import service as integrations

    secret_key = settings.ensure_secret_key()
    with _clinic_transaction(settings, args.clinic) as (session, clinic_id):
        shown = integrations.describe(session, clinic_id=clinic_id, secret_key=secret_key)
    _emit({"clinic": args.clinic, "integrations": shown, "webhooks": _webhook_urls(settings, args.clinic)})
    return 0


def _webhook_urls(settings: Settings, slug: str) -> dict[str, str]:
    base = settings.public_url.rstrip("/")
    return {"meta": f"{base}/webhooks/meta", "twilio_sms": f"{base}/webhooks/twilio/sms",
            "twilio_status": f"{base}/webhooks/twilio/status", "web_form": f"{base}/f/{slug}/lead",
            "web_form_embed": f"{base}/f/{slug}/embed.js"}


def cmd_jobs_failed(args: argparse.Namespace, settings: Settings) -> int:
    from sync_server.jobs import service as jobs

    with _clinic_transaction(settings, args.clinic) as (session, clinic_id):
        rows = [{"id": j.id, "kind": j.kind, "attempts": j.attempts, "error": j.last_error,
                 "finished_at": j.finished_at} for j in jobs.failed_jobs(session, clinic_id=clinic_id, limit=args.limit)]
        counts = jobs.counts(session, clinic_id=clinic_id)
    _emit({"clinic": args.clinic, "counts": counts, "failed": rows})
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    with _database(settings, migrate=True) as db:
        _emit({"schema": db.current_revision(), "database": db.dialect})
    return 0


def cmd_create_clinic(args: argparse.Namespace, settings: Settings) -> int:
    with _database(settings) as db, db.transaction(write=True) as session:
        clinic = clinics.create_clinic(
            session, name=args.name, slug=args.slug, timezone=args.timezone, region=args.region,
            currency=args.currency, now=SystemClock().now(), actor=audit.Actor.cli(),
        )
        from core.clock import HybridLogicalClock
        from core.sync import SERVER_NODE
        from sync_server.messaging import service as messaging
        from sync_server.records.service import ServerWrites

        writes = ServerWrites(session, clinic_id=clinic.id, now=SystemClock().now(),
                              hlc=HybridLogicalClock(SERVER_NODE), actor=audit.Actor.cli())
        templates = messaging.add_starter_templates(writes)
        result = {"clinic_id": clinic.id, "slug": clinic.slug, "name": clinic.name,
                  "timezone": clinic.timezone, "region": clinic.region, "currency": clinic.currency,
                  "templates": templates}
    _emit(result)
    return 0


def cmd_create_staff(args: argparse.Namespace, settings: Settings) -> int:
    with _clinic_transaction(settings, args.clinic) as (session, clinic_id):
        staff = clinics.create_staff(
            session, clinic_id=clinic_id, display_name=args.name, role=args.role, pin=args.pin,
            now=SystemClock().now(), actor=audit.Actor.cli(),
        )
        result = {"staff_id": staff.id, "clinic": args.clinic, "display_name": staff.display_name,
                  "role": staff.role}
    _emit(result)
    return 0


def cmd_enrollment_code(args: argparse.Namespace, settings: Settings) -> int:
    secret_key = settings.ensure_secret_key()
    with _clinic_transaction(settings, args.clinic) as (session, clinic_id):
        issued = clinics.issue_enrollment_code(
            session, clinic_id=clinic_id, ttl=timedelta(minutes=args.ttl_minutes),
            secret_key=secret_key, now=SystemClock().now(), actor=audit.Actor.cli(),
        )
    _emit({"code": issued.code, "expires_at": issued.expires_at.isoformat(), "clinic": args.clinic})
    return 0


def cmd_revoke_device(args: argparse.Namespace, settings: Settings) -> int:
    with _clinic_transaction(settings, args.clinic) as (session, clinic_id):
        device = clinics.revoke_device(
            session, clinic_id=clinic_id, device_id=args.device, now=SystemClock().now(),
            actor=audit.Actor.cli(),
        )
        result = {"device_id": device.id, "name": device.name, "revoked_at": device.revoked_at}
    _emit(result)
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    import time

    from sync_server.demo import service as demo

    started = time.monotonic()
    with _database(settings) as db:
        with db.transaction(write=True) as session:
            existing = clinics.find_clinic(session, slug=args.slug)
            if existing is not None:
                if not args.keep_existing:
                    raise CommandError(
                        f"A clinic with the slug '{args.slug}' already exists; choose another --slug, or pass"
                        " --keep-existing to leave it as it is."
                    )
                _emit({"clinic_id": existing.id, "slug": existing.slug, "patients": None, "rows": None,
                       "existing": True})
                return 0
        with db.transaction(write=True) as session:
            summary = demo.seed_demo(session, patients=args.patients, slug=args.slug, seed=args.seed,
                                     now=SystemClock().now())
        with db.transaction(write=True) as session:
            demo.refresh_statistics(session)
    _emit({**summary.as_dict(), "seconds": round(time.monotonic() - started, 1)})
    return 0


def cmd_audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    with _clinic_transaction(settings, args.clinic) as (session, clinic_id):
        report = audit.verify(session, clinic_id=clinic_id)
    _emit({"clinic": args.clinic, **report.as_dict()})
    if not report.ok:
        raise CommandError(f"The audit chain of '{args.clinic}' is broken: {report.reason}.")
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    import os
    import time
    from pathlib import Path

    from sync_server.export import service as export

    name = args.staff or os.environ.get("GLOWDESK_STAFF")
    pin = args.pin or os.environ.get("GLOWDESK_PIN")
    if not name or not pin:
        raise CommandError(
            "Exporting a clinic's data needs one of its owners: give their name and PIN with --staff NAME "
            "--pin PIN (or GLOWDESK_STAFF and GLOWDESK_PIN)."
        )
    started = time.monotonic()
    with _database(settings) as db:
        manifest = export.export_clinic(db, slug=args.clinic, staff_name=name, pin=pin, out=Path(args.out),
                                        now=SystemClock().now())
    _emit({"clinic": args.clinic, "out": str(Path(args.out).expanduser().absolute()),
           "resources": manifest.resources, "counts": manifest.counts, "csv_rows": manifest.csv_rows,
           "seconds": round(time.monotonic() - started, 2)})
    return 0


# --- parser ----------------------------------------------------------------------------------


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sync_server",
        description="Run and administer the Glowdesk server. Settings come from GLOWDESK_* "
        "environment variables (GLOWDESK_SERVER_HOME, GLOWDESK_DATABASE_URL, GLOWDESK_SECRET_KEY...).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace, Settings], int], help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=func)
        return p

    p = add("serve", cmd_serve, "Migrate the database, then serve the HTTP API.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_positive, default=8000, help="port to listen on (default 8000)")
    p.add_argument("--workers", type=_positive, default=1,
                   help="worker processes (default 1); each has its own database pool")
    p.add_argument("--with-worker", action="store_true",
                   help="also run a job worker (webhooks, texts, sweeps) in this process")

    p = add("worker", cmd_worker, "Run a job worker until SIGTERM/SIGINT (it finishes the job in hand first).")
    p.add_argument("--poll-interval", type=float, default=0.5, help="seconds between polls when idle (default 0.5)")
    p.add_argument("--batch", type=_positive, default=10, help="jobs claimed at once (default 10)")

    add("migrate", cmd_migrate, "Bring the database schema up to date (safe to run repeatedly).")

    p = add("create-clinic", cmd_create_clinic, "Create a clinic; prints JSON with clinic_id and slug.")
    p.add_argument("--name", required=True, help="the clinic's name, as staff and patients see it")
    p.add_argument("--slug", required=True, help="short id for web addresses: lowercase letters, digits, dashes")
    p.add_argument("--timezone", default="America/Los_Angeles", help="IANA time zone (default America/Los_Angeles)")
    p.add_argument("--region", default="US", help="two-letter country, for phone numbers (default US)")
    p.add_argument("--currency", default=None, help="ISO currency (default: the region's, else USD)")

    p = add("create-staff", cmd_create_staff, "Add a staff member who signs in with a PIN.")
    p.add_argument("--clinic", required=True, metavar="SLUG", help="the clinic's slug")
    p.add_argument("--name", required=True, help="display name (unique in the clinic)")
    p.add_argument("--role", required=True, help="one of: " + ", ".join(r.value for r in Role))
    p.add_argument("--pin", required=True, help="4 to 12 digits; stored only as an argon2id hash")

    p = add("enrollment-code", cmd_enrollment_code,
            "Issue a one-time code to enrol a workstation; prints JSON with code and expires_at.")
    p.add_argument("--clinic", required=True, metavar="SLUG", help="the clinic's slug")
    p.add_argument("--ttl-minutes", type=_positive, default=60, help="minutes until it expires (default 60)")

    p = add("revoke-device", cmd_revoke_device, "Revoke a workstation; its next request is refused.")
    p.add_argument("--clinic", required=True, metavar="SLUG", help="the clinic's slug")
    p.add_argument("--device", required=True, metavar="ID", help="the device id (from enrollment or /api/v1/devices)")

    p = add("demo", cmd_demo, "Seed the demo clinic (Lumière Aesthetics) server-side, for desktops to download;"
            " prints JSON with clinic_id, slug, patients and rows.")
    p.add_argument("--patients", type=_non_negative, default=2000, help="number of clients (default 2000)")
    p.add_argument("--slug", default="lumiere", help="the demo clinic's slug (default lumiere)")
    p.add_argument("--seed", type=int, default=42, help="random seed: the same seed gives the same clinic")
    p.add_argument("--keep-existing", action="store_true",
                   help="when the slug is taken, print that clinic and change nothing (instead of failing)")

    p = sub.add_parser("audit", help="Audit log commands.", description="Audit log commands.")
    audit_sub = p.add_subparsers(dest="audit_command", required=True, metavar="SUBCOMMAND")
    v = audit_sub.add_parser("verify", help="Verify a clinic's audit chain; exits 1 when it is broken.",
                             description="Verify a clinic's audit chain; exits 1 when it is broken.")
    v.add_argument("--clinic", required=True, metavar="SLUG", help="the clinic's slug")
    v.set_defaults(func=cmd_audit_verify)

    p = add("export", cmd_export, "Export a clinic's data (FHIR R4 NDJSON, CSV and a manifest with counts and "
            "SHA-256 checksums) into a new or empty folder, in the name of one of its owners; audited.")
    p.add_argument("--clinic", required=True, metavar="SLUG", help="the clinic's slug")
    p.add_argument("--out", required=True, metavar="DIR", help="a new or empty folder for the export")
    p.add_argument("--staff", metavar="NAME", help="the owner's name (or GLOWDESK_STAFF)")
    p.add_argument("--pin", metavar="PIN", help="the owner's PIN (or GLOWDESK_PIN)")

    p = sub.add_parser("integrations", help="Connect a clinic to Twilio and Meta.",
                       description="Connect a clinic to Twilio and Meta (see docs/integrations.md).")
    integrations_sub = p.add_subparsers(dest="integrations_command", required=True, metavar="SUBCOMMAND")
    s = integrations_sub.add_parser(
        "set", help="Set or change a clinic's Twilio and Meta settings; secrets are stored encrypted and never shown.",
        description="Set or change a clinic's Twilio and Meta settings (only the options given change); secrets "
        "are stored encrypted under GLOWDESK_SECRET_KEY and never printed back. Prints what is set and the "
        "webhook URLs to paste into Twilio and Meta.")
    s.add_argument("--clinic", required=True, metavar="SLUG", help="the clinic's slug")
    s.add_argument("--twilio-account-sid", metavar="AC...", help="Twilio account SID")
    s.add_argument("--twilio-auth-token", metavar="TOKEN", help="Twilio auth token (secret)")
    s.add_argument("--twilio-from", metavar="NUMBER", help="the clinic's Twilio number (texts are sent from it)")
    s.add_argument("--twilio-messaging-service", metavar="MG...", help="a Twilio messaging service SID to send through")
    s.add_argument("--meta-app-secret", metavar="SECRET", help="the Meta app's secret (secret; checks webhooks)")
    s.add_argument("--meta-verify-token", metavar="TOKEN", help="the verify token typed into the Meta webhook settings")
    s.add_argument("--meta-page-id", metavar="ID", help="the clinic's Facebook page id (lead ads)")
    s.add_argument("--meta-page-token", metavar="TOKEN", help="a page access token with leads_retrieval (secret)")
    s.add_argument("--meta-instagram-id", metavar="ID", help="the clinic's Instagram professional account id (DMs)")
    s.set_defaults(func=cmd_integrations_set)
    s = integrations_sub.add_parser("show", help="Show what is connected (secrets only as set / not set).",
                                    description="Show what is connected (secrets only as set / not set).")
    s.add_argument("--clinic", required=True, metavar="SLUG", help="the clinic's slug")
    s.set_defaults(func=cmd_integrations_show)

    from sync_server.leads import cli as lead_cli

    lead_cli.register(sub)

    p = sub.add_parser("jobs", help="Job queue commands.", description="Job queue commands.")
    jobs_sub = p.add_subparsers(dest="jobs_command", required=True, metavar="SUBCOMMAND")
    f = jobs_sub.add_parser("failed", help="List a clinic's permanently failed jobs (JSON).",
                            description="List a clinic's permanently failed jobs (JSON).")
    f.add_argument("--clinic", required=True, metavar="SLUG", help="the clinic's slug")
    f.add_argument("--limit", type=_positive, default=50, help="at most this many (default 50)")
    f.set_defaults(func=cmd_jobs_failed)
    return parser


def _one_line(text: str) -> str:
    return " ".join(str(text).split()) or "unknown error"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings()
        return int(args.func(args, settings))
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except GlowdeskError as exc:
        print(f"error: {_one_line(exc.user_message)}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        # hide_parameters keeps patient data out; the first line names the condition.
        first = _one_line(str(getattr(exc, "orig", None) or exc).splitlines()[0] if str(exc) else type(exc).__name__)
        print(f"error: database: {first}", file=sys.stderr)
        return 1
    except pydantic.ValidationError as exc:  # a GLOWDESK_ setting that cannot be used
        problem = exc.errors()[0]
        name = "GLOWDESK_" + "_".join(str(part) for part in problem["loc"]).upper()
        print(f"error: setting {name}: {_one_line(problem['msg'])}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {_one_line(exc.strerror or str(exc))}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the contract is one line, never a traceback
        print(f"error: unexpected {type(exc).__name__}: {_one_line(str(exc))}", file=sys.stderr)
        return 1


def _access_log_without_query() -> dict[str, Any]:
    """uvicorn's logging config, with query strings dropped from access-log lines (they could
    carry search text, i.e. patient data)."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["no_query"] = {"()": "sync_server.cli.DropQueryString"}
    config["handlers"]["access"]["filters"] = ["no_query"]
    return config


class DropQueryString(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True
