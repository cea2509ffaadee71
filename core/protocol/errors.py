"""The errors of sync protocol v1: each names its condition, carries its HTTP status and a sentence
a front-desk person can act on, and travels as an :class:`~core.protocol.messages.ErrorBody`."""

from __future__ import annotations

from typing import Any, Literal

from core.errors import GlowdeskError
from core.protocol.messages import ErrorBody


class SyncProtocolError(GlowdeskError):
    """A request or a mutation that does not follow sync protocol v1."""

    code = "sync_protocol"
    status = 400

    def to_body(self) -> ErrorBody:
        return ErrorBody(code=self.code, message=self.user_message, details=self.details())

    def details(self) -> dict[str, Any]:
        return {}


class ProtocolMismatch(SyncProtocolError):
    """The desktop and the server do not speak compatible protocol or catalogue versions.

    ``upgrade`` says which side has to be updated: ``"client"`` (update Glowdesk on this
    workstation; HTTP 426) or ``"server"`` (the clinic server is older than the workstation;
    HTTP 409). Nothing is pushed or pulled across a mismatch, so nothing is merged wrongly.
    """

    code = "protocol_mismatch"

    def __init__(
        self,
        *,
        client_protocol: int,
        client_schema: int,
        server_protocol: int,
        server_schema: int,
        upgrade: Literal["client", "server"],
    ) -> None:
        both = (
            f"(this workstation: sync protocol {client_protocol}, schema {client_schema}; "
            f"clinic server: sync protocol {server_protocol}, schema {server_schema})"
        )
        if upgrade == "client":
            message = (
                f"This workstation's Glowdesk is too old for the clinic server {both}. "
                "Update Glowdesk on this workstation, then sync again."
            )
        else:
            message = (
                f"The clinic server is older than this workstation's Glowdesk {both}. "
                "Ask whoever runs the clinic server to update it; this workstation keeps "
                "working offline and syncs once it is updated."
            )
        super().__init__(message)
        self.client_protocol = client_protocol
        self.client_schema = client_schema
        self.server_protocol = server_protocol
        self.server_schema = server_schema
        self.upgrade = upgrade
        self.status = 426 if upgrade == "client" else 409

    def details(self) -> dict[str, Any]:
        return {
            "client_protocol_version": self.client_protocol,
            "client_schema_version": self.client_schema,
            "server_protocol_version": self.server_protocol,
            "server_schema_version": self.server_schema,
            "upgrade": self.upgrade,
        }


class MalformedRequest(SyncProtocolError):
    """A body that is not valid JSON or does not have the shape of the message."""

    code = "malformed"
    status = 422


class PushTooLarge(SyncProtocolError):
    code = "push_too_large"
    status = 413


class InvalidMutation(SyncProtocolError):
    """One mutation that cannot be accepted as sent (the rest of a push is unaffected)."""

    code = "invalid_mutation"
    status = 422

    def __init__(
        self,
        user_message: str,
        *,
        mutation_id: str | None = None,
        entity: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(user_message)
        self.mutation_id = mutation_id
        self.entity = entity
        self.field = field

    def details(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in (("mutation_id", self.mutation_id), ("entity", self.entity), ("field", self.field))
            if v is not None
        }


class UnknownEntity(InvalidMutation):
    code = "unknown_entity"


class EntityNotWritable(InvalidMutation):
    code = "not_writable"
    status = 403


class BadOperation(InvalidMutation):
    code = "bad_op"


class InvalidId(InvalidMutation):
    code = "bad_id"


class InvalidHLC(InvalidMutation):
    code = "bad_hlc"


class FieldNotAllowed(InvalidMutation):
    code = "field_not_allowed"


class InvalidFieldValue(InvalidMutation):
    code = "bad_value"


class MissingFields(InvalidMutation):
    code = "missing_fields"


_ERROR_CLASSES: dict[str, type[SyncProtocolError]] = {
    c.code: c
    for c in (
        SyncProtocolError,
        MalformedRequest,
        PushTooLarge,
        InvalidMutation,
        UnknownEntity,
        EntityNotWritable,
        BadOperation,
        InvalidId,
        InvalidHLC,
        FieldNotAllowed,
        InvalidFieldValue,
        MissingFields,
    )
}


def error_from_body(body: ErrorBody) -> SyncProtocolError:
    """Rebuild the error a server answered with (the desktop re-raises it for its UI)."""
    if body.code == ProtocolMismatch.code:
        d = body.details
        return ProtocolMismatch(
            client_protocol=int(d["client_protocol_version"]),
            client_schema=int(d["client_schema_version"]),
            server_protocol=int(d["server_protocol_version"]),
            server_schema=int(d["server_schema_version"]),
            upgrade="client" if d.get("upgrade") == "client" else "server",
        )
    cls = _ERROR_CLASSES.get(body.code, SyncProtocolError)
    if issubclass(cls, InvalidMutation):
        return cls(
            body.message,
            mutation_id=body.details.get("mutation_id"),
            entity=body.details.get("entity"),
            field=body.details.get("field"),
        )
    err = cls(body.message)
    if cls is SyncProtocolError:
        err.code = body.code
    return err
