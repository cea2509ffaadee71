"""Text and Instagram messages of the clients' shared threads -> ``Communication``.

Outbound: sent by the staff member who wrote it (or the clinic, for automatic texts) to the
client; inbound: sent by the client to the clinic. The exact status (queued, delivered,
undelivered, refused...) is kept in an extension beside FHIR's event status; attachments are
listed (type, size, media id) without their bytes.
"""

from __future__ import annotations

from typing import Any

from core.export.base import (
    ExportContext,
    Exporter,
    Resource,
    Row,
    catalogue_csv,
    code_system,
    extension,
    fhir_code,
    sid,
    start,
    text,
)

#: ours -> FHIR's Communication.status (EventStatus)
STATUS = {
    "queued": "preparation",
    "sending": "in-progress",
    "submitted": "in-progress",
    "sent": "completed",
    "delivered": "completed",
    "read": "completed",
    "received": "completed",
    "undelivered": "not-done",
    "failed": "not-done",
    "refused": "not-done",
}
CHANNEL_TEXT = {"sms": "Text message (SMS)", "instagram": "Instagram direct message"}


def _attachments(media: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in media if isinstance(media, list) else ():
        if not isinstance(item, dict):
            continue
        attachment: dict[str, Any] = {}
        if isinstance(item.get("content_type"), str) and item["content_type"]:
            attachment["contentType"] = fhir_code(item["content_type"])
        if isinstance(item.get("size"), int) and not isinstance(item["size"], bool) and item["size"] >= 0:
            attachment["size"] = item["size"]
        if text(item.get("media_id")):
            attachment["extension"] = [extension("media-id", "String", item["media_id"])]
        if attachment:
            out.append({"contentAttachment": attachment})
    return out


def communication(row: Row, ctx: ExportContext) -> list[Resource]:
    res = start("Communication", row)
    if text(row.get("provider_message_id")):
        res["identifier"] = [{"system": sid("provider-message-id"), "value": row["provider_message_id"]}]
    ours = row.get("status") or "queued"
    res["status"] = STATUS.get(ours, "unknown")
    if text(row.get("status_reason")):
        res["statusReason"] = {"text": row["status_reason"]}
    purpose = fhir_code(row.get("purpose"))
    if purpose:
        res["category"] = [{"coding": [{"system": code_system("message-purpose"), "code": purpose}]}]
    channel = fhir_code(row.get("channel"))
    if channel:
        res["medium"] = [
            {
                "coding": [{"system": code_system("message-channel"), "code": channel}],
                "text": CHANNEL_TEXT.get(channel, channel),
            }
        ]
    client = {"reference": f"Patient/{row['patient_id']}"} if row.get("patient_id") else None
    if client:
        res["subject"] = client
    if row.get("lead_id"):
        res["about"] = [{"reference": f"Basic/{row['lead_id']}"}]
    inbound = row.get("direction") == "inbound"
    occurred = row.get("occurred_at")
    if inbound:
        if occurred:
            res["sent"] = res["received"] = occurred
        res["recipient"] = [ctx.organization()]
        if client:
            res["sender"] = client
    else:
        if row.get("sent_at"):
            res["sent"] = row["sent_at"]
        if row.get("delivered_at"):
            res["received"] = row["delivered_at"]
        if client:
            res["recipient"] = [client]
        res["sender"] = (
            {"reference": f"Practitioner/{row['author_id']}"} if row.get("author_id") else ctx.organization()
        )
    payload: list[dict[str, Any]] = [{"contentString": row["body"]}] if text(row.get("body")) else []
    payload.extend(_attachments(row.get("media")))
    if payload:
        res["payload"] = payload
    ext: list[dict[str, Any]] = []
    for field, name in (
        ("status", "message-status"),
        ("direction", "message-direction"),
        ("kind", "message-kind"),
        ("error_code", "message-error-code"),
    ):
        code = fhir_code(row.get(field))
        if code:
            ext.append(extension(name, "Code", code))
    for field, name in (("occurred_at", "message-written-at"), ("send_after", "message-send-after")):
        if row.get(field):
            ext.append(extension(name, "DateTime", row[field]))
    if row.get("template_id"):
        ext.append(
            extension("message-template", "Reference", ctx.reference("message_template", row["template_id"]))
        )
    if ext:
        res["extension"] = ext
    return [res]


EXPORTER = Exporter(
    source="message",
    resource_types=("Communication",),
    to_fhir=communication,
    csv=catalogue_csv("messages", "message"),
    about="the clients' text and Instagram threads, both ways, with delivery status and attachments' ids",
)
