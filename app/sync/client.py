"""The clinic server over HTTP (httpx): enrol, hello, push, pull, staff list and the live channel.

:class:`SyncClient` is the one seam between the sync engine and the network. Every answer is
parsed into the wire models of :mod:`core.sync`; every failure becomes one of the errors of
:mod:`app.sync.errors` (or :class:`core.sync.ProtocolMismatch`), so callers decide on *what to
do* (retry, stop, show) rather than on status codes. The server answers errors either as
``{code, message, details}`` (:class:`core.sync.ErrorBody`, the sync endpoints) or as
``{detail, code}`` (the other endpoints); both are understood.

Nothing here touches the store, and nothing is logged but status codes and error codes (never
bodies: they carry patient data).
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import httpx
from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticValidationError

from app.sync.errors import (
    CredentialRefused,
    DeviceRevokedError,
    EnrollmentError,
    SyncRefused,
    SyncUnavailable,
)
from core.sync import (
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    SCHEMA_HEADER,
    SCHEMA_VERSION,
    ErrorBody,
    HelloRequest,
    HelloResponse,
    LiveEvent,
    ProtocolMismatch,
    PullResponse,
    PushRequest,
    PushResponse,
    error_from_body,
)

log = logging.getLogger(__name__)

API = "/api/v1"
STAFF_HEADER = "X-Glowdesk-Staff"
#: connect quickly (a dead server is reported fast); allow a slow page to be read
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
#: the live channel pings every 15 s; no byte for this long means the connection is dead
LIVE_READ_TIMEOUT = 45.0


# --- enrolment answer (the server's EnrollResponse, read leniently) --------------------------


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")


class EnrolledDevice(_Answer):
    id: str
    name: str


class EnrolledClinic(_Answer):
    id: str
    slug: str
    name: str
    timezone: str = "America/Los_Angeles"
    region: str = "US"
    currency: str = "USD"


class EnrolledStaff(_Answer):
    id: str
    display_name: str
    role: str
    pin_hash: str | None = None
    active: bool = True


class Enrollment(_Answer):
    device: EnrolledDevice
    device_token: str
    clinic: EnrolledClinic
    staff: list[EnrolledStaff]


# --- the transport protocol the engine uses --------------------------------------------------


class SyncTransport(Protocol):
    """What the engine needs from the server (the HTTP client, or a fake in unit tests)."""

    def hello(self, request: HelloRequest, *, staff_id: str | None = None) -> HelloResponse: ...

    def push(self, request: PushRequest, *, staff_id: str | None) -> PushResponse: ...

    def pull(self, *, cursor: int, limit: int) -> PullResponse: ...


def error_body(response: httpx.Response) -> ErrorBody:
    """The error a response carries, whichever of the server's two shapes it uses."""
    try:
        raw = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raw = None
    if isinstance(raw, dict):
        code = str(raw.get("code") or f"http_{response.status_code}")
        message = raw.get("message") or raw.get("detail")
        found = raw.get("details")
        details: dict[str, Any] = found if isinstance(found, dict) else {}
        if isinstance(message, str) and message:
            return ErrorBody(code=code, message=message, details=details)
        return ErrorBody(code=code, message=f"The clinic server answered {response.status_code}.", details=details)
    return ErrorBody(code=f"http_{response.status_code}", message=f"The clinic server answered {response.status_code}.")


def raise_for_error(response: httpx.Response) -> None:
    """Turn an error answer into the error that says what to do next."""
    status = response.status_code
    if status < 400:
        return
    body = error_body(response)
    log.info("sync server answered %s (%s)", status, body.code)
    if body.code == ProtocolMismatch.code:
        raise error_from_body(body)
    if status == 401:
        if body.code == DeviceRevokedError.code:
            raise DeviceRevokedError()
        raise CredentialRefused(body.message)
    if status in (408, 429) or status >= 500:
        raise SyncUnavailable(
            f"The clinic server could not take the request right now ({status}); Glowdesk will retry.",
            code=body.code,
        )
    field = body.details.get("field")
    raise SyncRefused(body.message, status=status, code=body.code, field=field if isinstance(field, str) else None)


class SyncClient:
    """One clinic server, as one enrolled workstation (``token``) sees it.

    ``http`` lets a caller supply the httpx client (tests pass a TestClient bound to an
    in-process server); otherwise one is made for ``base_url``.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        http: httpx.Client | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    ) -> None:
        self.base_url = normalise_url(base_url)
        self.token = token
        self._own_http = http is None
        self._http = http or httpx.Client(base_url=self.base_url, timeout=timeout)
        self._timeout = timeout
        self._live_lock = threading.Lock()
        self._live_response: httpx.Response | None = None

    # --- plumbing ----------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.base_url}{API}{path}"

    def _headers(self, staff_id: str | None = None) -> dict[str, str]:
        headers = {PROTOCOL_HEADER: str(PROTOCOL_VERSION), SCHEMA_HEADER: str(SCHEMA_VERSION)}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if staff_id:
            headers[STAFF_HEADER] = staff_id
        return headers

    def _request(
        self, method: str, path: str, *, staff_id: str | None = None, body: BaseModel | None = None, **kw: Any
    ) -> httpx.Response:
        headers = self._headers(staff_id)
        if body is not None:
            kw["content"] = body.model_dump_json().encode("utf-8")
            headers["Content-Type"] = "application/json"
        try:
            response = self._http.request(method, self._url(path), headers=headers, **kw)
        except httpx.TimeoutException as exc:
            raise SyncUnavailable(
                "The clinic server did not answer in time; Glowdesk will retry.", offline=True
            ) from exc
        except httpx.TransportError as exc:
            raise SyncUnavailable(
                f"The clinic server at {self.base_url} cannot be reached ({type(exc).__name__}); "
                "this workstation keeps working offline and syncs when it is back.",
                offline=True,
            ) from exc
        raise_for_error(response)
        return response

    @staticmethod
    def _parse(model: type[Any], response: httpx.Response) -> Any:
        try:
            return model.model_validate_json(response.content)
        except PydanticValidationError as exc:
            raise SyncUnavailable(
                "The clinic server sent an answer this workstation cannot read; Glowdesk will retry.",
                code="bad_answer",
            ) from exc

    def close(self) -> None:
        self.close_live()
        if self._own_http:
            self._http.close()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- endpoints ---------------------------------------------------------------------------

    def enroll(self, code: str, device_name: str) -> Enrollment:
        """Redeem a one-time enrollment code (no credential needed)."""
        try:
            response = self._request("POST", "/enroll", json={"code": code, "device_name": device_name})
        except (CredentialRefused, SyncRefused) as exc:
            raise EnrollmentError(exc.user_message, code=exc.code) from exc
        enrollment: Enrollment = self._parse(Enrollment, response)
        return enrollment

    def post(self, path: str, *, staff_id: str | None, json: dict[str, Any]) -> httpx.Response:
        """POST a request the server decides (``/api/v1`` + ``path``), acting as ``staff_id``."""
        return self._request("POST", path, staff_id=staff_id, json=json)

    def send(self, method: str, path: str, *, staff_id: str | None, json: dict[str, Any] | None = None
             ) -> httpx.Response:
        """Any other request the server decides (``/api/v1`` + ``path``), acting as ``staff_id``."""
        if json is None:
            return self._request(method, path, staff_id=staff_id)
        return self._request(method, path, staff_id=staff_id, json=json)

    def me(self) -> dict[str, Any]:
        data: dict[str, Any] = self._request("GET", "/me").json()
        return data

    def staff(self) -> list[EnrolledStaff]:
        """The clinic's active staff with their PIN hashes (for signing in offline)."""
        response = self._request("GET", "/staff")
        try:
            return [EnrolledStaff.model_validate(s) for s in response.json()]
        except (PydanticValidationError, TypeError, json.JSONDecodeError) as exc:
            raise SyncUnavailable("The clinic server sent a staff list this workstation cannot read.") from exc

    def hello(self, request: HelloRequest, *, staff_id: str | None = None) -> HelloResponse:
        response = self._request("POST", "/sync/hello", staff_id=staff_id, body=request)
        hello: HelloResponse = self._parse(HelloResponse, response)
        return hello

    def push(self, request: PushRequest, *, staff_id: str | None) -> PushResponse:
        response = self._request("POST", "/sync/push", staff_id=staff_id, body=request)
        pushed: PushResponse = self._parse(PushResponse, response)
        return pushed

    def pull(self, *, cursor: int, limit: int) -> PullResponse:
        response = self._request("GET", "/sync/pull", params={"cursor": cursor, "limit": limit})
        page: PullResponse = self._parse(PullResponse, response)
        return page

    def media(self, *, message_id: str, media_id: str, staff_id: str | None) -> tuple[bytes, str]:
        """An MMS or DM attachment of a message (bytes, content type), for the staff member."""
        response = self._request("GET", f"/messages/{message_id}/media/{media_id}", staff_id=staff_id)
        return response.content, response.headers.get("content-type", "application/octet-stream")

    # --- live channel ------------------------------------------------------------------------

    def live(self, *, on_open: Callable[[], None] | None = None) -> Iterator[LiveEvent]:
        """Yield the live channel's events until it closes (server-sent events).

        ``event: changes`` carries a :class:`LiveEvent`; ``event: ping`` keeps the connection
        alive and is yielded too (``type == "ping"``) so that callers can check for a stop
        request. Raises the errors of :meth:`_request` when the channel cannot be opened or
        drops.
        """
        timeout = httpx.Timeout(LIVE_READ_TIMEOUT, connect=5.0)
        try:
            with self._http.stream("GET", self._url("/sync/live"), headers={
                **self._headers(), "Accept": "text/event-stream",
            }, timeout=timeout) as response:
                if response.status_code >= 400:
                    response.read()
                    raise_for_error(response)
                with self._live_lock:
                    self._live_response = response
                if on_open is not None:
                    on_open()
                yield from _parse_sse(response.iter_lines())
        except httpx.TimeoutException as exc:
            raise SyncUnavailable("The clinic server's live channel went quiet.", offline=True) from exc
        except httpx.TransportError as exc:
            raise SyncUnavailable(
                f"The clinic server's live channel dropped ({type(exc).__name__}).", offline=True
            ) from exc
        finally:
            with self._live_lock:
                self._live_response = None

    def close_live(self) -> None:
        """Close an open live channel from another thread (stops :meth:`live`)."""
        with self._live_lock:
            response = self._live_response
        if response is None:
            return
        # a read blocked in another thread only returns once its socket is shut down
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        try:
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
            else:
                response.close()
        except Exception:  # noqa: BLE001 - closing from another thread is best effort
            log.debug("closing the live channel raised", exc_info=True)


def _parse_sse(lines: Iterator[str]) -> Iterator[LiveEvent]:
    event = "message"
    data: list[str] = []
    for line in lines:
        if line == "":
            if event == "revoked":
                raise DeviceRevokedError()
            if data or event != "message":
                parsed = _event(event, "\n".join(data))
                if parsed is not None:
                    yield parsed
            event, data = "message", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)


def _event(name: str, data: str) -> LiveEvent | None:
    if name == "ping":
        return LiveEvent(type="ping", up_to_seq=-1)
    if name not in ("changes", "message"):
        return None
    try:
        return LiveEvent.model_validate_json(data)
    except PydanticValidationError:
        log.info("ignored an unreadable live event")
        return None


def normalise_url(url: str) -> str:
    """``http(s)://host[:port][/prefix]`` without a trailing slash; a bare host means https."""
    url = url.strip()
    if not url:
        raise EnrollmentError("Give the clinic server's address, such as https://glowdesk.example.com.")
    if "://" not in url:
        url = "https://" + url
    if not url.startswith(("http://", "https://")):
        raise EnrollmentError(f"'{url}' is not a web address (it must start with http:// or https://).")
    return url.rstrip("/")
