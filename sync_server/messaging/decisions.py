"""What the server decides when a workstation pushes a messaging row (see sync_server.sync.decisions).

- A new ``message`` is a request to send a text (``channel: sms``) or an Instagram DM
  (``channel: instagram``, :mod:`sync_server.messaging.instagram`): the push hands it to
  :func:`sync_server.messaging.service.queue_outbound` with the message's own id (so a repeated
  push, which the sync layer already answers ``duplicate``, could never queue a second send
  anyway), the acting staff member as author and the template it was written from. Consent is
  checked there; a refusal is stored on the message (``status: refused`` with the reason) and
  never reaches Twilio. A marketing text needs ``message.marketing``: without it the message is
  stored refused with that reason. The outcome's server-owned fields (status, reason, quiet-hours
  hold, author, direction) are set on the row before it is stored, so the push result's
  ``current`` already says what happened.
- A ``message_template`` must follow core's template rules (:func:`core.templates.check_template`).

Refusals here are raised before anything is written, so a refused push leaves no trace but its
stored result.
"""

from __future__ import annotations

from core.errors import NotFoundError, ValidationError
from core.ids import new_id
from core.merge import MergeOutcome, RowState, merge_update
from core.permissions import Permission, Role, has_permission
from core.sync import Mutation, Op, canonical_json
from core.templates import TemplateProblem, check_template
from sync_server.audit.service import Actor
from sync_server.messaging import rules, service
from sync_server.records.service import ServerWrites
from sync_server.sync import repository as sync_repo
from sync_server.sync.decisions import Decider, PushContext, Refused


def _server_update(row: RowState, ctx: PushContext, fields: dict[str, object]) -> RowState:
    changed = {k: v for k, v in fields.items() if canonical_json(row.data.get(k)) != canonical_json(v)}
    if not changed:
        return row
    outcome = merge_update(row, Mutation(
        mutation_id=new_id(), entity=row.entity, entity_id=row.entity_id, op=Op.UPDATE.value, fields=changed,
        base_version=row.version, hlc=str(ctx.hlc.now())), authority="server")
    return outcome.row


def decide_message(ctx: PushContext, mutation: Mutation, outcome: MergeOutcome) -> RowState:
    row = outcome.row
    if Op(mutation.op) is not Op.INSERT:
        return row  # workstations cannot change a message (core refuses it before this)
    data = row.data
    patient_id = data.get("patient_id")
    if not patient_id:
        raise Refused("A message needs the client it is for, so it was not sent.", "missing_fields")
    patient = sync_repo.get_row(ctx.session, clinic_id=ctx.clinic_id, entity="patient", entity_id=patient_id)
    if patient is None or patient.deleted:
        raise Refused("That client no longer exists (it may have been merged or deleted), so the message was "
                      "not sent.", "not_found")
    channel = data.get("channel") or service.SMS
    if channel not in service.CHANNELS:
        raise Refused("A message goes by text (sms) or by Instagram DM (instagram).", "bad_value")
    purpose = data.get("purpose") or rules.TRANSACTIONAL
    if purpose not in rules.PURPOSES:
        raise Refused("A text is either transactional (appointments, deposits) or marketing.", "bad_value")
    problem = rules.body_problem(str(data.get("body") or ""))
    if problem:
        raise Refused(problem, "bad_value")
    staff = ctx.staff
    refused: str | None = None
    if purpose == rules.MARKETING and not has_permission(staff.role, Permission.MESSAGE_MARKETING):
        what = "texts" if channel == service.SMS else "messages"
        refused = (f"{staff.display_name} ({Role(staff.role).label.lower()}) is not allowed to send marketing {what}, "
                   "so this one was not sent; an owner or a manager can send it.")
    writes = ServerWrites(ctx.session, clinic_id=ctx.clinic_id, now=ctx.now, hlc=ctx.hlc,
                          actor=Actor(staff_id=staff.id, device_id=ctx.device_id), lease=ctx.lease)
    try:
        message = service.queue_outbound(
            writes, patient_id=patient_id, body=str(data["body"]), purpose=purpose, author_staff_id=staff.id,
            message_id=row.entity_id, template_id=data.get("template_id"), refused_reason=refused, sync=False,
            channel=channel)
    except (ValidationError, NotFoundError) as exc:  # raised before anything was written
        raise Refused(exc.user_message, exc.code) from None
    return _server_update(row, ctx, service.server_fields(message))


def decide_template(ctx: PushContext, mutation: Mutation, outcome: MergeOutcome) -> RowState:
    row = outcome.row
    if row.deleted or not ({"body", "purpose", "name"} & set(mutation.fields)):
        return row
    try:
        check_template(str(row.data.get("body") or ""))
    except TemplateProblem as exc:
        raise Refused(f"This template was not saved: {exc.user_message}", exc.code) from None
    if row.data.get("purpose") not in rules.PURPOSES:
        raise Refused("A template is either transactional (appointments, deposits) or marketing.", "bad_value")
    if not str(row.data.get("name") or "").strip():
        raise Refused("A template needs a name.", "bad_value")
    return row


DECIDERS: dict[str, Decider] = {"message": decide_message, "message_template": decide_template}
