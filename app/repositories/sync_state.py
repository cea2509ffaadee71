"""What sync keeps in the encrypted store: enrolment, cursor, last outcome, conflicts, rejections.

Everything lives in ``local_setting`` rows (never in the keychain, never in a file): the
keychain holds only the database key (DESIGN.md "Stable interfaces").

- enrolment: the server URL, the server's id for this workstation and its bearer token;
- ``sync.cursor``: the last server sequence number applied (moved in the same transaction as
  the page it ends);
- ``sync.outcome``: the last sync attempt as the runner saw it (online/offline since, last
  success, last error, stopped reason), so that ``python -m app status`` can report it without
  touching the network;
- ``sync.conflicts:<entity>:<id>``: the open conflict records the server reports for one row
  (replaced whenever that row arrives again; gone when the row has none);
- ``sync.rejected:<mutation id>``: a local change the server refused (or partly refused), with
  its reason, until someone dismisses it;
- ``sync.dismissed_conflicts``: the conflicts staff have looked at and dismissed on this
  workstation (their :func:`conflict_id`); they no longer count or show here.

Both the sync engine (:mod:`app.sync`) and the status service read and write through here.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import select

from app.db.models import LocalSetting, OutboxEntry
from app.repositories import settings
from app.repositories.context import Ctx

SERVER_URL = "sync.server_url"
DEVICE_ID = "sync.device_id"
DEVICE_TOKEN = "sync.device_token"
DEVICE_NAME = "sync.device_name"
ENROLLED_AT = "sync.enrolled_at"
CURSOR = "sync.cursor"
LAST_STAFF = "sync.last_staff_id"
OUTCOME = "sync.outcome"
STAFF_REFRESHED_AT = "sync.staff_refreshed_at"

DISMISSED_CONFLICTS = "sync.dismissed_conflicts"

CONFLICTS_PREFIX = "sync.conflicts:"
REJECTED_PREFIX = "sync.rejected:"


def _like(prefix: str) -> sa.ColumnElement[bool]:
    return LocalSetting.key.startswith(prefix, autoescape=True)


# --- enrolment -------------------------------------------------------------------------------


def enrollment(ctx: Ctx) -> dict[str, Any] | None:
    """``{server_url, device_id, device_token, device_name}`` or None when not enrolled."""
    token = settings.get(ctx, DEVICE_TOKEN)
    url = settings.get(ctx, SERVER_URL)
    if not token or not url:
        return None
    return {
        "server_url": url,
        "device_id": settings.get(ctx, DEVICE_ID),
        "device_token": token,
        "device_name": settings.get(ctx, DEVICE_NAME),
    }


def save_enrollment(
    ctx: Ctx, *, server_url: str, device_id: str, device_token: str, device_name: str, enrolled_at: str
) -> None:
    settings.put(ctx, SERVER_URL, server_url)
    settings.put(ctx, DEVICE_ID, device_id)
    settings.put(ctx, DEVICE_TOKEN, device_token)
    settings.put(ctx, DEVICE_NAME, device_name)
    settings.put(ctx, ENROLLED_AT, enrolled_at)


# --- cursor and outcome ----------------------------------------------------------------------


def cursor(ctx: Ctx) -> int:
    return int(settings.get(ctx, CURSOR, 0) or 0)


def set_cursor(ctx: Ctx, value: int) -> None:
    settings.put(ctx, CURSOR, int(value))


def outcome(ctx: Ctx) -> dict[str, Any]:
    value = settings.get(ctx, OUTCOME)
    return dict(value) if isinstance(value, dict) else {}


def set_outcome(ctx: Ctx, value: dict[str, Any]) -> None:
    settings.put(ctx, OUTCOME, value)


def pending_count(ctx: Ctx) -> int:
    return int(
        ctx.session.execute(
            select(sa.func.count()).select_from(OutboxEntry).where(OutboxEntry.acked_at.is_(None))
        ).scalar_one()
    )


# --- conflicts -------------------------------------------------------------------------------


def conflicts_key(entity: str, entity_id: str) -> str:
    return f"{CONFLICTS_PREFIX}{entity}:{entity_id}"


def put_row_conflicts(ctx: Ctx, entity: str, entity_id: str, conflicts: list[dict[str, Any]]) -> None:
    """Replace the open conflicts of one row (an empty list removes them)."""
    key = conflicts_key(entity, entity_id)
    row = ctx.session.get(LocalSetting, key)
    if not conflicts:
        if row is not None:
            ctx.session.delete(row)
        return
    if row is None:
        ctx.session.add(LocalSetting(key=key, value=conflicts))
    else:
        row.value = conflicts


def conflict_keys(ctx: Ctx) -> set[str]:
    """The ``conflicts_key`` of every row with stored conflicts (a range of the settings key)."""
    upper = CONFLICTS_PREFIX[:-1] + chr(ord(CONFLICTS_PREFIX[-1]) + 1)
    found = ctx.session.execute(
        sa.select(LocalSetting.key).where(LocalSetting.key >= CONFLICTS_PREFIX, LocalSetting.key < upper)
    ).scalars()
    return set(found)


def drop_conflicts_of(ctx: Ctx, keys: list[str]) -> None:
    """Remove the stored conflicts of these rows (``conflicts_key`` values) in one statement."""
    for i in range(0, len(keys), 500):
        ctx.session.execute(sa.delete(LocalSetting).where(LocalSetting.key.in_(keys[i : i + 500])))


def conflict_id(conflict: dict[str, Any]) -> str:
    """One losing write of one field of one row (``core.sync.Conflict.key``), as text."""
    return ":".join(str(conflict.get(k, "")) for k in ("entity", "entity_id", "field", "kind", "loser_hlc"))


def _all_conflicts(ctx: Ctx) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for value in ctx.session.execute(select(LocalSetting.value).where(_like(CONFLICTS_PREFIX))).scalars():
        out.extend(value or [])
    return out


def dismissed_conflicts(ctx: Ctx) -> set[str]:
    value = settings.get(ctx, DISMISSED_CONFLICTS)
    return {str(v) for v in value} if isinstance(value, list) else set()


def list_conflicts(ctx: Ctx, *, include_dismissed: bool = False) -> list[dict[str, Any]]:
    """Every open conflict this workstation knows of (not the dismissed ones unless asked),
    oldest losing write first."""
    out = _all_conflicts(ctx)
    if not include_dismissed:
        dismissed = dismissed_conflicts(ctx)
        if dismissed:
            out = [c for c in out if conflict_id(c) not in dismissed]
    out.sort(key=lambda c: (str(c.get("loser_hlc", "")), str(c.get("field", ""))))
    return out


def conflict_count(ctx: Ctx) -> int:
    """Open conflicts not dismissed here."""
    if dismissed_conflicts(ctx):
        return len(list_conflicts(ctx))
    value = ctx.session.execute(
        select(sa.func.sum(sa.func.json_array_length(LocalSetting.value))).where(_like(CONFLICTS_PREFIX))
    ).scalar_one()
    return int(value or 0)


def dismiss_conflict(ctx: Ctx, key: str) -> bool:
    """Stop showing one conflict on this workstation (the server keeps its record). Dismissed
    keys of conflicts that are no longer open are forgotten at the same time."""
    open_ids = {conflict_id(c) for c in _all_conflicts(ctx)}
    if key not in open_ids:
        return False
    kept = (dismissed_conflicts(ctx) & open_ids) | {key}
    settings.put(ctx, DISMISSED_CONFLICTS, sorted(kept))
    return True


# --- rejections ------------------------------------------------------------------------------


def add_rejection(ctx: Ctx, record: dict[str, Any]) -> None:
    """Keep a refused (or partly refused) local change with its reason until dismissed."""
    key = REJECTED_PREFIX + str(record["mutation_id"])
    row = ctx.session.get(LocalSetting, key)
    if row is None:
        ctx.session.add(LocalSetting(key=key, value=record))
    else:
        row.value = record


def list_rejections(ctx: Ctx) -> list[dict[str, Any]]:
    values = list(ctx.session.execute(select(LocalSetting.value).where(_like(REJECTED_PREFIX))).scalars())
    return sorted(values, key=lambda r: (str(r.get("at", "")), str(r.get("mutation_id", ""))))


def rejection_count(ctx: Ctx) -> int:
    return int(
        ctx.session.execute(
            select(sa.func.count()).select_from(LocalSetting).where(_like(REJECTED_PREFIX))
        ).scalar_one()
    )


def dismiss_rejection(ctx: Ctx, mutation_id: str) -> bool:
    row = ctx.session.get(LocalSetting, REJECTED_PREFIX + mutation_id)
    if row is None:
        return False
    ctx.session.delete(row)
    return True
