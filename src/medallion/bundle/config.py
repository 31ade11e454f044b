"""The bundle as this project reads it: databricks.yml, its `include` files and local.yml.

Only what a local run and the notebooks need is modelled (variables, targets, jobs, local
settings); deploying stays the Databricks CLI's job. Files are read once by `load_bundle`;
references are resolved on every call because they depend on the target, the environment
(`BUNDLE_VAR_*`) and whether the run is local.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medallion.bundle.files import Sourced, deep_merge, read_yaml, relative, require_mapping
from medallion.bundle.interpolate import substitute
from medallion.bundle.resolve import Resolver
from medallion.errors import BundleConfigError

__all__ = ["BUNDLE_FILE", "LOCAL_FILE", "BundleConfig", "UserLookup", "load_bundle"]
JOB_KEY = "medallion"  # the data job (resources/medallion.job.yml); the others run on their own

log = logging.getLogger(__name__)

BUNDLE_FILE = "databricks.yml"
LOCAL_FILE = "local.yml"
LOCAL_DIR = ".lakehouse"

# Returns the workspace user as a mapping with at least `userName` (and optionally `short_name`).
UserLookup = Callable[[], Mapping[str, Any]]


@dataclass(frozen=True)
class BundleConfig:
    """A loaded bundle; `resolve_variables` and `jobs` resolve `${...}` for one target."""

    root: Path
    name: str
    targets: list[str]
    default_target: str
    _variables: dict[str, Sourced] = field(repr=False, compare=False)
    _target_files: dict[str, list[Sourced]] = field(repr=False, compare=False)
    _jobs: dict[str, Sourced] = field(repr=False, compare=False)
    _local: dict[str, Any] = field(repr=False, compare=False)
    _current_user: UserLookup | None = field(default=None, repr=False, compare=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def resolve_variables(self, target: str, *, local: bool) -> dict[str, Any]:
        """Every variable's value for `target`; lookup-only and unset variables are left out."""
        resolver = Resolver(self, target, local=local)
        return {name: resolver.variable(name, "") for name in self._variables if resolver.has_value(name)}

    def jobs(
        self, target: str, *, local: bool, keys: tuple[str, ...] | None = None
    ) -> dict[str, dict[str, Any]]:
        """`resources.jobs` for `target` (only `keys`, when given) with `${...}` resolved and `{{...}}`
        left for the run."""
        resolver = Resolver(self, target, local=local)
        resolved: dict[str, dict[str, Any]] = {}
        for key, job in self._target_jobs(target).items():
            if keys is None or key in keys:
                resolved[key] = substitute(job.value, resolver.lookup, job.where)
        return resolved

    def job_keys(self, target: str) -> list[str]:
        """The keys of `resources.jobs` for `target` (nothing resolved)."""
        return list(self._target_jobs(target))

    def notebook_jobs(self, target: str) -> list[str]:
        """The jobs with notebook tasks (what runs on a local lakehouse too); a job of dashboard tasks,
        which only a workspace can run, is not one of them."""
        return [
            key
            for key, job in self._target_jobs(target).items()
            if any(
                "notebook_task" in task
                or "notebook_task" in (task.get("for_each_task") or {}).get("task", {})
                for task in (job.value.get("tasks") or [])
                if isinstance(task, dict)
            )
        ]

    def unset_variables(self, target: str) -> dict[str, str]:
        """Variables a deploy of `target` needs that nothing sets (no default, target value or
        BUNDLE_VAR_*), with their descriptions; lookup variables resolve on the workspace."""
        resolver = Resolver(self, target, local=False)
        return {
            name: str(decl.value.get("description", ""))
            for name, decl in self._variables.items()
            if not resolver.has_value(name) and "lookup" not in decl.value
        }

    def resolve(self, target: str, value: Any, *, local: bool, where: str = "") -> Any:
        """`value` (text, list or mapping) with its `${...}` references resolved for `target`."""
        return substitute(value, Resolver(self, target, local=local).lookup, where)

    def job_file(self, key: str, target: str | None = None) -> Path:
        """The YAML file that defined job `key`; its relative notebook paths start from its folder."""
        jobs = self._target_jobs(target or self.default_target)
        if key not in jobs:
            raise BundleConfigError(f"no job {key!r} in the bundle (jobs: {', '.join(jobs) or 'none'})")
        return jobs[key].file

    def target_setting(self, target: str, *keys: str) -> Any:
        """A literal setting of `targets.<target>` (e.g. "mode", or "workspace", "host"); None if unset.

        Only for settings the Databricks CLI takes literally (it refuses `${...}` in `mode` and in
        the fields that configure authentication such as `workspace.host`).
        """
        self.check_target(target)
        found = None
        for source in self._target_files.get(target, []):
            value: Any = source.value
            for key in keys:
                value = value.get(key) if isinstance(value, dict) else None
            if value is not None:
                found = value
        return found

    def local_root(self, target: str) -> Path:
        """Where the local lakehouse of `target` lives: <root>/.lakehouse/<target>."""
        self.check_target(target)
        return (self.root / LOCAL_DIR / target).resolve()

    def spark_conf(self) -> dict[str, str]:
        """Spark settings for the local session (local.yml `spark_conf`), as strings."""
        conf = require_mapping(self._local.get("spark_conf"), f"{LOCAL_FILE}: spark_conf")
        return {str(key): _conf_text(value) for key, value in conf.items()}

    def check_target(self, target: str) -> None:
        if target not in self.targets:
            raise BundleConfigError(
                f"{BUNDLE_FILE}: unknown target {target!r} (targets: {', '.join(self.targets)})"
            )

    def _target_jobs(self, target: str) -> dict[str, Sourced]:
        """Jobs with the target's `resources.jobs` overrides merged in."""
        self.check_target(target)
        jobs = dict(self._jobs)
        for source in self._target_files.get(target, []):
            resources = require_mapping(source.value.get("resources"), f"{source.where}.resources")
            overrides = require_mapping(resources.get("jobs"), f"{source.where}.resources.jobs")
            for key, override in overrides.items():
                where = f"{source.where}.resources.jobs.{key}"
                override = require_mapping(override, where)
                if key in jobs:
                    base = jobs[key]
                    jobs[key] = Sourced(deep_merge(base.value, override), base.file, base.where)
                else:
                    jobs[key] = Sourced(copy.deepcopy(override), source.file, where)
        return jobs


def load_bundle(project_root: str | Path, *, current_user: UserLookup | None = None) -> BundleConfig:
    """Read databricks.yml, the files its `include` globs match, and local.yml if present.

    `current_user` replaces the Databricks SDK lookup of `${workspace.current_user.*}` for
    non-local resolution (tests, or callers that already know the user).
    """
    root = Path(project_root).resolve()
    main_file = root / BUNDLE_FILE
    if not main_file.is_file():
        raise BundleConfigError(f"{main_file}: file not found (is {root} a bundle project?)")
    main = read_yaml(main_file, root)
    bundle = require_mapping(main.get("bundle"), f"{BUNDLE_FILE}: bundle")
    name = bundle.get("name")
    if not name or not isinstance(name, str):
        raise BundleConfigError(f"{BUNDLE_FILE}: bundle.name is missing (set `bundle: name: <name>`)")

    variables: dict[str, Sourced] = {}
    target_files: dict[str, list[Sourced]] = {}
    jobs: dict[str, Sourced] = {}
    target_order: list[str] = []
    defaults: list[str] = []
    for path, data in [(main_file, main), *_included(root, main)]:
        rel = relative(path, root)
        _collect(path, rel, data, variables, target_files, jobs, target_order, defaults)

    if not target_order:
        target_order = ["default"]
        target_files["default"] = []
    if len(defaults) > 1:
        raise BundleConfigError(
            f"{BUNDLE_FILE}: more than one target has `default: true`: {', '.join(defaults)}"
        )
    local_path = root / LOCAL_FILE
    local = read_yaml(local_path, root) if local_path.is_file() else {}
    unknown = sorted(set(local) - {"variables", "workspace", "spark_conf"})
    if unknown:
        log.warning("%s: ignoring unknown keys %s", LOCAL_FILE, ", ".join(unknown))
    for var in require_mapping(local.get("variables"), f"{LOCAL_FILE}: variables"):
        if var not in variables:
            raise BundleConfigError(
                f"{LOCAL_FILE}: variables.{var} is not declared in {BUNDLE_FILE} "
                f"(declared: {', '.join(variables) or 'none'})"
            )
    return BundleConfig(
        root=root,
        name=name,
        targets=target_order,
        default_target=defaults[0] if defaults else target_order[0],
        _variables=variables,
        _target_files=target_files,
        _jobs=jobs,
        _local=local,
        _current_user=current_user,
    )


def _included(root: Path, main: dict[str, Any]) -> list[tuple[Path, dict[str, Any]]]:
    patterns = main.get("include") or []
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise BundleConfigError(f"{BUNDLE_FILE}: include must be a list of glob patterns")
    seen: set[Path] = {(root / BUNDLE_FILE).resolve()}
    files: list[tuple[Path, dict[str, Any]]] = []
    for pattern in patterns:
        matches = sorted(p for p in root.glob(pattern) if p.is_file())
        if not matches:
            log.warning("%s: include pattern %r matches no file", BUNDLE_FILE, pattern)
        for path in matches:
            if path.resolve() not in seen:
                seen.add(path.resolve())
                files.append((path, read_yaml(path, root)))
    return files


def _collect(
    path: Path,
    rel: str,
    data: dict[str, Any],
    variables: dict[str, Sourced],
    target_files: dict[str, list[Sourced]],
    jobs: dict[str, Sourced],
    target_order: list[str],
    defaults: list[str],
) -> None:
    """Add one file's variables, targets and jobs; a name defined twice is an error."""
    for name, decl in require_mapping(data.get("variables"), f"{rel}: variables").items():
        if name in variables:
            raise BundleConfigError(f"{rel}: variables.{name} is already declared in {variables[name].where}")
        if not isinstance(decl, dict):
            decl = {"default": decl}
        variables[name] = Sourced(decl, path, f"{rel}: variables.{name}")
    for target, body in require_mapping(data.get("targets"), f"{rel}: targets").items():
        body = require_mapping(body, f"{rel}: targets.{target}")
        if target not in target_order:
            target_order.append(target)
        if body.get("default") is True and target not in defaults:
            defaults.append(target)
        target_files.setdefault(target, []).append(Sourced(body, path, f"{rel}: targets.{target}"))
    resources = require_mapping(data.get("resources"), f"{rel}: resources")
    for key, job in require_mapping(resources.get("jobs"), f"{rel}: resources.jobs").items():
        if key in jobs:
            raise BundleConfigError(f"{rel}: resources.jobs.{key} is already defined in {jobs[key].where}")
        jobs[key] = Sourced(
            require_mapping(job, f"{rel}: resources.jobs.{key}"), path, f"{rel}: resources.jobs.{key}"
        )


def _conf_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
