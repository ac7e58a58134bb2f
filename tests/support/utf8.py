"""Check that every string inside a value (dataclasses, lists, tuples, dicts) is valid UTF-8."""

from __future__ import annotations

import dataclasses


def assert_utf8(value, where: str = "value") -> None:
    """Raise AssertionError naming the first string that `str.encode("utf-8")` refuses (a lone surrogate)."""
    seen: set[int] = set()

    def walk(v, path):
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise AssertionError(f"{path} is not valid UTF-8 ({exc}): {v!r}") from None
        elif isinstance(v, (int, float, bool, type(None), bytes)) or id(v) in seen:
            return
        elif dataclasses.is_dataclass(v) and not isinstance(v, type):
            seen.add(id(v))
            for f in dataclasses.fields(v):
                if not f.name.startswith("_"):
                    walk(getattr(v, f.name), f"{path}.{f.name}")
        elif isinstance(v, dict):
            seen.add(id(v))
            for k, item in v.items():
                walk(k, f"{path}[key]")
                walk(item, f"{path}[{k!r}]")
        elif isinstance(v, (list, tuple, set, frozenset)):
            seen.add(id(v))
            for i, item in enumerate(v):
                walk(item, f"{path}[{i}]")

    walk(value, where)
