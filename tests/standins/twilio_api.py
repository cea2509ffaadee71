"""A Twilio REST API stand-in (2010-04-01 Messages), stateful like Twilio:

- ``POST /2010-04-01/Accounts/{sid}/Messages.json`` (HTTP basic auth with the account SID and
  auth token, else 401 / 20003) creates a message: ``To`` must be E.164 and a real number
  (21211 otherwise); a number that opted out answers 21610. It then produces the status
  callbacks Twilio would post (``sent``, then ``delivered``, or ``undelivered`` 30003 for numbers
  set unreachable), signed with the account's auth token (``X-Twilio-Signature``).
- ``GET .../Messages.json`` lists messages (newest first, ``To`` / ``From`` filters).
- ``GET .../Messages/{MM}/Media/{ME}`` serves the media of inbound MMS.
- :meth:`TwilioStandin.inbound` makes the request Twilio posts for a text someone sends to a
  clinic number, and keeps the opt-out state as Twilio's advanced opt-out does (STOP and its
  synonyms opt out, START / YES / UNSTOP opt back in).

Callbacks are queued and posted by :meth:`deliver_callbacks` (tests drive them), or posted in a
thread when ``auto_callbacks`` is on (a live server, demo mode).
"""

from __future__ import annotations

import base64
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.standins.signing import twilio_signature

API = "/2010-04-01"
E164 = re.compile(r"^\+[1-9]\d{7,14}$")
OPT_OUT_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
OPT_IN_WORDS = {"START", "YES", "UNSTOP"}

#: (url, form params, headers) -> the HTTP status the receiver answered
Poster = Callable[[str, dict[str, str], dict[str, str]], int]


def _sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


@dataclass
class TwilioStandin:
    account_sid: str = "AC" + "0123456789abcdef" * 2
    auth_token: str = "twilio-auth-token-for-tests"
    messages: list[dict[str, Any]] = field(default_factory=list)
    #: numbers that replied STOP (opt-outs are per recipient here, as with one sender per clinic)
    opted_out: set[str] = field(default_factory=set)
    #: numbers whose texts are accepted but never delivered (status ``undelivered``, 30003)
    unreachable: set[str] = field(default_factory=set)
    #: numbers that do not exist although well formed (21211)
    invalid: set[str] = field(default_factory=set)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    callbacks: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    auto_callbacks: bool = False
    callback_delay: float = 0.05
    #: how queued callbacks are posted when none is given (default: httpx to the URL)
    poster: Poster | None = None
    #: fail the next create calls with these HTTP statuses (e.g. 503) before succeeding
    fail_next: list[int] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        base = f"{API}/Accounts/{{account}}"
        self.app = Starlette(routes=[
            Route(f"{base}/Messages.json", self._messages, methods=["GET", "POST"]),
            Route(f"{base}/Messages/{{message}}/Media/{{media}}", self._media),
        ])

    # --- what tests look at -----------------------------------------------------------------

    def sent_to(self, number: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["to"] == number and m["direction"] == "outbound-api"]

    # --- the API ----------------------------------------------------------------------------

    def _error(self, status: int, code: int, message: str) -> JSONResponse:
        return JSONResponse({"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                             "status": status}, status_code=status)

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return False
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user == self.account_sid == request.path_params["account"] and password == self.auth_token

    def _resource(self, message: dict[str, Any]) -> dict[str, Any]:
        return {**{k: v for k, v in message.items() if not k.startswith("_")},
                "uri": f"{API}/Accounts/{self.account_sid}/Messages/{message['sid']}.json"}

    async def _messages(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._error(401, 20003, "Authenticate")
        if request.method == "GET":
            to, sender = request.query_params.get("To"), request.query_params.get("From")
            page_size = int(request.query_params.get("PageSize", 50))
            found = [self._resource(m) for m in reversed(self.messages)
                     if (not to or m["to"] == to) and (not sender or m["from"] == sender)][:page_size]
            uri = f"{API}/Accounts/{self.account_sid}/Messages.json"
            return JSONResponse({"messages": found, "end": max(0, len(found) - 1), "first_page_uri": uri,
                                 "next_page_uri": None, "page": 0, "page_size": page_size, "previous_page_uri": None,
                                 "start": 0, "uri": uri})
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        if self.fail_next:
            return self._error(self.fail_next.pop(0), 20500, "Internal Server Error")
        to = form.get("To", "")
        if not E164.match(to) or to in self.invalid:
            return self._error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if to in self.opted_out:
            return self._error(400, 21610, "Attempt to send to unsubscribed recipient")
        if not form.get("Body") and not form.get("MediaUrl"):
            return self._error(400, 21602, "Message body is required.")
        now = datetime.now(UTC)
        service = form.get("MessagingServiceSid")
        message = {
            "sid": _sid("SM"), "account_sid": self.account_sid, "to": to,
            "from": form.get("From") or ("+14155550100" if service else None), "body": form.get("Body", ""),
            "status": "accepted" if service else "queued", "direction": "outbound-api",
            "date_created": format_datetime(now), "date_updated": format_datetime(now), "date_sent": None,
            "num_segments": "1", "num_media": "0", "messaging_service_sid": service, "error_code": None,
            "error_message": None, "price": None, "price_unit": "USD", "api_version": "2010-04-01",
            "_callback": form.get("StatusCallback"),
        }
        with self._lock:
            self.messages.append(message)
        if message["_callback"]:
            final = ("undelivered", "30003") if to in self.unreachable else ("delivered", None)
            for status, error in (("sent", None), final):
                params = {"AccountSid": self.account_sid, "MessageSid": message["sid"], "SmsSid": message["sid"],
                          "MessageStatus": status, "SmsStatus": status, "To": to, "From": message["from"] or "",
                          "ApiVersion": "2010-04-01"}
                if error:
                    params["ErrorCode"] = error
                self._queue_callback(message["_callback"], params)
        return JSONResponse(self._resource(message), status_code=201)

    async def _media(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._error(401, 20003, "Authenticate")
        item = self.media.get(request.path_params["media"])
        if item is None:
            return self._error(404, 20404, "The requested resource was not found")
        return Response(item[0], media_type=item[1])

    # --- callbacks --------------------------------------------------------------------------

    def sign(self, url: str, params: dict[str, str]) -> dict[str, str]:
        return {"X-Twilio-Signature": twilio_signature(self.auth_token, url, params),
                "Content-Type": "application/x-www-form-urlencoded"}

    def _queue_callback(self, url: str, params: dict[str, str]) -> None:
        with self._lock:
            self.callbacks.append((url, params))
        if self.auto_callbacks:
            threading.Thread(target=self._deliver_later, daemon=True).start()

    def _deliver_later(self) -> None:
        time.sleep(self.callback_delay)
        self.deliver_callbacks()

    def deliver_callbacks(self, poster: Poster | None = None) -> int:
        """Post every queued status callback, signed; the number posted."""
        send = poster or self.poster or _httpx_post
        n = 0
        while True:
            with self._lock:
                if not self.callbacks:
                    return n
                url, params = self.callbacks.pop(0)
            send(url, params, self.sign(url, params))
            n += 1

    # --- texts people send to a clinic ------------------------------------------------------

    def inbound(self, *, from_: str, to: str, body: str, media: list[tuple[bytes, str]] | None = None,
                messaging_service_sid: str | None = None) -> dict[str, str]:
        """The parameters Twilio posts for a text to a clinic number (opt-out state kept)."""
        word = body.strip().upper()
        if word in OPT_OUT_WORDS:
            self.opted_out.add(from_)
        elif word in OPT_IN_WORDS:
            self.opted_out.discard(from_)
        sid = _sid("MM" if media else "SM")
        params = {"ToCountry": "US", "SmsMessageSid": sid, "NumMedia": str(len(media or [])), "SmsSid": sid,
                  "SmsStatus": "received", "Body": body, "To": to, "NumSegments": "1", "MessageSid": sid,
                  "AccountSid": self.account_sid, "From": from_, "ApiVersion": "2010-04-01", "FromCountry": "US"}
        if messaging_service_sid:
            params["MessagingServiceSid"] = messaging_service_sid
        for index, (data, content_type) in enumerate(media or []):
            media_sid = _sid("ME")
            self.media[media_sid] = (data, content_type)
            params[f"MediaUrl{index}"] = (f"https://api.twilio.com{API}/Accounts/{self.account_sid}/Messages/{sid}"
                                          f"/Media/{media_sid}")
            params[f"MediaContentType{index}"] = content_type
        with self._lock:
            self.messages.append({"sid": sid, "account_sid": self.account_sid, "to": to, "from": from_, "body": body,
                                  "status": "received", "direction": "inbound",
                                  "date_created": format_datetime(datetime.now(UTC))})
        return params


def _httpx_post(url: str, params: dict[str, str], headers: dict[str, str]) -> int:
    return httpx.post(url, data=params, headers=headers, timeout=10).status_code
