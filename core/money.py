"""Money: integer minor units plus an ISO 4217 currency. No floats anywhere."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from core.errors import ValidationError

#: Minor-unit exponent per currency (ISO 4217). Anything not listed uses 2.
_EXPONENTS: dict[str, int] = {
    "USD": 2, "CAD": 2, "EUR": 2, "GBP": 2, "AUD": 2, "NZD": 2, "CHF": 2, "MXN": 2,
    "JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0,
    "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3,
}
_SYMBOLS: dict[str, str] = {"USD": "$", "CAD": "CA$", "AUD": "A$", "EUR": "€", "GBP": "£", "JPY": "¥"}


class CurrencyMismatch(ValidationError):
    code = "currency_mismatch"


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency, 2)


def _check_currency(currency: str) -> str:
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha() and currency.isupper()):
        raise ValidationError(f"'{currency}' is not an ISO currency code such as USD.", field="currency")
    return currency


#: Currencies commonly written with a bare "$".
_DOLLAR_CURRENCIES = frozenset({"USD", "CAD", "AUD", "NZD", "MXN"})


def _strip_currency_marks(text: str, currency: str) -> str:
    """Remove separators, the currency's symbol and its ISO code from a typed amount.

    A symbol or code of another currency is refused (``"€12"`` is not twelve dollars), so that
    the output of :meth:`Money.format` parses back for every currency, never into another one.
    """
    cleaned = text.strip().replace(",", "").replace(" ", "").replace("\u00a0", "")
    suffix, prefix = cleaned[-3:], cleaned[:3]
    code = None
    if len(cleaned) > 3 and suffix.isascii() and suffix.isalpha() and not cleaned[-4].isalpha():
        code, cleaned = suffix.upper(), cleaned[:-3]
    elif len(cleaned) > 3 and prefix.isascii() and prefix.isalpha() and not cleaned[3].isalpha():
        code, cleaned = prefix.upper(), cleaned[3:]
    if code is not None and code != currency:
        raise CurrencyMismatch(f"'{text}' is in {code}, not {currency}.")
    allowed = {_SYMBOLS.get(currency, "")} | ({"$"} if currency in _DOLLAR_CURRENCIES else set())
    for sym in sorted(set(_SYMBOLS.values()) | {"$"}, key=len, reverse=True):
        if sym in cleaned:
            if sym not in allowed:
                raise CurrencyMismatch(f"'{text}' is not an amount in {currency}.")
            cleaned = cleaned.replace(sym, "")
    return cleaned


#: Amounts of 10**18 minor units or more are refused (they would not fit a 64-bit column).
MAX_MINOR_DIGITS = 18


def _exact_minor(value: Decimal, exp: int, text: str, currency: str) -> int:
    """``value`` times 10**exp as an exact int, without the rounding of a decimal context."""
    sign, digits, e = value.as_tuple()
    assert isinstance(e, int)  # finite, checked by the caller
    digits_list = list(digits)
    while len(digits_list) > 1 and digits_list[-1] == 0:  # trailing zeros are not decimals
        digits_list.pop()
        e += 1
    if not any(digits_list):
        return 0
    shift = e + exp
    if shift < 0:
        raise ValidationError(f"{currency} amounts have at most {exp} decimal places.", field="amount")
    if len(digits_list) + shift > MAX_MINOR_DIGITS:
        raise ValidationError(f"'{text}' is too large an amount.", field="amount")
    minor = int("".join(map(str, digits_list)) + "0" * shift)
    return -minor if sign else minor


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An amount of money in integer minor units (cents for USD)."""

    minor: int
    currency: str = "USD"

    def __post_init__(self) -> None:
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise ValidationError("Money amounts are whole numbers of minor units (cents).", field="amount")
        _check_currency(self.currency)

    # construction -------------------------------------------------------------------------
    @classmethod
    def zero(cls, currency: str = "USD") -> Money:
        return cls(0, currency)

    @classmethod
    def parse(cls, text: str | int | Decimal, currency: str = "USD") -> Money:
        """Parse a major-unit amount such as ``"12.50"``, ``"$1,200"`` or ``Decimal("3")``.

        More decimals than the currency allows is an error, never a silent rounding.
        """
        if isinstance(text, float):
            raise ValidationError("Amounts must not be floats.", field="amount")
        if isinstance(text, int) and not isinstance(text, bool):
            value = Decimal(text)
        elif isinstance(text, Decimal):
            value = text
        else:
            cleaned = _strip_currency_marks(str(text), _check_currency(currency))
            try:
                value = Decimal(cleaned)
            except InvalidOperation:
                raise ValidationError(f"'{text}' is not an amount of money.", field="amount") from None
        if not value.is_finite():
            raise ValidationError(f"'{text}' is not an amount of money.", field="amount")
        exp = exponent(_check_currency(currency))
        return cls(_exact_minor(value, exp, str(text), currency), currency)

    # arithmetic ---------------------------------------------------------------------------
    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError("can only combine Money with Money")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"Cannot combine {self.currency} with {other.currency}.")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __mul__(self, factor: int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            raise TypeError("Money can only be multiplied by a whole number; use percent() for rates")
        return Money(self.minor * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.minor <= other.minor

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor > other.minor

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.minor >= other.minor

    def percent(self, basis_points: int) -> Money:
        """This amount times ``basis_points``/10,000, rounded half-to-even to a minor unit."""
        value = (Decimal(self.minor) * basis_points / Decimal(10_000)).quantize(
            Decimal(1), rounding=ROUND_HALF_EVEN
        )
        return Money(int(value), self.currency)

    def allocate(self, parts: int) -> list[Money]:
        """Split into ``parts`` amounts that differ by at most one minor unit and sum exactly."""
        if parts <= 0:
            raise ValueError("parts must be positive")
        base, rest = divmod(self.minor, parts)
        return [Money(base + (1 if i < rest else 0), self.currency) for i in range(parts)]

    # presentation -------------------------------------------------------------------------
    @property
    def decimal(self) -> Decimal:
        return Decimal(self.minor).scaleb(-exponent(self.currency))

    def format(self) -> str:
        exp = exponent(self.currency)
        sign = "-" if self.minor < 0 else ""
        whole, frac = divmod(abs(self.minor), 10**exp)
        body = f"{whole:,}" + (f".{frac:0{exp}d}" if exp else "")
        symbol = _SYMBOLS.get(self.currency)
        return f"{sign}{symbol}{body}" if symbol else f"{sign}{body} {self.currency}"

    def __str__(self) -> str:
        return self.format()

    def to_wire(self) -> dict[str, int | str]:
        return {"minor": self.minor, "currency": self.currency}

    @classmethod
    def from_wire(cls, data: dict[str, int | str]) -> Money:
        return cls(int(data["minor"]), str(data["currency"]))
