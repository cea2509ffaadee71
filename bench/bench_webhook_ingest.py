"""Signed-webhook ingest (issues 5 and 11): ``wrk`` (Debian's package, C, one thread, 50 keep-alive
connections) posts pre-signed webhooks at a real server process, so the load generator is not
the bottleneck: Python senders on the same two cores used to take a third of the CPU.

Kinds: Twilio SMS (``X-Twilio-Signature`` from Twilio's own ``RequestValidator``) and Meta
``leadgen`` (``X-Hub-Signature-256`` over the raw body), each request unique (its own MessageSid
or leadgen id), signed beforehand in Python and replayed by a Lua script
(``bench/wrk_replay.lua``). Backends: PostgreSQL (a fresh database, dropped afterwards) and, for
information, SQLite. Each figure is the rate of HTTP 200 answers during ``DURATION`` seconds;
the floor is ``/healthz`` (the same request pipeline and one database round trip) under the same
wrk load, measured in the same run. Zero loss: every 200 answered is an event stored once (and,
for Twilio, processed once by a ``worker`` process afterwards); at most the requests still in
flight when wrk stopped (one per connection) may be stored beyond that.

Targets (PostgreSQL): >= 200/s and >= 0.9 of the floor. Without wrk the bench says so and
exits 2 (``apt-get install wrk``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

import _servers as S
from sqlalchemy import create_engine, text

from tests.standins.meta_graph import MetaGraphStandin
from tests.standins.server import StandinServer
from tests.standins.signing import leadgen_body, meta_post, twilio_signature
from tests.standins.twilio_api import TwilioStandin

HERE = Path(__file__).resolve().parent
CONNECTIONS = 50
DURATION = int(os.environ.get("BENCH_SECONDS", "10"))
#: pre-signed requests per kind: more than wrk can send in DURATION, so none is sent twice
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "12000"))
CLINIC_NUMBER = "+14155550100"
TARGET_RATE, TARGET_FLOOR = 200.0, 0.9
BACKENDS = os.environ.get("BENCH_BACKENDS", "postgresql,sqlite").split(",")


def wrk(url: str, requests_file: Path | None) -> tuple[float, int, int]:
    """(rate of 2xx answers per second, 2xx answers, others) of one wrk run against ``url``."""
    env = {**os.environ, "WRK_REQUESTS": str(requests_file or "")}
    out = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--timeout", "10s", "-s", str(HERE / "wrk_replay.lua"),
         url], capture_output=True, text=True, env=env, check=True,
    ).stdout
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    seconds = float(re.search(r"requests in ([\d.]+)s", out).group(1))  # type: ignore[union-attr]
    bad_match = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    bad = int(bad_match.group(1)) if bad_match else 0
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if errors and sum(int(x) for x in errors.groups()):
        print(f"  wrk socket errors: {errors.group(0)}", file=sys.stderr)
    return (total - bad) / seconds, total - bad, bad


def write_requests(path: Path, items: list[tuple[bytes, dict[str, str]]]) -> None:
    """One request a line for the Lua script: hex body, then header name/value pairs, tab-separated."""
    with path.open("w") as fh:
        for body, headers in items:
            fh.write("\t".join([body.hex(), *(f"{k}\t{v}" for k, v in headers.items())]) + "\n")


def count_events(database_url: str, source: str) -> tuple[int, int, int]:
    engine = create_engine(database_url)
    with engine.connect() as c:
        total, distinct, processed = c.execute(text(
            "SELECT count(*), count(DISTINCT external_id), count(processed_at) FROM webhook_event WHERE source = :s"
        ), {"s": source}).one()
    engine.dispose()
    return int(total), int(distinct), int(processed)


def run(backend: str, database_url: str | None, twilio: TwilioStandin, graph: MetaGraphStandin, tmp: Path
        ) -> tuple[list[str], bool]:
    env = {"GLOWDESK_TWILIO_API_URL": twilio.url, "GLOWDESK_META_GRAPH_URL": graph.url}
    if database_url:
        env["GLOWDESK_DATABASE_URL"] = database_url
    server = S.start_server(tmp / f"{backend}-home", worker=False, extra_env=env)
    url_db = database_url or f"sqlite:///{server.home / 'glowdesk-server.db'}"
    worker = None
    lines, ok = [], True
    try:
        setup = S.make_clinic(server, codes=0)
        server.cli("integrations", "set", "--clinic", setup.slug, "--twilio-account-sid", twilio.account_sid,
                   "--twilio-auth-token", twilio.auth_token, "--twilio-from", CLINIC_NUMBER,
                   "--meta-app-secret", str(graph.app_secret), "--meta-page-id", graph.page_id,
                   "--meta-page-token", graph.page_token)
        sms_url = f"{server.url}/webhooks/twilio/sms"
        sms = []
        for i in range(REQUESTS):
            params = twilio.inbound(from_=f"+1415556{i % 5000:04d}", to=CLINIC_NUMBER, body=f"Hi, question {i}")
            sms.append((urlencode(params).encode(), {
                "X-Twilio-Signature": twilio_signature(twilio.auth_token, sms_url, params),
                "Content-Type": "application/x-www-form-urlencoded"}))
        meta = [meta_post(str(graph.app_secret), leadgen_body(page_id=graph.page_id, leadgen_id=f"bench{i}",
                                                               form_id="form1"))
                for i in range(REQUESTS)]
        files = {}
        for name, items in (("sms", sms), ("meta", meta)):
            files[name] = tmp / f"{backend}-{name}.tsv"
            write_requests(files[name], items)
        # warm-up: the first connections, the route caches, PostgreSQL's plans
        subprocess.run(["wrk", "-t1", "-c5", "-d1s", f"{server.url}/healthz"], capture_output=True, check=True)
        floor, _, floor_bad = wrk(f"{server.url}/healthz", None)
        results = {}
        for name, url, source in (("twilio_sms", sms_url, "twilio_sms"),
                                  ("meta_leadgen", f"{server.url}/webhooks/meta", "meta")):
            rate, answered, bad = wrk(url, files["sms" if name == "twilio_sms" else "meta"])
            results[name] = (rate, answered, source, bad)
        worker = S.start_worker(server, batch=50)

        def drained() -> bool:
            total, _, processed = count_events(url_db, "twilio_sms")
            return processed >= total

        S.wait_until(drained, f"the {backend} worker to drain the Twilio events", timeout=900)
        _, _, sms_processed = count_events(url_db, "twilio_sms")
        for name, (rate, answered, source, bad) in results.items():
            # counted after the drain: requests in flight when wrk stopped have been answered
            total, distinct, _ = count_events(url_db, source)
            lossless = answered <= total <= answered + CONNECTIONS and total == distinct and bad == 0
            good = lossless and floor_bad == 0 and (backend != "postgresql" or (
                rate >= TARGET_RATE and rate / floor >= TARGET_FLOOR))
            if name == "twilio_sms":
                good &= sms_processed == total
            ok &= good
            check = f"{answered} answered 200, {total} stored once" + (
                f", {sms_processed} processed" if name == "twilio_sms" else "")
            lines.append(f"{backend} {name} {rate:.0f}/s (floor /healthz {floor:.0f}/s, ratio {rate / floor:.2f}; "
                         f"{check}{'' if lossless else ', LOSS OR DUPLICATES'}){'' if good else ' MISSED'}")
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        server.stop()
    return lines, ok


def main() -> int:
    if shutil.which("wrk") is None:
        print("webhook_ingest: NOT MEASURED - wrk is not installed (Debian: apt-get install wrk); "
              "the load generator must not share the server's Python")
        return 2
    twilio, graph = TwilioStandin(), MetaGraphStandin()
    parts, ok = [], True
    with StandinServer(twilio.app) as t_standin, StandinServer(graph.app) as g_standin, \
            tempfile.TemporaryDirectory(prefix="glowdesk-bench-ingest-") as tmp:
        twilio.url, graph.url = t_standin.url, g_standin.url
        if "postgresql" in BACKENDS:
            lines, good = S.on_fresh_postgres(lambda url: run("postgresql", url, twilio, graph, Path(tmp)))
            parts += lines
            ok &= good
        if "sqlite" in BACKENDS:
            lines, good = run("sqlite", None, twilio, graph, Path(tmp))
            parts += lines
            ok &= good
    print(f"webhook_ingest_wrk_{CONNECTIONS}c_{DURATION}s: " + "; ".join(parts)
          + f" (target on PostgreSQL >= {TARGET_RATE:.0f}/s and >= {TARGET_FLOOR} of the floor); load {S.load()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
