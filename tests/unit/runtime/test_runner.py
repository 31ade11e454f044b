"""run_job against tiny bundles and notebooks in tmp_path (no Spark: spark=None)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from medallion.bundle import load_bundle
from medallion.errors import JobRunError, ParameterError
from medallion.runtime.runner import run_job

SEP = "\n# COMMAND ----------\n"

BUNDLE = """
bundle:
  name: demo
include:
  - resources/*.yml
variables:
  catalog:
    default: main
targets:
  dev:
    default: true
    variables:
      catalog: dev_catalog
"""

JOB = """
resources:
  jobs:
    etl:
      name: etl-${bundle.target}
      parameters:
        - name: catalog
          default: ${var.catalog}
        - name: mode
          default: full
        - name: shared
          default: from-job
      tasks:
        - task_key: final
          depends_on: [{task_key: load}, {task_key: literal}]
          notebook_task:
            notebook_path: ../nb/final
        - task_key: plan
          notebook_task:
            notebook_path: ../nb/plan.py
        - task_key: load
          depends_on: [{task_key: plan}]
          for_each_task:
            inputs: "{{tasks.plan.values.tables}}"
            concurrency: 4
            task:
              task_key: load_one
              notebook_task:
                notebook_path: ../nb/load.py
                base_parameters:
                  table: "{{input}}"
                  shared: "task-{{job.parameters.mode}}"
                  who: "{{task.name}}"
        - task_key: literal
          depends_on: [{task_key: plan}]
          for_each_task:
            inputs: '[{"table": "x", "n": 1}, {"table": "y", "n": 2}]'
            task:
              task_key: literal_one
              notebook_task:
                notebook_path: ../nb/literal.py
                base_parameters:
                  n: "{{input.n}}"
                  item: "{{input}}"
"""

# Every notebook appends what it saw to calls.jsonl in its folder (the cwd during the run).
RECORD = """
import json
def record(**extra):
    seen = {"file": __file__.rsplit("/", 1)[-1], **dbutils.widgets.getAll(), **extra}
    with open("calls.jsonl", "a") as out:
        out.write(json.dumps(seen) + "\\n")
"""

NOTEBOOKS = {
    "plan.py": [RECORD, "record()\ndbutils.jobs.taskValues.set('tables', ['a', 'b', 'c'])"],
    "load.py": [
        RECORD,
        "table = dbutils.widgets.get('table')\nrecord()\nif table == FAIL_ON:\n    raise ValueError(f'bad table {table}')",
        "dbutils.notebook.exit(json.dumps({'tables': [{'layer': 'bronze', 'table': table, "
        "'rows_read': 10, 'rows_written': 9, 'seconds': 0.5, 'status': 'ok', 'details': {}}]}))",
    ],
    "literal.py": [RECORD, "record()"],
    "final.py": [
        RECORD,
        "record(values=dbutils.jobs.taskValues.get('plan', 'tables'))\n"
        "dbutils.notebook.exit(json.dumps({'tables': [{'layer': 'gold', 'table': 'summary', "
        "'rows_read': 27, 'rows_written': 3, 'seconds': 1.25}], 'note': 'extra keys are fine'}))",
    ],
}


def make_project(root: Path, fail_on: str = "", job: str = JOB, notebooks: dict | None = None) -> Path:
    (root / "resources").mkdir(parents=True)
    (root / "nb").mkdir()
    (root / "databricks.yml").write_text(BUNDLE)
    (root / "resources" / "etl.job.yml").write_text(job)
    for name, cells in {**NOTEBOOKS, **(notebooks or {})}.items():
        source = SEP.join(textwrap.dedent(c).strip() + "\n" for c in cells)
        source = source.replace("FAIL_ON", repr(fail_on))
        (root / "nb" / name).write_text("# Databricks notebook source\n" + source)
    return root


def calls(root: Path) -> list[dict]:
    path = root / "nb" / "calls.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def run(root: Path, **kwargs):
    lines: list[str] = []
    result = run_job(None, load_bundle(root), "dev", echo=lines.append, **kwargs)
    return result, lines


def test_full_run_order_parameters_and_tables(tmp_path):
    root = make_project(tmp_path)
    result, lines = run(root)
    assert result.ok, result.error
    seen = calls(root)
    order = [(c["file"], c.get("table") or c.get("n")) for c in seen]
    assert order == [
        ("plan.py", None),
        ("load.py", "a"),
        ("load.py", "b"),
        ("load.py", "c"),
        ("literal.py", "1"),
        ("literal.py", "2"),
        ("final.py", None),
    ]
    plan_params = seen[0]
    assert plan_params == {"file": "plan.py", "catalog": "dev_catalog", "mode": "full", "shared": "from-job"}
    load_a = seen[1]
    assert load_a["shared"] == "task-full"  # base_parameters beat job parameters
    assert load_a["catalog"] == "dev_catalog"
    assert load_a["who"] == "load_one"
    assert json.loads(seen[4]["item"]) == {"table": "x", "n": 1}  # dict inputs reach notebooks as JSON
    assert seen[-1]["values"] == ["a", "b", "c"]
    assert [r.task_key for r in result.task_runs] == ["plan", "load", "literal", "final"]
    assert [r.status for r in result.task_runs] == ["ok"] * 4
    assert [i.input for i in result.task_runs[1].iterations] == ["a", "b", "c"]
    assert [t["table"] for t in result.tables] == ["a", "b", "c", "summary"]
    assert lines[0] == "[plan] ..."
    assert lines[1].startswith("[plan] ... ok ")
    assert "[load] for each of 3 inputs" in lines
    assert "[load] b ..." in lines
    assert any(line.startswith("[load] b ... ok ") and line.endswith("s") for line in lines)


def test_summary_lists_tables_totals_and_status(tmp_path):
    result, _ = run(make_project(tmp_path))
    text = result.summary()
    lines = text.splitlines()
    assert lines[0] == "job etl (target dev)"
    assert lines[1].split() == ["layer", "table", "rows", "read", "rows", "written", "seconds", "status"]
    assert lines[2].split() == ["bronze", "a", "10", "9", "0.5", "ok"]
    assert lines[5].split() == ["gold", "summary", "27", "3", "1.2", "ok"]
    assert lines[-1].startswith("total time ") and lines[-1].endswith("s, 4 tables, status ok")


def test_table_filter_applies_to_every_for_each_task(tmp_path):
    root = make_project(tmp_path)
    result, lines = run(root, tables=["b", "y"])
    assert result.ok, result.error
    ran = [(c["file"], c.get("table") or c.get("n")) for c in calls(root)]
    assert ran == [("plan.py", None), ("load.py", "b"), ("literal.py", "2"), ("final.py", None)]
    assert "[load] for each of 1 inputs (2 not selected by --table)" in lines


def test_an_input_naming_a_group_of_tables_is_narrowed_by_the_table_filter(tmp_path):
    grouped = {"plan.py": [RECORD, "record()\ndbutils.jobs.taskValues.set('tables', ['a,b', 'c'])"]}
    root = make_project(tmp_path, notebooks=grouped)
    result, lines = run(root, tables=["b", "c"])
    assert result.ok, result.error
    assert [c.get("table") for c in calls(root) if c["file"] == "load.py"] == ["b", "c"]  # not a
    assert "[load] for each of 2 inputs" in lines
    result, _ = run(make_project(tmp_path / "again", notebooks=grouped), tables=["zz"])
    assert result.error == "unknown table zz for --table (known: a, b, c, x, y)"


def test_unknown_table_names_the_known_ones(tmp_path):
    root = make_project(tmp_path)
    result, _ = run(root, tables=["a", "zz"])
    assert not result.ok
    assert result.error == "unknown table zz for --table (known: a, b, c, x, y)"
    assert [c["file"] for c in calls(root)] == ["plan.py"]  # checked before any for-each work
    assert [r.status for r in result.task_runs] == ["ok", "failed", "skipped", "skipped"]


def test_selected_task_brings_the_task_whose_values_it_reads(tmp_path):
    root = make_project(tmp_path)
    result, _ = run(root, tasks=["load"])
    assert result.ok, result.error
    assert [r.task_key for r in result.task_runs] == ["plan", "load"]
    assert [c["file"] for c in calls(root)] == ["plan.py", "load.py", "load.py", "load.py"]


def test_unknown_task_lists_the_keys(tmp_path):
    with pytest.raises(ParameterError, match=r"unknown task nope .*\(tasks: final, plan, load, literal\)"):
        run(make_project(tmp_path), tasks=["nope"])


def test_failure_stops_the_run_and_names_task_input_notebook_and_cell(tmp_path):
    root = make_project(tmp_path, fail_on="b")
    result, lines = run(root)
    assert not result.ok
    source = (root / "nb" / "load.py").read_text().splitlines()
    line = next(i for i, text in enumerate(source, 1) if "raise ValueError" in text)
    assert result.error == (
        f"task load (input b) failed in nb/load.py: ValueError: bad table b (at load.py [cell 2], line {line})"
    )
    assert [(r.task_key, r.status) for r in result.task_runs] == [
        ("plan", "ok"),
        ("load", "failed"),
        ("literal", "skipped"),
        ("final", "skipped"),
    ]
    assert [i.input for i in result.task_runs[1].iterations] == ["a", "b"]  # c never started
    assert [c.get("table") for c in calls(root) if c["file"] == "load.py"] == ["a", "b"]
    assert "[literal] skipped" in lines and "[final] skipped" in lines
    assert any(line.startswith("[load] b ... FAILED ") for line in lines)
    summary = result.summary()
    assert "skipped tasks: literal, final" in summary
    assert "status FAILED" in summary
    assert summary.splitlines()[-1] == f"error: {result.error}"


def test_medallion_error_message_is_kept_as_is(tmp_path):
    notebooks = {
        "plan.py": ["from medallion.errors import DataError\nraise DataError('two rows share key 7')"]
    }
    result, _ = run(make_project(tmp_path, notebooks=notebooks))
    assert result.error == "task plan failed in nb/plan.py: two rows share key 7"
    assert [r.status for r in result.task_runs] == ["failed", "skipped", "skipped", "skipped"]


def test_missing_task_value_fails_the_for_each_task(tmp_path):
    notebooks = {"plan.py": ["x = 1"]}
    result, _ = run(make_project(tmp_path, notebooks=notebooks))
    assert "task load failed in nb/load.py" in result.error
    assert "task 'plan' did not set the task value 'tables'" in result.error


def test_several_jobs_need_a_choice(tmp_path):
    root = make_project(tmp_path)
    (root / "resources" / "other.yml").write_text(
        "resources:\n  jobs:\n    other:\n      tasks:\n        - task_key: only\n"
        "          notebook_task: {notebook_path: ../nb/plan.py}\n"
    )
    with pytest.raises(ParameterError, match=r"several jobs; pick one with --job \(etl, other\)"):
        run(root)
    with pytest.raises(ParameterError, match=r"no job 'nope'"):
        run(root, job="nope")
    result, _ = run(root, job="other")
    assert [r.task_key for r in result.task_runs] == ["only"]


def test_missing_notebook_is_reported_before_running(tmp_path):
    root = make_project(tmp_path)
    (root / "nb" / "final.py").unlink()
    with pytest.raises(JobRunError, match=r"notebooks not found .*final: .*nb/final.py"):
        run(root)
    assert calls(root) == []


def test_table_filter_needs_a_for_each_task(tmp_path):
    with pytest.raises(ParameterError, match="--table only filters for-each tasks"):
        run(make_project(tmp_path), tasks=["plan"], tables=["a"])


class FakeConf(dict):
    def set(self, key, value):
        self[key] = value

    def unset(self, key):
        self.pop(key, None)


class FakeSession:
    """Stands in for a SparkSession: `newSession()` gives a distinct one sharing the barrier."""

    def __init__(self, barrier):
        self.barrier = barrier
        self.conf = FakeConf()

    def newSession(self):
        return FakeSession(self.barrier)


def test_for_each_iterations_run_side_by_side_in_their_own_sessions(tmp_path):
    # Each load waits until the other has started: it only passes when two run at the same time.
    import threading

    waiting = NOTEBOOKS["load.py"][1].replace(
        "record()", "spark.barrier.wait(timeout=20)\nrecord(session=id(spark))"
    )
    job = JOB.replace("concurrency: 4", "concurrency: 2").replace(
        'inputs: "{{tasks.plan.values.tables}}"', 'inputs: \'["a", "b"]\''
    )
    root = make_project(tmp_path, job=job, notebooks={"load.py": [RECORD, waiting, NOTEBOOKS["load.py"][2]]})
    parent = FakeSession(threading.Barrier(2))
    lines: list[str] = []
    result = run_job(parent, load_bundle(root), "dev", echo=lines.append)
    assert result.ok, result.error
    loads = [c for c in calls(root) if c["file"] == "load.py"]
    assert sorted(c["table"] for c in loads) == ["a", "b"]
    assert len({c["session"] for c in loads}) == 2 and id(parent) not in {c["session"] for c in loads}
    assert [i.input for i in result.task_runs[1].iterations] == ["a", "b"]  # reported in input order
    assert "[load] for each of 2 inputs, 2 at a time" in lines
    assert Path.cwd() != root / "nb"  # the shared cwd is restored once both are done


@pytest.mark.parametrize("value", ["two", "0", "101"])
def test_concurrency_must_be_a_whole_number_in_range(tmp_path, value):
    root = make_project(tmp_path, job=JOB.replace("concurrency: 4", f"concurrency: {value!r}"))
    with pytest.raises(Exception, match=r"concurrency .*whole number from 1 to 100"):
        run(root)
