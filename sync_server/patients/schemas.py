"""The desk's merge-review API shapes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class MergeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: the record that stays (one of the review's two)
    survivor_id: str = Field(min_length=36, max_length=36)
    #: for details that differ: keep the surviving record's value or the other record's
    keep: dict[str, Literal["survivor", "other"]] = Field(default_factory=dict, max_length=40)
