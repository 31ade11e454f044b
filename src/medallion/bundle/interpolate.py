"""`${...}` references in bundle files, substituted the way the Databricks CLI does.

A string that is exactly one reference takes the referenced value as is (a list stays a list, a
number stays a number); a reference inside a longer string is rendered as text. `{{...}}` job
runtime references are left alone: they are the job's business, not the bundle's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from medallion.errors import BundleConfigError

__all__ = ["REFERENCE", "Lookup", "key_path", "references", "substitute", "to_text"]

# ${var.name}, ${bundle.target}, ${workspace.current_user.short_name}, ${var.list[0]}
REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]+|\[\d+\])*)\}")

# (reference without ${}, where it occurs) -> value
Lookup = Callable[[str, str], Any]


def references(value: Any) -> list[str]:
    """Every reference in a string, list or mapping, in order of appearance."""
    if isinstance(value, str):
        return REFERENCE.findall(value)
    if isinstance(value, dict):
        return [ref for item in value.values() for ref in references(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in references(item)]
    return []


def key_path(ref: str) -> list[str | int]:
    """`var.cfg.items[0]` -> ["var", "cfg", "items", 0]."""
    parts: list[str | int] = []
    for token in re.findall(r"\[\d+\]|[^.\[\]]+", ref):
        parts.append(int(token[1:-1]) if token.startswith("[") else token)
    return parts


def substitute(value: Any, lookup: Lookup, where: str) -> Any:
    """A copy of `value` with every `${...}` replaced; `where` names the file and key for errors."""
    if isinstance(value, str):
        return _substitute_text(value, lookup, where)
    if isinstance(value, dict):
        return {key: substitute(item, lookup, f"{where}.{key}") for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, lookup, f"{where}[{i}]") for i, item in enumerate(value)]
    return value


def to_text(value: Any, ref: str, where: str) -> str:
    """How a referenced value reads inside a longer string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, dict | list):
        raise BundleConfigError(
            f"{where}: ${{{ref}}} is a complex value ({type(value).__name__}) and cannot be part of a "
            "string; use it as the whole value"
        )
    return str(value)


def _substitute_text(text: str, lookup: Lookup, where: str) -> Any:
    whole = REFERENCE.fullmatch(text)
    if whole:
        return lookup(whole.group(1), where)
    return REFERENCE.sub(lambda m: to_text(lookup(m.group(1), where), m.group(1), where), text)
