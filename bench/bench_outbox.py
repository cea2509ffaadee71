"""Outbox (issue 5): messages/s sent from the server's outbox to the Twilio stand-in, with the
stand-in's signed delivery status callbacks posted back to ``/webhooks/twilio/status`` and
applied, until every message is in a final state.

A real ``serve --with-worker`` process (SQLite) and the Twilio stand-in (``auto_callbacks``:
``sent`` then ``delivered``, signed with ``X-Twilio-Signature``). The bench writes N clients with
SMS consent and queues one text to each in one server transaction (as a desktop push would);
the clock runs from that commit until the last message is ``delivered`` in the server's
database. Checked: every message final, each sent to Twilio exactly once. The issue sets no
target; the ratio is to Twilio's own pace for one US long-code number (1 message/s), the rate a
clinic's number can send at anyway: below it the outbox would be the bottleneck.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import _servers as S
from sqlalchemy import create_engine, text

from core.clock import HybridLogicalClock
from sync_server import tenancy
from sync_server.db import Database
from sync_server.messaging import service as messaging
from sync_server.records.service import ServerWrites
from sync_server.settings import Settings
from tests.standins.server import StandinServer
from tests.standins.twilio_api import TwilioStandin

N = 300
CLINIC_NUMBER = "+14155550100"
BASELINE = 1.0  # Twilio: 1 message segment/s per US long-code number
CONSENT = {"transactional_sms": {"granted": True, "at": "2026-01-05T10:00:00Z", "source": "intake_form"}}


def main() -> int:
    twilio = TwilioStandin(auto_callbacks=True, callback_delay=0.05)
    with StandinServer(twilio.app) as standin, tempfile.TemporaryDirectory(prefix="glowdesk-bench-outbox-") as tmp:
        twilio.url = standin.url
        server = S.start_server(Path(tmp) / "server-home", worker=True,
                                extra_env={"GLOWDESK_TWILIO_API_URL": twilio.url})
        try:
            setup = S.make_clinic(server, codes=0)
            server.cli("integrations", "set", "--clinic", setup.slug, "--twilio-account-sid", twilio.account_sid,
                       "--twilio-auth-token", twilio.auth_token, "--twilio-from", CLINIC_NUMBER)
            db = Database(Settings(server_home=server.home, secret_key=S.SECRET))
            numbers = [f"+1415558{i:04d}" for i in range(N)]
            try:
                with db.transaction(app_role=True) as session:
                    tenancy.enter_clinic(session, setup.clinic_id)
                    writes = ServerWrites(session, clinic_id=setup.clinic_id, now=datetime.now(UTC),
                                          hlc=HybridLogicalClock("server"))
                    for i, phone in enumerate(numbers):
                        pid = writes.insert("patient", {"first_name": f"Client{i}", "last_name": "Bench",
                                                        "phone": phone, "consents": CONSENT})
                        messaging.queue_outbound(writes, patient_id=pid, body=f"See you Thursday, Client{i}!",
                                                 author_staff_id=setup.owner_id)
                start = time.perf_counter()
            finally:
                db.dispose()
            engine = create_engine(f"sqlite:///{server.home / 'glowdesk-server.db'}")
            sql = text("SELECT status, count(*) FROM message WHERE direction = 'outbound' GROUP BY status")

            def done() -> dict[str, int] | None:
                with engine.connect() as c:
                    states = {s: int(n) for s, n in c.execute(sql)}
                return states if states.get("delivered", 0) >= N else None

            states = S.wait_until(done, "every message to be delivered", timeout=600, step=0.05)
            elapsed = time.perf_counter() - start
            time.sleep(1.0)  # late duplicates would show up now
            with engine.connect() as c:
                states = {s: int(n) for s, n in c.execute(sql)}
                applied = c.execute(text("SELECT count(*) FROM webhook_event WHERE source = 'twilio_status' "
                                         "AND processed_at IS NOT NULL")).scalar_one()
                retried = c.execute(text("SELECT count(*) FROM job WHERE attempts > 1")).scalar_one()
            engine.dispose()
        finally:
            server.stop()
    sent = Counter(m["to"] for m in twilio.messages if m["direction"] == "outbound-api")
    twice = [n for n, c in sent.items() if c > 1]
    if states != {"delivered": N} or twice or set(sent) != set(numbers):
        print(f"outbox_{N}: FAILED: states {states}, {len(twice)} sent twice, {len(sent)} numbers reached")
        return 1
    rate = N / elapsed
    print(f"outbox_{N}: {rate:.1f} messages/s ({N} sent once each, {applied} status callbacks applied, {retried} jobs "
          f"retried, all delivered in {elapsed:.1f} s), ratio to Twilio's {BASELINE:.0f}/s per long-code number {rate / BASELINE:.1f}; load {S.load()}")
    return 0 if rate >= BASELINE else 1


if __name__ == "__main__":
    sys.exit(main())
