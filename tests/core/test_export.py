"""The export's mappings (core.export): each kind of record as FHIR R4 resources that validate
against the R4B models, its CSV row, and the registry's promises to later features."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.export import AUDIT, EXPORTERS, ExportClinic, ExportContext, ExportFolderNotEmpty, write_export
from core.export.base import csv_text, sid
from core.export.kinds import appointment as appointment_kind
from core.export.kinds import message as message_kind
from core.ids import new_id
from core.sync import ENTITIES, FieldType
from tests.fhir_check import check_export, check_resource

CLINIC = ExportClinic(new_id(), "glow", "Glow Med Spa", "US", "USD", "America/New_York")
NOW = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)
T0 = "2026-11-22T13:53:35.123456Z"
BY_SOURCE = {e.source: e for e in EXPORTERS}


def wire(entity: str, **fields: Any) -> dict[str, Any]:
    """A row as sync carries it: every catalogue field (its default, or None), the bookkeeping."""
    row: dict[str, Any] = {}
    for spec in ENTITIES[entity].fields.values():
        row[spec.name] = spec.default_value() if not spec.required else None
    row.update(clinic_id=CLINIC.id, id=new_id(), version=3, deleted=False, created_at=T0, updated_at=T0)
    if entity == "clinic":
        row.pop("clinic_id")
    row.update(fields)
    return row


def context(tables: dict[str, list[dict[str, Any]]] | None = None, origin: str = "desktop") -> ExportContext:
    tables = tables or {}
    return ExportContext(
        clinic=CLINIC, origin=origin, audit_prefix="a1b2c3d4e5f60718",  # type: ignore[arg-type]
        read=lambda source: iter(tables.get(source, [])),
        resource_of={e.source: e.resource_types[0] for e in EXPORTERS if e.resource_types},
    )


def fhir(source: str, row: dict[str, Any], ctx: ExportContext | None = None) -> list[dict[str, Any]]:
    exporter = BY_SOURCE[source]
    assert exporter.to_fhir is not None
    resources = exporter.to_fhir(row, ctx or context())
    for res in resources:
        assert res["resourceType"] in exporter.resource_types
        check_resource(res)
    return resources


def csv_row(source: str, row: dict[str, Any]) -> dict[str, Any]:
    spec = BY_SOURCE[source].csv
    return dict(zip(spec.columns, spec.values(row), strict=True))


def ext(res: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [e for e in res.get("extension", []) if e["url"].endswith("/" + name)]


# --- the registry ------------------------------------------------------------------------------


def test_every_synced_kind_of_record_is_exported_and_every_file_has_its_own_name() -> None:
    # a later feature that adds an entity to the catalogue without an exporter fails here
    assert {e.source for e in EXPORTERS} == set(ENTITIES) | {AUDIT}
    names = [e.csv.name for e in EXPORTERS]
    assert len(names) == len(set(names))
    for exporter in EXPORTERS:
        assert exporter.about, exporter.source
        assert len(exporter.csv.columns) == len(set(exporter.csv.columns)), exporter.source


def test_csv_files_hold_every_field_but_secrets_and_mark_formulas() -> None:
    assert "pin_hash" not in BY_SOURCE["staff"].csv.columns
    staff = csv_row("staff", wire("staff", display_name="=HYPERLINK(\"http://x\")", role="owner", pin_hash="argon2..",
                                  active=True, working_hours={"tue": [["09:00", "17:00"]], "mon": []}))
    assert staff["display_name"] == "'=HYPERLINK(\"http://x\")"
    assert staff["active"] == "true" and staff["working_hours"] == '{"mon":[],"tue":[["09:00","17:00"]]}'
    assert "pin_hash" not in json.dumps(staff)
    patient = csv_row("patient", wire("patient", first_name="-Ana", last_name="Ruiz", phone="+15105550574",
                                      consents={"marketing_sms": {"granted": False, "at": T0, "source": "STOP"},
                                                "fax": {"granted": True}}))
    assert patient["first_name"] == "'-Ana" and patient["phone"] == "+15105550574"  # a phone stays a phone
    assert (patient["consent_marketing_sms"], patient["consent_marketing_sms_at"]) == ("refused", T0)
    assert patient["consent_email"] is None and json.loads(patient["consents_other"]) == {"fax": {"granted": True}}
    assert csv_text("@SUM(A1)") == "'@SUM(A1)" and csv_text("-42") == "-42" and csv_text("Ana") == "Ana"


# --- patients ----------------------------------------------------------------------------------


def test_a_client_record_carries_names_contacts_consents_and_clinical_alerts() -> None:
    row = wire(
        "patient", first_name="Anjali", last_name="Mehta", preferred_name="Anj", date_of_birth="1988-02-24",
        sex="female", pronouns="she/her", phone="+15105550574", email="anjali@example.com",
        instagram_handle="anj.glow", instagram_id="17841400000000", external_ref="LUM-10001",
        address={"line1": "12 Main St", "line2": "", "city": "Oakland", "state": "CA", "postal_code": "94607",
                 "country": "US"},
        timezone="America/Los_Angeles", allergies="Penicillin, latex", medical_alerts="Takes a blood thinner",
        consents={"transactional_sms": {"granted": True, "at": T0, "source": "intake_form"},
                  "marketing_sms": {"granted": False, "at": "yesterday", "source": "STOP"}},
        tags=["botox regular"], vip=True, notes="Prefers afternoons.",
        first_touch={"source": "meta_lead_ad", "utm_campaign": "120212", "lead_id": None},
    )
    person, allergy, flag = fhir("patient", row)
    assert person["id"] == row["id"] and person["active"] is True
    assert person["meta"] == {"versionId": "3", "lastUpdated": T0}
    assert {(i["system"], i["value"]) for i in person["identifier"]} == {
        (sid("patient"), row["id"]), (sid("external-ref"), "LUM-10001"), (sid("instagram-scoped-id"), "17841400000000")}
    assert person["name"] == [{"use": "official", "family": "Mehta", "given": ["Anjali"]}, {"use": "usual", "given": ["Anj"]}]
    assert person["telecom"] == [{"system": "phone", "value": "+15105550574", "use": "mobile"},
                                 {"system": "email", "value": "anjali@example.com", "use": "home"},
                                 {"system": "url", "value": "https://www.instagram.com/anj.glow"}]
    assert (person["gender"], person["birthDate"]) == ("female", "1988-02-24")
    assert person["address"] == [{"line": ["12 Main St"], "city": "Oakland", "state": "CA", "postalCode": "94607",
                                  "country": "US", "use": "home"}]
    consents = {p["extension"][0]["valueCode"]: {x["url"]: next(v for k, v in x.items() if k != "url")
                                                  for x in p["extension"]} for p in ext(person, "communication-consent")}
    assert consents == {
        "transactional_sms": {"purpose": "transactional_sms", "granted": True, "recorded": T0, "source": "intake_form"},
        # an unreadable time is left out rather than exported as a false date
        "marketing_sms": {"purpose": "marketing_sms", "granted": False, "source": "STOP"},
    }
    assert [e["valueString"] for e in ext(person, "client-tag")] == ["botox regular"]
    assert ext(person, "vip")[0]["valueBoolean"] is True
    assert ext(person, "client-note")[0]["valueString"] == "Prefers afternoons."
    assert {e["url"]: e["valueString"] for e in ext(person, "first-touch")[0]["extension"]} == {
        "source": "meta_lead_ad", "utm_campaign": "120212"}
    assert allergy["patient"] == {"reference": f"Patient/{row['id']}"} and allergy["code"] == {"text": "Penicillin, latex"}
    assert flag["subject"] == {"reference": f"Patient/{row['id']}"} and flag["code"] == {"text": "Takes a blood thinner"}


def test_a_sparse_record_exports_only_what_it_holds() -> None:
    row = wire("patient", first_name="Cher", last_name="", sex="nonbinary", allergies="NKDA", address={"city": ""})
    person, allergy = fhir("patient", row)
    assert person["name"] == [{"use": "official", "given": ["Cher"]}]
    assert person["gender"] == "other"
    assert "address" not in person and "telecom" not in person and "birthDate" not in person
    assert allergy["code"]["coding"][0]["code"] == "716186003"  # "no known allergy", not an allergy to "NKDA"


def test_a_merged_record_points_at_the_survivor_and_a_deleted_one_is_left_out() -> None:
    survivor = new_id()
    merged = wire("patient", first_name="Ana", last_name="Ruiz", deleted=True, merged_into=survivor, allergies="Latex")
    assert BY_SOURCE["patient"].include(merged)
    (person,) = fhir("patient", merged)
    assert person["active"] is False
    assert person["link"] == [{"other": {"reference": f"Patient/{survivor}"}, "type": "replaced-by"}]
    assert not BY_SOURCE["patient"].include(wire("patient", first_name="Gone", last_name="X", deleted=True))


# --- appointments, messages, leads, timeline ----------------------------------------------------


@pytest.mark.parametrize("ours", list(appointment_kind.STATUS))
def test_every_appointment_status_maps_to_fhir_and_is_kept_exactly(ours: str) -> None:
    service = wire("service", name="Botox Cosmetic", category="neuromodulators", duration_min=30, price_minor=1400)
    row = wire("appointment", patient_id=new_id(), service_id=service["id"], provider_id=new_id(),
               room_id=new_id(), device_id=new_id(), start_at="2026-12-02T17:00:00.000000Z",
               end_at="2026-12-02T17:45:00.000000Z", status=ours, price_minor=42000, deposit_minor=5000,
               deposit_status="captured", source_lead_id=new_id(), notes="Numbing cream")
    (res,) = fhir("appointment", row, context({"service": [service]}))
    assert res["status"] == appointment_kind.STATUS[ours]
    assert ext(res, "appointment-status")[0]["valueCode"] == ours
    assert ("cancelationReason" in res) == (ours == "late_cancelled")
    assert res["serviceType"][0]["text"] == "Botox Cosmetic" and res["minutesDuration"] == 45
    actors = [p["actor"] for p in res["participant"]]
    assert actors[:2] == [{"reference": f"Patient/{row['patient_id']}"}, {"reference": f"Practitioner/{row['provider_id']}"}]
    assert {"reference": f"Location/{row['room_id']}"} in actors and {"reference": f"Device/{row['device_id']}"} in actors
    assert ext(res, "appointment-price")[0]["valueMoney"] == {"value": 420.0, "currency": "USD"}
    deposit = {p["url"]: p for p in ext(res, "appointment-deposit")[0]["extension"]}
    assert deposit["status"]["valueCode"] == "captured" and deposit["amount"]["valueMoney"]["value"] == 50.0
    assert res["supportingInformation"] == [{"reference": f"Basic/{row['source_lead_id']}"}]


def test_an_offline_booking_is_pending_until_the_server_accepts_it() -> None:
    row = wire("appointment", patient_id=new_id(), service_id=new_id(), provider_id=new_id(), tentative=True,
               start_at="2026-12-02T17:00:00.000000Z", end_at="2026-12-02T17:30:00.000000Z")
    (res,) = fhir("appointment", row)
    assert res["status"] == "pending" and {p["status"] for p in res["participant"]} == {"tentative"}
    assert "serviceType" in res and "text" not in res["serviceType"][0]  # the service is not in this export


def test_messages_say_who_wrote_to_whom_and_keep_their_exact_status() -> None:
    patient, author, lead = new_id(), new_id(), new_id()
    outbound = wire("message", patient_id=patient, body="See you at 3!", occurred_at=T0, direction="outbound",
                    author_id=author, status="undelivered", status_reason="Carrier rejected", error_code="30003",
                    sent_at=T0, purpose="transactional", lead_id=lead, template_id=new_id(), provider_message_id="SMabc")
    (out,) = fhir("message", outbound)
    assert out["status"] == "not-done" and out["statusReason"] == {"text": "Carrier rejected"}
    assert out["sender"] == {"reference": f"Practitioner/{author}"}
    assert out["recipient"] == [{"reference": f"Patient/{patient}"}] and out["about"] == [{"reference": f"Basic/{lead}"}]
    assert out["payload"] == [{"contentString": "See you at 3!"}] and out["sent"] == T0 and "received" not in out
    kept = {e["url"].rsplit("/", 1)[1]: next(v for k, v in e.items() if k != "url") for e in out["extension"]}
    assert kept.items() >= {"message-status": "undelivered", "message-error-code": "30003"}.items()
    inbound = wire("message", patient_id=patient, body="", occurred_at=T0, direction="inbound", kind="inbound",
                   status="received", purpose=None, channel="instagram",
                   media=[{"media_id": new_id(), "content_type": "image/jpeg", "size": 20480}])
    (into,) = fhir("message", inbound)
    assert into["status"] == "completed" and into["sender"] == {"reference": f"Patient/{patient}"}
    assert into["recipient"][0]["reference"] == f"Organization/{CLINIC.id}"
    assert into["received"] == T0 and into["medium"][0]["coding"][0]["code"] == "instagram"
    assert into["payload"][0]["contentAttachment"]["contentType"] == "image/jpeg"  # no empty text part
    automatic = wire("message", patient_id=patient, body="Reminder", occurred_at=T0, status="queued", kind="reminder")
    (auto,) = fhir("message", automatic)
    assert auto["status"] == "preparation" and auto["sender"]["reference"] == f"Organization/{CLINIC.id}"
    assert set(message_kind.STATUS.values()) <= {"preparation", "in-progress", "completed", "not-done"}


def test_a_lead_is_a_basic_resource_with_its_attribution() -> None:
    row = wire("lead", patient_id=new_id(), source="meta_lead_ad", status="contacted", service_interest="Lip filler",
               message="How much?", utm_source="instagram", fbclid="IwAR", ad_id="1202", received_at=T0,
               owner_id=new_id(), external_id="925048")
    (res,) = fhir("lead", row)
    assert res["code"]["coding"][0]["code"] == "lead" and res["created"] == "2026-11-22"
    assert res["subject"] == {"reference": f"Patient/{row['patient_id']}"}
    assert ext(res, "lead-source")[0]["valueCode"] == "meta_lead_ad"
    assert ext(res, "lead-received-at")[0]["valueDateTime"] == T0
    assert {e["url"]: e["valueString"] for e in ext(res, "lead-attribution")[0]["extension"]} == {
        "utm_source": "instagram", "fbclid": "IwAR", "ad_id": "1202"}


def test_a_timeline_entry_is_provenance_of_the_records_it_is_about() -> None:
    appointment_id, patient, actor = new_id(), new_id(), new_id()
    row = wire("activity", patient_id=patient, type="appointment.completed", actor_id=actor, occurred_at=T0,
               payload={"appointment_id": appointment_id, "service": "Botox"})
    (res,) = fhir("activity", row)
    assert res["target"] == [{"reference": f"Appointment/{appointment_id}"}, {"reference": f"Patient/{patient}"}]
    assert res["recorded"] == T0 and res["activity"]["coding"][0]["code"] == "appointment.completed"
    assert res["agent"] == [{"who": {"reference": f"Practitioner/{actor}"}}]
    assert json.loads(ext(res, "timeline-payload")[0]["valueString"])["service"] == "Botox"


# --- the audit trail -----------------------------------------------------------------------------


def audit_row(seq: int, action: str, entity: str, entity_id: str | None, **kw: Any) -> dict[str, Any]:
    return {"seq": seq, "at": T0, "staff_id": kw.get("staff_id"), "device_id": kw.get("device_id"),
            "action": action, "entity": entity, "entity_id": entity_id, "detail": kw.get("detail", {}),
            "prev_hash": "0" * 64, "hash": "ab" * 32}


def test_audit_entries_become_audit_events_with_their_chain() -> None:
    staff, patient = new_id(), new_id()
    (read,) = fhir(AUDIT, audit_row(7, "patient.read", "patient", patient, staff_id=staff, device_id="a1b2c3d4e5f60718",
                                    detail={"purpose": "record"}))
    assert read["id"] == "a1b2c3d4e5f60718.7" and read["action"] == "R" and read["type"]["code"] == "110110"
    assert read["agent"][0] == {"who": {"reference": f"Practitioner/{staff}"}, "requestor": True}
    assert read["entity"][0]["what"] == {"reference": f"Patient/{patient}"}
    assert json.loads(read["entity"][0]["detail"][0]["valueString"]) == {"purpose": "record"}
    chain = {p["url"]: p for p in ext(read, "audit-chain")[0]["extension"]}
    assert chain["seq"]["valueInteger"] == 7 and chain["hash"]["valueString"] == "ab" * 32
    server = context(origin="server")
    (made,) = fhir(AUDIT, audit_row(2, "server.insert", "lead", new_id(), detail={"via": "server"}), server)
    assert made["action"] == "C" and made["agent"][0]["who"] == {"display": "Glowdesk clinic server"}
    assert made["source"]["observer"] == {"display": "Glowdesk clinic server"}
    (export,) = fhir(AUDIT, audit_row(3, "clinic.export", "clinic", CLINIC.id, staff_id=staff), server)
    assert export["type"]["code"] == "110106" and export["entity"][0]["what"]["reference"] == f"Organization/{CLINIC.id}"
    uploaded = {**audit_row(9, "patient.read", "patient", patient, staff_id=staff, device_id="d1"), "chain": "d1"}
    (theirs,) = fhir(AUDIT, uploaded, server)  # a workstation's entry, read from the server's copy
    assert theirs["id"] == "d1.9" and theirs["source"]["observer"]["identifier"]["value"] == "d1"
    (search,) = fhir(AUDIT, audit_row(4, "sync.review", "sync", None, staff_id=staff))
    assert search["action"] == "R" and "what" not in search["entity"][0]


# --- any row the catalogue allows maps to valid FHIR ----------------------------------------------

_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_JSON = st.recursive(st.none() | st.booleans() | st.integers(-5, 5) | _TEXT,
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3), max_leaves=6)


def _value(spec: Any) -> st.SearchStrategy[Any]:
    t = spec.type
    if t is FieldType.STR:
        base: st.SearchStrategy[Any] = st.sampled_from(["", " ", "\xa0", "a  b", "x", "=1+2"]) | _TEXT.map(lambda s: s[: spec.max_length])
    elif t is FieldType.TEXT:
        base = st.sampled_from(["", "\u2003", "NKDA", "Penicillin"]) | _TEXT
    elif t is FieldType.INT:
        base = st.integers(-1000, 10**6)
    elif t is FieldType.BOOL:
        base = st.booleans()
    elif t is FieldType.DATETIME:
        base = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2040, 1, 1)).map(
            lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    elif t is FieldType.DATE:
        base = st.dates().map(lambda d: d.isoformat()).filter(lambda s: len(s) == 10 and s >= "0001")
    elif t is FieldType.ID:
        base = st.uuids().map(str)
    elif t is FieldType.OBJECT:
        base = st.dictionaries(_TEXT, _JSON, max_size=4) | st.just(
            {"transactional_sms": {"granted": True, "at": "2020-01-01", "source": ""}, "x y": {"granted": "yes"}})
    else:
        base = st.lists(_JSON, max_size=3) | st.just([{"media_id": "m1", "content_type": "image/png", "size": 3}])
    return st.none() | base if spec.nullable or not spec.required else base


def _rows(entity: str) -> st.SearchStrategy[dict[str, Any]]:
    fields = {name: _value(spec) for name, spec in ENTITIES[entity].fields.items()}
    return st.fixed_dictionaries(fields).map(lambda data: {**wire(entity), **data, "clinic_id": CLINIC.id})


@pytest.mark.parametrize("source", sorted(e.source for e in EXPORTERS if e.to_fhir and e.source != AUDIT))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_row_the_catalogue_allows_exports_as_valid_fhir(source: str, data: st.DataObject) -> None:
    row = data.draw(_rows(source))
    fhir(source, row, context({"service": [wire("service", id=row.get("service_id") or new_id(), name="x")]}))
    spec = BY_SOURCE[source].csv
    assert len(spec.values(row)) == len(spec.columns)


@settings(max_examples=25, deadline=None)
@given(action=_TEXT, entity=_TEXT, detail=st.dictionaries(_TEXT, _JSON, max_size=3), staff=st.none() | st.uuids().map(str))
def test_any_audit_entry_exports_as_a_valid_audit_event(action: str, entity: str, detail: dict[str, Any],
                                                        staff: str | None) -> None:
    fhir(AUDIT, audit_row(2**40, action, entity, new_id(), staff_id=staff, detail=detail))


# --- the folder --------------------------------------------------------------------------------------


def _reader(rows: dict[str, list[dict[str, Any]]]) -> Any:
    def read(source: str) -> Iterator[dict[str, Any]]:
        return iter(rows.get(source, []))

    return read


def _small_clinic() -> dict[str, list[dict[str, Any]]]:
    patient = wire("patient", first_name="Ana", last_name="Ruiz", phone="+15105550574")
    return {"clinic": [wire("clinic", id=CLINIC.id, name=CLINIC.name, slug=CLINIC.slug)],
            "patient": [patient, wire("patient", first_name="Gone", last_name="X", deleted=True)],
            "message": [wire("message", patient_id=patient["id"], body="Hi", occurred_at=T0)],
            AUDIT: [audit_row(1, "patient.create", "patient", patient["id"])]}


def test_the_folder_holds_ndjson_csv_and_a_manifest_that_checks_out(tmp_path: Path) -> None:
    out = tmp_path / "export"
    manifest = write_export(out, read=_reader(_small_clinic()), clinic=CLINIC, origin="server", exported_at=NOW,
                            request="test", audit_prefix=CLINIC.id)
    data, resources = check_export(out)
    assert data["counts"] == {"Organization": 1, "Patient": 1, "Communication": 1, "AuditEvent": 1}
    assert manifest.counts == data["counts"] and data["format_version"] == 1 and data["source"] == "server"
    assert data["clinic"] == {"id": CLINIC.id, "slug": "glow", "name": "Glow Med Spa"}
    assert data["transactionTime"] == data["exported_at"] == "2026-12-01T15:30:00.000000Z"
    assert {e["name"]: e["rows"] for e in data["csv"]}["patients"] == 1  # the deleted record is not exported
    assert (out / "csv" / "merge_reviews.csv").read_text().startswith("id,")  # every CSV file, even empty
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in out.rglob("*") if p.is_file()} == {0o600}


def test_an_export_never_mixes_with_other_files_and_a_failure_leaves_nothing(tmp_path: Path) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("keep me")
    with pytest.raises(ExportFolderNotEmpty):
        write_export(busy, read=_reader({}), clinic=CLINIC, origin="desktop", exported_at=NOW, request="t",
                     audit_prefix="x")
    assert [p.name for p in busy.iterdir()] == ["notes.txt"]

    def failing(source: str) -> Iterable[dict[str, Any]]:
        if source == "message":
            raise OSError(28, "No space left on device")
        return _reader(_small_clinic())(source)

    out = tmp_path / "new"
    with pytest.raises(OSError):
        write_export(out, read=failing, clinic=CLINIC, origin="desktop", exported_at=NOW, request="t",
                     audit_prefix="x")
    assert not out.exists()  # no half-written patient data is left behind
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(OSError):
        write_export(empty, read=failing, clinic=CLINIC, origin="desktop", exported_at=NOW, request="t",
                     audit_prefix="x")
    assert empty.exists() and not any(empty.iterdir())


def test_csv_cells_read_back_as_the_values(tmp_path: Path) -> None:
    rows = _small_clinic()
    write_export(tmp_path / "e", read=_reader(rows), clinic=CLINIC, origin="desktop", exported_at=NOW, request="t",
                 audit_prefix="x")
    text = (tmp_path / "e" / "csv" / "patients.csv").read_text(encoding="utf-8")
    (back,) = list(csv.DictReader(io.StringIO(text)))
    assert (back["first_name"], back["phone"], back["vip"], back["tags"]) == ("Ana", "+15105550574", "false", "")
    assert os.linesep in text or "\r\n" in text
