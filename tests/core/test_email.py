"""Email normalisation: one stored form per typed address, one match key per mailbox."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.email import InvalidEmail, email_match_key, normalize_email, try_normalize_email

local_parts = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,20}[A-Za-z0-9]", fullmatch=True).filter(
    lambda s: ".." not in s
)
domains = st.sampled_from(
    ["example.com", "Example.COM", "mail.example.co.uk", "gmail.com", "GoogleMail.com", "bücher.de", "clinic.spa"]
)
emails = st.builds(lambda lp, d: f"{lp}@{d}", local_parts, domains)


@given(emails, st.sampled_from(["", " ", "\t", "mailto:", "MAILTO:"]), st.sampled_from(["", " ", "\n"]))
def test_normalising_is_idempotent_and_ignores_case_and_padding(raw: str, before: str, after: str) -> None:
    once = normalize_email(before + raw + after)
    assert once == normalize_email(once)
    assert once == normalize_email(raw.upper())
    assert once == once.strip().lower()


@given(st.text(max_size=40))
def test_any_text_either_normalises_idempotently_or_is_refused(text: str) -> None:
    try:
        once = normalize_email(text)
    except InvalidEmail:
        assert try_normalize_email(text) is None
        return
    assert normalize_email(once) == once
    assert email_match_key(once) == email_match_key(email_match_key(once))


def test_stored_form_keeps_what_the_patient_typed_but_lowercased() -> None:
    assert normalize_email("  Ana.Smith+Botox@Example.COM ") == "ana.smith+botox@example.com"
    assert normalize_email("josé@bücher.de") == "josé@xn--bcher-kva.de"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("ana.smith@gmail.com", "anasmith@gmail.com"),
        ("Ana.Smith+promo@GMAIL.com", "anasmith@gmail.com"),
        ("anasmith@googlemail.com", "anasmith@gmail.com"),
        ("ana+spa@example.com", "ana@example.com"),
    ],
)
def test_spellings_of_the_same_mailbox_share_a_match_key(a: str, b: str) -> None:
    assert email_match_key(a) == email_match_key(b)


def test_dots_matter_outside_gmail() -> None:
    assert email_match_key("ana.smith@example.com") != email_match_key("anasmith@example.com")


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "ana", "ana@", "@example.com", "ana@example", "ana@@example.com", "ana smith@example.com",
     "ana..smith@example.com", "ana@example.c", "ana@" + "x" * 70 + ".com"],
)
def test_not_an_address_is_refused(raw: str) -> None:
    with pytest.raises(InvalidEmail) as err:
        normalize_email(raw)
    assert err.value.field == "email"
    assert try_normalize_email(raw) is None
