"""Queries of the integrations context (every function filters on clinic_id, except the route
lookup, which runs before the clinic is known with the route key presented)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from sync_server.integrations.models import Integration, IntegrationRoute


def get(session: Session, *, clinic_id: str, provider: str) -> Integration | None:
    return session.get(Integration, (clinic_id, provider))


def put(session: Session, row: Integration) -> None:
    session.merge(row)
    session.flush()


def all_for(session: Session, *, clinic_id: str) -> Sequence[Integration]:
    return session.execute(
        select(Integration).where(Integration.clinic_id == clinic_id).order_by(Integration.provider)
    ).scalars().all()


def clinics_by_route(session: Session, route_key: str) -> list[str]:
    """Pre-clinic lookup: the clinics holding ``route_key`` (presented to RLS by the caller)."""
    return list(session.execute(
        select(IntegrationRoute.clinic_id).where(IntegrationRoute.route_key == route_key)
        .order_by(IntegrationRoute.clinic_id)
    ).scalars())


def routes_of(session: Session, *, clinic_id: str, provider: str) -> list[str]:
    return list(session.execute(
        select(IntegrationRoute.route_key).where(
            IntegrationRoute.clinic_id == clinic_id, IntegrationRoute.provider == provider
        )
    ).scalars())


def replace_routes(session: Session, *, clinic_id: str, provider: str, keys: list[str]) -> None:
    session.execute(
        delete(IntegrationRoute)
        .where(IntegrationRoute.clinic_id == clinic_id, IntegrationRoute.provider == provider)
        .execution_options(synchronize_session=False)
    )
    for key in sorted(set(keys)):
        session.add(IntegrationRoute(route_key=key, clinic_id=clinic_id, provider=provider))
    session.flush()
