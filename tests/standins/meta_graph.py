"""A Meta Graph API stand-in: leads by id, a page's lead forms, a form's leads (paged, filtered by
time), Instagram user profiles, attachment files, Instagram DMs sent (``POST /{page-id}/messages``)
and read back (``GET /{page-id}/conversations?platform=instagram&user_id=...``), and Graph-style
errors (``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``).

It keeps state like Graph: page access tokens (a wrong one answers 190), ``appsecret_proof``
checked when the app secret is known, objects that exist or answer 100/33, and each person's
conversation with the clinic's account. A DM is accepted only within 24 hours of the person's
last message that this stand-in delivered (:meth:`MetaGraphStandin.dm_webhook` records it; code
10 / subcode 2534022 otherwise, 100 / 2534014 for someone it has never heard of), and each
accepted DM is echoed back as Meta does (``is_echo``; :meth:`deliver_echoes`, or on its own when
``echo_to`` names a server). It also builds and signs the webhooks Meta would send
(:meth:`MetaGraphStandin.deliver`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.standins.signing import instagram_body, leadgen_body, meta_post

API_VERSION = "v24.0"
WINDOW = timedelta(hours=24)
DM_MAX_CHARS = 1000
_GRAPH_TIME = "%Y-%m-%dT%H:%M:%S+0000"


@dataclass
class MetaGraphStandin:
    page_id: str = "1001"
    page_token: str = "EAAB-page-token-for-tests"
    app_secret: str | None = "meta-app-secret-for-tests"
    instagram_id: str = "17841400000000001"
    leads: dict[str, dict[str, Any]] = field(default_factory=dict)
    forms: dict[str, list[str]] = field(default_factory=dict)  # form id -> lead ids
    profiles: dict[str, dict[str, str]] = field(default_factory=dict)
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    #: (method, path) of every request, for asserting what was looked up
    requests: list[tuple[str, str]] = field(default_factory=list)
    #: errors to answer next, oldest first: (http status, code, subcode or None)
    fail_next: list[tuple[int, int, int | None]] = field(default_factory=list)
    page_size: int = 25
    url: str = ""
    #: the person's Instagram-scoped id -> when their last message to the clinic was sent
    last_inbound: dict[str, datetime] = field(default_factory=dict)
    #: the person's id -> their conversation with the clinic, oldest first (Graph message shape)
    conversations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: every DM Graph accepted: {"message_id", "recipient_id", "text", "sender"}
    sent_dms: list[dict[str, Any]] = field(default_factory=list)
    #: echo webhooks not yet delivered (see deliver_echoes)
    echoes: list[dict[str, Any]] = field(default_factory=list)
    #: a server URL: echoes are posted there on their own, shortly after each send (demo mode)
    echo_to: str | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        self._ids = itertools.count(int(datetime.now(UTC).timestamp()) * 1000)
        self._lock = threading.Lock()
        self.app = Starlette(routes=[
            Route("/files/{name}", self._file),
            Route("/{version}/{node}/messages", self._send_dm, methods=["POST"]),
            Route("/{version}/{node}/conversations", self._conversations),
            Route("/{version}/{node}/leads", self._form_leads),
            Route("/{version}/{node}/leadgen_forms", self._page_forms),
            Route("/{version}/{node}", self._node),
        ])

    # --- state ------------------------------------------------------------------------------

    def new_id(self) -> str:
        with self._lock:
            return str(next(self._ids))

    def add_lead(self, *, form_id: str = "5550001", fields: dict[str, str], ad_id: str | None = None,
                 adset_id: str | None = None, campaign_id: str | None = None, platform: str = "fb",
                 created: datetime | None = None) -> dict[str, Any]:
        lead_id = self.new_id()
        created = created or datetime.now(UTC)
        lead: dict[str, Any] = {
            "id": lead_id, "created_time": created.strftime("%Y-%m-%dT%H:%M:%S+0000"),
            "field_data": [{"name": k, "values": [v]} for k, v in fields.items()],
            "form_id": form_id, "is_organic": ad_id is None, "platform": platform,
        }
        if ad_id is not None:
            lead.update(ad_id=ad_id, adset_id=adset_id or "", campaign_id=campaign_id or "")
        with self._lock:
            self.leads[lead_id] = lead
            self.forms.setdefault(form_id, []).append(lead_id)
        return lead

    def add_profile(self, user_id: str, *, username: str, name: str) -> None:
        self.profiles[user_id] = {"id": user_id, "username": username, "name": name}

    def add_file(self, data: bytes, content_type: str) -> str:
        name = self.new_id()
        self.files[name] = (data, content_type)
        return f"{self.url}/files/{name}"

    def dms_to(self, user_id: str) -> list[dict[str, Any]]:
        return [m for m in self.sent_dms if m["recipient_id"] == user_id]

    def heard_from(self, user_id: str, *, at: datetime, text: str = "", mid: str | None = None) -> str:
        """The person wrote to the clinic at ``at`` (their side of the conversation); the message id."""
        mid = mid or self._mid()
        with self._lock:
            self.last_inbound[user_id] = max(at, self.last_inbound.get(user_id, at))
            self.conversations.setdefault(user_id, []).append({
                "id": mid, "message": text, "created_time": at.strftime(_GRAPH_TIME), "from": {"id": user_id}})
        return mid

    def _mid(self) -> str:
        return base64.b64encode(f"ig_message_id:{self.new_id()}".encode()).decode().rstrip("=")

    def lookups(self, node: str) -> int:
        return sum(1 for _, path in self.requests if path.rstrip("/").endswith(f"/{node}"))

    # --- webhooks Meta would send -----------------------------------------------------------

    def leadgen_webhook(self, lead: dict[str, Any]) -> dict[str, Any]:
        return leadgen_body(page_id=self.page_id, leadgen_id=lead["id"], form_id=lead["form_id"],
                            ad_id=lead.get("ad_id"), adgroup_id=lead.get("adset_id"))

    def dm_webhook(self, *, sender_id: str, mid: str, text: str | None = None,
                   attachments: list[dict[str, Any]] | None = None, is_echo: bool = False) -> dict[str, Any]:
        if not is_echo:
            self.heard_from(sender_id, at=self.clock(), text=text or "", mid=mid)
        return instagram_body(account_id=self.instagram_id, sender_id=sender_id, mid=mid, text=text,
                              attachments=attachments, is_echo=is_echo)

    def deliver_echoes(self, server_url: str = "", *, client: Any = None) -> int:
        """Post the echoes of the DMs sent so far, signed, as Meta does; how many."""
        with self._lock:
            pending, self.echoes = self.echoes, []
        for body in pending:
            self.deliver(server_url, body, client=client)
        return len(pending)

    def _echo_later(self) -> None:
        time.sleep(0.05)
        if self.echo_to:
            try:
                self.deliver_echoes(self.echo_to)
            except httpx.HTTPError:
                pass  # the server is gone: Meta would retry; the demo does not

    def deliver(self, server_url: str, body: dict[str, Any], *, client: Any = None) -> Any:
        """POST a webhook to ``server_url/webhooks/meta`` signed with the app secret, as Meta does."""
        assert self.app_secret
        raw, headers = meta_post(self.app_secret, body)
        if client is not None:
            return client.post("/webhooks/meta", content=raw, headers=headers)
        return httpx.post(f"{server_url}/webhooks/meta", content=raw, headers=headers, timeout=10)

    # --- the API ----------------------------------------------------------------------------

    def _error(self, status: int, code: int, message: str, subcode: int | None = None,
               kind: str = "OAuthException") -> JSONResponse:
        error: dict[str, Any] = {"message": message, "type": kind, "code": code,
                                 "fbtrace_id": base64.b64encode(self.new_id().encode()).decode()[:11]}
        if subcode is not None:
            error["error_subcode"] = subcode
        return JSONResponse({"error": error}, status_code=status, headers={"WWW-Authenticate": "OAuth"})

    def _check(self, request: Request) -> JSONResponse | None:
        self.requests.append((request.method, request.url.path))
        if self.fail_next:
            status, code, subcode = self.fail_next.pop(0)
            return self._error(status, code, "An unexpected error has occurred. Please retry your request later.",
                               subcode, kind="OAuthException" if code == 190 else "GraphMethodException")
        token = request.query_params.get("access_token")
        if token != self.page_token:
            return self._error(400, 190, "Invalid OAuth access token - Cannot parse access token")
        proof = request.query_params.get("appsecret_proof")
        if self.app_secret and proof is not None:
            expected = hmac.new(self.app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(proof, expected):
                return self._error(400, 100, "Invalid appsecret_proof provided in the API argument")
        return None

    @staticmethod
    def _fields(request: Request) -> list[str] | None:
        raw = request.query_params.get("fields")
        return [f.strip() for f in raw.split(",") if f.strip()] if raw else None

    def _missing(self, node: str) -> JSONResponse:
        return self._error(400, 100, f"Unsupported get request. Object with ID '{node}' does not exist, cannot be "
                           "loaded due to missing permissions, or does not support this operation.", 33,
                           kind="GraphMethodException")

    async def _node(self, request: Request) -> Response:
        refused = self._check(request)
        if refused is not None:
            return refused
        node = request.path_params["node"]
        fields = self._fields(request)
        if node in self.leads:
            lead = self.leads[node]
            return JSONResponse({k: v for k, v in lead.items() if fields is None or k in fields or k == "id"})
        if node in self.profiles:
            profile = self.profiles[node]
            return JSONResponse({k: v for k, v in profile.items() if fields is None or k in fields or k == "id"})
        if node == self.page_id:
            return JSONResponse({"id": node, "name": "Glow page"})
        return self._missing(node)

    def _page(self, request: Request, items: list[dict[str, Any]]) -> JSONResponse:
        limit = int(request.query_params.get("limit", self.page_size))
        after = request.query_params.get("after")
        start = int(base64.b64decode(after).decode()) if after else 0
        chunk = items[start:start + limit]
        body: dict[str, Any] = {"data": chunk}
        if chunk:
            body["paging"] = {"cursors": {"before": base64.b64encode(str(start).encode()).decode(),
                                          "after": base64.b64encode(str(start + len(chunk)).encode()).decode()}}
            if start + len(chunk) < len(items):
                body["paging"]["next"] = f"{self.url}{request.url.path}?after={body['paging']['cursors']['after']}"
        return JSONResponse(body)

    async def _form_leads(self, request: Request) -> Response:
        refused = self._check(request)
        if refused is not None:
            return refused
        form_id = request.path_params["node"]
        if form_id not in self.forms:
            return self._missing(form_id)
        since = 0
        raw_filter = request.query_params.get("filtering")
        if raw_filter:
            for rule in json.loads(raw_filter):
                if rule.get("field") == "time_created" and rule.get("operator") == "GREATER_THAN":
                    since = int(rule["value"])
        fields = self._fields(request)
        items = []
        for lead_id in reversed(self.forms[form_id]):  # newest first, as Graph lists them
            lead = self.leads[lead_id]
            created = datetime.strptime(lead["created_time"], "%Y-%m-%dT%H:%M:%S%z")
            if created.timestamp() > since:
                items.append({k: v for k, v in lead.items() if fields is None or k in fields or k == "id"})
        return self._page(request, items)

    async def _page_forms(self, request: Request) -> Response:
        refused = self._check(request)
        if refused is not None:
            return refused
        if request.path_params["node"] != self.page_id:
            return self._missing(request.path_params["node"])
        return self._page(request, [{"id": f, "name": f"Form {f}", "status": "ACTIVE"} for f in sorted(self.forms)])

    def _account(self, node: str) -> bool:
        return node in (self.page_id, self.instagram_id)

    async def _send_dm(self, request: Request) -> Response:
        refused = self._check(request)
        if refused is not None:
            return refused
        if not self._account(request.path_params["node"]):
            return self._missing(request.path_params["node"])
        form = await request.form()
        try:
            recipient = str(json.loads(str(form["recipient"]))["id"])
            text = str(json.loads(str(form["message"]))["text"])
        except (KeyError, ValueError, TypeError):
            return self._error(400, 100, "(#100) The parameter recipient and message[text] are required",
                               kind="OAuthException")
        if len(text) > DM_MAX_CHARS:
            return self._error(400, 100, f"(#100) Param message[text] must be at most {DM_MAX_CHARS} characters",
                               kind="OAuthException")
        now = self.clock()
        with self._lock:
            last = self.last_inbound.get(recipient)
            known = last is not None or recipient in self.profiles
        if not known:
            return self._error(400, 100, "No matching user found", 2534014, kind="OAuthException")
        if last is None or now - last > WINDOW:
            return self._error(400, 10, "(#10) This message is sent outside of allowed window.", 2534022,
                               kind="OAuthException")
        mid = self._mid()
        with self._lock:
            self.sent_dms.append({"message_id": mid, "recipient_id": recipient, "text": text,
                                  "sender": request.path_params["node"]})
            self.conversations.setdefault(recipient, []).append({
                "id": mid, "message": text, "created_time": now.strftime(_GRAPH_TIME), "from": {"id": self.instagram_id}})
            self.echoes.append(instagram_body(account_id=self.instagram_id, sender_id=recipient, mid=mid, text=text,
                                              is_echo=True, timestamp=int(now.timestamp() * 1000)))
        if self.echo_to:
            threading.Thread(target=self._echo_later, daemon=True).start()
        return JSONResponse({"recipient_id": recipient, "message_id": mid})

    async def _conversations(self, request: Request) -> Response:
        refused = self._check(request)
        if refused is not None:
            return refused
        if not self._account(request.path_params["node"]):
            return self._missing(request.path_params["node"])
        if request.query_params.get("platform") != "instagram":
            return self._error(400, 100, "(#100) Param platform must be one of {messenger, instagram}",
                               kind="OAuthException")
        user = request.query_params.get("user_id")
        with self._lock:
            users = [user] if user else sorted(self.conversations)
            found = [(u, list(self.conversations.get(u, []))) for u in users if self.conversations.get(u)]
        data = []
        for u, messages in found:
            item: dict[str, Any] = {"id": base64.b64encode(f"conversation:{u}".encode()).decode().rstrip("=")}
            if "messages" in (request.query_params.get("fields") or ""):
                item["messages"] = {"data": list(reversed(messages))[:50]}  # newest first, as Graph lists them
            data.append(item)
        return JSONResponse({"data": data})

    async def _file(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in self.files:
            return Response(status_code=404)
        data, content_type = self.files[name]
        return Response(data, media_type=content_type)
