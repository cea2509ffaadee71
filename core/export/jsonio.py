"""JSON for the export: orjson when it is installed (about ten times faster), else the stdlib.

Both give compact UTF-8 JSON with keys in the order the mapping built them (CSV cells sort
keys, so a JSON cell reads the same on both sides whatever order its object was stored in).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

try:  # pragma: no cover - which branch runs depends on the environment
    import orjson

    dumps: Callable[[Any], bytes] = orjson.dumps

    def dumps_sorted(value: Any) -> str:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode("utf-8")

    loads: Callable[[str | bytes], Any] = orjson.loads
except ImportError:  # pragma: no cover

    def dumps(value: Any) -> bytes:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def dumps_sorted(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)

    loads = json.loads

__all__ = ["dumps", "dumps_sorted", "loads"]
