"""The review list in plain words, from real conflicts and refusals on real SQLCipher stores
(two desktops merging through the FakeHub with core's merge rules)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.db.models import AuditEntry
from app.repositories import sync_state
from app.repositories.context import Actor
from app.repositories.uow import system_actor, unit_of_work
from app.services.sync_review import CONFLICT, REFUSED, SyncReviewService, label_of
from app.services.sync_status import sync_status
from core.errors import PermissionDenied
from tests.app.sync import conftest as sync_fixtures
from tests.app.sync.conftest import CLINIC_ID, DESK_ID, OWNER_ID, Desktop
from tests.app.sync.fake_hub import FakeHub

# the sync tests' desktops (real stores) and their in-memory hub
desktops = sync_fixtures.desktops
hub = sync_fixtures.hub


def service(desk: Desktop) -> SyncReviewService:
    return SyncReviewService(desk.store, clinic_id=CLINIC_ID, region="US", timezone="America/Los_Angeles")


def owner(desk: Desktop) -> Actor:
    return Actor(staff_id=OWNER_ID, device_id=desk.store.device_id, role="owner", name="Olivia Owner")


def a_conflict(desktops: Any) -> tuple[Desktop, str]:
    """``a`` changed Ada's phone, ``b`` (Fran, later) too; ``a`` then learns it lost."""
    a, b = desktops("a"), desktops("b")
    pid = a.add_patient("Ada", "Lovelace", phone="+14155550100")
    a.sync()
    b.sync()
    a.edit(pid, phone="+14155550101")
    b.edit(pid, phone="+14155550102", staff_id=DESK_ID)
    b.sync()
    a.sync()
    return a, pid


def test_a_conflict_names_the_record_the_field_the_kept_and_the_lost_value_and_who(desktops: Any) -> None:
    a, pid = a_conflict(desktops)
    [item] = service(a).items(actor=owner(a))
    assert item.kind == CONFLICT and item.patient_id == pid
    assert item.record == "Client \u00b7 Ada Lovelace" and item.subject == "Phone"
    assert (item.kept, item.lost) == ("(415) 555-0102", "(415) 555-0101")
    assert item.summary == "Changed on two workstations at once"
    assert item.sentence == (
        "Olivia Owner changed the phone of Ada Lovelace to \u201c(415) 555-0101\u201d while Fran Desk changed "
        "it to \u201c(415) 555-0102\u201d on another workstation. Glowdesk kept \u201c(415) 555-0102\u201d. If "
        "\u201c(415) 555-0101\u201d is right, edit the client and enter it again."
    )
    assert item.when is not None


def test_reading_the_list_is_audited_and_dismissing_hides_it_here_and_in_the_counts(desktops: Any) -> None:
    a, pid = a_conflict(desktops)
    review = service(a)
    [item] = review.items(actor=owner(a))
    with unit_of_work(a.store, system_actor(a.store)) as ctx:
        entry = ctx.session.execute(select(AuditEntry).where(AuditEntry.action == "sync.review")).scalar_one()
        assert entry.staff_id == OWNER_ID and entry.entity_id == pid
        assert sync_status(ctx)["conflicts"] == 1
    assert review.dismiss(actor=owner(a), keys=[item.key, "conflict:nothing-like-this"]) == 1
    assert review.items(actor=owner(a)) == []
    with unit_of_work(a.store, system_actor(a.store)) as ctx:
        assert sync_state.conflict_count(ctx) == 0 and sync_status(ctx)["conflicts"] == 0
        assert len(sync_state.list_conflicts(ctx, include_dismissed=True)) == 1  # kept, only hidden
        dismissed = ctx.session.execute(select(AuditEntry).where(AuditEntry.action == "sync.dismiss")).scalar_one()
        assert dismissed.detail == {"kind": "conflict", "field": "phone"}


def test_a_refused_new_record_says_why_and_what_it_was(desktops: Any, hub: FakeHub) -> None:
    a = desktops("a")
    pid = a.add_patient("Bea", "Refused")
    hub.refuse[pid] = "A client with this phone number already exists on the clinic server."
    a.sync()
    [item] = service(a).items(actor=owner(a))
    assert item.kind == REFUSED and item.key.startswith(f"{REFUSED}:")
    assert item.record == "Client \u00b7 Bea Refused" and item.subject == "New client"
    assert item.kept == "Not saved"
    assert item.summary == "A client with this phone number already exists on the clinic server."
    assert item.sentence == ("The clinic server refused the new client (Bea Refused): A client with this phone "
                             "number already exists on the clinic server.")
    assert service(a).dismiss(actor=owner(a), keys=[item.key]) == 1
    assert service(a).count(actor=owner(a)) == 0


def test_who_may_read_and_dismiss_follows_the_permission_table(desktops: Any) -> None:
    a, _pid = a_conflict(desktops)
    director = Actor(staff_id=None, device_id=a.store.device_id, role="medical_director", name="Dr. M")
    [item] = service(a).items(actor=director)  # may read clients
    with pytest.raises(PermissionDenied):
        service(a).dismiss(actor=director, keys=[item.key])  # may not change client data


def test_field_labels_read_as_words() -> None:
    assert label_of("phone") == "Phone"
    assert label_of("provider_id") == "Provider"
    assert label_of("instagram_handle") == "Instagram"
    assert label_of("some_new_field") == "Some new field"
