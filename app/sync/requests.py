"""Requests the clinic server decides: claiming and releasing a lead, merging two client records
or marking them different people. Unlike the outbox, these need the server *now*: its answer
is the decision (a lead already claimed by someone else, a review already resolved).

Three steps, so that a UI can keep the store on its DB thread and the network on its pool:

1. :func:`access` (store): the enrolled server's address and this workstation's credential, or
   :class:`NeedsServer` when the store is not enrolled (a demo or a standalone store);
2. a :class:`ServerAccess` method (network only): the request; an unreachable server raises
   :class:`NeedsServer` with a sentence saying this needs the server; a refusal raises
   :class:`ActionRefused` with the server's own sentence (``code`` and ``status`` kept);
3. :func:`apply_answer` (store): the records the server answered with, written like pulled rows
   (the rest of what the action changed arrives with the next pull).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import ValidationError as PydanticValidationError

from app.db.store import Store
from app.repositories import sync_state
from app.repositories.uow import system_actor, unit_of_work
from app.sync.apply import apply_rows
from app.sync.client import SyncClient
from app.sync.errors import SyncError, SyncRefused, SyncStopped, SyncUnavailable
from core.errors import GlowdeskError
from core.sync import Change

log = logging.getLogger(__name__)

#: a request to the server fails fast when it cannot be reached
TIMEOUT = httpx.Timeout(15.0, connect=4.0)


class NeedsServer(GlowdeskError):
    """The action needs the clinic server and it cannot be reached (or there is none)."""

    code = "needs_server"
    status = 503


class ActionRefused(GlowdeskError):
    """The server refused the action; ``user_message`` is its sentence (``field``: what it found
    wrong, when it named it)."""

    code = "refused"

    def __init__(self, user_message: str, *, code: str | None = None, status: int = 409,
                 field: str | None = None) -> None:
        super().__init__(user_message, code=code)
        self.status = status
        self.field = field


@dataclass(frozen=True)
class Answer:
    changes: list[Change]
    message: str | None = None


@dataclass(frozen=True)
class Applied:
    """What an answer changed in the store: entity names (the UI's change subjects)."""

    entities: frozenset[str]
    message: str | None = None
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)


def access(store: Store) -> ServerAccess:
    with unit_of_work(store, system_actor(store)) as ctx:
        enrolled = sync_state.enrollment(ctx)
    if enrolled is None:
        raise NeedsServer("This workstation is not connected to a clinic server (it is a demo or a standalone "
                          "store), so this cannot be done here.")
    return ServerAccess(str(enrolled["server_url"]), str(enrolled["device_token"]))


@dataclass(frozen=True)
class ServerAccess:
    server_url: str
    token: str
    http: Any = None  # an httpx.Client to use (tests); None: one per request

    def _send(self, what: str, method: str, path: str, staff_id: str, body: dict[str, Any] | None) -> Any:
        """The answer's JSON; :class:`NeedsServer` or :class:`ActionRefused` with a sentence."""
        client = SyncClient(self.server_url, self.token, http=self.http, timeout=TIMEOUT)
        try:
            response = client.send(method, path, staff_id=staff_id, json=body)
        except SyncUnavailable as exc:
            if exc.offline:
                raise NeedsServer(f"{what} needs the clinic server, and this workstation cannot reach it right now "
                                  "(it is offline). Try again once it is back online.") from exc
            raise NeedsServer(f"{what} needs the clinic server, which could not take the request just now. "
                              "Try again in a moment.") from exc
        except SyncRefused as exc:
            raise ActionRefused(exc.user_message, code=exc.code, status=exc.status, field=exc.field) from exc
        except SyncStopped as exc:
            raise ActionRefused(exc.user_message, code=exc.code, status=401) from exc
        finally:
            client.close()
        try:
            return response.json()
        except ValueError as exc:
            raise SyncError("The clinic server sent an answer this workstation cannot read.") from exc

    @staticmethod
    def _answer(raw: Any) -> Answer:
        try:
            return Answer([Change.model_validate(c) for c in raw.get("changes", [])], raw.get("message"))
        except (ValueError, PydanticValidationError, AttributeError) as exc:
            raise SyncError("The clinic server sent an answer this workstation cannot read.") from exc

    def _post(self, what: str, path: str, staff_id: str, body: dict[str, Any] | None = None) -> Answer:
        return self._answer(self._send(what, "POST", path, staff_id, body or {}))

    def lead_routing(self, *, staff_id: str) -> RoutingSheet:
        """The clinic's lead routing as the server holds it, for editing."""
        return RoutingSheet.of(self._send("Changing lead routing", "GET", "/lead-routing", staff_id, None))

    def save_lead_routing(self, version: str, lead_routing: dict[str, Any], *, staff_id: str
                          ) -> tuple[RoutingSheet, Answer]:
        """Replace the routing if ``version`` is still current (else :class:`ActionRefused`,
        status 409, code ``routing_changed``); the new sheet and the clinic record."""
        raw = self._send("Changing lead routing", "PUT", "/lead-routing", staff_id,
                         {"version": version, "lead_routing": lead_routing})
        return RoutingSheet.of(raw), self._answer(raw)

    def claim_lead(self, lead_id: str, *, staff_id: str) -> Answer:
        return self._post("Claiming a lead", f"/leads/{lead_id}/claim", staff_id)

    def release_lead(self, lead_id: str, *, staff_id: str) -> Answer:
        return self._post("Releasing a lead", f"/leads/{lead_id}/release", staff_id)

    def merge(self, review_id: str, *, survivor_id: str, keep: dict[str, str], staff_id: str) -> Answer:
        return self._post("Merging two records", f"/merge-reviews/{review_id}/merge", staff_id,
                          {"survivor_id": survivor_id, "keep": keep})

    def dismiss(self, review_id: str, *, staff_id: str) -> Answer:
        return self._post("Resolving a possible duplicate", f"/merge-reviews/{review_id}/dismiss", staff_id)


@dataclass(frozen=True)
class RoutingSheet:
    """The clinic's lead routing as the server sent it for editing: the stored settings (staff
    by id, see :mod:`core.routing`), their version, the default reply times per source and
    the clinic's active staff (id, name, role)."""

    version: str
    lead_routing: dict[str, Any]
    default_sla_minutes: dict[str, int | None]
    default_sla: int
    staff: list[dict[str, str]]

    @classmethod
    def of(cls, raw: Any) -> RoutingSheet:
        try:
            return cls(str(raw["version"]), dict(raw["lead_routing"]), dict(raw["default_sla_minutes"]),
                       int(raw["default_sla"]), [{k: str(v) for k, v in p.items()} for p in raw["staff"]])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SyncError("The clinic server sent lead routing this workstation cannot read.") from exc


def apply_answer(store: Store, answer: Answer) -> Applied:
    """Write the server's records into the store (like pulled rows: no outbox entries)."""
    with unit_of_work(store, system_actor(store)) as ctx:
        report = apply_rows(ctx, answer.changes, audit_reason="server action")
    rows = {c.entity_id: dict(c.data, deleted=c.deleted) for c in answer.changes}
    return Applied(frozenset(report.entities), answer.message, rows)


__all__ = ["ActionRefused", "Answer", "Applied", "NeedsServer", "RoutingSheet", "ServerAccess", "access",
           "apply_answer"]
