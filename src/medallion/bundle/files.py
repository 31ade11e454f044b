"""Reading bundle YAML files and merging overrides, with errors that name the file and key."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from medallion.errors import BundleConfigError

__all__ = ["Sourced", "deep_merge", "read_yaml", "relative", "require_mapping"]

# Lists whose items Databricks merges by a key instead of replacing the whole list.
_LIST_KEYS = ("task_key", "job_cluster_key", "environment_key")


@dataclass(frozen=True)
class Sourced:
    """A value plus where it was written, so errors can point at the file and key."""

    value: Any
    file: Path
    where: str  # "<file>: <key path>"


def relative(path: Path, root: Path) -> str:
    """`path` relative to the project root when it is inside it (shorter error messages)."""
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def read_yaml(path: Path, root: Path) -> dict[str, Any]:
    """The top-level mapping of a YAML file; an empty file is an empty mapping."""
    name = relative(path, root)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BundleConfigError(f"{name}: cannot read the file: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        problem = getattr(exc, "problem", None) or str(exc)
        raise BundleConfigError(f"{where}: invalid YAML: {problem}") from None
    if data is None:
        return {}
    return require_mapping(data, f"{name}: top level")


def require_mapping(value: Any, where: str) -> dict[str, Any]:
    """`value` if it is a mapping (None counts as empty), else a BundleConfigError at `where`."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BundleConfigError(f"{where}: expected a mapping, found {type(value).__name__} {value!r}")
    return value


def deep_merge(base: Any, override: Any) -> Any:
    """`override` on top of `base`: mappings merge key by key, task lists merge by task_key."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = copy.deepcopy(base)
        for key, value in override.items():
            merged[key] = deep_merge(merged[key], value) if key in merged else copy.deepcopy(value)
        return merged
    if isinstance(base, list) and isinstance(override, list):
        list_key = _list_key(base + override)
        if list_key:
            merged_list = copy.deepcopy(base)
            index = {item[list_key]: i for i, item in enumerate(merged_list)}
            for item in override:
                if item[list_key] in index:
                    pos = index[item[list_key]]
                    merged_list[pos] = deep_merge(merged_list[pos], item)
                else:
                    merged_list.append(copy.deepcopy(item))
            return merged_list
    return copy.deepcopy(override)


def _list_key(items: list[Any]) -> str | None:
    for key in _LIST_KEYS:
        if items and all(isinstance(item, dict) and key in item for item in items):
            return key
    return None
