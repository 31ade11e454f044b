"""Parsing and running Databricks source-format notebooks in-process."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from medallion.errors import MedallionError
from medallion.runtime.dbutils import LocalDbutils
from medallion.runtime.notebook import NotebookFormatError, cell_location, parse_notebook, run_notebook

SEP = "# COMMAND ----------"


def notebook(path: Path, *cells: str) -> Path:
    body = f"\n\n{SEP}\n\n".join(textwrap.dedent(c).strip() for c in cells)
    path.write_text(f"# Databricks notebook source\n{body}\n", encoding="utf-8")
    return path


def test_parse_cells_kinds_and_lines(tmp_path):
    path = notebook(
        tmp_path / "nb.py",
        "# MAGIC %md\n# MAGIC # Title\n# MAGIC text",
        "x = 1",
        "# MAGIC %pip install foo",
        "# MAGIC %run ./other",
    )
    cells = parse_notebook(path)
    assert [(c.index, c.kind) for c in cells] == [(1, "md"), (2, "code"), (3, "pip"), (4, "run")]
    assert cells[0].source == "# Title\ntext"
    assert cells[1].source.strip() == "x = 1"
    assert path.read_text().splitlines()[cells[1].line - 1 : cells[1].line + 1] == ["", "x = 1"]
    assert cells[3].source == "./other"


def test_not_a_notebook(tmp_path):
    path = tmp_path / "plain.py"
    path.write_text("x = 1\n")
    with pytest.raises(NotebookFormatError, match="first line must be '# Databricks notebook source'"):
        parse_notebook(path)


def test_run_shares_namespace_and_returns_exit_value(tmp_path, capsys):
    (tmp_path / "data.txt").write_text("hello")
    path = notebook(
        tmp_path / "nb.py",
        "dbutils.widgets.text('name', 'world')\ngreeting = open('data.txt').read()",
        "# MAGIC %pip install something",
        "# MAGIC %restart_python",
        "assert __name__ == '__main__' and spark == 'SPARK'\nprint(greeting, dbutils.widgets.get('name'), extra)",
        "dbutils.notebook.exit(f'{greeting}-{__file__}')",
        "raise AssertionError('not reached')",
    )
    before = os.getcwd()
    value = run_notebook(
        path, spark="SPARK", dbutils=LocalDbutils({"name": "you"}), extra_globals={"extra": 7}
    )
    assert value == f"hello-{path.resolve()}"
    assert capsys.readouterr().out == "hello you 7\n"
    assert os.getcwd() == before


def test_run_without_exit_returns_none_and_restores_cwd_on_error(tmp_path):
    assert run_notebook(notebook(tmp_path / "ok.py", "x = 1"), spark=None, dbutils=LocalDbutils()) is None
    before = os.getcwd()
    with pytest.raises(ZeroDivisionError):
        run_notebook(
            notebook(tmp_path / "bad.py", "x = 1", "y = 2\nz = x / 0"), spark=None, dbutils=LocalDbutils()
        )
    assert os.getcwd() == before


def test_traceback_names_cell_and_file_line(tmp_path):
    path = notebook(tmp_path / "bad.py", "x = 1", "y = 2\nz = x / 0")
    with pytest.raises(ZeroDivisionError) as err:
        run_notebook(path, spark=None, dbutils=LocalDbutils())
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if text == "z = x / 0")
    assert cell_location(err.value) == f"bad.py [cell 2], line {line}"


def test_percent_run_executes_other_notebook_in_same_namespace(tmp_path):
    notebook(tmp_path / "helpers.py", "def twice(v):\n    return 2 * v")
    path = notebook(tmp_path / "main.py", "# MAGIC %run ./helpers", "dbutils.notebook.exit(str(twice(21)))")
    assert run_notebook(path, spark=None, dbutils=LocalDbutils()) == "42"


def test_percent_run_cycle_and_missing(tmp_path):
    notebook(tmp_path / "a.py", "# MAGIC %run ./b")
    notebook(tmp_path / "b.py", "# MAGIC %run ./a")
    with pytest.raises(NotebookFormatError, match=r"%run cycle: a.py -> b.py -> a.py"):
        run_notebook(tmp_path / "a.py", spark=None, dbutils=LocalDbutils())
    missing = notebook(tmp_path / "m.py", "# MAGIC %run ./nowhere")
    with pytest.raises(NotebookFormatError, match=r"%run ./nowhere: no notebook at"):
        run_notebook(missing, spark=None, dbutils=LocalDbutils())


def test_other_magic_is_rejected(tmp_path):
    path = notebook(tmp_path / "sql.py", "x = 1", "# MAGIC %sql\n# MAGIC SELECT 1")
    with pytest.raises(MedallionError, match=r"\[cell 2\].*magic %sql cannot run locally"):
        run_notebook(path, spark=None, dbutils=LocalDbutils())


def test_every_job_notebook_installs_the_project_before_importing_it():
    """On Databricks a notebook imports the copy of the package the bundle deployed next to it."""
    notebooks = sorted((Path(__file__).resolve().parents[3] / "notebooks").glob("[0-9]*.py"))
    assert (
        len(notebooks) == 9
    )  # plan, bronze, silver, gold, security, dq_alerts, maintenance, rollback, backup
    for path in notebooks:
        cells = [c for c in parse_notebook(path) if c.kind != "md"]
        assert [(c.kind, c.source) for c in cells[:3]] == [
            ("pip", "install --quiet --editable .."),
            ("restart_python", ""),
            ("run", "./_bootstrap"),
        ], path.name
        assert "import" not in "".join(c.source for c in cells[:3])
