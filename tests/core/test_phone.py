"""Phone numbers: every way a US number is written becomes one E.164 form; bad input is refused."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from core.phone import InvalidPhone, format_phone, normalize_phone, phone_digits, try_normalize_phone

# Real US area codes (NANP), so the generated numbers are ones a clinic would see.
AREA_CODES = ["212", "213", "305", "310", "312", "404", "415", "512", "617", "646", "702", "713", "818", "917"]


@st.composite
def us_numbers(draw: st.DrawFn) -> tuple[str, str, str]:
    """(area code, exchange, line) of a valid US number."""
    area = draw(st.sampled_from(AREA_CODES))
    exchange = draw(st.integers(min_value=200, max_value=999).map(str))
    line = draw(st.integers(min_value=0, max_value=9999).map(lambda n: f"{n:04d}"))
    parsed = phonenumbers.parse(f"+1{area}{exchange}{line}")
    assume(phonenumbers.is_valid_number(parsed))
    return area, exchange, line


FORMATS = [
    "{a}{e}{l}",
    "({a}) {e}-{l}",
    "({a}){e}-{l}",
    "{a}-{e}-{l}",
    "{a}.{e}.{l}",
    "{a} {e} {l}",
    "1{a}{e}{l}",
    "1-{a}-{e}-{l}",
    "1 ({a}) {e}-{l}",
    "+1{a}{e}{l}",
    "+1 {a} {e} {l}",
    "+1 ({a}) {e}-{l}",
    "+1-{a}-{e}-{l}",
    "001 {a} {e} {l}",
    "  {a}-{e}-{l}  ",
    "tel:+1-{a}-{e}-{l}",
]


@given(us_numbers(), st.sampled_from(FORMATS))
def test_every_us_format_gives_the_same_e164_and_normalising_twice_changes_nothing(
    number: tuple[str, str, str], fmt: str
) -> None:
    a, e, line = number
    once = normalize_phone(fmt.format(a=a, e=e, l=line))
    assert once == f"+1{a}{e}{line}"
    assert normalize_phone(once) == once
    assert normalize_phone(once, "GB") == once  # an E.164 number keeps its country in any region


@given(us_numbers())
def test_display_form_parses_back(number: tuple[str, str, str]) -> None:
    e164 = "+1" + "".join(number)
    assert format_phone(e164) == f"({number[0]}) {number[1]}-{number[2]}"
    assert normalize_phone(format_phone(e164)) == e164
    assert phone_digits(e164) == "1" + "".join(number)


@pytest.mark.parametrize(
    "raw",
    ["+44 20 7946 0958", "0044 20 7946 0958", "+44 (0)20 7946 0958", "+442079460958"],
)
def test_a_uk_number_keeps_its_country_in_a_us_clinic(raw: str) -> None:
    assert normalize_phone(raw, "US") == "+442079460958"


def test_national_numbers_are_read_in_the_clinic_region() -> None:
    assert normalize_phone("020 7946 0958", "GB") == "+442079460958"
    assert normalize_phone("020 7946 0958", "gb") == "+442079460958"
    assert format_phone("+442079460958", "US") == "+44 20 7946 0958"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "hello",
        "12345",
        "555-1234",  # no area code
        "(099) 555-1234",  # no area code starts with 0
        "415 555 12345 99",  # too long
        "+1 415 555",
        "+999 1234 5678",  # no such country
    ],
)
def test_invalid_numbers_raise_invalid_phone(raw: str) -> None:
    with pytest.raises(InvalidPhone) as err:
        normalize_phone(raw)
    assert err.value.field == "phone"
    assert err.value.user_message
    assert try_normalize_phone(raw) is None


@given(st.text(alphabet="0123456789", min_size=0, max_size=6))
def test_too_few_digits_are_never_a_number(digits: str) -> None:
    with pytest.raises(InvalidPhone):
        normalize_phone(digits)


def test_none_is_not_a_number() -> None:
    with pytest.raises(InvalidPhone):
        normalize_phone(None)  # type: ignore[arg-type]
    assert try_normalize_phone(None) is None
