"""Enrolling a workstation with its clinic server (``python -m app enroll`` and the first-run
screen).

:func:`enroll` redeems the administrator's one-time code, keeps what the server answers inside
the encrypted store (server URL, the server's id for this workstation, its bearer token; never
the keychain, never a file), records the clinic and its staff with their PIN hashes (so staff
can sign in offline right away), then runs a first sync. Enrolment counts as done once the
answer is stored: a first sync that fails (the server went away in between) is reported in
:attr:`EnrollResult.first_sync_error` and simply happens on the next sync.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select

from app.db.models import Clinic
from app.db.store import Store
from app.db.types import iso_utc
from app.repositories import settings, sync_state
from app.repositories.uow import system_actor, unit_of_work
from app.sync.apply import upsert_directory
from app.sync.client import Enrollment, SyncClient, normalise_url
from app.sync.engine import SyncEngine, SyncSummary
from app.sync.errors import EnrollmentError, SyncError, SyncUnavailable
from core.sync import SyncProtocolError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EnrollResult:
    server_url: str
    device_id: str
    device_name: str
    clinic_id: str
    clinic_name: str
    staff_count: int
    first_sync: SyncSummary | None
    first_sync_error: str | None

    def line(self) -> str:
        text = (
            f"enrolled '{self.device_name}' with {self.clinic_name} at {self.server_url} "
            f"(device {self.device_id}, {self.staff_count} staff)"
        )
        if self.first_sync is not None:
            text += f"; first {self.first_sync.line()}"
        return text


def check_can_enroll(store: Store) -> None:
    """Raise :class:`EnrollmentError` when this data folder already holds a clinic (store only)."""
    with unit_of_work(store, system_actor(store)) as ctx:
        enrolled = sync_state.enrollment(ctx)
        if enrolled is not None:
            raise EnrollmentError(
                f"This workstation is already enrolled with the clinic server at "
                f"{enrolled['server_url']}. To enrol it with another server or clinic, use a new "
                "data folder (GLOWDESK_HOME).",
                code="already_enrolled",
            )
        clinic = ctx.session.execute(select(Clinic.name).where(Clinic.deleted.is_(False)).limit(1)).scalar()
        if clinic is not None:
            raise EnrollmentError(
                f"This data folder already holds the clinic '{clinic}' (a demo or a local clinic). "
                "Enrol with a new data folder (GLOWDESK_HOME) instead.",
                code="already_set_up",
            )


@dataclass(frozen=True)
class Redeemed:
    """The server's answer to a redeemed code (network only; nothing stored yet)."""

    server_url: str
    answer: Enrollment


def redeem(url: str, code: str, device_name: str, *, http: Any = None) -> Redeemed:
    """Redeem the one-time code with the server (network only, never the store)."""
    server_url = normalise_url(url)
    name = " ".join(device_name.split())
    if not name:
        raise EnrollmentError("Give this workstation a name (such as 'Front desk PC').")
    if not code.strip():
        raise EnrollmentError("Type the enrollment code your administrator gave you.")
    with SyncClient(server_url, http=http) as client:
        try:
            answer = client.enroll(code.strip(), name)
        except SyncUnavailable as exc:
            problem = "cannot be reached" if exc.offline else "could not take the request right now"
            raise EnrollmentError(
                f"The clinic server at {server_url} {problem}. Check the address and the network "
                "connection, then try again (the code is still valid until it expires).",
                code="unreachable" if exc.offline else "server_error",
            ) from exc
    return Redeemed(server_url, answer)


def save_enrollment(store: Store, redeemed: Redeemed) -> EnrollResult:
    """Keep the credential, the clinic and its staff in the encrypted store (store only)."""
    answer = redeemed.answer
    with unit_of_work(store, system_actor(store)) as ctx:
        sync_state.save_enrollment(
            ctx,
            server_url=redeemed.server_url,
            device_id=answer.device.id,
            device_token=answer.device_token,
            device_name=answer.device.name,
            enrolled_at=iso_utc(ctx.now()),
        )
        settings.put(ctx, settings.CLINIC_ID, answer.clinic.id)
        upsert_directory(ctx, clinic=answer.clinic.model_dump(), staff=[s.model_dump() for s in answer.staff])
    log.info("enrolled as device %s", answer.device.id)
    return EnrollResult(
        server_url=redeemed.server_url,
        device_id=answer.device.id,
        device_name=answer.device.name,
        clinic_id=answer.clinic.id,
        clinic_name=answer.clinic.name,
        staff_count=len(answer.staff),
        first_sync=None,
        first_sync_error=None,
    )


def enroll(
    store: Store,
    url: str,
    code: str,
    device_name: str,
    *,
    http: Any = None,
    first_sync: bool = True,
    pull_limit: int | None = None,
) -> EnrollResult:
    """Enrol this workstation; raises :class:`EnrollmentError` (nothing stored) when it cannot.

    ``http`` is an optional httpx client for the server (tests bind one to an in-process app).
    The desktop app runs the same three steps itself (:func:`check_can_enroll` and
    :func:`save_enrollment` on its DB worker, :func:`redeem` on its network pool).
    """
    normalise_url(url)
    if not " ".join(device_name.split()):
        raise EnrollmentError("Give this workstation a name (such as 'Front desk PC').")
    if not code.strip():
        raise EnrollmentError("Type the enrollment code your administrator gave you.")
    check_can_enroll(store)
    result = save_enrollment(store, redeem(url, code, device_name, http=http))

    summary: SyncSummary | None = None
    error: str | None = None
    if first_sync:
        kw: dict[str, Any] = {} if pull_limit is None else {"pull_limit": pull_limit}
        enrolled = SyncEngine.for_store(store, http=http, **kw)
        try:
            summary = enrolled.sync_once()
        except (SyncError, SyncProtocolError) as exc:
            error = exc.user_message
            log.warning("first sync after enrolment failed (%s)", exc.code)
        finally:
            enrolled.close()
    return replace(result, first_sync=summary, first_sync_error=error)
