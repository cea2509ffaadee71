"""The HTTP client's reading of the server's answers (httpx's MockTransport stands in for HTTP)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from app.sync.client import SyncClient, normalise_url
from app.sync.errors import (
    CredentialRefused,
    DeviceRevokedError,
    EnrollmentError,
    SyncRefused,
    SyncUnavailable,
)
from core.sync import PROTOCOL_HEADER, SCHEMA_HEADER, SCHEMA_VERSION, ProtocolMismatch

URL = "http://clinic.test"


def client(handler: Callable[[httpx.Request], httpx.Response]) -> SyncClient:
    return SyncClient(URL, "gdd_token", http=httpx.Client(transport=httpx.MockTransport(handler)))


def answering(status: int, body: object) -> SyncClient:
    return client(lambda request: httpx.Response(status, json=body))


def test_pull_sends_credential_and_versions() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"changes": [], "next_cursor": 7, "has_more": False,
                                         "server_time": "2026-11-22T17:00:00Z"})

    page = client(handler).pull(cursor=7, limit=50)
    assert page.next_cursor == 7
    request = seen[0]
    assert request.url.path == "/api/v1/sync/pull" and request.url.params["cursor"] == "7"
    assert request.headers["Authorization"] == "Bearer gdd_token"
    assert request.headers[PROTOCOL_HEADER] == "1" and request.headers[SCHEMA_HEADER] == str(SCHEMA_VERSION)


def test_revoked_and_unknown_credentials_stop() -> None:
    with pytest.raises(DeviceRevokedError) as revoked:
        answering(401, {"detail": "revoked", "code": "device_revoked"}).pull(cursor=0, limit=1)
    assert revoked.value.user_message.startswith("This workstation's access was revoked")
    with pytest.raises(CredentialRefused, match="not recognised"):
        answering(401, {"detail": "This credential is not recognised.", "code": "unauthenticated"}).pull(
            cursor=0, limit=1
        )


def test_protocol_mismatch_comes_back_as_itself() -> None:
    body = {"code": "protocol_mismatch", "message": "too old", "details": {
        "client_protocol_version": 1, "client_schema_version": 1, "server_protocol_version": 2,
        "server_schema_version": 3, "upgrade": "client"}}
    with pytest.raises(ProtocolMismatch) as caught:
        answering(426, body).pull(cursor=0, limit=1)
    assert caught.value.upgrade == "client" and "Update Glowdesk on this workstation" in caught.value.user_message


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_trouble_is_retryable(status: int) -> None:
    with pytest.raises(SyncUnavailable) as caught:
        client(lambda r: httpx.Response(status, text="<html>bad gateway</html>")).pull(cursor=0, limit=1)
    assert not caught.value.offline


def test_unreachable_and_unreadable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    with pytest.raises(SyncUnavailable) as caught:
        client(refuse).pull(cursor=0, limit=1)
    assert caught.value.offline and "cannot be reached" in caught.value.user_message
    with pytest.raises(SyncUnavailable, match="cannot read"):
        answering(200, {"unexpected": True}).pull(cursor=0, limit=1)


def test_other_refusals_keep_the_servers_sentence() -> None:
    with pytest.raises(SyncRefused) as caught:
        answering(403, {"detail": "Say who is acting.", "code": "staff_required"}).pull(cursor=0, limit=1)
    assert caught.value.status == 403 and caught.value.code == "staff_required"
    assert caught.value.user_message == "Say who is acting."


def test_enrolment_refusals_are_enrolment_errors() -> None:
    refused = answering(401, {"detail": "This enrollment code was already used. Ask your administrator for a "
                                        "new one.", "code": "enrollment_code_refused"})
    with pytest.raises(EnrollmentError, match="already used"):
        refused.enroll("AAAA-BBBB-CCCC-DDDD", "Front desk")


def test_live_events_are_parsed_and_revocation_stops() -> None:
    stream = (
        ": hello\nretry: 2000\n\n"
        'event: changes\nid: 5\ndata: {"type":"changes","up_to_seq":5}\n\n'
        "event: ping\ndata: {}\n\n"
        'event: changes\ndata: {"type":"changes","up_to_seq":9}\n\n'
        "event: revoked\ndata: {}\n\n"
    )
    live = client(lambda r: httpx.Response(200, text=stream, headers={"content-type": "text/event-stream"}))
    got = []
    with pytest.raises(DeviceRevokedError):
        for event in live.live():
            got.append((event.type, event.up_to_seq))
    assert got == [("changes", 5), ("ping", -1), ("changes", 9)]


def test_server_urls_are_normalised() -> None:
    assert normalise_url(" https://glow.example.com/ ") == "https://glow.example.com"
    assert normalise_url("glow.example.com") == "https://glow.example.com"
    assert normalise_url("http://127.0.0.1:8000") == "http://127.0.0.1:8000"
    with pytest.raises(EnrollmentError):
        normalise_url("ftp://glow.example.com")
