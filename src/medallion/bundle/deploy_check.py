"""After a deploy: does the workspace hold what the bundle's job needs, and did its last run succeed?

`medallion deploy-check -t staging` runs this in CD after `databricks bundle deploy` and `bundle run`.
It reads what to expect from the bundle (the job's parameters name the catalog, schemas and volume
paths the job will use) and asks the workspace through the Databricks SDK, so it checks the objects
the job really reads, whoever created them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from medallion.bundle.config import JOB_KEY, BundleConfig
from medallion.errors import BundleConfigError

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

__all__ = [
    "Check",
    "DeployExpectation",
    "expected_deployment",
    "preflight",
    "run_deploy_check",
    "workspace_client",
]

log = logging.getLogger(__name__)

# The template's hosts end in the reserved .invalid domain until a team puts its workspaces there.
PLACEHOLDER_DOMAIN = ".invalid"


@dataclass(frozen=True)
class Check:
    """One thing looked at on the workspace; `detail` says what was found or what to do."""

    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.name}: {self.detail}"


@dataclass(frozen=True)
class DeployExpectation:
    """What a deploy of one target must have produced, read from the bundle."""

    target: str
    job_name: str
    task_keys: tuple[str, ...]
    run_as: str | None
    schemas: tuple[str, ...]  # catalog.schema
    volumes: tuple[str, ...]  # catalog.schema.volume


def preflight(bundle: BundleConfig, target: str) -> list[str]:
    """What must be set before `databricks bundle deploy -t <target>` can work, each with the fix."""
    problems = []
    host = bundle.target_setting(target, "workspace", "host")
    if not host:
        problems.append(
            f"databricks.yml: targets.{target}.workspace.host is not set: put the URL of the {target} workspace there"
        )
    elif str(host).rstrip("/").endswith(PLACEHOLDER_DOMAIN):
        problems.append(
            f"databricks.yml: targets.{target}.workspace.host is the template's placeholder {host}: "
            f"put the URL of the {target} workspace there"
        )
    for name, description in bundle.unset_variables(target).items():
        why = f" ({description})" if description else ""
        problems.append(
            f"variable {name} has no value for target {target}{why}: set BUNDLE_VAR_{name}, "
            f"or targets.{target}.variables.{name} in databricks.yml"
        )
    return problems


def expected_deployment(bundle: BundleConfig, target: str, job_key: str = JOB_KEY) -> DeployExpectation:
    """The job, schemas and volumes `target` must have, from the job's resolved parameters."""
    jobs = bundle.jobs(target, local=False, keys=(job_key,))
    if job_key not in jobs:
        raise BundleConfigError(f"no job {job_key!r} in the bundle (jobs: {', '.join(jobs) or 'none'})")
    job = jobs[job_key]
    params = {p["name"]: p.get("default") for p in job.get("parameters", [])}
    missing = [n for n in ("catalog", "bronze_schema", "silver_schema", "gold_schema") if not params.get(n)]
    if missing:
        raise BundleConfigError(f"job {job_key}: parameters {', '.join(missing)} have no default")
    catalog = params["catalog"]
    layers = ("bronze_schema", "silver_schema", "gold_schema", "security_schema", "ops_schema")
    schemas = tuple(f"{catalog}.{params[n]}" for n in layers if params.get(n))
    volumes = tuple(
        _volume_name(str(params[n]), n) for n in ("landing_root", "checkpoint_root") if params.get(n)
    )
    name = str(job["name"])
    if bundle.target_setting(target, "mode") == "development":  # the CLI's prefix for dev copies
        short = bundle.resolve(target, "${workspace.current_user.short_name}", local=False)
        name = f"[dev {short}] {name}"
    run_as = bundle.target_setting(target, "run_as", "service_principal_name")
    if run_as is not None:
        run_as = bundle.resolve(target, run_as, local=False, where=f"targets.{target}.run_as")
    return DeployExpectation(
        target=target,
        job_name=name,
        task_keys=tuple(task["task_key"] for task in job.get("tasks", [])),
        run_as=run_as or None,
        schemas=schemas,
        volumes=volumes,
    )


def run_deploy_check(
    client: WorkspaceClient, expected: DeployExpectation, *, require_run: bool = True
) -> list[Check]:
    """Every check, in order; a failing call becomes a failed check, never an exception."""
    checks = [_ask(f"schema {name}", lambda n=name: _schema(client, n)) for name in expected.schemas]
    checks += [_ask(f"volume {name}", lambda n=name: _volume(client, n)) for name in expected.volumes]
    job_check, job_id = _job(client, expected)
    checks.append(job_check)
    if job_id is not None and require_run:
        checks.append(_ask("last run", lambda: _last_run(client, job_id)))
    return checks


def workspace_client(bundle: BundleConfig, target: str) -> WorkspaceClient:
    """A client for the target's workspace: DATABRICKS_HOST if set, else the target's workspace.host."""
    from databricks.sdk import WorkspaceClient  # 1.8 s to import: only deploy-check needs it

    host = os.environ.get("DATABRICKS_HOST") or bundle.target_setting(target, "workspace", "host")
    if not host:
        raise BundleConfigError(f"databricks.yml: targets.{target}.workspace.host is not set")
    return WorkspaceClient(host=host)


def _ask(name: str, call: Callable[[], str]) -> Check:
    try:
        return Check(name, True, call())
    except _Failed as failed:
        return Check(name, False, str(failed))
    except Exception as exc:  # the SDK's NotFound, PermissionDenied, connection errors...
        return Check(name, False, f"{type(exc).__name__}: {exc}")


class _Failed(Exception):
    """A check that got an answer and did not like it."""


def _schema(client: WorkspaceClient, full_name: str) -> str:
    info = client.schemas.get(full_name)
    return f"exists (owner {info.owner or 'unknown'})"


def _volume(client: WorkspaceClient, full_name: str) -> str:
    info = client.volumes.read(full_name)
    kind = info.volume_type.value if info.volume_type is not None else "unknown type"
    return f"exists ({kind})"


def _job(client: WorkspaceClient, expected: DeployExpectation) -> tuple[Check, int | None]:
    name = f"job {expected.job_name!r}"
    try:
        found = [j for j in client.jobs.list(name=expected.job_name) if j.job_id is not None]
        if len(found) != 1:
            what = "no job" if not found else f"{len(found)} jobs"
            return Check(
                name,
                False,
                f"{what} with this name (deploy with `databricks bundle deploy -t {expected.target}`)",
            ), None
        job = client.jobs.get(found[0].job_id)
    except Exception as exc:
        return Check(name, False, f"{type(exc).__name__}: {exc}"), None
    settings = job.settings
    tasks = tuple(t.task_key for t in (settings.tasks if settings and settings.tasks else []))
    problems = []
    if sorted(tasks) != sorted(expected.task_keys):
        problems.append(f"tasks {', '.join(tasks) or 'none'} (expected {', '.join(expected.task_keys)})")
    if expected.run_as and job.run_as_user_name != expected.run_as:
        problems.append(f"runs as {job.run_as_user_name!r} (expected {expected.run_as!r})")
    if problems:
        return Check(name, False, "; ".join(problems)), job.job_id
    return Check(
        name, True, f"id {job.job_id}, {len(tasks)} tasks, runs as {job.run_as_user_name}"
    ), job.job_id


def _last_run(client: WorkspaceClient, job_id: int) -> str:
    runs = list(client.jobs.list_runs(job_id=job_id, completed_only=True, limit=1))
    if not runs:
        raise _Failed("the job has no finished run yet (`databricks bundle run medallion -t <target>`)")
    run = runs[0]
    result = run.state.result_state.value if run.state and run.state.result_state else "UNKNOWN"
    where = run.run_page_url or f"run {run.run_id}"
    if result != "SUCCESS":
        raise _Failed(f"{result}: {where}")
    return f"SUCCESS: {where}"


def _volume_name(path: str, parameter: str) -> str:
    parts = path.strip("/").split("/")
    if len(parts) < 4 or parts[0] != "Volumes":
        raise BundleConfigError(
            f"job parameter {parameter}={path!r} is not a /Volumes/<catalog>/<schema>/<volume> path"
        )
    return ".".join(parts[1:4])
