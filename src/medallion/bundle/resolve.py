"""Resolving `${...}` references for one target, following the Databricks bundle rules.

A variable's value is, from weakest to strongest: its `default`, the target's `variables:`,
the environment variable `BUNDLE_VAR_<name>`, and (local runs only) local.yml `variables:`.
Values may reference other variables; they resolve recursively and a cycle is an error.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from medallion.bundle.files import Sourced, require_mapping
from medallion.bundle.interpolate import key_path, substitute
from medallion.errors import BundleConfigError

if TYPE_CHECKING:
    from medallion.bundle.config import BundleConfig

__all__ = ["Resolver", "short_name"]

log = logging.getLogger(__name__)

_WRAPPER_KEYS = {"default", "lookup", "description", "type"}
_MISSING = object()


def short_name(user_name: str) -> str:
    """What Databricks calls `current_user.short_name`: the e-mail's local part, as an identifier."""
    local_part = user_name.split("@", 1)[0].lower()
    return re.sub(r"[^a-z0-9]", "_", local_part)


class Resolver:
    """Resolves references for one (target, local) pair; caches each variable once resolved."""

    def __init__(self, bundle: BundleConfig, target: str, *, local: bool):
        bundle.check_target(target)
        self._bundle = bundle
        self._target = target
        self._local = local
        self._lookups = {name for name, decl in bundle._variables.items() if "lookup" in decl.value}
        self._raw = self._raw_values()
        self._done: dict[str, Any] = {}
        self._stack: list[str] = []

    def has_value(self, name: str) -> bool:
        """False for a lookup variable nothing overrides (its value only exists on a workspace) and for
        a required variable the target leaves unset: an error only where something references it."""
        return name in self._raw

    def variable(self, name: str, where: str) -> Any:
        """The resolved value of variable `name`, referenced at `where`."""
        if name in self._done:
            return self._done[name]
        at = f"{where}: " if where else ""
        declared = self._bundle._variables
        if name not in declared:
            raise BundleConfigError(
                f"{at}unknown variable ${{var.{name}}} (declared: {', '.join(declared) or 'none'})"
            )
        if name in self._stack:
            cycle = [*self._stack[self._stack.index(name) :], name]
            raise BundleConfigError(f"{at}reference cycle: {' -> '.join(f'var.{n}' for n in cycle)}")
        if name not in self._raw:
            lookup = name in self._lookups
            why = "is a lookup variable, which only resolves on a workspace" if lookup else "has no value"
            raise BundleConfigError(
                f"{at}variable {name!r} {why} for target {self._target!r} (set a default in "
                f"{declared[name].where}, a value in targets.{self._target}.variables, "
                f"BUNDLE_VAR_{name}, or local.yml variables)"
            )
        source = self._raw[name]
        self._stack.append(name)
        try:
            value = substitute(source.value, self.lookup, source.where)
        finally:
            self._stack.pop()
        self._done[name] = value
        return value

    def lookup(self, ref: str, where: str) -> Any:
        """The value of one `${ref}` found at `where`."""
        path = key_path(ref)
        head = path[0]
        if head == "var" and len(path) > 1 and isinstance(path[1], str):
            return _walk(self.variable(path[1], where), path[2:], ref, where)
        if path == ["bundle", "name"]:
            return self._bundle.name
        if path == ["bundle", "target"]:
            return self._target
        if path[:2] == ["workspace", "current_user"] and len(path) == 3:
            user = self._user(ref, where)
            if path[2] not in user:
                raise BundleConfigError(
                    f"{where}: ${{{ref}}}: the current user has no field {path[2]!r} (known: {', '.join(user)})"
                )
            return user[path[2]]
        if path == ["local", "root"]:
            if not self._local:
                raise BundleConfigError(f"{where}: ${{local.root}} only exists in local runs (local.yml)")
            return str(self._bundle.local_root(self._target))
        raise BundleConfigError(
            f"{where}: cannot resolve ${{{ref}}} (supported: var.*, bundle.name, bundle.target, "
            "workspace.current_user.short_name/userName, local.root)"
        )

    def _raw_values(self) -> dict[str, Sourced]:
        """Each variable's unresolved value after applying every override layer."""
        bundle = self._bundle
        raw: dict[str, Sourced] = {}
        for name, decl in bundle._variables.items():
            if "default" in decl.value:
                raw[name] = Sourced(decl.value["default"], decl.file, f"{decl.where}.default")
        for source in bundle._target_files.get(self._target, []):
            overrides = require_mapping(source.value.get("variables"), f"{source.where}.variables")
            for name, value in overrides.items():
                where = f"{source.where}.variables.{name}"
                if name not in bundle._variables:
                    raise BundleConfigError(
                        f"{where}: variable {name!r} is not declared in the top-level variables"
                    )
                value = _unwrap(value)
                if value is _MISSING:  # a target-level lookup: unknown until a later layer sets it
                    raw.pop(name, None)
                    self._lookups.add(name)
                else:
                    raw[name] = Sourced(value, source.file, where)
        for name in bundle._variables:
            env = os.environ.get(f"BUNDLE_VAR_{name}")
            if env is not None:
                raw[name] = Sourced(
                    self._env_value(name, env), bundle.root, f"environment: BUNDLE_VAR_{name}"
                )
        if self._local:
            local_file = bundle.root / "local.yml"
            for name, value in require_mapping(
                bundle._local.get("variables"), "local.yml: variables"
            ).items():
                value = _unwrap(value)
                if value is not _MISSING:
                    raw[name] = Sourced(value, local_file, f"local.yml: variables.{name}")
        return raw

    def _env_value(self, name: str, text: str) -> Any:
        if self._bundle._variables[name].value.get("type") != "complex":
            return text
        try:
            return json.loads(text)
        except ValueError:
            raise BundleConfigError(
                f"environment: BUNDLE_VAR_{name} must be JSON for a complex variable"
            ) from None

    def _user(self, ref: str, where: str) -> Mapping[str, Any]:
        if self._local:
            return self._local_user()
        bundle = self._bundle
        if "user" not in bundle._cache:
            lookup = bundle._current_user or _workspace_user
            try:
                user = dict(lookup())
            except BundleConfigError:
                raise
            except Exception as exc:
                raise BundleConfigError(
                    f"{where}: ${{{ref}}} needs the workspace user, but the Databricks workspace could not "
                    f"be asked ({type(exc).__name__}: {exc}); configure authentication or run locally"
                ) from exc
            if "userName" in user and "short_name" not in user:
                user["short_name"] = short_name(str(user["userName"]))
            bundle._cache["user"] = user
        return bundle._cache["user"]

    def _local_user(self) -> dict[str, Any]:
        workspace = require_mapping(self._bundle._local.get("workspace"), "local.yml: workspace")
        user = dict(require_mapping(workspace.get("current_user"), "local.yml: workspace.current_user"))
        if "userName" not in user:
            user["userName"] = f"{getpass.getuser()}@localhost"
            log.debug("local.yml has no workspace.current_user.userName; using %s", user["userName"])
        user.setdefault("short_name", short_name(str(user["userName"])))
        return user


def _unwrap(value: Any) -> Any:
    """Target and local overrides may be the value itself or `{default: value}`."""
    if isinstance(value, dict) and value and set(value) <= _WRAPPER_KEYS:
        if "default" in value:
            return value["default"]
        if "lookup" in value:
            return _MISSING
    return value


def _walk(value: Any, path: list[str | int], ref: str, where: str) -> Any:
    """Index into a complex variable for `${var.name.field}` and `${var.name[0]}`."""
    for step in path:
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            raise BundleConfigError(f"{where}: cannot resolve ${{{ref}}}: no {step!r} in {value!r}") from None
    return value


def _workspace_user() -> dict[str, Any]:
    from databricks.sdk import WorkspaceClient  # 1.8 s to import: only when a target needs the user

    me = WorkspaceClient().current_user.me()
    return {"userName": me.user_name, "displayName": me.display_name}
