"""Notebook parameters: the widgets every notebook declares and how empty ones get their values.

A job passes every parameter explicitly. Run interactively, a notebook leaves them empty and takes
the values of the chosen bundle target from databricks.yml (plus local.yml on this machine), so
the defaults always work without editing the notebook.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from medallion.bundle import load_bundle
from medallion.context import RunContext
from medallion.environment import on_databricks
from medallion.errors import ParameterError

__all__ = [
    "JOB_PARAMETERS",
    "bundle_value",
    "context_from_widgets",
    "declare_widgets",
    "find_project_root",
    "on_databricks",
    "parse_flag",
]

log = logging.getLogger(__name__)

# Widget name -> label. The names match the job parameters in resources/medallion.job.yml and the
# bundle variables in databricks.yml, so a job run and an interactive run read the same values.
JOB_PARAMETERS: dict[str, str] = {
    "target": "Bundle target",
    "catalog": "Catalog",
    "bronze_schema": "Bronze schema",
    "silver_schema": "Silver schema",
    "gold_schema": "Gold schema",
    "security_schema": "Security schema",
    "ops_schema": "Ops schema",
    "security_mode": "Security mode",
    "landing_root": "Landing folder",
    "checkpoint_root": "Checkpoint folder",
}
DEFAULT_TARGET = "dev"
SECURITY_MODES = ("masks", "policies")  # how policies.csv is applied (docs/security.md)


def find_project_root(start: str | Path) -> Path:
    """The nearest folder at or above `start` that holds databricks.yml."""
    here = Path(start).resolve()
    for folder in (here, *here.parents):
        if (folder / "databricks.yml").is_file():
            return folder
    raise ParameterError(
        f"no databricks.yml found in {here} or any folder above it (run from inside the project)"
    )


def declare_widgets(dbutils: Any, **extra: str) -> None:
    """Declare the job-parameter widgets plus notebook-specific ones (name=default)."""
    for name, label in JOB_PARAMETERS.items():
        dbutils.widgets.text(name, DEFAULT_TARGET if name == "target" else "", label)
    for name, default in extra.items():
        dbutils.widgets.text(name, default, name.replace("_", " ").capitalize())


def context_from_widgets(dbutils: Any, notebook_dir: str | Path | None = None) -> RunContext:
    """Read the widgets into a RunContext, filling empty ones from the bundle target."""
    values = {name: (dbutils.widgets.get(name) or "").strip() for name in JOB_PARAMETERS}
    return resolve_context(values, find_project_root(notebook_dir or os.getcwd()))


def resolve_context(values: dict[str, str], project_root: Path) -> RunContext:
    """Fill empty parameters from the target's bundle variables and check the result."""
    target = values.get("target") or DEFAULT_TARGET
    missing = [name for name in JOB_PARAMETERS if name != "target" and not values.get(name)]
    if missing:
        bundle = load_bundle(project_root)
        variables = bundle.resolve_variables(target, local=not on_databricks())
        for name in missing:
            if name in variables and str(variables[name]):
                values[name] = str(variables[name])
        log.info("parameters %s taken from bundle target %r", ", ".join(missing), target)
    problems = [name for name in JOB_PARAMETERS if name != "target" and not values.get(name)]
    if problems:
        raise ParameterError(
            f"parameters without a value: {', '.join(problems)} "
            f"(set the widgets, or define the variables for target {target!r} in databricks.yml)"
        )
    for name in ("catalog", "bronze_schema", "silver_schema", "gold_schema", "security_schema", "ops_schema"):
        if not values[name].replace("_", "").replace("-", "").isalnum():
            raise ParameterError(
                f"parameter {name}={values[name]!r} is not a valid name (use letters, digits, _ and -)"
            )
    if values["security_mode"] not in SECURITY_MODES:
        raise ParameterError(
            f"parameter security_mode={values['security_mode']!r} must be one of {', '.join(SECURITY_MODES)}"
        )
    return RunContext(
        target=target,
        catalog=values["catalog"],
        bronze_schema=values["bronze_schema"],
        silver_schema=values["silver_schema"],
        gold_schema=values["gold_schema"],
        security_schema=values["security_schema"],
        ops_schema=values["ops_schema"],
        security_mode=values["security_mode"],
        landing_root=values["landing_root"],
        checkpoint_root=values["checkpoint_root"],
        specs_dir=str(project_root / "specs"),
    )


def bundle_value(name: str, target: str, notebook_dir: str | Path | None = None) -> str:
    """One variable of the bundle target (its local value off Databricks), "" when it has none."""
    bundle = load_bundle(find_project_root(notebook_dir or os.getcwd()))
    return str(bundle.resolve_variables(target or DEFAULT_TARGET, local=not on_databricks()).get(name) or "")


def parse_flag(name: str, value: str) -> bool:
    """A true/false widget value; anything else is a clear error."""
    text = (value or "").strip().lower()
    if text in {"true", "yes", "1"}:
        return True
    if text in {"", "false", "no", "0"}:
        return False
    raise ParameterError(f"parameter {name}={value!r} must be true or false")
