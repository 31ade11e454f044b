"""Notebook parameters: empty widgets take the bundle target's values; bad values are named."""

from __future__ import annotations

import pytest

from medallion.errors import ParameterError
from medallion.params import find_project_root, parse_flag, resolve_context


def _values(**overrides):
    values = dict.fromkeys(
        (
            "target",
            "catalog",
            "bronze_schema",
            "silver_schema",
            "gold_schema",
            "security_schema",
            "ops_schema",
            "security_mode",
            "landing_root",
            "checkpoint_root",
        ),
        "",
    )
    values.update(overrides)
    return values


def test_empty_widgets_take_the_local_dev_target(project_root, monkeypatch):
    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    ctx = resolve_context(_values(target="dev"), project_root)
    assert ctx.catalog == "spark_catalog"
    assert ctx.bronze_schema == "local_bronze"
    assert ctx.landing_root == str(project_root / ".lakehouse" / "dev" / "landing")
    assert ctx.table("silver", "t") == "`spark_catalog`.`local_silver`.`t`"
    assert ctx.security_schema == "local_security"  # the mask functions' schema, per target
    assert ctx.table("ops", "run_log") == "`spark_catalog`.`local_ops`.`run_log`"  # run records, per target


def test_explicit_job_parameters_win(project_root):
    ctx = resolve_context(
        _values(
            target="prod",
            catalog="c1",
            bronze_schema="b",
            silver_schema="s",
            gold_schema="g",
            landing_root="/l",
            checkpoint_root="/k",
        ),
        project_root,
    )
    assert (ctx.catalog, ctx.silver_schema, ctx.landing_root) == ("c1", "s", "/l")


def test_a_schema_name_with_spaces_is_refused_by_name(project_root):
    with pytest.raises(ParameterError, match="silver_schema='my silver'"):
        resolve_context(_values(target="dev", silver_schema="my silver"), project_root)


def test_project_root_is_found_from_a_subfolder(project_root):
    assert find_project_root(project_root / "notebooks") == project_root


def test_outside_a_project_the_error_says_where_it_looked(tmp_path):
    with pytest.raises(ParameterError, match=r"no databricks\.yml"):
        find_project_root(tmp_path)


@pytest.mark.parametrize(("text", "value"), [("true", True), ("No", False), ("", False), ("1", True)])
def test_flags(text, value):
    assert parse_flag("force", text) is value


def test_a_bad_flag_names_the_parameter():
    with pytest.raises(ParameterError, match="force='maybe'"):
        parse_flag("force", "maybe")


def test_a_job_parameter_on_the_command_line_must_be_name_equals_value(project_root, capsys):
    from medallion import cli

    assert cli.main(["--project-dir", str(project_root), "run", "--param", "tables"]) == 2
    assert "--param 'tables': write NAME=VALUE" in capsys.readouterr().err
