"""Collect every settings problem before failing, so one run shows the user all of them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from medallion.errors import SpecError, SpecProblem

__all__ = ["MISSING", "Problems", "SettingsError"]

MISSING: Any = object()


class SettingsError(SpecError):
    """The generator settings file is unusable; each problem names its JSON path.

    A `SpecError`, so the CLI prints the list and exits with code 2 like any other bad spec.
    """


_TYPE_WORDS = {bool: "true/false", int: "an integer", float: "a number", str: "a string"}


class Problems:
    """Problems found in one settings file, each with a JSON path such as `entities[2].columns[0].kind`."""

    def __init__(self, file: str):
        self.file = file
        self.items: list[SpecProblem] = []

    def add(self, path: str, message: str, fix: str = "") -> None:
        self.items.append(SpecProblem(self.file, 0, path, message, fix))

    def raise_if_any(self) -> None:
        if self.items:
            raise SettingsError(self.items)

    def get(self, obj: Mapping, key: str, path: str, kind: type | tuple, default: Any = MISSING) -> Any:
        """`obj[key]` if it has the right JSON type, else record a problem and return `default`."""
        where = f"{path}.{key}" if path else key
        if key not in obj:
            if default is MISSING:
                self.add(where, "is required")
                return None
            return default
        value = obj[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if float in kinds and int not in kinds:
            kinds = (*kinds, int)
        # bool is an int in Python but never a number in the settings
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            words = " or ".join(
                _TYPE_WORDS.get(k, k.__name__) for k in kinds if k is not int or float not in kinds
            )
            self.add(where, f"must be {words}, got {value!r}")
            return None if default is MISSING else default
        return value

    def number(
        self,
        obj: Mapping,
        key: str,
        path: str,
        default: Any = MISSING,
        *,
        low: float | None = None,
        high: float | None = None,
        integer: bool = False,
    ) -> Any:
        """A number option checked against an inclusive range."""
        value = self.get(obj, key, path, int if integer else float, default)
        if value is None or (value is default and default is not MISSING and key not in obj):
            return value
        where = f"{path}.{key}" if path else key
        if low is not None and value < low:
            self.add(where, f"must be >= {low}, got {value}")
        elif high is not None and value > high:
            self.add(where, f"must be <= {high}, got {value}")
        return value

    def only(self, obj: Mapping, allowed: set[str] | frozenset[str], path: str) -> None:
        """Unknown keys are usually typos; name them instead of ignoring them."""
        for key in obj:
            if key not in allowed:
                self.add(
                    f"{path}.{key}" if path else key,
                    "unknown setting",
                    f"allowed here: {', '.join(sorted(allowed))}",
                )
