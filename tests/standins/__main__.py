"""``python -m tests.standins``: the Twilio and Meta Graph stand-ins for a demo server (``make run``).

Prints one JSON line with their URLs, the control URL and the demo credentials, then serves until
SIGINT/SIGTERM. Point the server at them with ``GLOWDESK_TWILIO_API_URL`` and
``GLOWDESK_META_GRAPH_URL`` and connect the demo clinic with ``python -m sync_server integrations
set`` using these credentials (``scripts/run_demo.py`` does both). Status callbacks for sent texts
are posted back to the server on their own.

With ``--server-url`` the control surface plays the outside world, the way the providers would,
each request signed with the provider's real scheme:

- ``POST /demo/text`` ``{"from": "+14155550123", "body": "Hi! Any openings Friday?"}``: a client
  texts the clinic's number;
- ``POST /demo/lead`` ``{"fields": {"full_name": ..., "phone_number": ..., "email": ...},
  "ad_id": ..., "adset_id": ..., "campaign_id": ...}``: someone fills in a Meta lead ad;
- ``POST /demo/dm`` ``{"sender_id": "...", "username": "...", "name": "...", "text": "..."}``: an
  Instagram DM.

``scripts/demo_event.py`` is the friendly front end to these.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.standins.meta_graph import MetaGraphStandin
from tests.standins.server import StandinServer
from tests.standins.signing import twilio_signature
from tests.standins.twilio_api import TwilioStandin

DEMO_CLINIC_NUMBER = "+14155550100"


class DemoControl:
    """The outside world, on demand: inbound texts, lead ads and DMs posted to the server, signed."""

    def __init__(self, twilio: TwilioStandin, graph: MetaGraphStandin, *, server_url: str, clinic_number: str) -> None:
        self.twilio, self.graph = twilio, graph
        self.server_url = server_url.rstrip("/")
        graph.echo_to = self.server_url  # DMs the clinic sends are echoed back, as Meta does
        self.clinic_number = clinic_number
        self.app = Starlette(routes=[
            Route("/demo/text", self.text, methods=["POST"]),
            Route("/demo/lead", self.lead, methods=["POST"]),
            Route("/demo/dm", self.dm, methods=["POST"]),
        ])

    @staticmethod
    async def _json(request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ValueError("send a JSON object")
        return body

    @staticmethod
    def _answer(response: httpx.Response) -> JSONResponse:
        return JSONResponse({"server_status": response.status_code}, status_code=200 if response.is_success else 502)

    async def text(self, request: Request) -> JSONResponse:
        try:
            body = await self._json(request)
            sender, text = str(body["from"]), str(body["body"])
        except (ValueError, KeyError) as exc:
            return JSONResponse({"error": f"need 'from' and 'body' ({exc})"}, status_code=400)
        params = self.twilio.inbound(from_=sender, to=self.clinic_number, body=text)
        url = f"{self.server_url}/webhooks/twilio/sms"
        headers = {"X-Twilio-Signature": twilio_signature(self.twilio.auth_token, url, params)}
        async with httpx.AsyncClient(timeout=10) as client:
            return self._answer(await client.post(url, data=params, headers=headers))

    async def lead(self, request: Request) -> JSONResponse:
        try:
            body = await self._json(request)
            fields = {str(k): str(v) for k, v in dict(body["fields"]).items()}
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"error": f"need 'fields' ({exc})"}, status_code=400)
        lead = self.graph.add_lead(fields=fields, ad_id=body.get("ad_id"), adset_id=body.get("adset_id"),
                                   campaign_id=body.get("campaign_id"), form_id=str(body.get("form_id") or "5550001"))
        return self._answer(await self._deliver(self.graph.leadgen_webhook(lead)))

    async def dm(self, request: Request) -> JSONResponse:
        try:
            body = await self._json(request)
            sender, text = str(body["sender_id"]), str(body["text"])
        except (ValueError, KeyError) as exc:
            return JSONResponse({"error": f"need 'sender_id' and 'text' ({exc})"}, status_code=400)
        if body.get("username"):
            self.graph.add_profile(sender, username=str(body["username"]), name=str(body.get("name") or ""))
        webhook = self.graph.dm_webhook(sender_id=sender, mid=f"m_{self.graph.new_id()}", text=text)
        return self._answer(await self._deliver(webhook))

    async def _deliver(self, webhook: dict[str, Any]) -> httpx.Response:
        from tests.standins.signing import meta_post

        assert self.graph.app_secret
        raw, headers = meta_post(self.graph.app_secret, webhook)
        async with httpx.AsyncClient(timeout=10) as client:
            return await client.post(f"{self.server_url}/webhooks/meta", content=raw, headers=headers)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.standins", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--twilio-port", type=int, default=None)
    parser.add_argument("--graph-port", type=int, default=None)
    parser.add_argument("--control-port", type=int, default=None)
    parser.add_argument("--server-url", default=None, help="the Glowdesk server the control surface posts to")
    parser.add_argument("--clinic-number", default=DEMO_CLINIC_NUMBER, help="the clinic's Twilio number")
    args = parser.parse_args()
    twilio = TwilioStandin(auto_callbacks=True)
    graph = MetaGraphStandin()
    servers = [StandinServer(twilio.app, port=args.twilio_port), StandinServer(graph.app, port=args.graph_port)]
    if args.server_url:
        control = DemoControl(twilio, graph, server_url=args.server_url, clinic_number=args.clinic_number)
        servers.append(StandinServer(control.app, port=args.control_port))
    for server in servers:
        server.start()
    try:
        twilio.url, graph.url = servers[0].url, servers[1].url
        print(json.dumps({
            "GLOWDESK_TWILIO_API_URL": twilio.url, "GLOWDESK_META_GRAPH_URL": graph.url,
            "control_url": servers[2].url if len(servers) > 2 else None,
            "twilio": {"account_sid": twilio.account_sid, "auth_token": twilio.auth_token,
                       "from": args.clinic_number},
            "meta": {"page_id": graph.page_id, "page_token": graph.page_token, "app_secret": graph.app_secret,
                     "instagram_id": graph.instagram_id, "verify_token": "glowdesk-demo-verify"},
        }), flush=True)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        stop.wait()
    finally:
        for server in reversed(servers):
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
