"""LocalDbutils behaves like Databricks where notebooks can tell the difference."""

from __future__ import annotations

import pytest

from medallion.errors import ParameterError
from medallion.runtime.dbutils import LocalDbutils, NotebookExit, display


def test_parameter_beats_declared_default():
    dbutils = LocalDbutils({"table": "t1"})
    dbutils.widgets.text("table", "default_table", "Table")
    dbutils.widgets.text("limit", "10")
    assert dbutils.widgets.get("table") == "t1"
    assert dbutils.widgets.get("limit") == "10"
    assert dbutils.widgets.getAll() == {"table": "t1", "limit": "10"}


def test_undeclared_widget_without_parameter_fails():
    dbutils = LocalDbutils({"given": "x"})
    assert dbutils.widgets.get("given") == "x"  # a passed parameter needs no declaration
    with pytest.raises(ParameterError, match="No input widget named 'missing' is defined"):
        dbutils.widgets.get("missing")
    assert dbutils.widgets.getArgument("missing", "fallback") == "fallback"


def test_dropdown_checks_default_and_remove():
    dbutils = LocalDbutils()
    with pytest.raises(ParameterError, match="not one of the choices"):
        dbutils.widgets.dropdown("mode", "c", ["a", "b"])
    dbutils.widgets.dropdown("mode", "a", ["a", "b"])
    dbutils.widgets.multiselect("cols", "a,b", ["a", "b", "c"])
    dbutils.widgets.combobox("free", "z", ["a"])
    assert dbutils.widgets.get("cols") == "a,b"
    dbutils.widgets.remove("mode")
    with pytest.raises(ParameterError):
        dbutils.widgets.get("mode")
    dbutils.widgets.removeAll()
    assert dbutils.widgets.getAll() == {}


def test_task_values_shared_between_tasks():
    store: dict = {}
    LocalDbutils(task_key="plan", task_values=store).jobs.taskValues.set("tables", ("a", "b"))
    reader = LocalDbutils(task_key="next", task_values=store).jobs.taskValues
    assert reader.get("plan", "tables") == ["a", "b"]  # JSON round trip, as on Databricks
    assert reader.get("plan", "other", default=[]) == []
    assert reader.get("plan", "other", debugValue="dbg") == "dbg"
    with pytest.raises(ValueError, match="no task value 'other' set by task 'plan'"):
        reader.get("plan", "other")


def test_task_value_must_be_json():
    with pytest.raises(TypeError, match="task value 'bad' must be JSON-serialisable"):
        LocalDbutils().jobs.taskValues.set("bad", object())


def test_notebook_exit_carries_string():
    with pytest.raises(NotebookExit) as done:
        LocalDbutils().notebook.exit('{"a": 1}')
    assert done.value.value == '{"a": 1}'


def test_display_prints_plain_objects(capsys):
    display({"a": 1})
    assert capsys.readouterr().out == "{'a': 1}\n"
