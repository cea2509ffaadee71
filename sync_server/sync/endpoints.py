"""HTTP endpoints of the sync protocol, mounted under ``/api/v1/sync`` (see docs/sync.md).

- ``POST /hello``: version negotiation (:func:`core.sync.negotiate`).
- ``POST /push``: the outbox, idempotent by mutation id. The body is read raw, its size checked
  (``Content-Length`` first, then while reading) before it is parsed. The workstation is
  authenticated in a short read transaction *before* the body is read, and again inside the
  push's write transaction, so a slow upload never holds SQLite's write lock or a row lock.
- ``GET /pull?cursor=N&limit=M``: one page of changes; a GET that never writes.
- ``GET /live``: server-sent events; authenticates with a transaction that is closed before the
  stream starts (``SessionDep`` commits before the response), then waits on the
  :class:`~sync_server.sync.live.LiveHub` without holding any session.

Sync errors answer ``{"code", "message", "details"}`` (:class:`core.sync.ErrorBody`) plus the
server's usual ``detail`` (the same sentence).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool

from core.sync import (
    MAX_PUSH_BODY_BYTES,
    PROTOCOL_HEADER,
    SCHEMA_HEADER,
    HelloRequest,
    HelloResponse,
    MalformedRequest,
    PullRequest,
    PullResponse,
    PushResponse,
    check_body_size,
    check_versions,
    negotiate,
    parse_push,
)
from core.sync import (
    PushRequest as PushRequestModel,
)
from sync_server import tenancy
from sync_server.clinics import service as clinics
from sync_server.clinics.service import DeviceIdentity
from sync_server.db import Database
from sync_server.deps import (
    CurrentDevice,
    NowDep,
    SessionDep,
    bearer_scheme,
    get_database,
    staff_header_scheme,
)
from sync_server.sync import service
from sync_server.sync.live import LiveHub

router = APIRouter(prefix="/sync", tags=["sync"])

BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]
StaffHeaderDep = Annotated[str | None, Depends(staff_header_scheme)]
DatabaseDep = Annotated[Database, Depends(get_database)]

_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _json(model: Any) -> Response:
    return Response(model.model_dump_json(), media_type="application/json")


def _body_schema(model: type[Any]) -> dict[str, Any]:
    """OpenAPI text for an endpoint that reads its JSON body itself."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _authenticate(db: Database, credentials: HTTPAuthorizationCredentials | None) -> DeviceIdentity:
    token = credentials.credentials if credentials is not None else None
    with db.transaction(write=False, app_role=True) as session:
        return clinics.authenticate_device(session, token=token)


async def _read_body(request: Request, *, max_bytes: int) -> bytes:
    """The raw body, refused (413) as soon as it is known to be over ``max_bytes``."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise MalformedRequest("The request's Content-Length is not a number.") from None
        check_body_size(size, max_bytes=max_bytes)
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        check_body_size(received, max_bytes=max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def _header_int(request: Request, name: str) -> int:
    value = request.headers.get(name)
    if value is None:
        raise MalformedRequest(
            f"This request does not say which sync protocol it speaks (the {name} header is missing). "
            "Update Glowdesk on this workstation."
        )
    try:
        return int(value.strip())
    except ValueError:
        raise MalformedRequest(f"The {name} header must be a whole number.") from None


@router.post(
    "/hello", response_model=HelloResponse, openapi_extra=_body_schema(HelloRequest),
    responses={409: {"description": "the server is older (ErrorBody)"},
               426: {"description": "the workstation is older (ErrorBody)"}},
)
async def hello(request: Request, db: DatabaseDep, credentials: BearerDep, now: NowDep) -> Response:
    """Say which protocol and catalogue versions this workstation speaks; learn the server's,
    its limits and the clinic's newest sequence number."""
    device = await run_in_threadpool(_authenticate, db, credentials)
    body = await _read_body(request, max_bytes=64 * 1024)
    try:
        hello_request = HelloRequest.model_validate_json(body)
    except ValueError:
        raise MalformedRequest(
            "The clinic server could not read this hello (expected protocol_version and schema_version)."
        ) from None

    def high_water() -> int:
        with db.transaction(write=False, app_role=True) as session:
            tenancy.enter_clinic(session, device.clinic_id)
            return service.current_seq(session, clinic_id=device.clinic_id)

    high = await run_in_threadpool(high_water)
    return _json(negotiate(hello_request, server_time=now, high_water_seq=high))


@router.post(
    "/push", response_model=PushResponse, openapi_extra=_body_schema(PushRequestModel),
    responses={413: {"description": "body too large; nothing applied (ErrorBody)"},
               422: {"description": "malformed body; nothing applied (ErrorBody)"}},
)
async def push(
    request: Request, db: DatabaseDep, credentials: BearerDep, staff_id: StaffHeaderDep, now: NowDep
) -> Response:
    """Apply a batch of outbox entries, one result per entry, in one transaction."""
    await run_in_threadpool(_authenticate, db, credentials)
    body = await _read_body(request, max_bytes=MAX_PUSH_BODY_BYTES)
    push_request = parse_push(body)
    hub: LiveHub = request.app.state.live
    hlc = request.app.state.hlc

    def apply() -> PushResponse:
        with db.transaction(write=True, app_role=True) as session:
            device = _authenticate_in(session, credentials)
            header_staff = (
                clinics.acting_staff(session, device=device, staff_id=staff_id) if staff_id else None
            )
            result = service.push(
                session, device=device, header_staff=header_staff, request=push_request, now=now, hlc=hlc
            )
        # committed: wake this process's live streams of the clinic at once
        hub.notify(device.clinic_id, result.high_water_seq)
        return result

    return _json(await run_in_threadpool(apply))


def _authenticate_in(session: Any, credentials: HTTPAuthorizationCredentials | None) -> DeviceIdentity:
    token = credentials.credentials if credentials is not None else None
    return clinics.authenticate_device(session, token=token)


@router.get("/pull", response_model=PullResponse)
def pull(
    request: Request, session: SessionDep, device: CurrentDevice, now: NowDep,
    cursor: str | None = None, limit: str | None = None,
) -> Response:
    """The clinic's changes after ``cursor`` (exclusive), oldest first, at most ``limit``.

    Needs the ``X-Glowdesk-Protocol`` and ``X-Glowdesk-Schema`` headers.
    """
    protocol, schema = _header_int(request, PROTOCOL_HEADER), _header_int(request, SCHEMA_HEADER)
    check_versions(protocol, schema)
    query: dict[str, Any] = {"protocol_version": protocol, "schema_version": schema}
    if cursor is not None:
        query["cursor"] = cursor
    if limit is not None:
        query["limit"] = limit
    try:
        page = PullRequest.model_validate(query)
    except ValueError:
        raise MalformedRequest(
            "cursor must be a whole number of at least 0, and limit a whole number from 1 to the "
            "server's max_pull_limit."
        ) from None
    body = service.pull_json(session, clinic_id=device.clinic_id, cursor=page.cursor, limit=page.limit, now=now)
    return Response(body, media_type="application/json")


@router.get(
    "/live", response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}},
                     "description": "`event: changes` / `event: ping` with LiveEvent JSON"}},
)
def live(request: Request, session: SessionDep, device: CurrentDevice) -> StreamingResponse:
    """Server-sent events: ``changes`` (with ``up_to_seq``) at once and whenever the clinic's
    changes advance, ``ping`` every 15 s; the stream ends on revocation or server shutdown."""
    if request.headers.get(PROTOCOL_HEADER) is not None or request.headers.get(SCHEMA_HEADER) is not None:
        check_versions(_header_int(request, PROTOCOL_HEADER), _header_int(request, SCHEMA_HEADER))
    seq = service.current_seq(session, clinic_id=device.clinic_id)
    hub: LiveHub = request.app.state.live
    return StreamingResponse(
        hub.stream(clinic_id=device.clinic_id, device_id=device.id, seq=seq),
        media_type="text/event-stream", headers=_SSE_HEADERS,
    )
