"""Sync protocol v1: wire models, the entity catalogue, validation, limits and negotiation."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError as PydanticValidationError

from core.errors import GlowdeskError
from core.ids import new_id
from core.permissions import Permission
from core.sync import (
    APPEND_ONLY_ENTITIES,
    ENTITIES,
    MAX_PUSH_BODY_BYTES,
    MAX_PUSH_MUTATIONS,
    PROTOCOL_VERSION,
    SCHEMA_VERSION,
    SERVER_ONLY_ENTITIES,
    BadOperation,
    Change,
    Conflict,
    EntityNotWritable,
    FieldNotAllowed,
    HelloRequest,
    HelloResponse,
    InvalidFieldValue,
    InvalidHLC,
    InvalidId,
    InvalidMutation,
    Kind,
    MalformedRequest,
    MissingFields,
    Mutation,
    MutationResult,
    Ownership,
    ProtocolMismatch,
    PullRequest,
    PullResponse,
    PushRequest,
    PushResponse,
    PushTooLarge,
    SyncProtocolError,
    UnknownEntity,
    batch_mutations,
    check_versions,
    entity_spec,
    error_from_body,
    is_hlc,
    is_uuid,
    negotiate,
    normalise_value,
    parse_push,
    validate_mutation,
)

HLC = "1763820000000-000000-a1"
NOW = datetime(2026, 11, 22, 14, 0, tzinfo=UTC)


def patient_fields(**over: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"clinic_id": new_id(), "first_name": "Ana", "last_name": "Lopez"}
    fields.update(over)
    return fields


def mutation(**over: Any) -> Mutation:
    base: dict[str, Any] = {
        "mutation_id": new_id(),
        "entity": "patient",
        "entity_id": new_id(),
        "op": "insert",
        "fields": patient_fields(),
        "base_version": 0,
        "hlc": HLC,
        "staff_id": new_id(),
    }
    base.update(over)
    return Mutation(**base)


def push_body(mutations: list[Mutation], **over: Any) -> bytes:
    req: dict[str, Any] = {
        "protocol_version": PROTOCOL_VERSION,
        "schema_version": SCHEMA_VERSION,
        "device_id": "dev-1",
        "mutations": [m.model_dump() for m in mutations],
    }
    req.update(over)
    return json.dumps(req).encode()


# --- the catalogue ---------------------------------------------------------------------------


def test_catalogue_matches_the_desktop_tables() -> None:
    """Every field the desktop puts in an outbox entry is in the catalogue, with the same
    nullability, and nothing else is (a new column needs a catalogue entry and a schema bump)."""
    from sqlalchemy import inspect

    from app.db.models import SYNCABLE_MODELS
    from app.repositories.rows import data_fields

    assert set(SYNCABLE_MODELS) == set(ENTITIES)
    for name, model in SYNCABLE_MODELS.items():
        columns = {c.key: c.columns[0] for c in inspect(model).column_attrs}
        spec = ENTITIES[name]
        assert set(data_fields(model)) == set(spec.fields), name
        for key in spec.fields:
            column = columns[key]
            assert spec.fields[key].nullable == bool(column.nullable), f"{name}.{key}"
            if spec.fields[key].required:
                assert column.default is None and not column.nullable, f"{name}.{key}"


def test_entity_kinds_and_ownership() -> None:
    assert APPEND_ONLY_ENTITIES == {"activity", "message_read"}
    assert SERVER_ONLY_ENTITIES == {"clinic", "merge_review"}
    assert ENTITIES["patient"].kind is Kind.EDITABLE
    assert ENTITIES["appointment"].server_owned == {"deposit_status", "tentative"}
    assert ENTITIES["lead"].server_owned == {"claimed_by", "claimed_at", "claim_expires_at", "first_reply_at",
                                             "sla_due_at", "escalated_at", "escalated_to"}
    assert ENTITIES["patient"].server_owned == {"consents", "merged_into"}
    assert {"received_at", "utm_campaign", "gclid", "ad_id", "clinic_id"} <= ENTITIES["lead"].insert_only
    for spec in ENTITIES.values():
        if "clinic_id" in spec.fields:
            assert spec.fields["clinic_id"].ownership is Ownership.INSERT_ONLY
        for f in spec.fields.values():
            if f.ownership is not Ownership.CLIENT:
                assert f.reason and f.reason.endswith("."), f"{spec.name}.{f.name} needs a sentence"
    assert ENTITIES["patient"].write_permission is Permission.PATIENT_WRITE
    assert ENTITIES["staff"].write_permission is Permission.STAFF_MANAGE


def test_messages_are_written_by_workstations_and_decided_by_the_server() -> None:
    spec = ENTITIES["message"]
    assert spec.write_permission is Permission.MESSAGE_SEND
    assert spec.insert_only == {"clinic_id", "patient_id", "channel", "purpose", "body", "template_id",
                                "occurred_at"}
    assert {"status", "status_reason", "error_code", "sent_at", "delivered_at", "provider_message_id",
            "direction", "author_id"} <= spec.server_owned
    assert spec.required == {"clinic_id", "body", "occurred_at"}
    assert spec.immutable_when is not None and "cannot be changed" in (spec.immutable_when({}) or "")
    assert ENTITIES["message_template"].write_permission is Permission.SETTINGS_MANAGE
    assert ENTITIES["message_read"].kind is Kind.APPEND_ONLY


def test_spec_defaults_are_fresh_copies() -> None:
    spec = ENTITIES["patient"]
    d1, d2 = spec.defaults(), spec.defaults()
    d1["tags"].append("x")
    assert d2["tags"] == [] and spec.defaults()["tags"] == []
    assert spec.required == {"clinic_id", "first_name", "last_name"}


# --- wire models -----------------------------------------------------------------------------


def test_mutation_reads_an_outbox_entry() -> None:
    entry = SimpleNamespace(
        seq=7,
        mutation_id=new_id(),
        entity="patient",
        entity_id=new_id(),
        op="update",
        fields={"phone": "+15551234567"},
        base_version=3,
        hlc=HLC,
        staff_id=None,
        created_at=NOW,
        acked_at=None,
    )
    m = Mutation.model_validate(entry, from_attributes=True)
    assert m.op == "update" and m.base_version == 3 and m.node == "a1"


def test_requests_refuse_unknown_keys_and_responses_ignore_them() -> None:
    with pytest.raises(PydanticValidationError):
        Mutation.model_validate({**mutation().model_dump(), "surprise": 1})
    change = Change.model_validate(
        {"seq": 1, "entity": "patient", "entity_id": new_id(), "version": 1, "hlc": HLC, "later": True}
    )
    assert change.deleted is False and change.conflicts == []


def test_messages_round_trip_as_json() -> None:
    conflict = Conflict(
        entity="patient",
        entity_id=new_id(),
        field="phone",
        winning_value="+1555",
        winner_hlc=HLC,
        losing_value="+1666",
        loser_hlc="1763820000000-000000-b2",
    )
    change = Change(
        seq=3, entity="patient", entity_id=new_id(), version=2, hlc=HLC, data={"a": 1}, conflicts=[conflict]
    )
    result = MutationResult(
        mutation_id=new_id(), status="conflict_resolved", server_seq=3, conflicts=[conflict], current=change
    )
    push = PushResponse(results=[result], high_water_seq=3, server_time=NOW)
    assert PushResponse.model_validate_json(push.model_dump_json()) == push
    pull = PullResponse(changes=[change], next_cursor=3, has_more=False, server_time=NOW)
    assert PullResponse.model_validate_json(pull.model_dump_json()) == pull
    assert conflict.loser_node == "b2" and conflict.winner_node == "a1"
    # FastAPI builds its OpenAPI document from these
    for model in (PushRequest, PushResponse, PullResponse, HelloRequest, HelloResponse):
        assert model.model_json_schema()


def test_pull_request_bounds() -> None:
    assert PullRequest().limit == 1000
    with pytest.raises(PydanticValidationError):
        PullRequest(limit=5001)
    with pytest.raises(PydanticValidationError):
        PullRequest(cursor=-1)


# --- validation ------------------------------------------------------------------------------


def expect(exc: type[SyncProtocolError], m: Mutation, text: str, **kw: Any) -> SyncProtocolError:
    with pytest.raises(exc) as info:
        validate_mutation(m, **kw)
    err = info.value
    assert isinstance(err, GlowdeskError)
    assert text in err.user_message, err.user_message
    return err


def test_a_valid_insert_passes_and_returns_its_spec() -> None:
    assert validate_mutation(mutation()).name == "patient"


def test_unknown_entity() -> None:
    err = expect(
        UnknownEntity,
        mutation(entity="widget"),
        "a kind of record the clinic server does not know ('widget')",
    )
    assert "Update Glowdesk on this workstation" in err.user_message
    assert err.code == "unknown_entity" and err.status == 422
    with pytest.raises(UnknownEntity):
        entity_spec("widget")


def test_bad_op() -> None:
    expect(
        BadOperation,
        mutation(op="upsert"),
        "unknown type ('upsert'); only insert, update, delete and append are understood",
    )
    expect(
        BadOperation, mutation(op="append"), "A client record is not append-only; create it with an insert."
    )
    act = mutation(entity="activity", op="update", fields={"type": "note"})
    expect(
        BadOperation, act, "A timeline entry cannot be changed or deleted once saved; add a new one instead."
    )
    expect(BadOperation, mutation(entity="activity", op="delete", fields={}), "cannot be changed or deleted")


def test_ids_must_be_uuids() -> None:
    err = expect(
        InvalidId,
        mutation(entity_id="42"),
        "The id of this client record is not a valid record id (expected a UUID).",
    )
    assert err.code == "bad_id"
    expect(InvalidId, mutation(entity_id=new_id().upper()), "not a valid record id")
    expect(InvalidId, mutation(mutation_id="m-1"), "This change has no valid change id (expected a UUID).")
    expect(InvalidId, mutation(staff_id="maria"), "The staff member of this change is not a valid id")
    fields = patient_fields(clinic_id="clinic-1")
    expect(
        InvalidFieldValue,
        mutation(fields=fields),
        "The client record field 'clinic_id' must be a record id (a UUID).",
    )


def test_hlc_must_be_readable() -> None:
    expect(InvalidHLC, mutation(hlc="yesterday"), "carries an unreadable clock stamp")
    expect(InvalidHLC, mutation(hlc="17-0-a"), "unreadable clock stamp")  # not canonical
    assert is_hlc(HLC) and not is_hlc("1763820000000-000000-") and not is_hlc(None)


def test_fields_must_belong_to_the_entity() -> None:
    err = expect(
        FieldNotAllowed,
        mutation(op="update", fields={"shoe_size": 9}),
        "A client record has no field 'shoe_size'; this change cannot be applied.",
    )
    assert err.code == "field_not_allowed" and isinstance(err, InvalidMutation) and err.field == "shoe_size"
    expect(
        FieldNotAllowed,
        mutation(op="update", fields={"version": 9}),
        "The field 'version' of a client record is kept by sync itself",
    )


@pytest.mark.parametrize(
    ("entity", "field", "value", "text"),
    [
        ("patient", "first_name", "x" * 121, "must be text of at most 120 characters"),
        ("patient", "first_name", 5, "must be text of at most 120 characters"),
        ("patient", "vip", "yes", "must be true or false"),
        ("service", "duration_min", True, "must be a whole number"),
        ("service", "duration_min", 1.5, "must be a whole number"),
        ("patient", "date_of_birth", "22/11/1990", "must be a date (YYYY-MM-DD)"),
        ("appointment", "start_at", "2026-11-22T10:00:00", "must be a date and time in UTC"),
        ("appointment", "start_at", "tomorrow", "must be a date and time in UTC"),
        ("patient", "address", ["LA"], "must be a JSON object"),
        ("patient", "tags", "vip", "must be a JSON list"),
        ("appointment", "room_id", "room 3", "must be a record id (a UUID)"),
        ("patient", "first_name", None, "cannot be empty"),
    ],
)
def test_field_values_are_type_checked(entity: str, field: str, value: Any, text: str) -> None:
    err = expect(InvalidFieldValue, mutation(entity=entity, op="update", fields={field: value}), text)
    assert err.code == "bad_value"
    # the message names the field, never the value (it could be patient data)
    if isinstance(value, str) and len(value) > 3:
        assert value not in err.user_message


def test_valid_values_pass() -> None:
    ok = {
        "date_of_birth": "1990-11-22",
        "vip": True,
        "address": {"city": "LA"},
        "tags": ["vip"],
        "phone": None,
        "notes": "long " * 1000,
    }
    validate_mutation(mutation(op="update", fields=ok))
    validate_mutation(
        mutation(
            entity="appointment",
            op="update",
            fields={"start_at": "2026-11-22T10:00:00.000000Z", "room_id": new_id()},
        )
    )
    validate_mutation(
        mutation(entity="appointment", op="update", fields={"start_at": "2026-11-22T10:00:00+01:00"})
    )


def test_insert_needs_required_fields_and_null_means_default() -> None:
    err = expect(
        MissingFields,
        mutation(fields={"clinic_id": new_id()}),
        "A new client record needs these fields: first_name, last_name.",
    )
    assert err.code == "missing_fields"
    validate_mutation(mutation(fields=patient_fields(vip=None, tags=None)))
    expect(
        InvalidFieldValue,
        mutation(op="update", fields={"vip": None}),
        "The client record field 'vip' cannot be empty.",
    )


def test_delete_carries_no_fields_and_update_changes_something() -> None:
    expect(
        InvalidMutation,
        mutation(op="delete", fields={"vip": True}),
        "A delete of a client record carries no field values.",
    )
    expect(
        InvalidMutation,
        mutation(op="update", fields={}),
        "An update of a client record must change at least one field.",
    )


def test_clinic_is_never_written_by_clients() -> None:
    m = mutation(entity="clinic", op="update", fields={"name": "Glow"})
    err = expect(
        EntityNotWritable,
        m,
        "Clinic details (name, address, time zone, settings) are changed on the clinic server",
    )
    assert err.status == 403 and err.code == "not_writable"
    assert validate_mutation(m, authority="server").name == "clinic"


def test_invalid_mutation_errors_carry_details() -> None:
    m = mutation(entity="widget")
    with pytest.raises(UnknownEntity) as info:
        validate_mutation(m)
    body = info.value.to_body()
    assert body.code == "unknown_entity" and body.details == {
        "mutation_id": m.mutation_id,
        "entity": "widget",
    }
    again = error_from_body(body)
    assert isinstance(again, UnknownEntity) and again.user_message == info.value.user_message


def test_normalise_value_writes_utc_datetimes_one_way() -> None:
    spec = ENTITIES["appointment"].fields["start_at"]
    assert normalise_value(spec, "2026-11-22T11:00:00+01:00") == "2026-11-22T10:00:00.000000Z"
    assert normalise_value(spec, "2026-11-22T10:00:00Z") == "2026-11-22T10:00:00.000000Z"
    assert normalise_value(ENTITIES["patient"].fields["first_name"], "Ana") == "Ana"


@given(st.uuids())
def test_is_uuid_accepts_canonical_uuids_only(u: Any) -> None:
    assert is_uuid(str(u))
    assert not is_uuid(str(u).upper()) or str(u) == str(u).upper()
    assert not is_uuid(u.hex)


# --- push bodies -----------------------------------------------------------------------------


def test_parse_push_accepts_a_good_body() -> None:
    ms = [mutation(), mutation(op="update", fields={"vip": True}, base_version=2)]
    req = parse_push(push_body(ms))
    assert [m.mutation_id for m in req.mutations] == [m.mutation_id for m in ms]


def test_oversized_push_bodies_are_refused_whole() -> None:
    with pytest.raises(PushTooLarge) as info:
        parse_push(b" " * (MAX_PUSH_BODY_BYTES + 1))
    assert info.value.status == 413
    assert f"the limit is {MAX_PUSH_BODY_BYTES}" in info.value.user_message
    assert "Nothing from it was saved" in info.value.user_message
    many = [mutation() for _ in range(MAX_PUSH_MUTATIONS + 1)]
    with pytest.raises(PushTooLarge, match="more than 500 changes"):
        parse_push(push_body(many))


def test_malformed_push_bodies_are_refused_without_echoing_data() -> None:
    with pytest.raises(MalformedRequest, match="could not read this batch"):
        parse_push(b"{not json")
    bad = json.loads(push_body([mutation()]))
    bad["mutations"][0]["base_version"] = "Ana Lopez"
    with pytest.raises(MalformedRequest) as info:
        parse_push(json.dumps(bad).encode())
    assert "mutations.0.base_version" in info.value.user_message
    assert "Ana Lopez" not in info.value.user_message
    assert info.value.status == 422
    with pytest.raises(MalformedRequest):
        parse_push(push_body([mutation()], extra_key=1))


def test_push_with_other_versions_is_a_protocol_mismatch() -> None:
    with pytest.raises(ProtocolMismatch, match="Update Glowdesk on this workstation"):
        parse_push(push_body([], protocol_version=0))
    with pytest.raises(ProtocolMismatch, match="Ask whoever runs the clinic server to update it"):
        parse_push(push_body([], schema_version=SCHEMA_VERSION + 1))


def test_batch_mutations_respects_both_limits_in_order() -> None:
    ms = [mutation() for _ in range(1201)]
    batches = list(batch_mutations(ms))
    assert [len(b) for b in batches] == [500, 500, 201]
    assert [m for b in batches for m in b] == ms
    size = len(ms[0].model_dump_json()) + 1
    small = list(batch_mutations(ms[:10], max_bytes=size * 3))
    assert [len(b) for b in small] == [3, 3, 3, 1]
    big = mutation(fields=patient_fields(notes="x" * 5000))
    with pytest.raises(PushTooLarge, match="One change to a patient is too large"):
        list(batch_mutations([big], max_bytes=1000))
    assert list(batch_mutations([])) == []


# --- negotiation -----------------------------------------------------------------------------


def test_hello_with_matching_versions_is_accepted() -> None:
    answer = negotiate(
        HelloRequest(protocol_version=1, schema_version=1, device_id="d"), server_time=NOW, high_water_seq=41
    )
    assert answer.accepted and answer.protocol_version == 1 and answer.schema_version == SCHEMA_VERSION
    assert answer.max_push_mutations == 500 and answer.high_water_seq == 41


def test_client_too_old() -> None:
    with pytest.raises(ProtocolMismatch) as info:
        negotiate(
            HelloRequest(protocol_version=1, schema_version=1),
            server_time=NOW,
            supported_protocols=frozenset({2}),
            server_schema=3,
            min_client_schema=2,
        )
    err = info.value
    assert err.user_message == (
        "This workstation's Glowdesk is too old for the clinic server (this workstation: sync "
        "protocol 1, schema 1; clinic server: sync protocol 2, schema 3). Update Glowdesk on this "
        "workstation, then sync again."
    )
    assert err.upgrade == "client" and err.status == 426 and err.code == "protocol_mismatch"
    with pytest.raises(ProtocolMismatch, match="too old"):
        check_versions(1, 1, server_schema=3, min_client_schema=2)


def test_server_too_old() -> None:
    with pytest.raises(ProtocolMismatch) as info:
        check_versions(2, 2)
    err = info.value
    assert err.user_message == (
        "The clinic server is older than this workstation's Glowdesk (this workstation: sync "
        f"protocol 2, schema 2; clinic server: sync protocol 1, schema {SCHEMA_VERSION}). Ask whoever runs the "
        "clinic server to update it; this workstation keeps working offline and syncs once it is "
        "updated."
    )
    assert err.upgrade == "server" and err.status == 409
    with pytest.raises(ProtocolMismatch, match="older than this workstation"):
        check_versions(1, SCHEMA_VERSION + 1)


def test_protocol_mismatch_survives_the_wire() -> None:
    with pytest.raises(ProtocolMismatch) as info:
        check_versions(2, 2)
    body = info.value.to_body()
    assert body.details == {
        "client_protocol_version": 2,
        "client_schema_version": 2,
        "server_protocol_version": 1,
        "server_schema_version": SCHEMA_VERSION,
        "upgrade": "server",
    }
    again = error_from_body(type(body).model_validate_json(body.model_dump_json()))
    assert isinstance(again, ProtocolMismatch)
    assert again.user_message == info.value.user_message and again.status == 409
    other = error_from_body(type(body)(code="rate_limited", message="Slow down."))
    assert type(other) is SyncProtocolError and other.code == "rate_limited"
