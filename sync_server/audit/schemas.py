"""Response bodies of the audit endpoints."""

from __future__ import annotations

from pydantic import BaseModel


class ChainReportOut(BaseModel):
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str | None = None
