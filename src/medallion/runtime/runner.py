"""Run a bundle job on this machine: its notebook tasks, in this process, one after another.

The job definition is the one deployed to Databricks (resources/*.yml), read through the bundle
with the target's local values. A local run keeps the parts that decide *what* runs (task order,
for-each inputs, parameters, task values) and ignores the parts that decide *where and how*
(clusters, libraries, concurrency, retries, timeouts, notifications): tasks and for-each
iterations run sequentially, once each.
"""

from __future__ import annotations

import contextvars
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medallion.delta.run_marks import mark_commits
from medallion.errors import JobRunError, MedallionError, ParameterError
from medallion.runtime.dbutils import LocalDbutils
from medallion.runtime.notebook import cell_location, run_notebook
from medallion.runtime.task_graph import (
    JobPlan,
    PlannedTask,
    RefContext,
    parameter_text,
    plan_job,
    plan_tasks,
    render,
)

if TYPE_CHECKING:
    from medallion.bundle import BundleConfig

__all__ = ["JobRunResult", "TaskRun", "plan_job", "plan_tasks", "run_job"]

log = logging.getLogger(__name__)

Echo = Callable[[str], None]


@dataclass
class TaskRun:
    """One task, or one for-each iteration (`input` set); status is ok, failed or skipped."""

    task_key: str
    status: str
    seconds: float = 0.0
    input: str | None = None
    notebook: Path | None = None
    error: str = ""
    exit_value: str | None = None
    iterations: list[TaskRun] = field(default_factory=list)


@dataclass
class JobRunResult:
    """What a local job run did: per-task runs, the tables the notebooks reported, the error."""

    job_key: str
    target: str
    task_runs: list[TaskRun] = field(default_factory=list)
    tables: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None
    run_id: str = ""  # what `{{job.run_id}}` was in this run

    @property
    def ok(self) -> bool:
        return self.error is None

    def summary(self) -> str:
        """A text table of the reported tables, then total time and status."""
        header = ("layer", "table", "rows read", "rows written", "seconds", "status")
        rows = [
            (
                str(t.get("layer", "")),
                str(t.get("table", "")),
                _count(t.get("rows_read")),
                _count(t.get("rows_written")),
                f"{float(t.get('seconds') or 0):.1f}",
                str(t.get("status", "ok")),
            )
            for t in self.tables
        ]
        lines = [f"job {self.job_key} (target {self.target})"]
        if rows:
            widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
            right = {2, 3, 4}

            def fmt(row: tuple[str, ...]) -> str:
                cells = [
                    c.rjust(w) if i in right else c.ljust(w)
                    for i, (c, w) in enumerate(zip(row, widths, strict=True))
                ]
                return "  ".join(cells).rstrip()

            lines += [fmt(header), *(fmt(r) for r in rows)]
        else:
            lines.append("no tables reported")
        skipped = [run.task_key for run in self.task_runs if run.status == "skipped"]
        if skipped:
            lines.append(f"skipped tasks: {', '.join(skipped)}")
        status = "ok" if self.ok else "FAILED"
        lines.append(f"total time {self.seconds:.1f}s, {len(self.tables)} tables, status {status}")
        if self.error:
            lines.append(f"error: {self.error}")
        return "\n".join(lines)


def run_job(
    spark: Any,
    bundle: BundleConfig,
    target: str,
    *,
    job: str | None = None,
    tasks: Iterable[str] = (),
    tables: Iterable[str] = (),
    parameters: Mapping[str, str] | None = None,
    echo: Echo = print,
) -> JobRunResult:
    """Run the job's notebooks in dependency order; a failure stops the run and skips the rest.

    `tasks` limits the run to those task keys (plus the tasks whose values they read);
    `tables` limits for-each tasks to those inputs; `parameters` override job parameter defaults
    (e.g. full_refresh). Selection mistakes raise ParameterError
    before anything runs; notebook failures are reported in the result, not raised.
    """
    plan = plan_job(bundle, target, job=job, tasks=tasks, parameters=parameters)
    wanted = [str(t) for t in tables]
    if wanted and not any(task.is_for_each for task in plan.tasks):
        raise ParameterError(
            f"--table only filters for-each tasks, and none of {', '.join(plan.task_keys)} is one"
        )
    missing = [f"{task.key}: {task.notebook}" for task in plan.tasks if not task.notebook.is_file()]
    if missing:
        raise JobRunError(f"notebooks not found ({plan.job_file.name}): {'; '.join(missing)}")
    return _JobRun(spark, bundle, target, plan, wanted, echo).execute()


class _JobRun:
    """State of one run: task values, results so far, the table filter."""

    def __init__(
        self, spark: Any, bundle: BundleConfig, target: str, plan: JobPlan, tables: list[str], echo: Echo
    ):
        self.spark = spark
        self.root = bundle.root
        self.plan = plan
        self.tables = tables
        self.tables_checked = not tables
        self.echo = echo
        self.task_values: dict[str, dict[str, Any]] = {}
        self.run_id = int(time.time() * 1000)
        self.result = JobRunResult(plan.job_key, target, run_id=str(self.run_id))

    def execute(self) -> JobRunResult:
        start = time.perf_counter()
        try:
            for task in self.plan.tasks:
                if self.result.error is not None:
                    self.result.task_runs.append(TaskRun(task.key, "skipped", notebook=task.notebook))
                    self.echo(f"[{task.key}] skipped")
                    continue
                run = self._for_each(task) if task.is_for_each else self._single(task)
                self.result.task_runs.append(run)
            if self.result.error is None and not self.tables_checked:
                self.result.error = self._unknown_tables(final=True)
        finally:
            self.result.seconds = time.perf_counter() - start
            if self.spark is not None:
                mark_commits(self.spark, "")  # later writes in this session belong to no job run
        return self.result

    def _single(self, task: PlannedTask) -> TaskRun:
        context = self._context(task.key)
        self.echo(f"[{task.key}] ...")
        run = self._notebook(task, task.key, context)
        self.echo(f"[{task.key}] ... {_status_text(run)}")
        return run

    def _for_each(self, task: PlannedTask) -> TaskRun:
        start = time.perf_counter()
        parent = TaskRun(task.key, "ok", notebook=task.notebook)
        try:
            inputs = self._inputs(task)
        except MedallionError as exc:
            parent = self._failed(parent, task, None, str(exc), start)
            self.echo(f"[{task.key}] {_status_text(parent)}")
            return parent
        problem = None if self.tables_checked else self._unknown_tables(final=False)
        if problem:
            parent.status, parent.error = "failed", problem
            self.result.error = problem
            self.echo(f"[{task.key}] FAILED: {problem}")
            return parent
        chosen = [_narrowed(item, self.tables) for item in inputs]
        chosen = [item for item in chosen if item is not None]
        skipped = len(inputs) - len(chosen)
        note = f" ({skipped} not selected by --table)" if skipped else ""
        # Without a session (runner tests with stand-in notebooks) iterations run one after another.
        workers = min(task.concurrency, len(chosen)) if self.spark is not None else 1
        at_once = f", {workers} at a time" if workers > 1 else ""
        self.echo(f"[{task.key}] for each of {len(chosen)} inputs{at_once}{note}")
        failed = threading.Event()

        def iteration(item: Any, own_session: bool) -> TaskRun | None:
            if failed.is_set():  # an earlier input failed: start no more, as the job would stop
                return None
            label = _label(item)
            context = self._context(task.iteration_key, item)
            self.echo(f"[{task.key}] {label} ...")
            spark = self.spark.newSession() if own_session else self.spark
            run = self._notebook(task, task.iteration_key, context, label=label, spark=spark)
            self.echo(f"[{task.key}] {label} ... {_status_text(run)}")
            if run.status == "failed":
                failed.set()
            return run

        if workers > 1:
            # Side by side, each in its own session (its own SQL settings and commit marks), as each
            # iteration is its own notebook run on Databricks; log fields follow each thread.
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=task.key) as pool:
                runs = [pool.submit(contextvars.copy_context().run, iteration, item, True) for item in chosen]
                done = [future.result() for future in runs]
        else:
            done = [iteration(item, False) for item in chosen]
        for run in done:
            if run is None:
                continue
            parent.iterations.append(run)
            if run.status == "failed" and parent.status != "failed":
                parent.status, parent.error = "failed", run.error
        parent.seconds = time.perf_counter() - start
        self.echo(f"[{task.key}] {_status_text(parent)}")
        return parent

    def _notebook(
        self,
        task: PlannedTask,
        values_key: str,
        context: RefContext,
        label: str | None = None,
        spark: Any = None,
    ) -> TaskRun:
        start = time.perf_counter()
        run = TaskRun(task.key, "ok", input=label, notebook=task.notebook)
        try:
            params = dict(self.plan.parameters)
            params.update(
                {str(k): parameter_text(v) for k, v in render(task.base_parameters, context).items()}
            )
            dbutils = LocalDbutils(params, task_key=values_key, task_values=self.task_values)
            run.exit_value = run_notebook(
                task.notebook, spark=self.spark if spark is None else spark, dbutils=dbutils
            )
        except KeyboardInterrupt:
            raise
        except (Exception, SystemExit) as exc:
            log.debug("task %s%s failed", task.key, f" ({label})" if label else "", exc_info=exc)
            return self._failed(run, task, label, _describe(exc), start)
        run.seconds = time.perf_counter() - start
        self.result.tables.extend(_reported_tables(run.exit_value, task.key))
        return run

    def _failed(
        self, run: TaskRun, task: PlannedTask, label: str | None, detail: str, start: float
    ) -> TaskRun:
        where = f"task {task.key}" + (f" (input {label})" if label else "")
        notebook = _relative(task.notebook, self.root)
        run.status, run.seconds = "failed", time.perf_counter() - start
        run.error = f"{where} failed in {notebook}: {detail}"
        if self.result.error is None:
            self.result.error = run.error
        return run

    def _context(self, task_name: str, item: Any = None) -> RefContext:
        extra = {} if item is None else {"input": item}
        return RefContext(
            job_key=self.plan.job_key,
            job_name=self.plan.name,
            run_id=self.run_id,
            parameters=self.plan.parameters,
            task_values=self.task_values,
            task_name=task_name,
            **extra,
        )

    def _inputs(self, task: PlannedTask) -> list[Any]:
        """The for-each inputs: a JSON array literal or a reference to a task value holding a list."""
        value = render(task.for_each_inputs, self._context(task.key))
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise JobRunError(
                    f"task {task.key}: for_each_task inputs is not a JSON array: {value!r}"
                ) from None
        if not isinstance(value, list):
            raise JobRunError(f"task {task.key}: for_each_task inputs must be a list, got {value!r}")
        return value

    def _unknown_tables(self, *, final: bool) -> str | None:
        """The `--table` problem, checked once every for-each task's inputs are known (or at the end)."""
        known: list[str] = []
        for task in self.plan.tasks:
            if task.is_for_each:
                try:
                    known += [name for item in self._inputs(task) for name in _names(item)]
                except MedallionError:
                    if not final:
                        return None  # an upstream task has not produced the list yet
        self.tables_checked = True
        unknown = [name for name in self.tables if name not in known]
        if not unknown:
            return None
        return f"unknown table {', '.join(unknown)} for --table (known: {', '.join(dict.fromkeys(known)) or 'none'})"


def _describe(exc: BaseException) -> str:
    """The user-facing error: a MedallionError's own message, else type, message and cell."""
    if isinstance(exc, MedallionError):
        return str(exc)
    where = cell_location(exc)
    return f"{type(exc).__name__}: {exc}" + (f" (at {where})" if where else "")


def _reported_tables(exit_value: str | None, task_key: str) -> list[dict[str, Any]]:
    """Table records from a notebook's exit JSON `{"tables": [{layer, table, rows_read, ...}]}`."""
    if not exit_value:
        return []
    try:
        data = json.loads(exit_value)
    except ValueError:
        return []
    tables = data.get("tables") if isinstance(data, dict) else None
    if not isinstance(tables, list):
        return []
    records = [dict(t) for t in tables if isinstance(t, dict)]
    if len(records) != len(tables):
        log.warning(
            "task %s: ignored %d exit 'tables' entries that are not objects",
            task_key,
            len(tables) - len(records),
        )
    return records


def _label(item: Any) -> str:
    """How a for-each input is named in progress lines and matched by --table."""
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        for key in ("table", "name"):
            if key in item:
                return str(item[key])
    return json.dumps(item)


def _names(item: Any) -> list[str]:
    """The tables a for-each input names: a string may name several ("a,b": one run builds them in
    that order)."""
    if isinstance(item, str):
        return [name.strip() for name in item.split(",") if name.strip()]
    return [_label(item)]


def _narrowed(item: Any, tables: list[str]) -> Any:
    """The input as `--table` selects it: whole without a selection, else only its selected tables
    (None when it names none of them)."""
    if not tables:
        return item
    selected = [name for name in _names(item) if name in tables]
    if not selected:
        return None
    return ",".join(selected) if isinstance(item, str) else item


def _status_text(run: TaskRun) -> str:
    return f"{'ok' if run.status == 'ok' else run.status.upper()} {run.seconds:.1f}s"


def _count(value: Any) -> str:
    return "" if value is None else str(value)


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
