"""The record snapshot the panel shows: names, ages in the clinic's calendar, consents, source."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from app.ui.formatting import age_on, display_dob, display_name
from app.ui.patient_record import PatientRecord


def patient(**fields):
    base = dict(id="p1", first_name="Katherine", last_name="Lee", preferred_name="Kate", pronouns=None,
                date_of_birth=date(1988, 3, 4), phone="+14155550123", email="kate@example.com",
                instagram_handle="katelee", allergies="  Lidocaine ", medical_alerts=None, tags=["vip"],
                vip=True, consents={}, first_touch={})
    base.update(fields)
    return SimpleNamespace(**base)


def test_age_turns_on_the_birthday():
    assert age_on(date(1988, 3, 4), date(2026, 3, 3)) == 37
    assert age_on(date(1988, 3, 4), date(2026, 3, 4)) == 38
    assert display_dob(date(1988, 3, 4), date(2026, 3, 4)) == "Mar 4, 1988 \u00b7 38 years"


def test_names():
    assert display_name("Katherine", "Lee", "Kate") == "Katherine \u201cKate\u201d Lee"
    assert display_name("Ana", "Souza", "ana") == "Ana Souza"
    assert display_name("", "Prince", None) == "Prince"
    assert display_name("", "", None) == "(no name)"


def test_record_snapshot():
    record = PatientRecord.from_patient(
        patient(consents={"marketing_sms": {"granted": False, "at": "2024-11-02T17:30:00Z", "source": "web"},
                          "email": {"granted": True}},
                first_touch={"source": "meta_lead_ad", "utm_campaign": "lips_may"}),
        region="US", today=date(2026, 1, 1))
    assert record.name == "Katherine \u201cKate\u201d Lee"
    assert record.age == 37
    assert record.phone == "(415) 555-0123"
    assert record.instagram == "@katelee"
    assert record.allergies == "Lidocaine" and record.has_alerts
    consents = {c.purpose: c for c in record.consents}
    assert consents["marketing_sms"].granted is False
    assert consents["marketing_sms"].at == "Nov 2, 2024"
    assert consents["email"].granted is True
    assert consents["phone"].granted is None  # never asked
    assert record.source == "Meta lead ad \u00b7 lips_may"


def test_record_without_alerts_or_birthday():
    record = PatientRecord.from_patient(patient(allergies=None, date_of_birth=None, phone=None),
                                        region="US", today=date(2026, 1, 1))
    assert not record.has_alerts
    assert record.age is None and record.dob_text == ""
    assert record.phone == ""
