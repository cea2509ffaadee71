"""The desk's messaging API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.sms import segment_info


class SendMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: made by the desktop when the text is composed: sending it again is the same message
    id: str | None = Field(default=None, min_length=36, max_length=36)
    patient_id: str = Field(min_length=36, max_length=36)
    body: str = Field(min_length=1, max_length=1600)
    purpose: Literal["transactional", "marketing"] = "transactional"
    #: "instagram": an Instagram DM reply (to a client who wrote within 24 hours)
    channel: Literal["sms", "instagram"] = "sms"
    template_id: str | None = Field(default=None, min_length=36, max_length=36)


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
    template_id: str | None = None
    send_after: datetime | None
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    #: how the body goes out (core.sms): "GSM-7" or "UCS-2", and the segments it is billed as
    encoding: str = "GSM-7"
    segments: int = 1

    @classmethod
    def of(cls, message: Any) -> MessageOut:
        out = cls.model_validate(message)
        info = segment_info(out.body)
        return out.model_copy(update={"encoding": info.encoding, "segments": info.segments})
