"""FastAPI dependencies, as ``Annotated`` aliases so that endpoints stay short.

- :data:`SessionDep`: one session and one transaction per request, committed after the
  endpoint returns and *before* the response is sent (``scope="function"``), rolled back on
  any exception. Unsafe methods (POST, PUT, PATCH, DELETE) begin with SQLite's write lock. On
  PostgreSQL the transaction runs as the RLS role.
- :data:`CurrentDevice`: the workstation authenticated by ``Authorization: Bearer <token>``;
  resolving it scopes the transaction to the device's clinic (RLS included).
- :data:`CurrentStaff`: the staff member named by ``X-Glowdesk-Staff: <staff id>``, active
  and of the device's clinic. Endpoints then check ``require(staff.role, Permission.X)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from sync_server.clinics import service as clinics
from sync_server.clinics.service import DeviceIdentity, StaffIdentity
from sync_server.db import Database
from sync_server.settings import Settings

STAFF_HEADER = "X-Glowdesk-Staff"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_bearer = HTTPBearer(auto_error=False, description="The device token returned by /api/v1/enroll.")
_staff_header = APIKeyHeader(
    name=STAFF_HEADER, auto_error=False, description="The id of the staff member acting."
)
#: The security schemes themselves, for endpoints that authenticate in their own transactions.
bearer_scheme = _bearer
staff_header_scheme = _staff_header


def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    session = get_database(request).session(write=request.method not in _SAFE_METHODS, app_role=True)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_now(request: Request) -> datetime:
    return request.app.state.clock.now()  # type: ignore[no-any-return]


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
NowDep = Annotated[datetime, Depends(get_now)]


def current_device(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> DeviceIdentity:
    token = credentials.credentials if credentials is not None else None
    return clinics.authenticate_device(session, token=token)


CurrentDevice = Annotated[DeviceIdentity, Depends(current_device)]


def current_staff(
    session: SessionDep,
    device: CurrentDevice,
    staff_id: Annotated[str | None, Depends(_staff_header)],
) -> StaffIdentity:
    return clinics.acting_staff(session, device=device, staff_id=staff_id)


CurrentStaff = Annotated[StaffIdentity, Depends(current_staff)]
