"""SMS length rules: which encoding a text needs and how many segments it is billed as.

A text whose every character is in the GSM 03.38 alphabet travels as **GSM-7**: 160 septets in a
single message, 153 per segment once it is split (7 septets go to the concatenation header).
Characters of the GSM *extension table* (``^ { } [ ] ~ \\ | €`` and form feed) are sent as an
escape plus the character, so they count **double**. One character outside both tables (an emoji,
a curly quote, an accented letter GSM lacks such as ``ç`` or ``ó``) switches the whole text to
**UCS-2**: 70 UTF-16 code units in a single message, 67 per segment; characters outside the
Basic Multilingual Plane (most emoji) take two code units.

A segment boundary never splits a character: an extension character (2 septets) or a surrogate
pair (2 code units) that does not fit at the end of a segment starts the next one, which is why
segments are counted by packing, not by dividing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Encoding = Literal["GSM-7", "UCS-2"]

#: GSM 03.38 basic character set (without the escape to the extension table)
GSM_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: GSM 03.38 extension table: each of these is sent as ESC + character (2 septets)
GSM_EXTENSION: Final = frozenset("^{}\\[~]|€\f")

SINGLE_GSM: Final = 160
MULTI_GSM: Final = 153
SINGLE_UCS2: Final = 70
MULTI_UCS2: Final = 67
#: Twilio refuses bodies over 1,600 characters; Glowdesk keeps texts within that
MAX_BODY_CHARS: Final = 1600


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    """How a text goes out: ``units`` are septets (GSM-7) or UTF-16 code units (UCS-2)."""

    encoding: Encoding
    characters: int
    units: int
    segments: int
    #: units one segment holds at this length (160/153 or 70/67)
    per_segment: int
    #: units left before the next segment starts
    remaining: int
    #: the characters that made the text UCS-2 (in order of first appearance), empty for GSM-7
    non_gsm: tuple[str, ...] = ()

    @property
    def summary(self) -> str:
        """``"142 / 160 · 1 segment · GSM-7"``: what a compose box shows under the text."""
        if self.segments == 0:
            return f"0 / {self.per_segment} \u00b7 no text yet \u00b7 {self.encoding}"
        noun = "segment" if self.segments == 1 else "segments"
        return f"{self.units} / {self.per_segment * self.segments} \u00b7 {self.segments} {noun} \u00b7 {self.encoding}"


def is_gsm(text: str) -> bool:
    """True when every character of ``text`` is in the GSM-7 basic or extension table."""
    return all(c in GSM_BASIC or c in GSM_EXTENSION for c in text)


def _gsm_cost(c: str) -> int:
    return 2 if c in GSM_EXTENSION else 1


def _ucs2_cost(c: str) -> int:
    return 2 if ord(c) > 0xFFFF else 1


def _pack(costs: list[int], per_segment: int) -> tuple[int, int]:
    """(segments, units used in the last segment) when characters never straddle a boundary."""
    segments, used = 1, 0
    for cost in costs:
        if used + cost > per_segment:
            segments += 1
            used = 0
        used += cost
    return segments, used


def segment_info(text: str) -> SegmentInfo:
    """The encoding, length and segment count of ``text`` as a carrier counts them."""
    gsm = is_gsm(text)
    costs = [(_gsm_cost if gsm else _ucs2_cost)(c) for c in text]
    units = sum(costs)
    single, multi = (SINGLE_GSM, MULTI_GSM) if gsm else (SINGLE_UCS2, MULTI_UCS2)
    encoding: Encoding = "GSM-7" if gsm else "UCS-2"
    non_gsm = (
        () if gsm else tuple(dict.fromkeys(c for c in text if c not in GSM_BASIC and c not in GSM_EXTENSION))
    )
    if units == 0:
        return SegmentInfo(encoding, 0, 0, 0, single, single, non_gsm)
    if units <= single:
        return SegmentInfo(encoding, len(text), units, 1, single, single - units, non_gsm)
    segments, used = _pack(costs, multi)
    return SegmentInfo(encoding, len(text), units, segments, multi, multi - used, non_gsm)


__all__ = [
    "GSM_BASIC",
    "GSM_EXTENSION",
    "MAX_BODY_CHARS",
    "MULTI_GSM",
    "MULTI_UCS2",
    "SINGLE_GSM",
    "SINGLE_UCS2",
    "Encoding",
    "SegmentInfo",
    "is_gsm",
    "segment_info",
]


#: what the carrier's delivery errors mean for the desk (Twilio's 30xxx codes in status callbacks)
CARRIER_REASONS: dict[int, str] = {
    30003: "The carrier did not deliver the text: the client's phone could not be reached (it may be off or out "
           "of coverage; Twilio error 30003). Try again later, or call them.",
    30005: "The carrier did not deliver the text: the number does not exist any more (Twilio error 30005). "
           "Check the client's number.",
    30006: "The carrier did not deliver the text: the number is a landline or cannot receive texts (Twilio error "
           "30006). Call the client instead.",
    30007: "The carrier did not deliver the text: it was filtered as unwanted (Twilio error 30007).",
}
