"""Client records, and the possible duplicates the server found among them (one record per person).

A merged-away record is a tombstone pointing at the record it was merged into (``merged_into``,
server-owned). ``merge_review`` is the desktops' read-only copy of the server's review of two
records that may be the same person (see :mod:`core.dedup` for the rule that opens one).
"""

from __future__ import annotations

from core.permissions import Permission
from core.specs import CLINIC_ID, Kind, Ownership, entity, field, string
from core.specs import FieldType as T

_MERGE_REASON = (
    "Merging two client records is done by the clinic server from the duplicates screen while online."
)

PATIENT = entity(
    "patient",
    "client record",
    Kind.EDITABLE,
    Permission.PATIENT_WRITE,
    [
        CLINIC_ID,
        string("first_name", 120),
        string("last_name", 120),
        string("preferred_name", 120, null=True),
        field("date_of_birth", T.DATE, null=True),
        string("sex", 20, null=True),
        string("pronouns", 30, null=True),
        string("phone", 20, null=True),
        string("email", 254, null=True),
        string("email_key", 254, null=True),
        string("instagram_handle", 60, null=True),
        string("instagram_id", 40, null=True),
        field("address", T.OBJECT, default={}),
        string("timezone", 64, null=True),
        field("allergies", T.TEXT, null=True),
        field("medical_alerts", T.TEXT, null=True),
        field(
            "consents",
            T.OBJECT,
            default={},
            owner=Ownership.SERVER,
            accept_on_insert=True,
            reason=(
                "Consents and opt-outs are kept by the clinic server so that an opt-out is "
                "always honoured; record the client's choice on the consent screen and the "
                "server will apply it."
            ),
        ),
        field("tags", T.LIST, default=[]),
        field("vip", T.BOOL, default=False),
        field(
            "first_touch",
            T.OBJECT,
            default={},
            owner=Ownership.INSERT_ONLY,
            reason="How a client first found the clinic is recorded once and cannot be changed.",
        ),
        field("notes", T.TEXT, null=True),
        string("external_ref", 80, null=True),
        field("merged_into", T.ID, null=True, owner=Ownership.SERVER, reason=_MERGE_REASON),
    ],
)


MERGE_REVIEW = entity(
    "merge_review",
    "possible duplicate",
    Kind.EDITABLE,
    Permission.PATIENT_MERGE,
    [
        CLINIC_ID,
        field("patient_id", T.ID),
        field("candidate_id", T.ID),
        string("reason", 40),
        string("status", 12, default="open"),  # open | merged | dismissed
        field("opened_at", T.DATETIME),
        field("resolved_at", T.DATETIME, null=True),
        field("resolved_by", T.ID, null=True),
        field("survivor_id", T.ID, null=True),
    ],
    client_writable=False,
    not_writable_reason=_MERGE_REASON,
)
