"""Queries of the webhooks context."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from sync_server.webhooks.models import WebhookEvent


def insert_new(session: Session, values: dict[str, Any]) -> bool:
    """``INSERT ... ON CONFLICT DO NOTHING``; True when the row was really created."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    stmt = insert(WebhookEvent).values(**values).on_conflict_do_nothing().returning(WebhookEvent.id)
    return session.execute(stmt).scalar_one_or_none() is not None


def get(session: Session, *, clinic_id: str, event_id: str) -> WebhookEvent | None:
    return session.execute(
        select(WebhookEvent).where(WebhookEvent.clinic_id == clinic_id, WebhookEvent.id == event_id)
    ).scalar_one_or_none()


def by_external_id(session: Session, *, clinic_id: str, source: str, external_id: str) -> WebhookEvent | None:
    return session.execute(
        select(WebhookEvent).where(WebhookEvent.clinic_id == clinic_id, WebhookEvent.source == source,
                                   WebhookEvent.external_id == external_id)
    ).scalar_one_or_none()


def mark_processed(session: Session, *, clinic_id: str, event_id: str, now: datetime) -> bool:
    """Compare-and-swap: True for the one transaction that handles the event."""
    result = cast(CursorResult[Any], session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.clinic_id == clinic_id, WebhookEvent.id == event_id, WebhookEvent.processed_at.is_(None))
        .values(processed_at=now)
        .execution_options(synchronize_session=False)
    ))
    return result.rowcount == 1


def set_outcome(session: Session, *, clinic_id: str, event_id: str, outcome: str) -> None:
    session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.clinic_id == clinic_id, WebhookEvent.id == event_id)
        .values(outcome=outcome[:200])
        .execution_options(synchronize_session=False)
    )


def count_from_sender(session: Session, *, clinic_id: str, source: str, sender_key: str, since: datetime) -> int:
    return int(session.execute(
        select(func.count()).select_from(WebhookEvent).where(
            WebhookEvent.clinic_id == clinic_id, WebhookEvent.source == source,
            WebhookEvent.sender_key == sender_key, WebhookEvent.received_at >= since,
        )
    ).scalar_one())
