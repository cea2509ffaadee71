"""What the messaging screens ask for, as operations on the DB worker (and the network pool for
attachments); like :class:`app.ui.desk.Desk`, whose operations helpers and actor it uses.

Change subjects broadcast after writes: ``message`` (a message was written) and ``message_read``
(a thread was read). Pulls broadcast the entity names they applied, the same words.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.services.messaging import MessagingService, Notices, Thread, Unread
from app.ui.operations import Op

MESSAGE = "message"
MESSAGE_READ = "message_read"
MESSAGE_TEMPLATE = "message_template"
#: subjects after which unread counts and open threads are read again
THREAD_SUBJECTS = frozenset({MESSAGE, MESSAGE_READ, "patient"})

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None] | None


class MessageOps:
    def __init__(self, desk: Any) -> None:
        self.desk = desk
        self.service = MessagingService(desk.workspace.store, clinic_id=desk.clinic.id)

    def _read(self, work: Callable[[], Any], on_success: Done, label: str, on_failure: Failed = None) -> Op:
        op: Op = self.desk.ops.run_db(work, on_success=on_success, on_failure=on_failure, label=label)
        return op

    def _write(self, work: Callable[[], Any], on_success: Done, writes: set[str], label: str,
               on_failure: Failed = None) -> Op:
        op: Op = self.desk.ops.run_db(work, on_success=on_success, on_failure=on_failure, writes=writes, label=label)
        return op

    def thread(self, patient_id: str, *, on_success: Callable[[Thread], None], on_failure: Failed = None) -> Op:
        """The client's thread (an audited read of the record)."""
        actor, service = self.desk.actor, self.service
        return self._write(lambda: service.thread(actor=actor, patient_id=patient_id), on_success, {"audit"},
                           "client messages", on_failure)

    def send(self, patient_id: str, body: str, *, purpose: str, template_id: str | None,
             on_success: Callable[[str], None], on_failure: Failed, channel: str = "sms") -> Op:
        actor, service = self.desk.actor, self.service
        return self._write(lambda: service.send(actor=actor, patient_id=patient_id, body=body, purpose=purpose,
                                                template_id=template_id, channel=channel), on_success, {MESSAGE},
                           "send a message", on_failure)

    def mark_read(self, patient_id: str, up_to: Any, *, on_success: Done | None = None) -> Op:
        actor, service = self.desk.actor, self.service
        return self._write(lambda: service.mark_read(actor=actor, patient_id=patient_id, up_to=up_to),
                           on_success or (lambda _read: None), {MESSAGE_READ}, "mark messages read",
                           lambda _exc: None)

    def unread(self, *, on_success: Callable[[Unread], None]) -> Op:
        actor, service = self.desk.actor, self.service
        return self._read(lambda: service.unread(actor=actor), on_success, "unread messages", lambda _exc: None)

    def watermark(self, *, on_success: Callable[[int], None]) -> Op:
        actor, service = self.desk.actor, self.service
        return self._read(lambda: service.watermark(actor=actor), on_success, "messages watermark", lambda _e: None)

    def notices(self, after: int, *, with_text: bool, on_success: Callable[[Notices], None]) -> Op:
        actor, service = self.desk.actor, self.service
        return self._read(lambda: service.notices(actor=actor, after=after, with_text=with_text), on_success,
                          "new messages", lambda _exc: None)

    # --- attachments --------------------------------------------------------------------------

    def attachment(self, patient_id: str, message_id: str, media_id: str, content_type: str, *,
                   on_success: Callable[[tuple[bytes, str]], None], on_failure: Failed) -> None:
        """The attachment's bytes: from the store, else fetched from the clinic server (network
        pool) and kept in the store first. Never written to a file."""
        from app.sync import media  # with its HTTP client: only when an attachment is not here yet

        actor, service, store, ops = self.desk.actor, self.service, self.desk.workspace.store, self.desk.ops

        def have(found: tuple[bytes, str] | None) -> None:
            if found is not None:
                on_success(found)
                return
            ops.run_db(lambda: media.credentials(store), on_success=fetch, on_failure=on_failure,
                       label="attachment credentials")

        def fetch(creds: media.Credentials) -> None:
            ops.run_network(lambda: media.download(creds, message_id=message_id, media_id=media_id,
                                                   staff_id=actor.staff_id if actor else None),
                            on_success=keep, on_failure=on_failure, label="fetch an attachment")

        def keep(got: tuple[bytes, str]) -> None:
            data, kind = got
            ops.run_db(lambda: (service.keep_attachment(actor=actor, message_id=message_id, media_id=media_id,
                                                        content_type=kind or content_type, data=data),
                                service.attachment(actor=actor, patient_id=patient_id, media_id=media_id))[1],
                       on_success=lambda found: on_success(found) if found else None, on_failure=on_failure,
                       writes={MESSAGE}, label="keep an attachment")

        ops.run_db(lambda: service.attachment(actor=actor, patient_id=patient_id, media_id=media_id),
                   on_success=have, on_failure=on_failure, label="attachment")

    # --- templates ----------------------------------------------------------------------------

    def templates(self, *, on_success: Done, on_failure: Failed = None) -> Op:
        actor, service = self.desk.actor, self.service
        return self._read(lambda: service.template_items(actor=actor), on_success, "message templates", on_failure)

    def save_template(self, template_id: str | None, data: dict[str, Any], *, on_success: Done,
                      on_failure: Failed) -> Op:
        actor, service = self.desk.actor, self.service
        return self._write(lambda: service.save_template(actor=actor, template_id=template_id, data=data),
                           on_success, {MESSAGE_TEMPLATE}, "save a template", on_failure)
