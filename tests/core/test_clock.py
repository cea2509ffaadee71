"""The clock seam and the hybrid logical clock that orders edits across workstations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.clock import FixedClock, HLCTimestamp, HybridLogicalClock, SystemClock, to_unix_ms, utc

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_system_clock_is_tz_aware_utc() -> None:
    now = SystemClock().now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        utc(datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        FixedClock(datetime(2026, 1, 1))
    assert utc(datetime(2026, 1, 1, 4, tzinfo=timezone(timedelta(hours=-5)))) == datetime(
        2026, 1, 1, 9, tzinfo=UTC
    )


def test_hlc_follows_wall_time_when_it_moves() -> None:
    clock = FixedClock(T0)
    hlc = HybridLogicalClock("a1", clock)
    first = hlc.now()
    assert first == HLCTimestamp(to_unix_ms(T0), 0, "a1")
    clock.advance(timedelta(seconds=2))
    assert hlc.now() == HLCTimestamp(to_unix_ms(T0) + 2000, 0, "a1")


@given(st.lists(st.integers(min_value=-5_000, max_value=5_000), min_size=1, max_size=60))
def test_hlc_is_strictly_monotonic_even_when_the_wall_clock_stalls_or_goes_back(steps: list[int]) -> None:
    clock = FixedClock(T0)
    hlc = HybridLogicalClock("a1", clock)
    stamps = [hlc.now()]
    for ms in steps:
        clock.advance(timedelta(milliseconds=ms))
        stamps.append(hlc.now())
    assert all(a < b for a, b in zip(stamps, stamps[1:], strict=False))
    texts = [str(s) for s in stamps]
    assert texts == sorted(texts) and len(set(texts)) == len(texts)


@given(
    st.integers(min_value=-(3600 * 1000), max_value=3600 * 1000),
    st.integers(min_value=0, max_value=50),
    st.integers(min_value=0, max_value=5),
)
def test_observe_orders_later_local_stamps_after_the_remote_one(
    offset_ms: int, remote_counter: int, local_events: int
) -> None:
    clock = FixedClock(T0)
    here = HybridLogicalClock("a1", clock)
    for _ in range(local_events):
        here.now()
    before = here.last
    remote = HLCTimestamp(to_unix_ms(T0) + offset_ms, remote_counter, "b2")
    seen = here.observe(str(remote))  # as it arrives on the wire
    assert seen > remote and seen > before
    assert seen.node == "a1"
    nxt = here.now()
    assert nxt > seen > remote
    assert str(nxt) > str(remote)


def test_two_workstations_exchanging_stamps_agree_on_causal_order() -> None:
    ca, cb = FixedClock(T0), FixedClock(T0 - timedelta(minutes=5))  # b's clock runs 5 min late
    a, b = HybridLogicalClock("aa", ca), HybridLogicalClock("bb", cb)
    edit_a = a.now()
    b.observe(edit_a)
    edit_b = b.now()  # made after b saw a's edit: must sort after it despite b's slow clock
    assert edit_b > edit_a and str(edit_b) > str(edit_a)


def test_a_remote_clock_a_day_ahead_is_not_followed() -> None:
    hlc = HybridLogicalClock("a1", FixedClock(T0))
    with pytest.raises(ValueError):
        hlc.observe(HLCTimestamp(to_unix_ms(T0 + timedelta(days=2)), 0, "b2"))
    assert hlc.last.wall_ms == 0  # unchanged


hlc_stamps = st.builds(
    HLCTimestamp,
    st.integers(min_value=0, max_value=10**13 - 1),
    st.integers(min_value=0, max_value=999_999),
    st.from_regex(r"[0-9a-f]{1,16}", fullmatch=True),
)


@given(st.lists(hlc_stamps, min_size=2, max_size=30))
def test_the_string_form_sorts_like_the_timestamps_and_parses_back(stamps: list[HLCTimestamp]) -> None:
    assert sorted(stamps, key=str) == sorted(stamps)
    for s in stamps:
        assert HLCTimestamp.parse(str(s)) == s


@pytest.mark.parametrize("node", ["", "a-b"])
def test_node_ids_must_keep_the_string_form_parseable(node: str) -> None:
    with pytest.raises(ValueError):
        HybridLogicalClock(node)


@given(st.integers(min_value=-(10 * 86_400_000), max_value=10 * 86_400_000), st.integers(0, 1000))
def test_after_a_restart_stamps_continue_after_the_newest_one_written(back_ms: int, counter: int) -> None:
    floor = HLCTimestamp(to_unix_ms(T0), counter, "a1")
    hlc = HybridLogicalClock("a1", FixedClock(T0 - timedelta(milliseconds=back_ms)))
    hlc.seed(str(floor))
    assert hlc.now() > floor
    hlc.seed(HLCTimestamp(0, 0, "a1"))  # an older floor changes nothing
    assert hlc.now() > floor
