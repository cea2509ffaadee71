"""The record's Messages tab driven as a person would, on a real encrypted demo store: compose
from a template with a live preview and counts, send while offline (waiting to send), a refusal
shown with its reason, a reply arriving live with a notification that names the client only,
unread counts on the rail and the Clients screen, and marketing kept for owners and managers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt

from app.db.models import Appointment, Message, OutboxEntry, Patient
from app.db.store import open_store
from app.repositories.uow import system_actor, unit_of_work
from app.services.demo import generate_demo
from app.services.workspace import open_workspace
from app.sync.apply import apply_rows
from app.ui.desk import Desk
from app.ui.main_window import MainWindow
from app.ui.models.thread_model import STATE_ROLE, WAITING_OFFLINE
from app.ui.operations import Operations
from core.ids import new_id
from core.sync import Change
from core.templates import render_template
from tests.app.ui.test_desk_screens import DESK, DESK_PIN, OWNER, OWNER_PIN, make_window, sign_in


@pytest.fixture
def demo_home(tmp_path: Path, key_file: Path) -> Path:
    store = open_store(tmp_path / "home")
    try:
        generate_demo(store, patients=200)
    finally:
        store.close()
    return tmp_path / "home"


@pytest.fixture
def ops_desk(qapp, demo_home: Path) -> Iterator[Desk]:
    ops = Operations()
    workspace = open_workspace(demo_home)
    try:
        yield Desk(ops, workspace, actor=None)
    finally:
        assert ops.shutdown(final=workspace.close)


def query(desk: Desk, func: Any) -> Any:
    with unit_of_work(desk.workspace.store, system_actor(desk.workspace.store)) as ctx:
        return func(ctx.session)


def texting_client(desk: Desk, *, upcoming: bool = True) -> tuple[str, str]:
    """(id, first name) of a client with a phone, text consent and (when asked) a next appointment."""
    def find(session: Any) -> tuple[str, str]:
        soon = {a.patient_id for a in session.execute(sa.select(Appointment).where(
            Appointment.start_at > datetime.now(UTC), Appointment.status.in_(("booked", "confirmed")))).scalars()}
        for p in session.execute(sa.select(Patient).where(Patient.phone.is_not(None))
                                 .order_by(Patient.last_name)).scalars():
            if (p.consents or {}).get("transactional_sms", {}).get("granted") and (not upcoming or p.id in soon):
                return p.id, p.preferred_name or p.first_name
        raise AssertionError("no such client")
    return query(desk, find)


def open_messages(qtbot, win: MainWindow, patient_id: str) -> Any:
    win.open_patient(patient_id)
    qtbot.waitUntil(lambda: win.detail.client is not None and win.detail.client.id == patient_id)
    win.detail.tabs.select("Messages")
    panel = win.detail.tabs.messages
    qtbot.waitUntil(lambda: panel.thread is not None and panel.thread.patient_id == patient_id)
    return panel


def pull(qtbot, desk: Desk, *changes: Change) -> None:
    """What the sync runner does after a pull: apply the page on the DB worker and broadcast."""
    done: list[Any] = []

    def work() -> None:
        with unit_of_work(desk.workspace.store, system_actor(desk.workspace.store)) as ctx:
            apply_rows(ctx, list(changes))

    desk.ops.run_db(work, on_success=done.append, writes={"message"})
    qtbot.waitUntil(lambda: bool(done))


def server_message(desk: Desk, patient_id: str, **fields: Any) -> Change:
    data = {"clinic_id": desk.clinic.id, "patient_id": patient_id, "channel": "sms", "purpose": None,
            "body": "Can I move to 3 PM?", "template_id": None,
            "occurred_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "direction": "inbound",
            "kind": "inbound", "lead_id": None, "author_id": None, "media": [], "status": "received",
            "status_reason": None, "error_code": None, "provider_message_id": "SM" + new_id()[-12:],
            "send_after": None, "sent_at": None, "delivered_at": None}
    data.update(fields)
    hlc = f"{int(datetime.now(UTC).timestamp() * 1000)}-000000-server"
    return Change(seq=10_000, entity="message", entity_id=fields.pop("id", None) or new_id(), version=2, hlc=hlc,
                  data=data, created_hlc=hlc)


def front_desk_thread(qtbot, desk: Desk) -> tuple[Any, str, str]:
    """(Messages panel, client id, first name): the front desk signed in, a client who can be
    texted and has an appointment coming, their Messages tab open."""
    win = make_window(qtbot, desk)
    sign_in(qtbot, win, DESK, DESK_PIN)
    qtbot.waitUntil(lambda: not win.locked)
    pid, first = texting_client(desk)
    return open_messages(qtbot, win, pid), pid, first


def states(panel: Any) -> list[str]:
    return [str(panel.model.index(r).data(STATE_ROLE) or "") for r in range(panel.model.rowCount())]


def test_compose_from_a_template_previews_what_the_client_gets_with_its_counts(qtbot, ops_desk: Desk) -> None:
    panel, _pid, first = front_desk_thread(qtbot, ops_desk)
    compose = panel.compose
    assert compose.send_button.isEnabled() is False  # nothing written yet
    names = [compose.templates.itemText(i) for i in range(compose.templates.count())]
    assert "Appointment reminder" in names and "We miss you  (marketing)" in names
    compose.templates.setFocus()
    while compose.templates.currentText() != "Appointment reminder":
        qtbot.keyClick(compose.templates, Qt.Key.Key_Down)  # a person arrowing through the picker
    # the box holds the words the client will get, filled in for them: no template code
    text = compose.text.toPlainText()
    assert text.startswith(f"Hi {first}, this is Lumière Aesthetics: a reminder of your ")
    assert " on " in text and " at " in text and "{{" not in text and "{%" not in text
    assert compose.preview.isHidden()  # nothing left to fill in: what is in the box goes out
    assert compose.count.text().endswith("GSM-7") and "segment" in compose.count.text()
    assert compose.send_button.isEnabled()
    # an emoji switches the text to UCS-2 and the counter says so, with the character that did it
    compose.text.moveCursor(compose.text.textCursor().MoveOperation.End)
    qtbot.keyClicks(compose.text, " Thanks!")
    compose.text.insertPlainText(" \U0001F60A")  # from the emoji picker (QTest cannot type past the BMP)
    assert "UCS-2" in compose.count.text() and "\U0001F60A needs UCS-2" in compose.count.text()
    assert "2 segments" in compose.count.text() or "3 segments" in compose.count.text()
    # a template mistake is explained and nothing can be sent
    compose.text.setPlainText("Hi {{ first_name.__class__ }}")
    assert "cannot read attributes" in compose.problem.text() and not compose.send_button.isEnabled()
    # marketing is for owners and managers: the front desk cannot pick it
    assert not compose.purpose.model().item(1).isEnabled()


def test_inserting_a_template_shows_the_text_that_will_be_sent_and_keeps_the_template(qtbot, ops_desk: Desk) -> None:
    """Staff see (and may edit) the words that go out, never template code; the message still
    says which template it came from."""
    panel, pid, first = front_desk_thread(qtbot, ops_desk)
    compose = panel.compose
    template = next(t for t in panel.thread.templates if t.name == "Appointment reminder")
    assert "{{ first_name }}" in template.body and "{% if provider %}" in template.body
    compose.templates.setCurrentIndex(compose.templates.findData(template.id))
    compose.templates.activated.emit(compose.templates.currentIndex())
    shown = compose.text.toPlainText()
    assert shown == render_template(template.body, panel.thread.variables).text
    assert shown.startswith(f"Hi {first}, this is ") and "{" not in shown and "%" not in shown
    assert compose.preview.isHidden() and compose.problem.isHidden()
    qtbot.keyClicks(compose.text, " See you soon!")  # the cursor waits at the end of the text
    qtbot.mouseClick(compose.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: compose.text.toPlainText() == "")
    sent = query(ops_desk, lambda s: s.execute(sa.select(Message).where(Message.patient_id == pid)
                                                .order_by(Message.occurred_at.desc()).limit(1)).scalar_one())
    assert sent.body == shown + " See you soon!" and sent.template_id == template.id


def test_a_template_value_this_client_lacks_is_pointed_out_after_inserting(qtbot, ops_desk: Desk) -> None:
    panel, _pid, _first = front_desk_thread(qtbot, ops_desk)
    compose = panel.compose
    index = compose.templates.findText("Deposit link")
    compose.templates.setCurrentIndex(index)
    compose.templates.activated.emit(index)
    assert "deposit_link" not in compose.text.toPlainText() and "{%" not in compose.text.toPlainText()
    assert compose.problem.isVisible() and "{{ deposit_link }}" in compose.problem.text()
    assert compose.send_button.isEnabled()  # a warning, not a refusal
    compose.text.clear()  # emptied: no longer from a template, nothing to warn about
    assert compose.problem.isHidden()


def test_a_text_sent_offline_waits_in_the_outbox_and_says_so(qtbot, ops_desk: Desk) -> None:
    win = make_window(qtbot, ops_desk)
    sign_in(qtbot, win, DESK, DESK_PIN)
    qtbot.waitUntil(lambda: not win.locked)
    pid, _first = texting_client(ops_desk, upcoming=False)
    panel = open_messages(qtbot, win, pid)
    before = panel.model.rowCount()
    qtbot.keyClicks(panel.compose.text, "Running 5 minutes late, see you soon!")
    assert panel.compose.preview.isHidden()  # plain text: nothing to fill in
    qtbot.mouseClick(panel.compose.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(s == WAITING_OFFLINE for s in states(panel)))
    assert panel.model.rowCount() > before and panel.compose.text.toPlainText() == ""
    mine = panel.model.messages()[-1]
    assert (mine.body, mine.author, mine.pending) == ("Running 5 minutes late, see you soon!", DESK, True)
    entry = query(ops_desk, lambda s: s.execute(sa.select(OutboxEntry).where(OutboxEntry.entity_id == mine.id))
                  .scalar_one())
    assert entry.op == "insert" and entry.fields["body"] == mine.body


def test_a_refused_text_shows_its_reason_on_the_message(qtbot, ops_desk: Desk) -> None:
    win = make_window(qtbot, ops_desk)
    sign_in(qtbot, win, DESK, DESK_PIN)
    qtbot.waitUntil(lambda: not win.locked)
    pid, _first = texting_client(ops_desk, upcoming=False)
    panel = open_messages(qtbot, win, pid)
    reason = "This client has opted out of texts (they replied STOP), so no text was sent."
    refused = server_message(ops_desk, pid, direction="outbound", kind="manual", purpose="transactional",
                             body="Your deposit link is ready.", status="refused", status_reason=reason,
                             author_id=win.desk.actor_id)
    pull(qtbot, ops_desk, refused)
    qtbot.waitUntil(lambda: f"Not sent: {reason}" in states(panel))


def test_a_reply_arrives_live_notifies_by_name_only_and_counts_as_unread(qtbot, ops_desk: Desk) -> None:
    win = make_window(qtbot, ops_desk)
    sign_in(qtbot, win, OWNER, OWNER_PIN)
    qtbot.waitUntil(lambda: not win.locked and win.message_watch.unread is not None)
    qtbot.waitUntil(lambda: win.message_watch._watermark is not None)
    before = win.rail.badge("clients")
    assert before == win.message_watch.unread.total > 0  # the demo has unread replies
    pid, first = texting_client(ops_desk, upcoming=False)
    last = query(ops_desk, lambda s: s.get(Patient, pid).last_name)
    win.show_page("leads")  # not looking at the client: the reply stays unread
    pull(qtbot, ops_desk, server_message(ops_desk, pid, body="Can I move to 3 PM? My code is 4417"))
    qtbot.waitUntil(lambda: bool(win.message_watch.notifier.shown))
    title, text = win.message_watch.notifier.shown[-1]
    assert title == f"New text from {first} {last}"
    assert "3 PM" not in text and "4417" not in text  # a shared screen never shows the text by default
    qtbot.waitUntil(lambda: win.rail.badge("clients") == before + 1)
    # the Clients screen lists the client first among the unread, and opens the Messages tab
    win.show_page("clients")
    win.clients.search.field.clear()
    unread = win.clients.search.unread
    qtbot.waitUntil(lambda: unread.isVisible() and unread.patient_ids()[:1] == [pid])
    unread.table.selectRow(0)
    qtbot.keyClick(unread.table, Qt.Key.Key_Return)
    panel = win.detail.tabs.messages
    qtbot.waitUntil(lambda: panel.isVisible() and panel.thread is not None and panel.thread.patient_id == pid)
    assert panel.model.messages()[-1].body == "Can I move to 3 PM? My code is 4417"
    # looking at it reads it, for the whole team
    qtbot.waitUntil(lambda: win.rail.badge("clients") == before)
    assert query(ops_desk, lambda s: s.execute(sa.select(sa.func.count()).select_from(OutboxEntry).where(
        OutboxEntry.entity == "message_read")).scalar_one()) == 1


def test_the_text_is_shown_only_when_the_workstation_allows_it_and_never_while_locked(qtbot, ops_desk: Desk) -> None:
    win = make_window(qtbot, ops_desk)
    sign_in(qtbot, win, OWNER, OWNER_PIN)
    qtbot.waitUntil(lambda: not win.locked and win.message_watch._watermark is not None)
    win.ui_settings.set_show_message_text(True)
    pid, _first = texting_client(ops_desk, upcoming=False)
    win.show_page("leads")
    pull(qtbot, ops_desk, server_message(ops_desk, pid, body="See you Friday!"))
    qtbot.waitUntil(lambda: bool(win.message_watch.notifier.shown))
    assert win.message_watch.notifier.shown[-1][1] == "See you Friday!"
    win.lock()
    pull(qtbot, ops_desk, server_message(ops_desk, pid, body="Also, parking?"))
    qtbot.waitUntil(lambda: len(win.message_watch.notifier.shown) == 2)
    assert win.message_watch.notifier.shown[-1] == ("New message", "Sign in to read it.")


def test_an_owner_can_send_marketing_to_a_client_who_agreed(qtbot, ops_desk: Desk) -> None:
    win = make_window(qtbot, ops_desk)
    sign_in(qtbot, win, OWNER, OWNER_PIN)
    qtbot.waitUntil(lambda: not win.locked)

    def marketing_ok(session: Any) -> str:
        for p in session.execute(sa.select(Patient).where(Patient.phone.is_not(None))).scalars():
            c = p.consents or {}
            if c.get("marketing_sms", {}).get("granted") and c.get("transactional_sms", {}).get("granted"):
                return p.id
        raise AssertionError

    panel = open_messages(qtbot, win, query(ops_desk, marketing_ok))
    compose = panel.compose
    assert compose.purpose.model().item(1).isEnabled()
    index = compose.templates.findText("We miss you  (marketing)")
    compose.templates.setCurrentIndex(index)
    compose.templates.activated.emit(index)
    assert compose.purpose_value == "marketing" and compose.send_button.isEnabled()
    qtbot.mouseClick(compose.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(m.purpose == "marketing" and m.pending for m in panel.model.messages()))
    sent = query(ops_desk, lambda s: s.execute(sa.select(Message).order_by(Message.occurred_at.desc()).limit(1))
                 .scalar_one())
    assert sent.purpose == "marketing" and sent.template_id is not None and "{{" not in sent.body


def test_a_client_without_consent_cannot_be_texted_and_is_told_why(qtbot, ops_desk: Desk) -> None:
    win = make_window(qtbot, ops_desk)
    sign_in(qtbot, win, DESK, DESK_PIN)
    qtbot.waitUntil(lambda: not win.locked)

    def no_consent(session: Any) -> str:
        for p in session.execute(sa.select(Patient).where(Patient.phone.is_not(None))).scalars():
            if not (p.consents or {}).get("transactional_sms", {}).get("granted"):
                return p.id
        raise AssertionError

    panel = open_messages(qtbot, win, query(ops_desk, no_consent))
    qtbot.keyClicks(panel.compose.text, "Hello!")
    assert "has not agreed to appointment and service texts" in panel.compose.problem.text()
    assert not panel.compose.send_button.isEnabled()
