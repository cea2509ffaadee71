"""Webhook ingest (issue 5): 50 concurrent senders of signed Twilio SMS webhooks
(``X-Twilio-Signature`` made with Twilio's own ``RequestValidator``) against a real server
process, on SQLite and on PostgreSQL (a fresh database, dropped afterwards).

Figure: webhooks/s accepted (HTTP 200); the floor is ``/healthz`` (one database round trip) hit by
the same 50 senders on the same process, and the ratio webhooks/s ÷ floor/s. Then a
``python -m sync_server worker`` process drains the inbox, and zero loss is checked in the
database: every MessageSid stored exactly once and processed once. Target >= 200/s on PostgreSQL.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

import _servers as S
from sqlalchemy import create_engine, text

from tests.standins.server import StandinServer
from tests.standins.signing import twilio_signature
from tests.standins.twilio_api import TwilioStandin

#: API processes (``serve --workers N``); 1 unless GLOWDESK_BENCH_PROCESSES says otherwise
PROCESSES = int(os.environ.get("GLOWDESK_BENCH_PROCESSES", "1"))
SENDERS = 50
N = 1000
CLINIC_NUMBER = "+14155550100"
TARGET_PG = 200.0


def run(backend: str, database_url: str | None, twilio: TwilioStandin, tmp: Path) -> tuple[float, float, str]:
    env = {"GLOWDESK_TWILIO_API_URL": twilio.url}
    if database_url:
        env["GLOWDESK_DATABASE_URL"] = database_url
    server = S.start_server(tmp / f"{backend}-home", worker=False, extra_env=env, processes=PROCESSES)
    worker = None
    try:
        setup = S.make_clinic(server, codes=0)
        server.cli("integrations", "set", "--clinic", setup.slug, "--twilio-account-sid", twilio.account_sid,
                   "--twilio-auth-token", twilio.auth_token, "--twilio-from", CLINIC_NUMBER)
        url = f"{server.url}/webhooks/twilio/sms"
        requests, sids = [], []
        for i in range(N + 20):
            params = twilio.inbound(from_=f"+1415556{i % SENDERS:04d}", to=CLINIC_NUMBER, body=f"Hi, question {i}")
            headers = {"X-Twilio-Signature": twilio_signature(twilio.auth_token, url, params),
                       "Content-Type": "application/x-www-form-urlencoded"}
            requests.append((urlencode(params).encode(), headers))
            sids.append(params["MessageSid"])
        warm, requests = requests[:20], requests[20:]
        S.blast(url, warm, senders=5)
        S.blast(f"{server.url}/healthz", [(b"", {})] * 20, senders=5)
        floor_s, floor_codes = S.blast(f"{server.url}/healthz", [(b"", {})] * N, senders=SENDERS)
        hook_s, codes = S.blast(url, requests, senders=SENDERS)
        bad = [c for c in codes + floor_codes if c != 200]
        if bad:
            raise SystemExit(f"{backend}: {len(bad)} requests were not accepted (e.g. HTTP {bad[0]})")
        rate, floor = N / hook_s, N / floor_s

        worker = S.start_worker(server)
        engine = create_engine(database_url or f"sqlite:///{server.home / 'glowdesk-server.db'}")
        count_sql = text("SELECT count(*), count(DISTINCT external_id), count(processed_at) FROM webhook_event "
                         "WHERE source = 'twilio_sms'")

        def drained() -> tuple[int, int, int] | None:
            with engine.connect() as c:
                total, distinct, processed = c.execute(count_sql).one()
            return (total, distinct, processed) if processed >= total >= len(sids) else None

        total, distinct, processed = S.wait_until(drained, f"the {backend} worker to drain the inbox", timeout=600)
        with engine.connect() as c:
            stored = {r[0] for r in c.execute(text("SELECT external_id FROM webhook_event WHERE source = 'twilio_sms'"))}
            failed = c.execute(text("SELECT count(*) FROM job WHERE kind = 'webhook.process' AND status <> 'done'")
                               ).scalar_one()
        engine.dispose()
        lost = len(set(sids) - stored)
        if lost or total != distinct or total != len(sids) or processed != total or failed:
            raise SystemExit(f"{backend}: loss or duplicates: {lost} missing, {total} rows for {distinct} ids, "
                             f"{processed} processed, {failed} jobs not done")
        return rate, floor, f"{total} stored once, {processed} processed"
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        server.stop()


def main() -> int:
    twilio = TwilioStandin()
    parts, ok = [], True
    with StandinServer(twilio.app) as standin, tempfile.TemporaryDirectory(prefix="glowdesk-bench-ingest-") as tmp:
        twilio.url = standin.url
        rate, floor, check = run("sqlite", None, twilio, Path(tmp))
        parts.append(f"sqlite {rate:.0f}/s (floor /healthz {floor:.0f}/s, ratio {rate / floor:.2f}; {check})")
        with S.fresh_postgres() as pg_url:
            if pg_url is None:
                parts.append("postgresql skipped: 127.0.0.1:5432 unreachable")
                ok = False
            else:
                rate, floor, check = run("postgresql", pg_url, twilio, Path(tmp))
                ok = rate >= TARGET_PG
                parts.append(f"postgresql {rate:.0f}/s (floor /healthz {floor:.0f}/s, ratio {rate / floor:.2f}; "
                             f"{check}), ratio to target {rate / TARGET_PG:.2f} (target >= {TARGET_PG:.0f}/s)")
    shape = f", {PROCESSES} API processes" if PROCESSES > 1 else ""
    print(f"webhook_ingest_{SENDERS}x{N}{shape}: " + "; ".join(parts) + f"; zero loss; load {S.load()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
