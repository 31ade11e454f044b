"""Task graph planning and `{{...}}` rendering, including the project's real job."""

from __future__ import annotations

from pathlib import Path

import pytest

from medallion.bundle import load_bundle
from medallion.errors import BundleConfigError, JobRunError, ParameterError
from medallion.runtime.task_graph import RefContext, plan_job, plan_tasks, render, task_value_refs

PROJECT = Path(__file__).resolve().parents[3]


def context(**kwargs) -> RefContext:
    base = {
        "job_key": "etl",
        "job_name": "etl-dev",
        "run_id": 99,
        "parameters": {"mode": "full"},
        "task_values": {"plan": {"tables": ["a", "b"]}},
        "task_name": "t",
    }
    return RefContext(**{**base, **kwargs})


def test_project_job_runs_plan_bronze_silver_gold():
    tasks = plan_tasks(load_bundle(PROJECT), "dev")
    keys = ["plan", "bronze", "silver_references", "silver", "gold", "gold_on_gold", "security", "dq_alerts"]
    assert [t.key for t in tasks] == keys
    plan, bronze, references, silver, gold, on_gold, security, alerts = tasks
    assert alerts.depends_on == ("gold_on_gold",) and alerts.base_parameters == {"run_id": "{{job.run_id}}"}
    assert security.depends_on == ("gold_on_gold",)
    assert security.notebook == PROJECT / "notebooks" / "35_security.py"
    assert plan.notebook == PROJECT / "notebooks" / "00_plan.py"
    assert bronze.is_for_each and silver.is_for_each and gold.is_for_each and not on_gold.is_for_each
    assert bronze.for_each_inputs == "{{tasks.plan.values.bronze_tables}}"
    assert silver.notebook == PROJECT / "notebooks" / "20_silver_build.py"
    assert silver.base_parameters == {
        "table": "{{input}}",
        "full_refresh": "{{job.parameters.full_refresh}}",
        "run_id": "{{job.run_id}}",
    }
    # gold: the tables on silver side by side (dev: gold_concurrency 2), then one run for the tables
    # built on gold tables
    assert (gold.concurrency, gold.depends_on) == (2, ("silver",))
    assert gold.for_each_inputs == "{{tasks.plan.values.gold_tables}}"
    assert gold.base_parameters == {"table": "{{input}}", "run_id": "{{job.run_id}}"}
    assert on_gold.depends_on == ("gold",) and on_gold.notebook == gold.notebook
    assert on_gold.base_parameters == {"wave": "on_gold", "run_id": "{{job.run_id}}"}
    # two waves of groups side by side (each group in order by one run; the plan picks them)
    # (dev: silver_concurrency 2)
    assert references.for_each_inputs == "{{tasks.plan.values.silver_reference_groups}}"
    assert (references.concurrency, references.depends_on) == (2, ("bronze",))
    assert (silver.concurrency, silver.depends_on) == (2, ("silver_references",))
    assert references.notebook == silver.notebook and references.base_parameters == silver.base_parameters


def test_project_job_parameters_and_selection():
    plan = plan_job(load_bundle(PROJECT), "dev", tasks=["silver"])
    assert plan.task_keys == ["plan", "silver"]
    assert plan.parameters["catalog"] == "spark_catalog"
    assert plan.parameters["bronze_schema"] == "local_bronze"
    assert plan.parameters["target"] == "dev"
    assert plan.name == "medallion-dev"


def test_render_whole_reference_keeps_value_and_text_gets_json():
    ctx = context(input={"table": "x", "n": 2})
    assert render("{{tasks.plan.values.tables}}", ctx) == ["a", "b"]
    assert render("t={{input.table}} n={{ input.n }}", ctx) == "t=x n=2"
    assert render("{{input}}", ctx) == {"table": "x", "n": 2}
    assert render("{{job.parameters.mode}}-{{job.run_id}}-{{task.name}}", ctx) == "full-99-t"
    assert render("vals={{tasks.plan.values.tables}}", ctx) == 'vals=["a", "b"]'


def test_render_errors_are_specific():
    with pytest.raises(JobRunError, match="task 'plan' did not set the task value 'other'"):
        render("{{tasks.plan.values.other}}", context())
    with pytest.raises(JobRunError, match=r"no job parameter 'nope' \(parameters: mode\)"):
        render("{{job.parameters.nope}}", context())
    with pytest.raises(JobRunError, match=r"cannot resolve \{\{input\}\}"):
        render("{{input}}", context())  # outside a for-each task
    with pytest.raises(JobRunError, match=r"has no field 'z'"):
        render("{{input.z}}", context(input={"a": 1}))


def test_task_value_refs():
    spec = {"inputs": "{{tasks.plan.values.x}}", "p": ["{{ tasks.other.values.y }}", "{{input}}"]}
    assert task_value_refs(spec) == {"plan", "other"}


def _bundle(tmp_path: Path, tasks_yaml: str):
    (tmp_path / "databricks.yml").write_text(
        "bundle: {name: x}\nresources:\n  jobs:\n    j:\n      tasks:\n" + tasks_yaml
    )
    return load_bundle(tmp_path)


def test_dependency_cycle_is_reported(tmp_path):
    bundle = _bundle(
        tmp_path,
        "        - {task_key: a, depends_on: [{task_key: b}], notebook_task: {notebook_path: a}}\n"
        "        - {task_key: b, depends_on: [{task_key: a}], notebook_task: {notebook_path: b}}\n",
    )
    with pytest.raises(BundleConfigError, match="cycle: a, b"):
        plan_tasks(bundle, "default")


def test_unknown_dependency_and_unsupported_task_type(tmp_path):
    bundle = _bundle(
        tmp_path, "        - {task_key: a, depends_on: [{task_key: zz}], notebook_task: {notebook_path: a}}\n"
    )
    with pytest.raises(BundleConfigError, match="task 'a' depends on unknown task 'zz'"):
        plan_tasks(bundle, "default")
    other = tmp_path / "other"
    other.mkdir()
    bundle = _bundle(other, "        - {task_key: s, spark_python_task: {python_file: x.py}}\n")
    with pytest.raises(JobRunError, match=r"task 's' cannot run locally.*found spark_python_task"):
        plan_tasks(bundle, "default")


def test_notebook_path_relative_to_job_file_and_py_added(tmp_path):
    bundle = _bundle(tmp_path, "        - {task_key: a, notebook_task: {notebook_path: ./nbs/first}}\n")
    assert plan_tasks(bundle, "default")[0].notebook == tmp_path.resolve() / "nbs" / "first.py"


def test_parameters_override_defaults_and_unknown_ones_are_refused():
    bundle = load_bundle(PROJECT)
    assert plan_job(bundle, "dev").parameters["full_refresh"] == ""
    plan = plan_job(bundle, "dev", parameters={"full_refresh": "dim_customer"})
    assert plan.parameters["full_refresh"] == "dim_customer"
    with pytest.raises(ParameterError, match=r"no parameter 'ful_refresh'.*full_refresh"):
        plan_job(bundle, "dev", parameters={"ful_refresh": "x"})
