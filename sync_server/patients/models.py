"""Tables of the patients context (server side): ``merge_review``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.orm import Base, ClinicOwned


class MergeReview(ClinicOwned, Base):
    """An uncertain match kept for staff: ``patient_id`` was created for someone who may be
    ``candidate_id`` (same name, different phone...). Never merged silently; staff decide on the
    desktop (the timeline of both records shows a ``patient.merge_review`` entry).

    ``status``: ``open`` → ``merged`` (``survivor_id`` kept, the other record a tombstone) or
    ``dismissed`` (not the same person; the pair is never proposed again). Every change is
    mirrored to the server-only ``merge_review`` sync entity of the same id, which is how the
    desktops list them."""

    __tablename__ = "merge_review"
    __table_args__ = (Index(None, "clinic_id", "status"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(36))
    candidate_id: Mapped[str] = mapped_column(String(36))
    reason: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(36))
    survivor_id: Mapped[str | None] = mapped_column(String(36))
