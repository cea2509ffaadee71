"""Messaging: the shared thread, its templates and read receipts (catalogue v2).

A ``message`` is one SMS or Instagram message either way. Workstations may only *insert* an
outbound message (what to send, to whom, why); the clinic server turns the insert into a send
through its outbox (consent checked first) and owns everything that happens afterwards:
status and reason, provider ids, times, and every inbound message. A message is never edited
or deleted from a workstation. ``message_template`` rows are the clinic's templates (owners
and managers). ``message_read`` rows are append-only read receipts: the thread of a client
counts as read up to the newest ``up_to`` of any receipt (see docs/decisions.md, Messaging).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.permissions import Permission
from core.specs import CLINIC_ID, FieldSpec, Kind, Ownership, entity, field, string
from core.specs import FieldType as T

_MESSAGE_REASON = (
    "What happens to a message after it is written (sending, delivery, failure) is recorded by the "
    "clinic server."
)
_MESSAGE_TEXT_REASON = "A message cannot be changed once it is written; send a new one instead."


def _message_owned(name: str, type_: T, **kw: Any) -> FieldSpec:
    return field(name, type_, owner=Ownership.SERVER, reason=_MESSAGE_REASON, **kw)


def _message_text(name: str, type_: T, **kw: Any) -> FieldSpec:
    return field(name, type_, owner=Ownership.INSERT_ONLY, reason=_MESSAGE_TEXT_REASON, **kw)


def _message_immutable(_data: Mapping[str, Any]) -> str:
    return "A message cannot be changed or deleted once it is written; send a new one instead."


MESSAGE = entity(
    "message",
    "message",
    Kind.EDITABLE,
    Permission.MESSAGE_SEND,
    [
        CLINIC_ID,
        _message_text("patient_id", T.ID, null=True),
        _message_text("channel", T.STR, max_length=20, default="sms"),
        _message_text("purpose", T.STR, max_length=20, null=True, default="transactional"),
        _message_text("body", T.TEXT),
        _message_text("template_id", T.ID, null=True),
        _message_text("occurred_at", T.DATETIME),
        _message_owned("direction", T.STR, max_length=10, default="outbound"),
        _message_owned("kind", T.STR, max_length=20, default="manual"),
        _message_owned("lead_id", T.ID, null=True),
        _message_owned("author_id", T.ID, null=True),
        _message_owned("media", T.LIST, default=[]),
        _message_owned("status", T.STR, max_length=20, default="queued"),
        _message_owned("status_reason", T.STR, max_length=300, null=True),
        _message_owned("error_code", T.STR, max_length=12, null=True),
        _message_owned("provider_message_id", T.STR, max_length=64, null=True),
        _message_owned("send_after", T.DATETIME, null=True),
        _message_owned("sent_at", T.DATETIME, null=True),
        _message_owned("delivered_at", T.DATETIME, null=True),
    ],
    immutable_when=_message_immutable,
)


MESSAGE_TEMPLATE = entity(
    "message_template",
    "message template",
    Kind.EDITABLE,
    Permission.SETTINGS_MANAGE,
    [
        CLINIC_ID,
        string("name", 80),
        field("body", T.TEXT),
        string("purpose", 20, default="transactional"),
        field("active", T.BOOL, default=True),
    ],
)


MESSAGE_READ = entity(
    "message_read",
    "read receipt",
    Kind.APPEND_ONLY,
    Permission.PATIENT_READ,
    [
        CLINIC_ID,
        field("patient_id", T.ID),
        field("up_to", T.DATETIME),
        field("staff_id", T.ID, null=True),
        field("read_at", T.DATETIME),
    ],
)
