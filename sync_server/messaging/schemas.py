"""The desk's messaging API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class SendMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: made by the desktop when the text is composed: sending it again is the same message
    id: str | None = Field(default=None, min_length=36, max_length=36)
    patient_id: str = Field(min_length=36, max_length=36)
    body: str = Field(min_length=1, max_length=1600)
    purpose: Literal["transactional", "marketing"] = "transactional"


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    patient_id: str | None
    lead_id: str | None
    channel: str
    direction: str
    purpose: str | None
    kind: str
    body: str
    media: list[Any]
    status: str
    status_reason: str | None
    error_code: str | None
    author_staff_id: str | None
    send_after: datetime | None
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
