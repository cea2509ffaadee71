"""Replying by Instagram DM from the Messages tab, driven as a person would on a real encrypted
demo store: the channel picker starts on the client's last channel, the counter shows a DM's
length (segments are for texts), the DM is written with its channel and waits in the outbox, the
server's answer shows on it (sent, or failed with Meta's reason); and the picker says plainly why
a DM cannot go (no Instagram account linked, Instagram not connected, outside the 24 hours)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from PySide6.QtCore import Qt

from app.db.models import Clinic, OutboxEntry, Patient
from app.repositories.uow import system_actor, unit_of_work
from app.ui.desk import Desk
from app.ui.models.thread_model import META_ROLE, WAITING_OFFLINE
from tests.app.ui.test_desk_screens import DESK, DESK_PIN, make_window, sign_in
from tests.app.ui.test_messages_tab import (  # noqa: F401 - fixtures
    demo_home,
    open_messages,
    ops_desk,
    pull,
    query,
    server_message,
    states,
)

WINDOW_REASON = "Instagram only allows replies within 24 hours of the client's last message, so this DM was not delivered"


def instagram_client(desk: Desk, *, with_id: bool = True) -> tuple[str, str]:
    """(id, first name) of a demo client with a phone and an Instagram id (or a handle only)."""
    def find(session: Any) -> tuple[str, str]:
        query_ = sa.select(Patient).where(Patient.phone.is_not(None), Patient.instagram_handle.is_not(None))
        query_ = query_.where(Patient.instagram_id.is_not(None) if with_id else Patient.instagram_id.is_(None))
        p = session.execute(query_.order_by(Patient.last_name).limit(1)).scalar_one()
        return p.id, p.preferred_name or p.first_name
    return query(desk, find)


def signed_in(qtbot: Any, desk: Desk) -> Any:
    win = make_window(qtbot, desk)
    sign_in(qtbot, win, DESK, DESK_PIN)
    qtbot.waitUntil(lambda: not win.locked)
    return win


def dm_in(qtbot: Any, desk: Desk, patient_id: str, body: str, *, ago: timedelta = timedelta(minutes=5)) -> None:
    at = (datetime.now(UTC) - ago).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    pull(qtbot, desk, server_message(desk, patient_id, channel="instagram", body=body, occurred_at=at,
                                     provider_message_id=f"m_{int(datetime.now(UTC).timestamp() * 1e6)}"))


def choose(qtbot: Any, compose: Any, channel_text: str) -> None:
    compose.channel.setFocus()
    for key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
        while compose.channel.currentText() != channel_text:
            before = compose.channel.currentIndex()
            qtbot.keyClick(compose.channel, key)
            if compose.channel.currentIndex() == before:
                break


def test_a_dm_reply_goes_out_on_instagram_and_shows_its_state(qtbot, ops_desk: Desk) -> None:  # noqa: F811
    win = signed_in(qtbot, ops_desk)
    pid, _first = instagram_client(ops_desk)
    dm_in(qtbot, ops_desk, pid, "Hi! Is lip filler painful?")
    panel = open_messages(qtbot, win, pid)
    compose = panel.compose
    assert compose.channel.isVisible()
    assert compose.channel.currentText() == "Instagram DM"  # her last message came by DM
    qtbot.keyClicks(compose.text, "Not much: we numb first. Want to book a consult?")
    assert compose.count.text() == "48 / 1000 characters"  # no SMS segments for a DM
    assert compose.send_button.isEnabled() and compose.problem.isHidden()
    qtbot.mouseClick(compose.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(s == WAITING_OFFLINE for s in states(panel)))
    mine = panel.model.messages()[-1]
    assert (mine.channel, mine.body, mine.pending) == ("instagram", "Not much: we numb first. Want to book a consult?",
                                                      True)
    assert "Instagram DM" in str(panel.model.index(panel.model.rowCount() - 1).data(META_ROLE))
    entry = query(ops_desk, lambda s: s.execute(sa.select(OutboxEntry).where(OutboxEntry.entity_id == mine.id))
                  .scalar_one())
    assert entry.fields["channel"] == "instagram"
    assert compose.channel.currentText() == "Instagram DM"  # the conversation goes on where it was
    # the push is answered (the outbox entry acknowledged), then the server's news: sent through Instagram
    with unit_of_work(ops_desk.workspace.store, system_actor(ops_desk.workspace.store)) as ctx:
        ctx.session.get(OutboxEntry, entry.seq).acked_at = datetime.now(UTC)
    pull(qtbot, ops_desk, server_message(ops_desk, pid, id=mine.id, direction="outbound", kind="manual",
                                         channel="instagram", purpose="transactional", body=mine.body,
                                         author_id=win.desk.actor_id, status="sent", sent_at=entry.fields.get(
                                             "occurred_at")))
    qtbot.waitUntil(lambda: states(panel)[-1] == "Sent")
    # a later one Meta refused: failed, with the reason on the message
    failed = server_message(ops_desk, pid, direction="outbound", kind="manual", channel="instagram",
                            purpose="transactional", body="Still there?", author_id=win.desk.actor_id,
                            status="failed", status_reason=WINDOW_REASON + "; text the client instead.",
                            error_code="10/2534022")
    pull(qtbot, ops_desk, failed)
    qtbot.waitUntil(lambda: states(panel)[-1].startswith("Not delivered: Instagram only allows replies within 24"))


def test_outside_the_24_hours_the_desk_is_told_before_sending_and_can_text_instead(
    qtbot, ops_desk: Desk,  # noqa: F811
) -> None:
    win = signed_in(qtbot, ops_desk)
    pid, first = instagram_client(ops_desk)
    dm_in(qtbot, ops_desk, pid, "Do you do HydraFacials?", ago=timedelta(days=2))
    panel = open_messages(qtbot, win, pid)
    compose = panel.compose
    choose(qtbot, compose, "Instagram DM")
    qtbot.keyClicks(compose.text, "Yes we do!")
    assert compose.problem.text().startswith(f"Instagram only allows replies within 24 hours of {first}'s last "
                                             "message (theirs was ")
    assert not compose.send_button.isEnabled()
    choose(qtbot, compose, "Text message")
    assert "segment" in compose.count.text()  # back to a text, with its segments
    consented = query(ops_desk, lambda s: (s.get(Patient, pid).consents or {}).get("transactional_sms", {}).get(
        "granted"))
    assert compose.send_button.isEnabled() == bool(consented)


def test_a_dm_cannot_go_without_a_linked_account_or_with_instagram_disconnected(
    qtbot, ops_desk: Desk,  # noqa: F811
) -> None:
    win = signed_in(qtbot, ops_desk)
    handle_only, first = instagram_client(ops_desk, with_id=False)  # a handle typed in by staff
    panel = open_messages(qtbot, win, handle_only)
    compose = panel.compose
    assert compose.channel.isVisible() and compose.channel.currentText() == "Text message"
    choose(qtbot, compose, "Instagram DM")
    qtbot.keyClicks(compose.text, "Hello!")
    assert compose.problem.text().startswith(f"{first}'s Instagram account is not linked to their record yet")
    assert not compose.send_button.isEnabled()

    def disconnect(session: Any) -> None:
        clinic = session.get(Clinic, ops_desk.clinic.id)
        clinic.settings = {**(clinic.settings or {}), "channels": {"sms": True, "instagram": False}}

    with unit_of_work(ops_desk.workspace.store, system_actor(ops_desk.workspace.store)) as ctx:
        disconnect(ctx.session)
    linked, _first = instagram_client(ops_desk)
    dm_in(qtbot, ops_desk, linked, "Hi there")
    panel = open_messages(qtbot, win, linked)
    qtbot.keyClicks(panel.compose.text, "Hi! How can we help?")
    assert panel.compose.problem.text().startswith("Instagram is not connected for this clinic")
    assert not panel.compose.send_button.isEnabled()
