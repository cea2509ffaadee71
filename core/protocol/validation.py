"""Parsing and checking what a desktop sends: push bodies, batches, ids, stamps, and each mutation
against the entity catalogue (:data:`core.entities.ENTITIES`). Error messages name entities and
fields, never their values (patient data)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from core.clock import HLCTimestamp
from core.entities import entity_spec
from core.protocol.errors import (
    BadOperation,
    EntityNotWritable,
    FieldNotAllowed,
    InvalidFieldValue,
    InvalidHLC,
    InvalidId,
    InvalidMutation,
    MalformedRequest,
    MissingFields,
    PushTooLarge,
    UnknownEntity,
)
from core.protocol.messages import Mutation, PushRequest
from core.protocol.negotiation import check_versions
from core.protocol.versions import BOOKKEEPING_FIELDS, MAX_PUSH_BODY_BYTES, MAX_PUSH_MUTATIONS, Authority
from core.specs import EntitySpec, FieldSpec, Kind, Op
from core.specs import FieldType as T


def check_body_size(size: int | None, *, max_bytes: int = MAX_PUSH_BODY_BYTES) -> None:
    """Refuse a push body (by Content-Length or bytes read) over the limit: nothing applied."""
    if size is not None and size > max_bytes:
        raise PushTooLarge(
            f"This batch of changes is too large for the clinic server ({size} bytes; the limit "
            f"is {max_bytes}). Nothing from it was saved; Glowdesk will send it in smaller batches."
        )


def _describe_pydantic_error(exc: PydanticValidationError) -> str:
    # loc and msg only: pydantic's "input" could hold patient data
    parts = []
    for err in exc.errors(include_url=False, include_input=False)[:3]:
        loc = ".".join(str(p) for p in err["loc"]) or "body"
        parts.append(f"{loc}: {err['msg']}")
    more = "" if exc.error_count() <= 3 else f" (and {exc.error_count() - 3} more)"
    return "; ".join(parts) + more


def parse_push(body: bytes, *, max_bytes: int = MAX_PUSH_BODY_BYTES) -> PushRequest:
    """Parse a raw push body: size, shape and versions. Raises, and nothing is applied, when

    - the body is over ``max_bytes`` or holds over :data:`MAX_PUSH_MUTATIONS` mutations
      (:class:`PushTooLarge`);
    - it is not JSON of the :class:`PushRequest` shape (:class:`MalformedRequest`);
    - the versions are not accepted (:class:`ProtocolMismatch`).

    Each mutation is then checked on its own with :func:`validate_mutation` (or inside
    :func:`core.merge.merge_update`): a bad mutation is rejected alone, so that one poisoned
    outbox entry never blocks the rest of a workstation's changes.
    """
    check_body_size(len(body), max_bytes=max_bytes)
    try:
        request = PushRequest.model_validate_json(body)
    except PydanticValidationError as exc:
        for err in exc.errors(include_url=False, include_input=False):
            if tuple(err["loc"]) == ("mutations",) and err["type"] == "too_long":
                raise PushTooLarge(
                    f"This batch holds more than {MAX_PUSH_MUTATIONS} changes, the most the clinic "
                    "server takes at once. Nothing from it was saved; Glowdesk will send it in "
                    "smaller batches."
                ) from None
        raise MalformedRequest(
            f"The clinic server could not read this batch of changes ({_describe_pydantic_error(exc)}). "
            "Nothing from it was saved."
        ) from None
    check_versions(request.protocol_version, request.schema_version)
    return request


def batch_mutations(
    mutations: Iterable[Mutation],
    *,
    max_mutations: int = MAX_PUSH_MUTATIONS,
    max_bytes: int = MAX_PUSH_BODY_BYTES - 4096,
) -> Iterator[list[Mutation]]:
    """Split an outbox into pushes that respect both limits (keeping the outbox order).

    ``max_bytes`` leaves room for the request envelope. A single mutation too large to send
    alone raises :class:`PushTooLarge`.
    """
    batch: list[Mutation] = []
    size = 0
    for m in mutations:
        n = len(m.model_dump_json()) + 1
        if n > max_bytes:
            raise PushTooLarge(
                f"One change to a {m.entity} is too large to send to the clinic server "
                f"({n} bytes; the limit is {max_bytes})."
            )
        if batch and (len(batch) >= max_mutations or size + n > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(m)
        size += n
    if batch:
        yield batch


def is_uuid(value: Any) -> bool:
    """True for a canonical (lowercase, hyphenated) UUID string."""
    if not isinstance(value, str) or len(value) != 36:
        return False
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def is_hlc(value: Any) -> bool:
    """True for the canonical string form of an :class:`HLCTimestamp`."""
    if not isinstance(value, str):
        return False
    try:
        ts = HLCTimestamp.parse(value)
    except ValueError:
        return False
    return bool(ts.node) and ts.wall_ms >= 0 and ts.counter >= 0 and str(ts) == value


def _parse_datetime(value: str) -> datetime | None:
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    return dt if dt.tzinfo is not None else None


_TYPE_TEXT = {
    T.TEXT: "text",
    T.INT: "a whole number",
    T.BOOL: "true or false",
    T.DATETIME: "a date and time in UTC (ISO 8601, such as 2026-11-22T13:53:35.000000Z)",
    T.DATE: "a date (YYYY-MM-DD)",
    T.ID: "a record id (a UUID)",
    T.OBJECT: "a JSON object",
    T.LIST: "a JSON list",
}


def _value_ok(spec: FieldSpec, value: Any) -> bool:
    t = spec.type
    if t in (T.STR, T.TEXT):
        return isinstance(value, str) and (spec.max_length is None or len(value) <= spec.max_length)
    if t is T.INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if t is T.BOOL:
        return isinstance(value, bool)
    if t is T.DATETIME:
        return isinstance(value, str) and _parse_datetime(value) is not None
    if t is T.DATE:
        if not isinstance(value, str) or len(value) != 10:
            return False
        try:
            date.fromisoformat(value)
        except ValueError:
            return False
        return True
    if t is T.ID:
        return is_uuid(value)
    if t is T.OBJECT:
        return isinstance(value, dict) and all(isinstance(k, str) for k in value)
    return isinstance(value, list)


def check_field_value(entity: EntitySpec, name: str, value: Any, *, op: Op = Op.UPDATE) -> None:
    """Raise :class:`FieldNotAllowed` / :class:`InvalidFieldValue` unless ``value`` fits the field.

    On insert/append a null for a non-nullable field that has a default means "the default".
    """
    if name in BOOKKEEPING_FIELDS:
        raise FieldNotAllowed(
            f"The field {name!r} of a {entity.label} is kept by sync itself and cannot be sent in a change.",
            entity=entity.name,
            field=name,
        )
    spec = entity.fields.get(name)
    if spec is None:
        raise FieldNotAllowed(
            f"A {entity.label} has no field {name!r}; this change cannot be applied.",
            entity=entity.name,
            field=name,
        )
    if value is None:
        if spec.nullable or (op in (Op.INSERT, Op.APPEND) and not spec.required):
            return
        raise InvalidFieldValue(
            f"The {entity.label} field {name!r} cannot be empty.", entity=entity.name, field=name
        )
    if not _value_ok(spec, value):
        if spec.type is T.STR:
            expected = f"text of at most {spec.max_length} characters"
        else:
            expected = _TYPE_TEXT[spec.type]
        raise InvalidFieldValue(
            f"The {entity.label} field {name!r} must be {expected}.", entity=entity.name, field=name
        )


def validate_mutation(mutation: Mutation, *, authority: Authority = "client") -> EntitySpec:
    """Check one mutation against protocol v1 and the catalogue; return its entity's spec.

    Raises a :class:`SyncProtocolError` subclass (an :class:`InvalidMutation`) for: a change id
    or record id that is not a UUID, an unknown entity, an entity clients may not write, an
    unknown op or one the entity does not allow, an unreadable HLC, an unknown or bookkeeping
    field, a value of the wrong type, a delete carrying fields, an empty update, or an insert
    missing a required field. Server-owned and insert-only fields are *not* errors here: the
    merge refuses them field by field (see :func:`core.merge.merge_update`).
    """
    mid = mutation.mutation_id
    if not is_uuid(mid):
        raise InvalidId("This change has no valid change id (expected a UUID).", entity=mutation.entity)
    try:
        spec = entity_spec(mutation.entity)
    except UnknownEntity as exc:
        exc.mutation_id = mid
        raise
    if authority == "client" and not spec.client_writable:
        raise EntityNotWritable(
            spec.not_writable_reason or f"A {spec.label} can only be changed on the clinic server.",
            mutation_id=mid,
            entity=spec.name,
        )
    try:
        op = Op(mutation.op)
    except ValueError:
        raise BadOperation(
            f"This workstation sent a change of an unknown type ({mutation.op!r}); only insert, "
            "update, delete and append are understood.",
            mutation_id=mid,
            entity=spec.name,
        ) from None
    if op not in spec.ops:
        if spec.kind is Kind.APPEND_ONLY:
            message = f"A {spec.label} cannot be changed or deleted once saved; add a new one instead."
        else:
            message = f"A {spec.label} is not append-only; create it with an insert."
        raise BadOperation(message, mutation_id=mid, entity=spec.name)
    if not is_uuid(mutation.entity_id):
        raise InvalidId(
            f"The id of this {spec.label} is not a valid record id (expected a UUID).",
            mutation_id=mid,
            entity=spec.name,
        )
    if not is_hlc(mutation.hlc):
        raise InvalidHLC(
            f"This change to a {spec.label} carries an unreadable clock stamp; update Glowdesk "
            "on this workstation.",
            mutation_id=mid,
            entity=spec.name,
        )
    if mutation.staff_id is not None and not is_uuid(mutation.staff_id):
        raise InvalidId(
            "The staff member of this change is not a valid id (expected a UUID).",
            mutation_id=mid,
            entity=spec.name,
        )
    fields = mutation.fields
    if op is Op.DELETE and fields:
        raise InvalidMutation(
            f"A delete of a {spec.label} carries no field values.", mutation_id=mid, entity=spec.name
        )
    if op is Op.UPDATE and not fields:
        raise InvalidMutation(
            f"An update of a {spec.label} must change at least one field.",
            mutation_id=mid,
            entity=spec.name,
        )
    for name, value in fields.items():
        try:
            check_field_value(spec, name, value, op=op)
        except InvalidMutation as exc:
            exc.mutation_id = mid
            raise
    if op in (Op.INSERT, Op.APPEND):
        missing = sorted(n for n in spec.required if fields.get(n) is None)
        if missing:
            listed = ", ".join(missing)
            raise MissingFields(
                f"A new {spec.label} needs these fields: {listed}.",
                mutation_id=mid,
                entity=spec.name,
                field=missing[0],
            )
    return spec


def normalise_value(spec: FieldSpec, value: Any) -> Any:
    """The canonical wire form of a valid value (datetimes as ``...%fZ`` UTC text)."""
    if spec.type is T.DATETIME and isinstance(value, str):
        dt = _parse_datetime(value)
        if dt is not None:
            return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def canonical_json(value: Any) -> str:
    """A value's canonical JSON text (used to compare values and break exact-stamp ties)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
