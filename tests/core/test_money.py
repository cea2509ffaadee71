"""Money: integer minor units with a currency; no floats, no silent rounding, exact splits."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ValidationError
from core.money import CurrencyMismatch, Money, exponent

# Currencies with a symbol ($, CA$, €...), without one (CHF), with 0 and 3 decimals, and unknown.
CURRENCIES = ["USD", "CAD", "AUD", "EUR", "GBP", "JPY", "CHF", "MXN", "BHD", "KWD", "KRW", "XYZ"]
amounts = st.integers(min_value=-(10**15), max_value=10**15)
currencies = st.sampled_from(CURRENCIES)
money = st.builds(Money, amounts, currencies)
usd = st.builds(Money, amounts, st.just("USD"))


@given(money)
def test_format_parses_back_to_the_same_amount(m: Money) -> None:
    assert Money.parse(m.format(), m.currency) == m


@given(money)
def test_plain_decimal_text_parses_back(m: Money) -> None:
    # what a CSV export or a text field holds: "1234.56", "-0.05", "1200"
    assert Money.parse(str(m.decimal), m.currency) == m
    assert Money.parse(m.decimal, m.currency) == m


@given(usd, usd, usd)
def test_addition_is_associative_and_subtraction_undoes_it(a: Money, b: Money, c: Money) -> None:
    assert (a + b) + c == a + (b + c)
    assert (a + b) - b == a
    assert a - a == Money.zero("USD")
    assert (a - b) + b == a


@given(money, st.integers(min_value=1, max_value=50))
def test_allocate_sums_exactly_and_parts_differ_by_at_most_one_cent(m: Money, parts: int) -> None:
    split = m.allocate(parts)
    assert len(split) == parts
    assert all(p.currency == m.currency for p in split)
    assert sum((p.minor for p in split), 0) == m.minor
    assert max(p.minor for p in split) - min(p.minor for p in split) <= 1


def test_allocate_a_deposit_three_ways() -> None:
    assert [p.format() for p in Money.parse("100.00").allocate(3)] == ["$33.34", "$33.33", "$33.33"]
    with pytest.raises(ValueError):
        Money(100).allocate(0)


@given(st.sampled_from(CURRENCIES), st.sampled_from(CURRENCIES), amounts, amounts)
def test_mixing_currencies_is_refused(c1: str, c2: str, x: int, y: int) -> None:
    a, b = Money(x, c1), Money(y, c2)
    if c1 == c2:
        assert (a + b).minor == x + y
        return
    for op in (lambda: a + b, lambda: a - b, lambda: a < b, lambda: a >= b):
        with pytest.raises(CurrencyMismatch) as err:
            op()
        assert c1 in str(err.value) and c2 in str(err.value)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_floats_are_refused_everywhere(f: float) -> None:
    with pytest.raises(ValidationError):
        Money(f)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Money.parse(f)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(100) * f  # type: ignore[operator]


def test_booleans_are_not_amounts() -> None:
    with pytest.raises(ValidationError):
        Money(True)  # type: ignore[arg-type]


@given(currencies, amounts, st.integers(min_value=1, max_value=6))
def test_more_decimals_than_the_currency_has_are_refused(currency: str, minor: int, extra: int) -> None:
    exp = exponent(currency)
    # a non-zero digit beyond the currency's minor unit: never silently rounded
    text = str(Decimal(minor).scaleb(-exp) + Decimal(1).scaleb(-(exp + extra)))
    with pytest.raises(ValidationError) as err:
        Money.parse(text, currency)
    assert "decimal places" in str(err.value)


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("12.50", "USD", 1250),
        ("$1,200", "USD", 120000),
        ("  -$0.05 ", "USD", -5),
        ("12.500", "USD", 1250),  # trailing zeros are not extra decimals
        ("12.50 CHF", "CHF", 1250),
        ("CHF 12.50", "CHF", 1250),
        ("¥1,200", "JPY", 1200),
        ("1.234 BHD", "BHD", 1234),
        ("CA$15", "CAD", 1500),
        ("$15", "CAD", 1500),
        ("usd 3", "USD", 300),
    ],
)
def test_parse_what_people_type(text: str, currency: str, minor: int) -> None:
    assert Money.parse(text, currency) == Money(minor, currency)


@pytest.mark.parametrize(
    ("text", "currency"),
    [("€12", "USD"), ("12 EUR", "USD"), ("CA$12", "USD"), ("£5", "EUR")],
)
def test_an_amount_in_another_currency_is_not_taken_as_ours(text: str, currency: str) -> None:
    with pytest.raises(CurrencyMismatch):
        Money.parse(text, currency)


@pytest.mark.parametrize(
    "text", ["", "twelve", "12..5", "NaN", "Infinity", "1e999999999", "9" * 40, "1e-999999999"]
)
def test_nonsense_and_absurd_amounts_are_refused_not_rounded(text: str) -> None:
    with pytest.raises(ValidationError):
        Money.parse(text)


@pytest.mark.parametrize("currency", ["usd", "US", "DOLLARS", "", "U$D"])
def test_currency_must_be_an_iso_code(currency: str) -> None:
    with pytest.raises(ValidationError):
        Money(100, currency)


@given(money)
def test_wire_form_round_trips(m: Money) -> None:
    assert Money.from_wire(m.to_wire()) == m


def test_percent_rounds_half_to_even_to_a_cent() -> None:
    assert Money(1000).percent(825) == Money(82)  # 8.25% of $10.00 = 82.5c -> 82c
    assert Money(1000).percent(835) == Money(84)  # 83.5c -> 84c
    assert Money(1999).percent(10_000) == Money(1999)


def test_format_shows_thousands_and_the_minor_unit() -> None:
    assert Money(123456).format() == "$1,234.56"
    assert Money(-5).format() == "-$0.05"
    assert Money(1200, "JPY").format() == "¥1,200"
    assert Money(1234, "CHF").format() == "12.34 CHF"
