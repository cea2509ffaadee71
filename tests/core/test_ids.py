"""UUIDv7 ids: version 7, strictly increasing within the process, creation time embedded."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.ids import new_id, uuid7, uuid7_unix_ms


def test_ids_are_rfc_9562_version_7() -> None:
    u = uuid7()
    assert u.version == 7
    assert u.variant == uuid.RFC_4122
    text = new_id()
    assert len(text) == 36 and uuid.UUID(text).version == 7


def test_ids_made_in_a_burst_are_strictly_increasing_as_numbers_and_as_text() -> None:
    ids = [uuid7() for _ in range(20_000)]  # thousands per millisecond: the counter must carry it
    assert all(a.int < b.int for a, b in zip(ids, ids[1:], strict=False))
    texts = [str(u) for u in ids]
    assert texts == sorted(texts)
    assert len(set(texts)) == len(texts)


def test_ids_from_many_threads_are_unique() -> None:
    out: list[list[uuid.UUID]] = [[] for _ in range(8)]

    def work(i: int) -> None:
        out[i].extend(uuid7() for _ in range(2000))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [u for chunk in out for u in chunk]
    assert len(set(every)) == len(every)
    for chunk in out:  # each thread sees its own ids increase
        assert chunk == sorted(chunk, key=lambda u: u.int)


def test_the_embedded_time_is_when_the_id_was_made() -> None:
    before = time.time_ns() // 1_000_000
    u = uuid7()
    after = time.time_ns() // 1_000_000
    # allow one millisecond of counter carry-over from a burst made just before
    assert before <= uuid7_unix_ms(u) <= after + 1
    assert uuid7_unix_ms(str(u)) == uuid7_unix_ms(u)


@given(st.integers(min_value=0, max_value=(1 << 48) - 1))
def test_an_id_made_for_a_later_time_embeds_at_least_that_time(ms: int) -> None:
    u = uuid7(unix_ms=ms)
    assert u.version == 7
    assert uuid7_unix_ms(u) >= ms
    assert uuid7().int > u.int  # still monotonic afterwards


def test_other_uuid_versions_have_no_embedded_time() -> None:
    with pytest.raises(ValueError):
        uuid7_unix_ms(uuid.uuid4())
