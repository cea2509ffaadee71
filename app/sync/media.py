"""Attachments of messages (MMS photos, Instagram images), fetched from the clinic server.

The server keeps them sealed in its home and serves them to an enrolled workstation for a staff
member who may read client records (``GET /api/v1/messages/{id}/media/{media id}``). The desktop
keeps what it fetched inside its encrypted store (:mod:`app.services.messaging`), never as a
file. Split in two so the caller can run each half where it belongs: :func:`credentials` on the
store's thread, :func:`download` on a network thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.db.store import Store
from app.repositories import sync_state
from app.repositories.uow import system_actor, unit_of_work
from app.sync.client import SyncClient
from app.sync.errors import NotEnrolledError


@dataclass(frozen=True)
class Credentials:
    server_url: str
    token: str


def credentials(store: Store) -> Credentials:
    """The server and device token to fetch with (raises :class:`NotEnrolledError`)."""
    with unit_of_work(store, system_actor(store)) as ctx:
        enrolled = sync_state.enrollment(ctx)
    if enrolled is None:
        raise NotEnrolledError()
    return Credentials(str(enrolled["server_url"]), str(enrolled["device_token"]))


def download(creds: Credentials, *, message_id: str, media_id: str, staff_id: str | None,
             http: object | None = None) -> tuple[bytes, str]:
    """The attachment's bytes and content type (never written to disk)."""
    with SyncClient(creds.server_url, creds.token, http=http) as client:  # type: ignore[arg-type]
        return client.media(message_id=message_id, media_id=media_id, staff_id=staff_id)
