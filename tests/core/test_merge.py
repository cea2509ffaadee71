"""The merge rules: field-level last-writer-wins with visible conflicts, tombstones, inserts,
append-only entities, server-owned fields, immutable records, and convergence in any order."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.ids import new_id
from core.merge import MergeOutcome, RowState, Stamp, merge_update, rebase
from core.sync import SERVER_NODE, Change, Conflict, Mutation, canonical_json

PID = new_id()
CLINIC = new_id()
STAFF = {"a": new_id(), "b": new_id(), "c": new_id(), SERVER_NODE: None}
T0 = 1_763_820_000_000


def h(wall: int, node: str, counter: int = 0) -> str:
    return f"{T0 + wall:013d}-{counter:06d}-{node}"


def mut(
    op: str,
    hlc: str,
    fields: dict[str, Any] | None = None,
    *,
    base: int = 1,
    entity: str = "patient",
    entity_id: str = PID,
) -> Mutation:
    node = hlc.rsplit("-", 1)[1]
    return Mutation(
        mutation_id=new_id(),
        entity=entity,
        entity_id=entity_id,
        op=op,
        fields=fields or {},
        base_version=base,
        hlc=hlc,
        staff_id=STAFF.get(node),
    )


def insert_patient(hlc: str = h(0, "a"), **over: Any) -> Mutation:
    fields = {"clinic_id": CLINIC, "first_name": "Ana", "last_name": "Lopez", "phone": "+15550000001"}
    fields.update(over)
    return mut("insert", hlc, fields, base=0)


def created(**over: Any) -> RowState:
    out = merge_update(RowState.absent("patient", PID), insert_patient(**over))
    assert out.status == "applied" and out.row.version == 1
    return out.row


def apply(row: RowState, *ms: Mutation) -> RowState:
    for m in ms:
        out = merge_update(row, m)
        row = out.row
    return row


def view(row: RowState) -> tuple[Any, ...]:
    """What must converge: data, tombstone, stamps and the open conflicts."""
    return (
        canonical_json(dict(row.data)),
        row.deleted,
        row.field_hlc,
        row.hlc,
        [c.model_dump() for c in row.conflicts()],
    )


# --- inserts and appends ---------------------------------------------------------------------


def test_insert_creates_the_row_with_defaults_and_stamps() -> None:
    row = created()
    assert row.exists and row.version == 1 and not row.deleted
    assert row.data["first_name"] == "Ana" and row.data["vip"] is False and row.data["tags"] == []
    assert set(row.field_hlc.values()) == {h(0, "a")} and row.hlc == h(0, "a")
    assert row.conflicts() == []


def test_reinsert_of_the_same_insert_is_a_duplicate() -> None:
    row = created()
    again = merge_update(row, insert_patient())
    assert again.status == "duplicate" and not again.changed and again.row is row


def test_insert_of_an_existing_id_by_someone_else_is_a_collision() -> None:
    row = created()
    out = merge_update(row, insert_patient(h(5, "b"), first_name="Bea"))
    assert out.status == "rejected" and out.code == "id_collision" and out.row is row
    assert out.reason == (
        "Another client record already uses this record id, so this one was not saved. Please enter it again."
    )


def test_append_only_entries_are_applied_once_and_never_edited() -> None:
    aid = new_id()
    fields = {
        "clinic_id": CLINIC,
        "patient_id": PID,
        "type": "note",
        "occurred_at": "2026-11-22T10:00:00Z",
        "payload": {"text": "called"},
    }
    first = merge_update(
        RowState.absent("activity", aid),
        mut("append", h(1, "a"), fields, base=0, entity="activity", entity_id=aid),
    )
    assert first.status == "applied" and first.row.data["occurred_at"] == "2026-11-22T10:00:00.000000Z"
    dup = merge_update(first.row, mut("append", h(2, "b"), fields, base=0, entity="activity", entity_id=aid))
    assert dup.status == "duplicate" and not dup.changed
    edit = merge_update(first.row, mut("update", h(3, "a"), {"type": "x"}, entity="activity", entity_id=aid))
    assert edit.status == "rejected" and edit.code == "bad_op"
    assert edit.reason == "A timeline entry cannot be changed or deleted once saved; add a new one instead."


def test_invalid_mutations_are_rejected_with_the_protocol_sentence() -> None:
    row = created()
    out = merge_update(row, mut("update", h(1, "a"), {"shoe_size": 9}))
    assert out.status == "rejected" and out.code == "field_not_allowed" and not out.changed
    assert out.reason == "A client record has no field 'shoe_size'; this change cannot be applied."
    with pytest.raises(ValueError):
        merge_update(row, mut("update", h(1, "a"), {"vip": True}, entity_id=new_id()))


def test_update_of_a_missing_row_is_rejected() -> None:
    out = merge_update(RowState.absent("patient", PID), mut("update", h(1, "a"), {"vip": True}))
    assert out.status == "rejected" and out.code == "not_found"
    assert out.reason == "This client record is not on the clinic server, so the change could not be applied."


# --- field-level last writer wins ------------------------------------------------------------


def test_sequential_edits_by_different_workstations_do_not_conflict() -> None:
    row = created()
    a = merge_update(row, mut("update", h(1, "a"), {"phone": "+15550000002"}, base=1))
    assert a.status == "applied" and a.row.version == 2 and a.changed_fields == {"phone"}
    # b pulled version 2 first, so it saw a's phone and replaces it on purpose
    b = merge_update(a.row, mut("update", h(2, "b"), {"phone": "+15550000003"}, base=2))
    assert b.status == "applied" and b.row.data["phone"] == "+15550000003"
    assert b.row.conflicts() == [] and b.conflicts == ()


def test_concurrent_edits_of_one_field_keep_the_loser_as_a_conflict() -> None:
    row = created()
    a = mut("update", h(10, "a"), {"phone": "+15550000002"})
    b = mut("update", h(20, "b"), {"phone": "+15550000003"})
    for first, second in ((a, b), (b, a)):
        r1 = merge_update(row, first)
        r2 = merge_update(r1.row, second)
        assert r2.row.data["phone"] == "+15550000003"
        [c] = r2.row.conflicts()
        assert (c.field, c.kind, c.winning_value, c.losing_value) == (
            "phone",
            "concurrent_edit",
            "+15550000003",
            "+15550000002",
        )
        assert (c.winner_hlc, c.loser_hlc) == (h(20, "b"), h(10, "a"))
        assert (c.winner_staff_id, c.loser_staff_id) == (STAFF["b"], STAFF["a"])
        assert r2.conflicts == (c,)
    # the later writer is told it won over a concurrent value; the earlier one that it lost
    lost = merge_update(merge_update(row, b).row, a)
    assert lost.status == "conflict_resolved" and lost.code == "concurrent_edit"
    assert lost.reason == (
        "The same details of this client record were changed on another workstation at the same "
        "time; the latest change was kept and the other is listed for review."
    )
    won = merge_update(merge_update(row, a).row, b)
    assert won.status == "applied" and won.reason is None and len(won.conflicts) == 1


def test_different_fields_edited_concurrently_both_apply() -> None:
    row = apply(
        created(),
        mut("update", h(10, "a"), {"phone": "+15550000002"}),
        mut("update", h(5, "b"), {"notes": "likes mornings"}),
    )
    assert row.data["phone"] == "+15550000002" and row.data["notes"] == "likes mornings"
    assert row.conflicts() == []


def test_same_value_from_two_workstations_is_not_a_conflict() -> None:
    row = apply(created(), mut("update", h(10, "a"), {"vip": True}), mut("update", h(20, "b"), {"vip": True}))
    assert row.data["vip"] is True and row.conflicts() == []


def test_a_workstation_overwriting_itself_is_not_a_conflict() -> None:
    row = created()
    first, second = mut("update", h(10, "a"), {"phone": "+1"}), mut("update", h(20, "a"), {"phone": "+2"})
    for order in ((first, second), (second, first)):
        out = apply(row, *order)
        assert out.data["phone"] == "+2" and out.conflicts() == []
    late = merge_update(merge_update(row, second).row, first)
    assert late.status == "duplicate" and not late.changed


def test_ties_in_wall_time_are_broken_by_counter_then_node() -> None:
    row = created()
    a = mut("update", h(10, "a"), {"first_name": "Ann"})
    b = mut("update", h(10, "b"), {"first_name": "Bea"})
    a2 = mut("update", h(10, "a", counter=1), {"first_name": "Ada"})
    assert apply(row, a, b).data["first_name"] == apply(row, b, a).data["first_name"] == "Bea"
    assert apply(row, b, a2).data["first_name"] == apply(row, a2, b).data["first_name"] == "Ada"


def test_conflicts_point_at_the_final_winner_whatever_the_order() -> None:
    row = created()
    ms = [
        mut("update", h(10, "a"), {"phone": "+A"}),
        mut("update", h(20, "b"), {"phone": "+B"}),
        mut("update", h(30, "c"), {"phone": "+C"}),
    ]
    views = {
        json.dumps(view(apply(row, *order)), sort_keys=True)
        for order in (ms, ms[::-1], [ms[1], ms[0], ms[2]], [ms[2], ms[0], ms[1]])
    }
    assert len(views) == 1
    conflicts = apply(row, *ms).conflicts()
    assert [(c.losing_value, c.winning_value) for c in conflicts] == [("+A", "+C"), ("+B", "+C")]


def test_a_value_seen_and_replaced_is_retired_from_the_conflicts() -> None:
    row = created()
    a = merge_update(row, mut("update", h(10, "a"), {"phone": "+A"}, base=1)).row  # version 2
    c = merge_update(a, mut("update", h(30, "c"), {"phone": "+C"}, base=1)).row  # concurrent with a
    assert [x.losing_value for x in c.conflicts()] == ["+A"]
    # b had seen version 3 (both values, and the conflict) and sets the phone: it decided
    b = merge_update(c, mut("update", h(40, "b"), {"phone": "+B"}, base=3))
    assert b.status == "applied" and b.row.conflicts() == []


def test_conflict_is_dismissed_by_rewriting_the_current_value_having_seen_it() -> None:
    row = apply(
        created(), mut("update", h(10, "a"), {"phone": "+A"}), mut("update", h(20, "b"), {"phone": "+B"})
    )
    assert len(row.conflicts()) == 1
    dismissed = merge_update(row, mut("update", h(30, "a"), {"phone": "+B"}, base=row.version))
    assert dismissed.changed and dismissed.row.conflicts() == [] and dismissed.row.data["phone"] == "+B"


def test_identical_stamps_with_different_values_resolve_deterministically() -> None:
    row = created()
    x = mut("update", h(10, "a"), {"notes": "x"})
    y = mut("update", h(10, "a"), {"notes": "y"})
    assert apply(row, x, y).data["notes"] == apply(row, y, x).data["notes"] == "y"


# --- server-owned and insert-only fields -----------------------------------------------------


def appointment_insert(hlc: str, aid: str, **over: Any) -> Mutation:
    fields = {
        "clinic_id": CLINIC,
        "patient_id": PID,
        "service_id": new_id(),
        "provider_id": new_id(),
        "start_at": "2026-11-22T10:00:00.000000Z",
        "end_at": "2026-11-22T10:30:00.000000Z",
        "deposit_status": "captured",
        "tentative": True,
        "booked_by": STAFF["a"],
    }
    fields.update(over)
    return mut("insert", hlc, fields, base=0, entity="appointment", entity_id=aid)


def test_client_insert_resets_server_owned_fields_the_server_then_decides() -> None:
    aid = new_id()
    out = merge_update(RowState.absent("appointment", aid), appointment_insert(h(1, "a"), aid))
    assert out.status == "applied"
    assert out.row.data["deposit_status"] == "not_required" and out.row.data["tentative"] is False
    assert out.row.data["booked_by"] == STAFF["a"]
    server = merge_update(
        out.row,
        mut("update", h(2, SERVER_NODE), {"deposit_status": "required"}, entity="appointment", entity_id=aid),
        authority="server",
    )
    assert server.status == "applied" and server.row.data["deposit_status"] == "required"
    # the server's own facts win even over a client stamp from a clock running ahead
    ahead = merge_update(
        out.row,
        mut("update", h(-1, SERVER_NODE), {"tentative": True}, entity="appointment", entity_id=aid),
        authority="server",
    )
    assert ahead.row.data["tentative"] is True and ahead.row.conflicts() == []


def test_patient_consents_from_the_intake_are_kept_on_insert() -> None:
    consents = {"marketing_sms": {"granted": True, "at": "2026-11-22T10:00:00Z", "source": "intake"}}
    row = created(consents=consents)
    assert row.data["consents"] == consents


def test_client_update_of_a_server_owned_field_is_refused_for_that_field_only() -> None:
    aid = new_id()
    row = merge_update(RowState.absent("appointment", aid), appointment_insert(h(1, "a"), aid)).row
    out = merge_update(
        row,
        mut(
            "update",
            h(2, "a"),
            {"deposit_status": "waived", "notes": "allergic to lido"},
            entity="appointment",
            entity_id=aid,
        ),
    )
    assert out.status == "conflict_resolved" and out.changed and out.code == "server_owned"
    assert out.row.data["notes"] == "allergic to lido" and out.row.data["deposit_status"] == "not_required"
    assert out.rejected_fields == {
        "deposit_status": (
            "A deposit's status is set by the clinic server from the payment itself; take, waive or "
            "refund the deposit from the payment screen instead."
        )
    }
    assert out.reason == out.rejected_fields["deposit_status"]
    only = merge_update(
        row, mut("update", h(3, "a"), {"tentative": True}, entity="appointment", entity_id=aid)
    )
    assert only.status == "rejected" and not only.changed and only.rejected_fields.keys() == {"tentative"}
    assert only.reason == (
        "Whether a booking is confirmed is decided by the clinic server when it checks the calendar."
    )
    same = merge_update(
        row, mut("update", h(4, "a"), {"tentative": False}, entity="appointment", entity_id=aid)
    )
    assert same.status == "applied" and not same.changed and not same.rejected_fields


def test_lead_claims_and_attribution_cannot_be_changed_by_clients() -> None:
    lid = new_id()
    fields = {
        "clinic_id": CLINIC,
        "source": "meta",
        "received_at": "2026-11-22T09:00:00Z",
        "ad_id": "123",
        "claimed_by": STAFF["a"],
    }
    row = merge_update(
        RowState.absent("lead", lid),
        mut("insert", h(1, SERVER_NODE), fields, base=0, entity="lead", entity_id=lid),
        authority="server",
    ).row
    assert row.data["claimed_by"] == STAFF["a"]
    out = merge_update(
        row,
        mut(
            "update",
            h(2, "b"),
            {"claimed_by": STAFF["b"], "ad_id": "999", "status": "contacted"},
            entity="lead",
            entity_id=lid,
        ),
    )
    assert out.status == "conflict_resolved" and out.row.data["status"] == "contacted"
    assert out.row.data["claimed_by"] == STAFF["a"] and out.row.data["ad_id"] == "123"
    assert set(out.rejected_fields) == {"claimed_by", "ad_id"}
    assert "Lead claims are handed out by the clinic server" in out.rejected_fields["claimed_by"]
    assert "recorded when the lead arrives and cannot be changed" in out.rejected_fields["ad_id"]
    moved = merge_update(row, mut("update", h(3, "b"), {"clinic_id": new_id()}, entity="lead", entity_id=lid))
    assert moved.status == "rejected" and moved.reason == "A record cannot be moved to another clinic."


# --- tombstones ------------------------------------------------------------------------------


def test_edit_after_delete_is_kept_as_a_conflict_and_the_delete_wins() -> None:
    row = created()
    deleted = merge_update(row, mut("delete", h(10, "a")))
    assert deleted.status == "applied" and deleted.row.deleted and deleted.row.version == 2
    edit = merge_update(deleted.row, mut("update", h(20, "b"), {"phone": "+15550000009"}))
    assert edit.status == "conflict_resolved" and edit.row.deleted and edit.code == "deleted"
    assert edit.reason == (
        "This client record was deleted on another workstation; the change is kept in its conflict list for review."
    )
    [c] = edit.row.conflicts()
    assert (c.kind, c.field, c.losing_value, c.winning_value) == (
        "edit_of_deleted",
        "phone",
        "+15550000009",
        None,
    )
    assert (c.winner_hlc, c.loser_hlc, c.winner_staff_id) == (h(10, "a"), h(20, "b"), STAFF["a"])
    assert edit.conflicts == (c,)


def test_delete_after_an_unseen_edit_keeps_the_edit_as_a_conflict() -> None:
    row = created()
    edited = merge_update(row, mut("update", h(20, "b"), {"phone": "+15550000009"})).row  # version 2
    out = merge_update(edited, mut("delete", h(10, "a"), base=1))
    assert out.status == "applied" and out.row.deleted
    assert [c.loser_hlc for c in out.conflicts] == [h(20, "b")]
    assert view(out.row) == view(
        apply(row, mut("delete", h(10, "a")), mut("update", h(20, "b"), {"phone": "+15550000009"}))
    )


def test_delete_after_a_seen_edit_has_no_conflict() -> None:
    edited = merge_update(created(), mut("update", h(20, "b"), {"phone": "+15550000009"})).row
    out = merge_update(edited, mut("delete", h(30, "a"), base=2))
    assert out.row.deleted and out.row.conflicts() == []
    own = merge_update(
        merge_update(created(), mut("update", h(20, "a"), {"vip": True})).row, mut("delete", h(30, "a"))
    )
    assert own.row.conflicts() == []


def test_repeated_delete_is_a_duplicate() -> None:
    d = mut("delete", h(10, "a"))
    once = merge_update(created(), d)
    again = merge_update(once.row, d)
    assert again.status == "duplicate" and not again.changed


# --- immutable records -----------------------------------------------------------------------


def test_immutable_hook_refuses_edits_and_deletes_with_its_reason() -> None:
    row = created(notes="signed")

    def signed(r: RowState) -> str | None:
        if r.data.get("notes") == "signed":
            return "This chart is signed and locked; add an amendment instead."
        return None

    for m in (mut("update", h(5, "b"), {"notes": "changed"}), mut("delete", h(5, "b"))):
        out = merge_update(row, m, immutable=signed)
        assert out.status == "rejected" and out.code == "immutable" and out.row is row
        assert out.reason == "This chart is signed and locked; add an amendment instead."
    assert (
        merge_update(
            row, mut("update", h(5, SERVER_NODE), {"vip": True}), authority="server", immutable=signed
        ).status
        == "applied"
    )
    assert (
        merge_update(created(notes="draft"), mut("update", h(5, "b"), {"vip": True}), immutable=signed).status
        == "applied"
    )


# --- storage and wire forms ------------------------------------------------------------------


def busy_row() -> RowState:
    return apply(
        created(),
        mut("update", h(10, "a"), {"phone": "+A", "tags": ["x"]}),
        mut("update", h(20, "b"), {"phone": "+B"}),
        mut("update", h(30, "c"), {"address": {"city": "LA"}}),
        mut("delete", h(40, "c")),
    )


def test_meta_round_trips_through_json_storage() -> None:
    row = busy_row()
    meta = json.loads(json.dumps(row.to_meta()))
    again = RowState.from_stored(
        "patient",
        PID,
        version=row.version,
        hlc=row.hlc,
        deleted=row.deleted,
        data=json.loads(json.dumps(dict(row.data))),
        meta=meta,
    )
    assert again == row
    fresh = created()
    assert fresh.to_meta()["stamps"] == {}  # every field still carries the insert stamp


def test_rows_written_outside_the_merge_get_their_row_stamp() -> None:
    row = RowState.from_stored(
        "patient",
        PID,
        version=4,
        hlc=h(50, SERVER_NODE),
        deleted=False,
        data={"first_name": "Ana", "phone": "+1"},
        meta=None,
    )
    assert row.field_hlc == {"first_name": h(50, SERVER_NODE), "phone": h(50, SERVER_NODE)}
    newer = merge_update(row, mut("update", h(60, "a"), {"phone": "+2"}, base=4))
    assert newer.status == "applied" and newer.row.version == 5


def test_change_round_trip_and_result() -> None:
    row = busy_row()
    change = row.to_change(17, updated_at="2026-11-22T10:00:00.000000Z")
    change = Change.model_validate_json(change.model_dump_json())
    assert change.seq == 17 and change.version == row.version and change.deleted
    assert change.created_hlc == h(0, "a") and set(change.field_hlc) == {"phone", "tags", "address"}
    assert [c.key for c in change.conflicts] == [c.key for c in row.conflicts()]
    desk = RowState.from_change(change)
    assert desk.data == row.data and desk.field_hlc == row.field_hlc and desk.deleted
    outcome = MergeOutcome("applied", row, True)
    result = outcome.to_result("m1", server_seq=17, current=change)
    assert result.status == "applied" and result.server_seq == 17 and result.current == change


def test_rebase_predicts_pending_local_edits_over_a_pulled_row() -> None:
    pulled = merge_update(created(), mut("update", h(20, "b"), {"phone": "+B"})).row
    change = pulled.to_change(5)
    pending = [
        mut("update", h(30, "a"), {"notes": "pending"}, base=2),
        mut("update", h(10, "a"), {"phone": "+old"}, base=1),
        mut("update", h(31, "a"), {"deposit_status": "x"}, base=2),
    ]
    predicted = rebase(RowState.from_change(change), pending)
    assert predicted.data["notes"] == "pending" and predicted.data["phone"] == "+B"


# --- convergence (property tests) ------------------------------------------------------------

EDITABLE = {
    "first_name": st.sampled_from(["Ana", "Bea", "Cy"]),
    "phone": st.sampled_from(["+15550000001", "+15550000002", None]),
    "notes": st.sampled_from([None, "x", "y"]),
    "vip": st.booleans(),
    "tags": st.sampled_from([[], ["a"], ["a", "b"]]),
    "address": st.sampled_from([{}, {"city": "LA"}, {"city": "SF", "zip": "94110"}]),
}


@st.composite
def node_history(draw: st.DrawFn, node: str) -> list[Mutation]:
    """One workstation's offline edits from the common base (version 1): increasing HLC
    stamps that often collide in wall time with other nodes', and maybe a final delete."""
    wall, counter, out = 0, 0, []
    for _ in range(draw(st.integers(0, 5))):
        step = draw(st.integers(0, 3))
        wall, counter = (wall, counter + 1) if step == 0 else (wall + step, 0)
        stamp = h(1 + wall, node, counter)
        if draw(st.integers(0, 11)) == 0:
            out.append(mut("delete", stamp))
            break
        keys = draw(st.sets(st.sampled_from(sorted(EDITABLE)), min_size=1, max_size=3))
        out.append(mut("update", stamp, {k: draw(EDITABLE[k]) for k in sorted(keys)}))
    return out


@st.composite
def concurrent_edits(draw: st.DrawFn) -> list[Mutation]:
    return [m for node in ("a", "b", "c") for m in draw(node_history(node))]


@settings(max_examples=300, deadline=None)
@given(edits=concurrent_edits(), data=st.data())
def test_any_order_converges_to_the_same_row_and_conflicts(
    edits: list[Mutation], data: st.DataObject
) -> None:
    base = created()
    reference = apply(base, *edits)
    for _ in range(3):
        order = data.draw(st.permutations(edits))
        replayed = data.draw(st.lists(st.sampled_from(edits), max_size=3)) if edits else []
        assert view(apply(base, *order, *replayed)) == view(reference)


@settings(max_examples=300, deadline=None)
@given(edits=concurrent_edits())
def test_nothing_is_lost_silently(edits: list[Mutation]) -> None:
    """Each workstation's last value for each field is the row's value or a conflict record."""
    row = apply(created(), *edits)
    conflicts = {(c.field, c.loser_hlc): c for c in row.conflicts()}
    latest: dict[tuple[str, str], Mutation] = {}
    for m in edits:
        for f in m.fields:
            key = (m.node, f)
            if key not in latest or latest[key].hlc < m.hlc:
                latest[key] = m
    for (node, f), m in latest.items():
        value = m.fields[f]
        if row.deleted:
            own_delete = row.deletes.get(node)
            if own_delete is not None and own_delete.hlc > m.hlc:
                continue  # deleted by the very workstation that made the edit
            assert conflicts[(f, m.hlc)].kind == "edit_of_deleted"
            assert conflicts[(f, m.hlc)].losing_value == value
        elif canonical_json(row.data[f]) != canonical_json(value):
            c = conflicts[(f, m.hlc)]
            assert (c.kind, c.losing_value, c.winning_value) == ("concurrent_edit", value, row.data[f])


@settings(max_examples=300, deadline=None)
@given(pair=st.tuples(node_history("a"), node_history("b")).filter(lambda p: p[0] and p[1]))
def test_merging_two_mutations_commutes_and_is_idempotent(
    pair: tuple[list[Mutation], list[Mutation]],
) -> None:
    base = created()
    x, y = pair[0][0], pair[1][0]
    xy, yx = apply(base, x, y), apply(base, y, x)
    assert view(xy) == view(yx)
    assert view(apply(base, x, y, x, y)) == view(xy)
    assert xy.version == yx.version


@settings(max_examples=200, deadline=None)
@given(edits=concurrent_edits())
def test_stored_state_merges_like_the_live_state(edits: list[Mutation]) -> None:
    """The server reloads rows between mutations: to_meta/from_stored must lose nothing."""
    row = created()
    for m in edits:
        stored = RowState.from_stored(
            "patient",
            PID,
            version=row.version,
            hlc=row.hlc,
            deleted=row.deleted,
            data=json.loads(json.dumps(dict(row.data))),
            meta=json.loads(json.dumps(row.to_meta())),
        )
        assert stored == row
        row = merge_update(stored, m).row
    assert view(row) == view(apply(created(), *edits))


def test_conflict_identity_is_stable() -> None:
    c = Conflict(entity="patient", entity_id=PID, field="phone", winner_hlc=h(2, "b"), loser_hlc=h(1, "a"))
    assert c.key == ("patient", PID, "phone", "concurrent_edit", h(1, "a"))
    assert Stamp(h(1, "a")).node == "a"


def test_server_facts_written_after_a_delete_are_not_conflicts() -> None:
    aid = new_id()
    row = merge_update(RowState.absent("appointment", aid), appointment_insert(h(1, "a"), aid)).row
    gone = merge_update(row, mut("delete", h(2, "a"), entity="appointment", entity_id=aid)).row
    refunded = merge_update(
        gone,
        mut("update", h(3, SERVER_NODE), {"deposit_status": "required"}, entity="appointment", entity_id=aid),
        authority="server",
    )
    assert refunded.row.deleted and refunded.row.data["deposit_status"] == "required"
    assert refunded.row.conflicts() == []
