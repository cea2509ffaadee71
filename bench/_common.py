"""Shared helpers for benchmarks: temp homes with an explicit key file, timers, queries."""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@contextmanager
def temp_home(name: str) -> Iterator[Path]:
    """A throwaway GLOWDESK_HOME with its own key file (no keychain on CI machines)."""
    with tempfile.TemporaryDirectory(prefix=f"glowdesk-bench-{name}-") as tmp:
        home = Path(tmp) / "home"
        os.environ["GLOWDESK_KEY_FILE"] = str(Path(tmp) / "db.key")
        yield home


@contextmanager
def timer() -> Iterator[list[float]]:
    box: list[float] = []
    start = time.perf_counter()
    yield box
    box.append(time.perf_counter() - start)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = (len(ordered) - 1) * pct / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values: list[float]) -> float:
    return statistics.median(values)


def search_queries(store, n: int, seed: int = 7) -> list[str]:  # type: ignore[no-untyped-def]
    """Realistic typed queries drawn from the store: name prefixes, 4-7 phone digits, emails."""
    import sqlalchemy as sa

    with store.engine.connect() as c:
        rows = c.execute(
            sa.text("SELECT first_name, last_name, phone, email FROM patient ORDER BY id LIMIT 5000")
        ).all()
    rng = random.Random(seed)
    out: list[str] = []
    for _ in range(n):
        first, last, phone, email = rng.choice(rows)
        kind = rng.random()
        if kind < 0.4:
            out.append(last[: rng.randint(2, max(2, len(last)))])
        elif kind < 0.6:
            out.append(f"{first[:rng.randint(1, len(first))]} {last[:2]}")
        elif kind < 0.85 and phone:
            digits = phone[-rng.randint(4, 7):]
            out.append(digits)
        elif email:
            out.append(email.split("@")[0][: rng.randint(3, 8)])
        else:
            out.append(first[:3])
    return out
