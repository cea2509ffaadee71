"""Connecting test clinics to Twilio and Meta through the integrations service."""

from __future__ import annotations

from datetime import UTC, datetime

from sync_server import tenancy
from sync_server.audit.service import Actor
from sync_server.db import Database
from sync_server.integrations import service as integrations

from .conftest import SECRET, ClinicRef

APP_SECRET = "meta-app-secret-for-tests"
VERIFY_TOKEN = "glowdesk-verify-token"
PAGE_TOKEN = "EAAB-page-token-for-tests"
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "twilio-auth-token-for-tests"


def connect_meta(db: Database, clinic: ClinicRef, *, page_id: str = "1001", instagram_id: str | None = "17841400000000001",
                 app_secret: str = APP_SECRET, page_token: str | None = PAGE_TOKEN) -> None:
    with db.transaction() as session:
        tenancy.enter_clinic(session, clinic.id)
        integrations.set_meta(session, clinic_id=clinic.id, secret_key=SECRET, now=datetime.now(UTC), actor=Actor.cli(),
                              app_secret=app_secret, verify_token=VERIFY_TOKEN, page_id=page_id,
                              page_token=page_token, instagram_id=instagram_id)


def connect_twilio(db: Database, clinic: ClinicRef, *, from_number: str = "+14155550100",
                   account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> None:
    with db.transaction() as session:
        tenancy.enter_clinic(session, clinic.id)
        integrations.set_twilio(session, clinic_id=clinic.id, secret_key=SECRET, region="US", now=datetime.now(UTC),
                                actor=Actor.cli(), account_sid=account_sid, auth_token=auth_token,
                                from_number=from_number)
