"""Twilio through its real SDK. ``Client(http_client=...)`` is the SDK's one redirection seam:
:class:`RedirectingHttpClient` sends every request for ``*.twilio.com`` to
``GLOWDESK_TWILIO_API_URL`` (the real API by default, a local stand-in in tests and demo mode).

Errors: Twilio's 21610 (the recipient replied STOP), 21211 / 21614 (not a valid / mobile
number), 21408 / 21612 (cannot reach it) and authentication failures are permanent; rate limits,
5xx and network errors are retryable.
"""

from __future__ import annotations

import functools
import logging
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.rest import Client

from sync_server.integrations.service import TwilioAccount
from sync_server.integrations.transport import TransportError

log = logging.getLogger(__name__)

OPTED_OUT = 21610
INVALID_NUMBER = 21211

_REASONS = {
    21610: "The client has opted out of texts from this clinic's number (they replied STOP); they can text START "
           "to opt back in.",
    21211: "The phone number is not a valid phone number.",
    21614: "The phone number is not a mobile number, so it cannot receive texts.",
    21408: "Texting this country is not enabled on the clinic's Twilio account.",
    21612: "Twilio cannot reach this number from the clinic's number.",
    20003: "Twilio refused the clinic's credentials; check them with `integrations set`.",
    20404: "Twilio does not know this resource.",
}
_PERMANENT = frozenset(_REASONS)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process: building one loads the CA bundle (about 60 ms), which
    was most of a send's cost when every send job made its own."""
    return httpx.create_ssl_context()


class RedirectingHttpClient(HttpClient):  # type: ignore[misc]
    """The Twilio SDK's HTTP client, pointed at ``base_url`` (httpx underneath)."""

    def __init__(self, base_url: str, *, timeout: float = 15.0) -> None:
        super().__init__(logger=log, is_async=False, timeout=timeout)
        self.base = urlsplit(base_url.rstrip("/"))
        self._http = httpx.Client(timeout=timeout, verify=_tls_context())

    def rewrite(self, url: str) -> str:
        parts = urlsplit(url)
        if parts.hostname and (parts.hostname == "twilio.com" or parts.hostname.endswith(".twilio.com")):
            return urlunsplit((self.base.scheme, self.base.netloc, self.base.path + parts.path, parts.query, ""))
        return url

    def request(self, method: str, uri: str, params: dict[str, object] | None = None,
                data: dict[str, object] | None = None, headers: dict[str, str] | None = None,
                auth: tuple[str, str] | None = None, timeout: float | None = None,
                allow_redirects: bool = False) -> Response:
        response = self._http.request(
            method, self.rewrite(uri), params=params, data=data, headers=headers, auth=auth,  # type: ignore[arg-type]
            timeout=timeout or self.timeout, follow_redirects=allow_redirects,
        )
        return Response(response.status_code, response.text, response.headers)

    def get_bytes(self, url: str, *, auth: tuple[str, str]) -> tuple[bytes, str]:
        response = self._http.get(self.rewrite(url), auth=auth, follow_redirects=True)
        response.raise_for_status()
        return response.content, response.headers.get("content-type", "application/octet-stream")

    def close(self) -> None:
        self._http.close()


@dataclass(frozen=True)
class Sent:
    sid: str
    status: str


class TwilioTransport:
    def __init__(self, base_url: str, account: TwilioAccount, *, status_callback: str | None = None) -> None:
        self.account = account
        self.http = RedirectingHttpClient(base_url)
        self.client = Client(account.account_sid, account.auth_token, http_client=self.http)
        self.status_callback = status_callback

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> TwilioTransport:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def send(self, *, to: str, body: str, media_urls: list[str] | None = None) -> Sent:
        kwargs: dict[str, Any] = {"to": to, "body": body}
        if self.account.messaging_service_sid:
            kwargs["messaging_service_sid"] = self.account.messaging_service_sid
        else:
            kwargs["from_"] = self.account.from_number
        if self.status_callback:
            kwargs["status_callback"] = self.status_callback
        if media_urls:
            kwargs["media_url"] = media_urls
        message = self._call(lambda: self.client.messages.create(**kwargs))
        return Sent(str(message.sid), str(message.status))

    def find_sent(self, *, to: str, body: str, since: datetime) -> Sent | None:
        """A message to ``to`` with this body created since ``since``: the result of a send whose
        answer was lost (the worker died between Twilio accepting it and our commit)."""
        kwargs: dict[str, Any] = {"to": to, "limit": 50}
        if self.account.from_number and not self.account.messaging_service_sid:
            kwargs["from_"] = self.account.from_number
        floor = since - timedelta(minutes=1)
        for message in self._call(lambda: self.client.messages.list(**kwargs)):
            created = message.date_created
            if created is not None and created < floor:
                continue
            if (message.body or "") == body and str(getattr(message, "direction", "")).startswith("outbound"):
                return Sent(str(message.sid), str(message.status))
        return None

    def fetch_media(self, url: str) -> tuple[bytes, str]:
        try:
            return self.http.get_bytes(url, auth=(self.account.account_sid, self.account.auth_token))
        except httpx.HTTPStatusError as exc:
            raise TransportError("Twilio did not hand over a media file.",
                                 permanent=exc.response.status_code in (401, 403, 404)) from None
        except httpx.HTTPError:
            raise TransportError("Twilio could not be reached to fetch a media file.", permanent=False) from None

    @staticmethod
    def _call(fn: Any) -> Any:
        try:
            return fn()
        except TwilioRestException as exc:
            code = int(exc.code) if exc.code else None
            permanent = code in _PERMANENT or (exc.status in (400, 401, 403, 404) and code is not None)
            reason = _REASONS.get(code or 0) or f"Twilio refused the message (error {code or exc.status})."
            raise TransportError(reason, permanent=permanent, provider_code=str(code or exc.status)) from None
        except (httpx.HTTPError, TwilioException):
            raise TransportError("Twilio could not be reached; the text will be retried.", permanent=False) from None
