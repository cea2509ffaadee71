"""Local settings of this installation (not synced): clinic id, demo flag, sync cursor..."""

from __future__ import annotations

from typing import Any

from app.db.models import LocalSetting
from app.repositories.context import Ctx

CLINIC_ID = "clinic_id"
IS_DEMO = "is_demo"
DEMO_STAFF_ID = "demo_owner_id"


def get(ctx: Ctx, key: str, default: Any = None) -> Any:
    row = ctx.session.get(LocalSetting, key)
    return default if row is None else row.value


def put(ctx: Ctx, key: str, value: Any) -> None:
    row = ctx.session.get(LocalSetting, key)
    if row is None:
        ctx.session.add(LocalSetting(key=key, value=value))
    else:
        row.value = value
