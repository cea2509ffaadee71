"""SMS encoding and segment counting as carriers count them (GSM-7 with its extension table,
UCS-2 with surrogate pairs), never splitting a character across segments."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.sms import GSM_BASIC, GSM_EXTENSION, is_gsm, segment_info


@pytest.mark.parametrize(("text", "encoding", "units", "segments"), [
    ("", "GSM-7", 0, 0),
    ("Hi Ana, see you at 10!", "GSM-7", 22, 1),
    ("a" * 160, "GSM-7", 160, 1),
    ("a" * 161, "GSM-7", 161, 2),
    ("a" * 306, "GSM-7", 306, 2),
    ("a" * 307, "GSM-7", 307, 3),
    ("Café à 10h: €25 [deposit]", "GSM-7", 28, 1),  # é and à are GSM; € [ ] count double
    ("€" * 80, "GSM-7", 160, 1),
    ("€" * 81, "GSM-7", 162, 2),
    ("Ça va?", "GSM-7", 6, 1),  # capital Ç is in the basic table
    ("ça va?", "UCS-2", 6, 1),  # lower-case ç is not
    ("a" * 70 + "’", "UCS-2", 71, 2),  # one curly quote turns 71 characters into two segments
    ("😀" * 35, "UCS-2", 70, 1),  # an emoji is two UTF-16 units
    ("😀" * 36, "UCS-2", 72, 2),
])
def test_encoding_units_and_segments(text: str, encoding: str, units: int, segments: int) -> None:
    info = segment_info(text)
    assert (info.encoding, info.units, info.segments) == (encoding, units, segments)
    assert info.characters == len(text)


def test_an_extension_character_never_straddles_two_segments() -> None:
    # 152 plain septets then "€" (2 septets) does not fit the first 153-septet segment
    info = segment_info("a" * 152 + "€" + "a" * 10)
    assert info.units == 164 and info.segments == 2
    assert info.remaining == 153 - 12  # the euro sign moved whole into the second segment


def test_an_emoji_never_straddles_two_segments() -> None:
    info = segment_info("a" * 66 + "😀" + "b")  # 69 units: over 70? no -> one segment
    assert info.segments == 1
    info = segment_info("a" * 66 + "😀" + "b" * 5)  # 73 units; the pair cannot start at unit 67
    assert info.segments == 2 and info.remaining == 67 - 7


def test_the_characters_that_forced_ucs2_are_named() -> None:
    info = segment_info("Thanks! ’See you’ 😀")
    assert info.non_gsm == ("’", "😀")
    assert segment_info("plain").non_gsm == ()


def test_summary_line() -> None:
    assert segment_info("Hello").summary == "5 / 160 \u00b7 1 segment \u00b7 GSM-7"
    assert segment_info("a" * 200).summary == "200 / 306 \u00b7 2 segments \u00b7 GSM-7"
    assert segment_info("😀").summary == "2 / 70 \u00b7 1 segment \u00b7 UCS-2"


@given(st.text(alphabet=sorted(GSM_BASIC | GSM_EXTENSION), max_size=800))
def test_gsm_texts_fill_segments_without_overflowing(text: str) -> None:
    info = segment_info(text)
    assert info.encoding == "GSM-7" and is_gsm(text)
    assert info.units == len(text) + sum(c in GSM_EXTENSION for c in text)
    if info.units > 160:
        # at least ceil(units/153) segments, at most one more per straddling extension character
        assert -(-info.units // 153) <= info.segments <= -(-info.units // 152)
        assert 0 <= info.remaining < 153


@given(st.text(min_size=1, max_size=400))
def test_any_text_gets_a_consistent_answer(text: str) -> None:
    info = segment_info(text)
    assert info.segments >= 1
    assert info.units >= info.characters or info.encoding == "UCS-2"
    single = 160 if info.encoding == "GSM-7" else 70
    assert (info.segments == 1) == (info.units <= single)
