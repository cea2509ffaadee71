"""Tables of the integrations context: ``integration`` (settings and sealed secrets per clinic and
provider) and ``integration_route`` (which clinic a page, Instagram account or number belongs to)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.orm import Base, ClinicOwned, clinic_id_column


class Integration(ClinicOwned, Base):
    """A clinic's connection to one provider.

    ``config`` holds what is not secret (account SID, sending number, page and Instagram ids);
    ``sealed`` holds the secrets (auth token, app secret, verify token, page token) as one
    Fernet token under a key derived from ``GLOWDESK_SECRET_KEY``: a copy of the database alone
    does not reveal them.
    """

    __tablename__ = "integration"

    clinic_id: Mapped[str] = clinic_id_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20), primary_key=True)
    config: Mapped[dict[str, Any]]
    sealed: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]


class IntegrationRoute(ClinicOwned, Base):
    """``route_key`` → clinic: how an inbound webhook finds its clinic before anything is stored.

    Keys: ``meta_page:<page id>``, ``meta_ig:<instagram account id>``, ``twilio_number:<E.164>``,
    ``twilio_service:<messaging service SID>`` (each belongs to one clinic), and
    ``meta_verify:<HMAC of the verify token>`` (an agency's one Meta app may serve many clinics).
    On PostgreSQL a transaction that presented a key may read the rows with that key only.
    """

    __tablename__ = "integration_route"

    route_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    clinic_id: Mapped[str] = clinic_id_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
