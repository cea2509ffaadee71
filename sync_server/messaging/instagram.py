"""Replying by Instagram DM: who may be written to, and the send job. Services never commit.

A DM follows Instagram's rules, not SMS consent (STOP and quiet hours are texting rules): the
clinic can reply to a client who wrote to its Instagram account within the last 24 hours (Meta's
messaging window, counted from the client's newest inbound DM). :func:`route` decides that when
the message is queued, and the job decides it again before calling Meta (the message may have
waited offline or in the outbox); Meta is the last judge (Graph error 10 / 2534022 fails the
message with that reason). Outbound DMs carry ``from_addr`` = the clinic's page (or Instagram
account) and ``to_addr`` = the client's Instagram-scoped id.

Never twice: the job records a send attempt (``sending``, ``attempt_started_at``, committed)
before it calls Graph, and records Meta's message id after. If the worker dies in between, the
next attempt first reads the conversation back from Graph and takes an outbound message with the
same text, created since the attempt started and not already recorded on another message, as
this one (no second send). If the conversation cannot be read (a permission Meta refuses), the
message is failed as "may have reached the client" rather than risk sending it twice. What is
left (docs/integrations.md, DM replies): a message Meta accepted but does not list yet when the
retry reads the conversation (seconds after a crash) would go out twice; an identical text typed
in the Instagram app in those seconds would be taken for ours.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from sync_server.integrations import service as integrations
from sync_server.messaging import repository, service
from sync_server.messaging.models import Message

if TYPE_CHECKING:
    from sync_server.integrations.meta_graph import GraphClient
    from sync_server.integrations.service import MetaAccount
    from sync_server.jobs.worker import JobContext

DM_SEND_JOB = "message.send_dm"
#: Meta's standard messaging window after the client's last message
WINDOW = timedelta(hours=24)
#: how far before the recorded attempt a message found in the conversation may be (clock skew)
_SKEW = timedelta(minutes=1)

NOT_CONNECTED = ("Instagram is not connected for this clinic (an administrator connects Meta with a page token "
                 "and the Instagram account), so no DM was sent.")
NO_ACCOUNT = ("This client has no Instagram account on their record (Glowdesk learns it when they send the clinic "
              "a DM), so no DM was sent.")
NEVER_WROTE = ("This client has not sent the clinic an Instagram message, and Instagram only allows replies to "
               "people who wrote first, so no DM was sent.")
WINDOW_CLOSED = ("Instagram only allows replies within 24 hours of the client's last message, and theirs was "
                 "longer ago, so no DM was sent; text the client instead, or reply when they write again.")
UNCERTAIN = ("Sending this DM was interrupted and Glowdesk could not check with Instagram whether it went out; look "
             "in the clinic's Instagram inbox before sending it again.")


def window_reason(last_inbound: datetime | None, now: datetime) -> str | None:
    """Why Meta's 24-hour window does not allow a reply now (None: it does)."""
    if last_inbound is None:
        return NEVER_WROTE
    if now - last_inbound > WINDOW:
        return WINDOW_CLOSED
    return None


def route(session: Session, *, clinic_id: str, patient_id: str | None, patient: dict[str, Any] | None, body: str,
          now: datetime) -> tuple[str | None, str | None, str | None]:
    """(sender id, the client's Instagram id, why it may not go or None) for a DM queued now."""
    from sync_server.integrations.meta_graph import DM_MAX_CHARS

    sender = integrations.meta_sender(session, clinic_id=clinic_id)
    recipient = (patient or {}).get("instagram_id") or None
    if sender is None:
        return None, recipient, NOT_CONNECTED
    if not recipient or not patient_id:
        return sender, recipient, NO_ACCOUNT
    if len(body) > DM_MAX_CHARS:
        return sender, recipient, (f"An Instagram message can be at most {DM_MAX_CHARS} characters (this one has "
                                   f"{len(body)}), so it was not sent.")
    last = repository.last_inbound(session, clinic_id=clinic_id, patient_id=patient_id, channel=service.INSTAGRAM)
    return sender, recipient, window_reason(last, now)


# --- the send job -----------------------------------------------------------------------------


def send_job(ctx: JobContext) -> None:
    from sync_server.integrations.meta_graph import GraphClient
    from sync_server.integrations.transport import TransportError

    message_id = ctx.payload["message_id"]
    secret_key = ctx.settings.ensure_secret_key()
    with ctx.transaction(write=False) as session:
        message = service.job_message(session, ctx, message_id)
        account = integrations.meta_account(session, clinic_id=ctx.clinic_id, secret_key=secret_key)
        last = repository.last_inbound(session, clinic_id=ctx.clinic_id, patient_id=message.patient_id,
                                       channel=service.INSTAGRAM) if message.patient_id else None
    if message.status not in (service.QUEUED, service.SENDING):
        return  # sent, failed or refused already
    sender = (account.page_id or account.instagram_id) if account is not None else None
    if account is None or not account.page_token or not sender:
        _refuse(ctx, message_id, NOT_CONNECTED)
        return
    if not message.to_addr:
        _refuse(ctx, message_id, NO_ACCOUNT)
        return
    with GraphClient(ctx.settings.meta_graph_url, access_token=account.page_token,
                     app_secret=account.app_secret) as graph:
        found: str | None = None
        if message.status == service.SENDING and message.attempt_started_at is not None:
            try:
                found = _find_sent(ctx, graph, account, sender, message)
            except TransportError as exc:
                if not exc.permanent:
                    raise
                service.close_unsent(ctx, message_id, service.FAILED, UNCERTAIN, exc.provider_code)
                return
        if found is None:
            closed = window_reason(last, ctx.now())
            if closed is not None:
                _refuse(ctx, message_id, closed)
                return
            if not service.begin_attempt(ctx, message_id, ctx.now()):
                return
            try:
                found = graph.send_message(sender, recipient_id=message.to_addr, text=message.body).message_id
            except TransportError as exc:
                if exc.permanent:
                    with ctx.transaction() as session:
                        service.finish_unsent(session, ctx, message_id, service.FAILED, exc.user_message,
                                              exc.provider_code)
                raise
    with ctx.transaction() as session:
        stored = repository.get(session, clinic_id=ctx.clinic_id, message_id=message_id)
        if stored is not None and stored.status not in service.FINAL:
            now = ctx.now()
            stored.provider_sid, stored.status = found[:64], service.SENT
            stored.sent_at = stored.sent_at or now
            stored.updated_at = now
            service.mirror(service.job_writes(session, ctx), stored)
        ctx.finish(session)


def _find_sent(ctx: JobContext, graph: GraphClient, account: MetaAccount, sender: str,
               message: Message) -> str | None:
    """Meta's id of this message if an earlier attempt did send it (read back from the conversation)."""
    assert message.attempt_started_at is not None and message.to_addr
    floor = message.attempt_started_at - _SKEW
    ours = {sender, account.instagram_id, account.page_id} - {None}
    candidates = [m for m in graph.sent_messages(sender, user_id=message.to_addr)
                  if m.text == message.body and m.from_id in ours and (m.created is None or m.created >= floor)]
    if not candidates:
        return None
    with ctx.transaction(write=False) as session:
        for candidate in sorted(candidates, key=lambda m: m.created or floor):
            recorded = repository.by_sid(session, clinic_id=ctx.clinic_id, sid=candidate.message_id)
            if recorded is None or recorded.id == message.id:
                return candidate.message_id
    return None  # those are other messages of ours with the same words


def _refuse(ctx: JobContext, message_id: str, reason: str) -> None:
    service.close_unsent(ctx, message_id, service.REFUSED, reason)


def give_up_dm(session: Session, ctx: JobContext, reason: str) -> None:
    """The DM job failed for good (permanent error, or every attempt used): say so on the message."""
    message_id = ctx.payload.get("message_id")
    if message_id:
        service.finish_unsent(session, ctx, message_id, service.FAILED,
                              f"The Instagram message could not be sent: {reason}", None)

