"""Two-way texting end to end: a real server process (``serve --with-worker``) on embedded SQLite,
the Twilio stand-in on its own port, an enrolled desktop with its encrypted store.

A text written on the desktop goes up through its outbox; the server turns the pushed message
into one send through the real twilio SDK; the stand-in's signed status callbacks reach the
server's webhook; the desktop pulls the message as delivered. A client's reply posted to the
server's Twilio webhook lands in the desktop's thread as unread. A DM reply written on the
desktop goes out once through the Meta Graph stand-in.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from app.db.models import Patient
from app.services.messaging import MessagingService
from tests.integration.conftest import PIN, ServerProcess, free_port, make_clinic
from tests.standins.meta_graph import MetaGraphStandin
from tests.standins.server import StandinServer
from tests.standins.twilio_api import TwilioStandin

CLINIC_NUMBER = "+14155550100"
AVA = "+14155550142"
CONSENT = {"transactional_sms": {"granted": True, "at": "2026-01-05T10:00:00Z", "source": "intake_form"}}


def eventually(check: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture
def twilio() -> Iterator[TwilioStandin]:
    standin = TwilioStandin(auto_callbacks=True, callback_delay=0.05)
    with StandinServer(standin.app) as server:
        standin.url = server.url
        yield standin


@pytest.fixture
def texting_server(tmp_path: Path, twilio: TwilioStandin) -> Iterator[ServerProcess]:
    port = free_port()
    process = ServerProcess(tmp_path / "server-home", port, serve_args=("--with-worker",), extra_env={
        "GLOWDESK_TWILIO_API_URL": twilio.url, "GLOWDESK_PUBLIC_URL": f"http://127.0.0.1:{port}"}).start()
    yield process
    process.stop()


def test_a_desktop_text_is_sent_once_delivered_and_a_reply_arrives_unread(
    texting_server: ServerProcess, twilio: TwilioStandin, desks: Any,
) -> None:
    server = texting_server
    setup = make_clinic(server, codes=1)
    server.cli("integrations", "set", "--clinic", setup.slug, "--twilio-account-sid", twilio.account_sid,
               "--twilio-auth-token", twilio.auth_token, "--twilio-from", CLINIC_NUMBER)
    [desk] = desks(server, setup, "front")
    ava = desk.add_patient("Ava", "Stone", phone=AVA, consents=CONSENT)
    desk.sync()
    messaging = MessagingService(desk.store, clinic_id=setup.clinic_id)

    # written on the desktop: waiting in the outbox until the push
    message_id = messaging.send(actor=desk.actor, patient_id=ava, body="See you Thursday at 2!")
    [mine] = [m for m in messaging.thread(actor=desk.actor, patient_id=ava).messages if m.id == message_id]
    assert mine.pending and mine.author == "Olivia Owner"
    summary = desk.sync()
    assert summary.push.applied == 1
    [mine] = [m for m in messaging.thread(actor=desk.actor, patient_id=ava).messages if m.id == message_id]
    assert not mine.pending and mine.status == "queued"

    # the server's worker sends it through the twilio SDK to the stand-in, exactly once
    [sent] = eventually(lambda: twilio.sent_to(AVA), "the text to reach Twilio")
    assert sent["body"] == "See you Thursday at 2!" and sent["from"] == CLINIC_NUMBER

    # the stand-in's signed status callbacks reach the server; the desktop pulls "delivered"
    def delivered() -> Any:
        desk.sync()
        found = [m for m in messaging.thread(actor=desk.actor, patient_id=ava).messages if m.id == message_id]
        return found and found[0].status == "delivered" and found[0]

    final = eventually(delivered, "the delivery state on the desktop")
    assert final.delivered_at is not None and final.sent_at is not None
    desk.sync()  # pushing again changes nothing: still one text at Twilio
    assert len(twilio.sent_to(AVA)) == 1

    # the client answers: the reply lands in the desktop's thread, unread
    params = twilio.inbound(from_=AVA, to=CLINIC_NUMBER, body="Perfect, see you then!")
    url = f"{server.url}/webhooks/twilio/sms"
    assert httpx.post(url, data=params, headers=twilio.sign(url, params), timeout=10).status_code == 200

    def unread() -> Any:
        desk.sync()
        return messaging.unread(actor=desk.actor).by_patient.get(ava)

    assert eventually(unread, "the reply on the desktop") == 1
    thread = messaging.thread(actor=desk.actor, patient_id=ava)
    reply = thread.messages[-1]
    assert (reply.body, reply.inbound, reply.author, reply.channel) == ("Perfect, see you then!", True,
                                                                      "Ava Stone", "sms")
    assert thread.unread == 1
    # reading it on this desktop clears it for the clinic (the receipt goes up with the next sync)
    assert messaging.mark_read(actor=desk.actor, patient_id=ava, up_to=reply.occurred_at)
    assert desk.sync().push.applied == 1
    assert messaging.unread(actor=desk.actor).total == 0


def test_an_mms_photo_is_fetched_by_the_desktop_into_its_encrypted_store(
    texting_server: ServerProcess, twilio: TwilioStandin, desks: Any,
) -> None:
    from app.db.store import DB_NAME
    from app.sync import media

    server = texting_server
    setup = make_clinic(server, codes=1)
    server.cli("integrations", "set", "--clinic", setup.slug, "--twilio-account-sid", twilio.account_sid,
               "--twilio-auth-token", twilio.auth_token, "--twilio-from", CLINIC_NUMBER)
    [desk] = desks(server, setup, "front")
    ava = desk.add_patient("Ava", "Stone", phone=AVA, consents=CONSENT)
    desk.sync()
    photo = b"\xff\xd8\xff\xe0" + b"JPEG-of-the-treated-area" * 200
    params = twilio.inbound(from_=AVA, to=CLINIC_NUMBER, body="Is this swelling normal?", media=[(photo, "image/jpeg")])
    url = f"{server.url}/webhooks/twilio/sms"
    assert httpx.post(url, data=params, headers=twilio.sign(url, params), timeout=10).status_code == 200
    messaging = MessagingService(desk.store, clinic_id=setup.clinic_id)

    def arrived() -> Any:
        desk.sync()
        found = [m for m in messaging.thread(actor=desk.actor, patient_id=ava).messages if m.media]
        return found and found[0]

    message = eventually(arrived, "the MMS on the desktop")
    [attachment] = message.media
    assert (attachment.content_type, attachment.size, attachment.cached) == ("image/jpeg", len(photo), False)
    assert messaging.attachment(actor=desk.actor, patient_id=ava, media_id=attachment.media_id) is None

    data, content_type = media.download(media.credentials(desk.store), message_id=message.id,
                                        media_id=attachment.media_id, staff_id=desk.setup.owner_id)
    assert (data, content_type) == (photo, "image/jpeg")
    messaging.keep_attachment(actor=desk.actor, message_id=message.id, media_id=attachment.media_id,
                              content_type=content_type, data=data)
    assert messaging.attachment(actor=desk.actor, patient_id=ava, media_id=attachment.media_id) == (photo,
                                                                                                   "image/jpeg")
    [again] = [m for m in messaging.thread(actor=desk.actor, patient_id=ava).messages if m.media]
    assert again.media[0].cached
    desk.store.close()  # everything on disk now: the photo is inside the encrypted file only
    assert b"JPEG-of-the-treated-area" not in (desk.home / DB_NAME).read_bytes()
    assert not [p for p in desk.home.rglob("*") if p.is_file() and b"JPEG-of-the" in p.read_bytes()]
    desk.reopen()


@pytest.mark.usefixtures("qapp")
def test_a_client_texting_in_reaches_the_open_app_live_with_a_notification_and_an_unread_count(
    texting_server: ServerProcess, twilio: TwilioStandin, desks: Any, qtbot: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing is refreshed by hand: Twilio's signed webhook, the server's worker, the live
    channel and the app's sync runner bring the text to the front desk within seconds."""
    from tests.integration.app_helpers import open_app, sign_in, wait_online

    server = texting_server
    setup = make_clinic(server, codes=1)
    server.cli("integrations", "set", "--clinic", setup.slug, "--twilio-account-sid", twilio.account_sid,
               "--twilio-auth-token", twilio.auth_token, "--twilio-from", CLINIC_NUMBER)
    [desk] = desks(server, setup, "front")
    desk.add_patient("Ava", "Stone", phone=AVA, consents=CONSENT)
    desk.sync()
    app = open_app(qtbot, desk, monkeypatch)
    try:
        sign_in(qtbot, app, "Olivia Owner", PIN)
        wait_online(qtbot, app)
        assert app.window.rail.badge("clients") == 0

        params = twilio.inbound(from_=AVA, to=CLINIC_NUMBER, body="Running 10 min late, sorry!")
        url = f"{server.url}/webhooks/twilio/sms"
        assert httpx.post(url, data=params, headers=twilio.sign(url, params), timeout=10).status_code == 200

        shown = app.window.message_watch.notifier.shown
        qtbot.waitUntil(lambda: ("New text from Ava Stone" in [title for title, _ in shown]), timeout=20_000)
        # the shared screen shows who wrote, not what they wrote
        assert all("late" not in text for _, text in shown)
        qtbot.waitUntil(lambda: app.window.rail.badge("clients") == 1, timeout=5_000)
    finally:
        app.close()


# --- Instagram DM replies ---------------------------------------------------------------------

MAYA = "6019384756"


@pytest.fixture
def graph() -> Iterator[MetaGraphStandin]:
    standin = MetaGraphStandin()
    with StandinServer(standin.app) as server:
        standin.url = server.url
        yield standin


@pytest.fixture
def dm_server(tmp_path: Path, graph: MetaGraphStandin) -> Iterator[ServerProcess]:
    port = free_port()
    process = ServerProcess(tmp_path / "server-home", port, serve_args=("--with-worker",), extra_env={
        "GLOWDESK_META_GRAPH_URL": graph.url, "GLOWDESK_PUBLIC_URL": f"http://127.0.0.1:{port}"}).start()
    yield process
    process.stop()


def test_a_dm_reply_written_on_the_desktop_goes_out_once_on_instagram(
    dm_server: ServerProcess, graph: MetaGraphStandin, desks: Any,
) -> None:
    """A client DMs the clinic (a signed Meta webhook); the desktop replies by Instagram DM; the
    server's worker sends it once through the facebook_business SDK within the 24-hour window,
    the desktop pulls it as sent, and Meta's echo of it adds nothing to the thread."""
    server = dm_server
    setup = make_clinic(server, codes=1)
    server.cli("integrations", "set", "--clinic", setup.slug, "--meta-app-secret", str(graph.app_secret),
               "--meta-verify-token", "glowdesk-e2e-verify", "--meta-page-id", graph.page_id,
               "--meta-page-token", graph.page_token, "--meta-instagram-id", graph.instagram_id)
    [desk] = desks(server, setup, "front")
    graph.add_profile(MAYA, username="maya.glows", name="Maya Reyes")
    response = graph.deliver(server.url, graph.dm_webhook(sender_id=MAYA, mid="m_e2e_1", text="Hi! Botox price?"))
    assert response.status_code == 200
    messaging = MessagingService(desk.store, clinic_id=setup.clinic_id)

    def maya() -> Any:
        desk.sync()
        return desk.read(lambda ctx: ctx.session.execute(sa.select(Patient.id).where(Patient.instagram_id == MAYA))
                         .scalar_one_or_none())

    patient_id = eventually(maya, "Maya's DM on the desktop")
    thread = messaging.thread(actor=desk.actor, patient_id=patient_id)
    assert thread.instagram_connected is True and thread.last_inbound_channel == "instagram"
    assert thread.dm_window_open(datetime.now(UTC))

    message_id = messaging.send(actor=desk.actor, patient_id=patient_id, body="Hi Maya! From $12 a unit.",
                                channel="instagram")
    assert desk.sync().push.applied == 1
    [sent] = eventually(lambda: graph.dms_to(MAYA), "the DM to reach Meta")
    assert sent["text"] == "Hi Maya! From $12 a unit." and sent["sender"] == graph.page_id

    def shown_sent() -> Any:
        desk.sync()
        found = [m for m in messaging.thread(actor=desk.actor, patient_id=patient_id).messages if m.id == message_id]
        return found and found[0].status == "sent" and found[0]

    mine = eventually(shown_sent, "the DM shown as sent on the desktop")
    assert (mine.channel, mine.author, mine.pending) == ("instagram", "Olivia Owner", False)
    # Meta echoes the clinic's own DM back to the webhook: nothing new is stored
    [echo] = graph.echoes
    answer = graph.deliver(server.url, echo)
    assert answer.status_code == 200 and answer.json() == {"stored": 0, "duplicates": 0}
    desk.sync()
    assert [m.direction for m in messaging.thread(actor=desk.actor, patient_id=patient_id).messages] == [
        "inbound", "outbound"]
    assert len(graph.dms_to(MAYA)) == 1
