"""``python -m tests.standins``: run the Twilio and Meta Graph stand-ins for a demo server.

Prints one JSON line with their URLs and the demo credentials, then serves until SIGINT/SIGTERM.
Point the server at them with ``GLOWDESK_TWILIO_API_URL`` and ``GLOWDESK_META_GRAPH_URL`` and
connect the demo clinic with ``python -m sync_server integrations set`` using these credentials.
Status callbacks are posted back to the server on their own (``auto_callbacks``).
"""

from __future__ import annotations

import argparse
import json
import signal
import threading

from tests.standins.meta_graph import MetaGraphStandin
from tests.standins.server import StandinServer
from tests.standins.twilio_api import TwilioStandin


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.standins", description=__doc__)
    parser.add_argument("--twilio-port", type=int, default=None)
    parser.add_argument("--graph-port", type=int, default=None)
    args = parser.parse_args()
    twilio = TwilioStandin(auto_callbacks=True)
    graph = MetaGraphStandin()
    with StandinServer(twilio.app, port=args.twilio_port) as t, StandinServer(graph.app, port=args.graph_port) as g:
        twilio.url, graph.url = t.url, g.url
        print(json.dumps({
            "GLOWDESK_TWILIO_API_URL": t.url, "GLOWDESK_META_GRAPH_URL": g.url,
            "twilio": {"account_sid": twilio.account_sid, "auth_token": twilio.auth_token},
            "meta": {"page_id": graph.page_id, "page_token": graph.page_token, "app_secret": graph.app_secret,
                     "instagram_id": graph.instagram_id},
        }), flush=True)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
