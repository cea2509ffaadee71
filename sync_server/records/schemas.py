"""The desk's lead API shapes."""

from __future__ import annotations

from pydantic import BaseModel

from core.sync import Change


class ServerChanges(BaseModel):
    """The records an action changed, as the server now holds them (the desktop applies them at
    once; everything else the action changed arrives with the next pull)."""

    changes: list[Change]
    message: str | None = None
