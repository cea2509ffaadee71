"""Merging two client records: what staff choose, what is kept from both."""

from __future__ import annotations

import pytest

from core.dedup import differing, merged_values
from core.errors import ValidationError

OLD = {"first_name": "Jane", "last_name": "Doe", "phone": "+14155550134", "email": "jane@example.com",
       "date_of_birth": "1988-03-04", "allergies": "Latex", "medical_alerts": None, "tags": ["filler"], "vip": False,
       "consents": {"marketing_sms": {"granted": True, "at": "2025-01-01T00:00:00Z"}},
       "first_touch": {"source": "referral", "at": "2024-05-01T00:00:00Z"}}
NEW = {"first_name": "Jane", "last_name": "Doe", "phone": "+14155550999", "email": None, "preferred_name": "JD",
       "allergies": "Lidocaine", "medical_alerts": "Pregnant", "tags": ["new client", "filler"], "vip": True,
       "consents": {"marketing_sms": {"granted": False, "at": "2026-02-01T00:00:00Z"},
                    "transactional_sms": {"granted": True, "at": "2026-02-01T00:00:00Z"}},
       "first_touch": {"source": "meta_lead_ad", "at": "2026-02-01T00:00:00Z"}}


def test_only_details_both_have_and_disagree_on_are_choices() -> None:
    assert differing(OLD, NEW) == ["phone"]


def test_the_survivor_keeps_its_values_unless_told_and_fills_its_gaps() -> None:
    merged = merged_values(OLD, NEW, {})
    assert merged["phone"] == "+14155550134" and merged["preferred_name"] == "JD" and merged["email"] == "jane@example.com"
    assert merged_values(OLD, NEW, {"phone": "other"})["phone"] == "+14155550999"
    assert merged_values(OLD, NEW, {"email": "other"})["email"] is None and merged_values(
        OLD, NEW, {"email": "other"})["email_key"] is None


def test_what_is_never_chosen_away() -> None:
    merged = merged_values(OLD, NEW, {"phone": "other"})
    assert merged["allergies"] == "Latex\nLidocaine" and merged["medical_alerts"] == "Pregnant"
    assert merged["tags"] == ["filler", "new client"] and merged["vip"] is True
    assert merged["consents"]["marketing_sms"]["granted"] is False  # the later opt-out
    assert merged["consents"]["transactional_sms"]["granted"] is True
    assert merged["first_touch"]["source"] == "referral"  # the earlier one
    assert merged_values(NEW, OLD, {})["first_touch"]["source"] == "referral"


@pytest.mark.parametrize("keep", [{"consents": "other"}, {"phone": "both"}])
def test_bad_choices_are_refused(keep: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        merged_values(OLD, NEW, keep)
