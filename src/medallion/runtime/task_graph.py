"""Which tasks of a bundle job a local run executes, in which order, with which notebook.

Planning reads only the resolved bundle, never Spark or the notebooks, so the task graph of the
real job can be checked in a unit test. `{{...}}` job-runtime references are rendered here too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medallion.bundle.config import JOB_KEY
from medallion.errors import BundleConfigError, JobRunError, ParameterError

if TYPE_CHECKING:
    from medallion.bundle import BundleConfig

__all__ = [
    "JobPlan",
    "PlannedTask",
    "RefContext",
    "parameter_text",
    "plan_job",
    "plan_tasks",
    "render",
    "task_value_refs",
]

# {{input}}, {{input.field}}, {{job.parameters.name}}, {{tasks.plan.values.tables}}, {{job.run_id}}
_JOB_REF = re.compile(r"\{\{\s*([A-Za-z0-9_.\-]+)\s*\}\}")
_TASK_VALUE = re.compile(r"^tasks\.([A-Za-z0-9_\-]+)\.values\.")
_NO_INPUT = object()


@dataclass(frozen=True)
class PlannedTask:
    """A notebook task, or a for-each task whose nested notebook task runs once per input."""

    key: str
    notebook: Path
    notebook_path: str  # as written in the YAML, for messages
    base_parameters: dict[str, Any] = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()
    for_each_inputs: Any = None  # the for_each_task `inputs`; None for a plain notebook task
    iteration_key: str = ""  # task_key of the nested task
    concurrency: int = 1  # for_each_task `concurrency`: iterations run at the same time

    @property
    def is_for_each(self) -> bool:
        return self.for_each_inputs is not None


@dataclass(frozen=True)
class JobPlan:
    job_key: str
    name: str
    job_file: Path
    parameters: dict[str, str]
    tasks: tuple[PlannedTask, ...]

    @property
    def task_keys(self) -> list[str]:
        return [task.key for task in self.tasks]


@dataclass(frozen=True)
class RefContext:
    """Values `{{...}}` references see while one task (or one for-each iteration) starts."""

    job_key: str
    job_name: str
    run_id: int
    parameters: Mapping[str, str]
    task_values: Mapping[str, Mapping[str, Any]]
    task_name: str = ""
    input: Any = _NO_INPUT

    def lookup(self, ref: str) -> Any:
        parts = ref.split(".")
        if parts[0] == "input" and self.input is not _NO_INPUT:
            return self._input_field(parts[1:], ref)
        if parts[:2] == ["job", "parameters"] and len(parts) == 3:
            if parts[2] not in self.parameters:
                raise JobRunError(
                    f"{{{{{ref}}}}}: no job parameter {parts[2]!r} (parameters: {', '.join(self.parameters)})"
                )
            return self.parameters[parts[2]]
        if parts[0] == "tasks" and len(parts) == 4 and parts[2] == "values":
            values = self.task_values.get(parts[1], {})
            if parts[3] not in values:
                raise JobRunError(f"{{{{{ref}}}}}: task {parts[1]!r} did not set the task value {parts[3]!r}")
            return values[parts[3]]
        simple = {
            "job.id": self.job_key,
            "job.name": self.job_name,
            "job.run_id": self.run_id,
            "task.name": self.task_name,
            "task.run_id": self.run_id,
        }
        if ref in simple:
            return simple[ref]
        raise JobRunError(f"cannot resolve {{{{{ref}}}}} in a local run")

    def _input_field(self, fields: list[str], ref: str) -> Any:
        value = self.input
        for name in fields:
            if not isinstance(value, dict) or name not in value:
                raise JobRunError(f"{{{{{ref}}}}}: the for-each input {value!r} has no field {name!r}")
            value = value[name]
        return value


def render(value: Any, context: RefContext) -> Any:
    """`value` with `{{...}}` replaced; a string that is one whole reference keeps the value's type."""
    if isinstance(value, dict):
        return {key: render(item, context) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, context) for item in value]
    if not isinstance(value, str):
        return value
    whole = _JOB_REF.fullmatch(value.strip())
    if whole:
        return context.lookup(whole.group(1))
    return _JOB_REF.sub(lambda m: parameter_text(context.lookup(m.group(1))), value)


def parameter_text(value: Any) -> str:
    """Notebook parameters are strings: lists and mappings as JSON, booleans as true/false."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool | list | dict):
        return json.dumps(value)
    return str(value)


def task_value_refs(value: Any) -> set[str]:
    """Keys of the tasks whose values `value` reads through `{{tasks.KEY.values.NAME}}`."""
    if isinstance(value, dict):
        return {key for item in value.values() for key in task_value_refs(item)}
    if isinstance(value, list):
        return {key for item in value for key in task_value_refs(item)}
    if isinstance(value, str):
        return {m.group(1) for ref in _JOB_REF.findall(value) if (m := _TASK_VALUE.match(ref))}
    return set()


def plan_tasks(
    bundle: BundleConfig, target: str, *, job: str | None = None, tasks: Iterable[str] = ()
) -> list[PlannedTask]:
    """The tasks a local run executes, in order (see `plan_job`)."""
    return list(plan_job(bundle, target, job=job, tasks=tasks).tasks)


def plan_job(
    bundle: BundleConfig,
    target: str,
    *,
    job: str | None = None,
    tasks: Iterable[str] = (),
    parameters: Mapping[str, str] | None = None,
) -> JobPlan:
    """Pick the job, order its tasks by `depends_on`, and keep the selected ones.

    A selected task that reads another task's values (`{{tasks.KEY.values.NAME}}`) brings that
    task along, so running one for-each task still runs the task that lists its inputs.
    `parameters` override job parameter defaults, like `databricks bundle run --params`.
    """
    key = _pick_job(bundle.job_keys(target), bundle.notebook_jobs(target), job)
    spec = bundle.jobs(target, local=True, keys=(key,))[key]
    job_file = bundle.job_file(key, target)
    where = f"job {key!r} ({job_file.name})"
    raw = _raw_tasks(spec, where)
    order = _topological(raw, where)
    selected = _select(raw, [str(t) for t in tasks], where)
    planned = tuple(_planned(raw[name], job_file, where) for name in order if name in selected)
    values = {}
    for i, param in enumerate(spec.get("parameters") or []):
        if not isinstance(param, dict) or "name" not in param:
            raise BundleConfigError(f"{where}: parameters[{i}] needs a `name` and a `default`")
        values[str(param["name"])] = parameter_text(param.get("default", ""))
    unknown = [name for name in (parameters or {}) if name not in values]
    if unknown:
        raise ParameterError(
            f"{where} has no parameter {', '.join(map(repr, unknown))} (parameters: {', '.join(values)})"
        )
    values.update({name: str(value) for name, value in (parameters or {}).items()})
    return JobPlan(key, str(spec.get("name") or key), job_file, values, planned)


def _pick_job(jobs: list[str], notebook_jobs: list[str], job: str | None) -> str:
    """The named job, the only job, the only one with notebook tasks (a job of dashboard tasks runs on a
    workspace only), or the data job."""
    if job is not None:
        if job not in jobs:
            raise ParameterError(f"no job {job!r} in the bundle (jobs: {', '.join(jobs) or 'none'})")
        return job
    if len(jobs) == 1:
        return jobs[0]
    if not jobs:
        raise BundleConfigError(
            "the bundle defines no jobs (add one under resources.jobs in resources/*.yml)"
        )
    if len(notebook_jobs) == 1:
        return notebook_jobs[0]
    if JOB_KEY in notebook_jobs:
        return JOB_KEY  # the data job; others (maintenance) run with --job
    raise ParameterError(f"the bundle defines several jobs; pick one with --job ({', '.join(jobs)})")


def _raw_tasks(spec: dict[str, Any], where: str) -> dict[str, dict[str, Any]]:
    raw: dict[str, dict[str, Any]] = {}
    for i, task in enumerate(spec.get("tasks") or []):
        if not isinstance(task, dict) or not task.get("task_key"):
            raise BundleConfigError(f"{where}: tasks[{i}] has no task_key")
        name = str(task["task_key"])
        if name in raw:
            raise BundleConfigError(f"{where}: task_key {name!r} is used twice")
        raw[name] = task
    if not raw:
        raise BundleConfigError(f"{where}: the job has no tasks")
    return raw


def _upstream(task: dict[str, Any], raw: dict[str, dict[str, Any]], where: str) -> list[str]:
    """`depends_on` plus tasks whose values this task reads (Databricks requires those upstream)."""
    names = [str(dep.get("task_key")) for dep in task.get("depends_on") or [] if isinstance(dep, dict)]
    names += sorted(task_value_refs(task) - set(names))
    for name in names:
        if name not in raw:
            raise BundleConfigError(
                f"{where}: task {task['task_key']!r} depends on unknown task {name!r} (tasks: {', '.join(raw)})"
            )
    return names


def _topological(raw: dict[str, dict[str, Any]], where: str) -> list[str]:
    """Tasks in dependency order; ties keep the order of the YAML file."""
    upstream = {name: set(_upstream(task, raw, where)) for name, task in raw.items()}
    order: list[str] = []
    while len(order) < len(raw):
        ready = [n for n in raw if n not in order and upstream[n] <= set(order)]
        if not ready:
            stuck = [n for n in raw if n not in order]
            raise BundleConfigError(f"{where}: tasks depend on each other in a cycle: {', '.join(stuck)}")
        order.append(ready[0])
    return order


def _select(raw: dict[str, dict[str, Any]], wanted: list[str], where: str) -> set[str]:
    if not wanted:
        return set(raw)
    unknown = [name for name in wanted if name not in raw]
    if unknown:
        raise ParameterError(f"unknown task {', '.join(unknown)} in {where} (tasks: {', '.join(raw)})")
    selected: set[str] = set()
    todo = list(wanted)
    while todo:
        name = todo.pop()
        if name not in selected:
            selected.add(name)
            todo.extend(task_value_refs(raw[name]))
    return selected


def _planned(task: dict[str, Any], job_file: Path, where: str) -> PlannedTask:
    key = str(task["task_key"])
    depends = tuple(str(dep.get("task_key")) for dep in task.get("depends_on") or [])
    body, inputs, iteration_key, concurrency = task, None, "", 1
    if "for_each_task" in task:
        loop = task["for_each_task"] or {}
        if "inputs" not in loop or not isinstance(loop.get("task"), dict):
            raise BundleConfigError(f"{where}: for_each_task of task {key!r} needs `inputs` and `task`")
        body, inputs = loop["task"], loop["inputs"]
        iteration_key = str(body.get("task_key") or f"{key}_iteration")
        concurrency = _concurrency(loop.get("concurrency", 1), key, where)
    notebook_task = body.get("notebook_task")
    if not isinstance(notebook_task, dict) or not notebook_task.get("notebook_path"):
        kinds = [k for k in body if k.endswith("_task")] or ["none"]
        raise JobRunError(
            f"{where}: task {key!r} cannot run locally: only notebook_task (also inside for_each_task) "
            f"is supported, found {', '.join(kinds)}"
        )
    path_text = str(notebook_task["notebook_path"])
    path = Path(path_text)
    if not path.is_absolute():
        path = job_file.parent / path
    if path.suffix != ".py":
        path = path.with_name(path.name + ".py")
    return PlannedTask(
        key=key,
        notebook=path.resolve(),
        notebook_path=path_text,
        base_parameters=dict(notebook_task.get("base_parameters") or {}),
        depends_on=depends,
        for_each_inputs=inputs,
        iteration_key=iteration_key,
        concurrency=concurrency,
    )


def _concurrency(value: Any, key: str, where: str) -> int:
    """A for_each_task's `concurrency`: a whole number from 1 to 100 (Databricks' limits)."""
    try:
        number = int(str(value).strip())
    except ValueError:
        number = 0
    if not 1 <= number <= 100:
        raise BundleConfigError(
            f"{where}: for_each_task of task {key!r} has concurrency {value!r}; it must be a whole "
            "number from 1 to 100 (set the bundle variable it reads, e.g. silver_concurrency, per target)"
        )
    return number
