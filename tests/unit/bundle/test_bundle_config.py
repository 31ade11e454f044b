"""load_bundle / BundleConfig against small bundles in tmp_path and the project's own bundle."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from medallion.bundle import load_bundle
from medallion.errors import BundleConfigError

PROJECT = Path(__file__).resolve().parents[3]


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _no_bundle_env(monkeypatch):
    import os

    for key in list(os.environ):
        if key.startswith("BUNDLE_VAR_"):
            monkeypatch.delenv(key)


BASIC = """
    bundle:
      name: demo
    include:
      - resources/*.yml
    variables:
      catalog:
        default: main
      schema:
        default: ${var.catalog}_raw
      root:
        default: /Volumes/${var.catalog}/${var.schema}/files
      emails:
        type: complex
        default: [a@example.com, b@example.com]
      workers:
        default: 4
    targets:
      dev:
        default: true
        variables:
          catalog: dev
          schema: ${workspace.current_user.short_name}_raw
      prod:
        variables:
          catalog:
            default: prod
    """

JOB = """
    resources:
      jobs:
        etl:
          name: etl-${bundle.target}
          email_notifications:
            on_failure: ${var.emails}
          parameters:
            - name: catalog
              default: ${var.catalog}
          tasks:
            - task_key: t1
              max_retries: ${var.workers}
              notebook_task:
                notebook_path: ../nb/one
                base_parameters:
                  table: "{{input}}"
                  label: "${bundle.name}-{{job.run_id}}"
    """


@pytest.fixture
def basic(tmp_path: Path) -> Path:
    write(tmp_path, "databricks.yml", BASIC)
    write(tmp_path, "resources/etl.job.yml", JOB)
    return tmp_path


def test_targets_and_default(basic):
    bundle = load_bundle(basic)
    assert bundle.name == "demo"
    assert bundle.targets == ["dev", "prod"]
    assert bundle.default_target == "dev"
    assert bundle.root == basic.resolve()


def test_default_target_is_first_without_default_flag(tmp_path):
    write(tmp_path, "databricks.yml", "bundle: {name: x}\ntargets:\n  qa: {}\n  live: {}\n")
    assert load_bundle(tmp_path).default_target == "qa"


def test_variables_resolve_chained_defaults_and_target_overrides(basic):
    values = load_bundle(basic).resolve_variables("prod", local=False)
    assert values["catalog"] == "prod"
    assert values["schema"] == "prod_raw"
    assert values["root"] == "/Volumes/prod/prod_raw/files"
    assert values["emails"] == ["a@example.com", "b@example.com"]
    assert values["workers"] == 4


def test_env_overrides_target_and_local_overrides_env(basic, monkeypatch):
    write(basic, "local.yml", "variables:\n  schema: from_local\n")
    monkeypatch.setenv("BUNDLE_VAR_catalog", "from_env")
    monkeypatch.setenv("BUNDLE_VAR_schema", "schema_env")
    bundle = load_bundle(basic)
    remote = bundle.resolve_variables("prod", local=False)
    assert (remote["catalog"], remote["schema"]) == ("from_env", "schema_env")
    local = bundle.resolve_variables("prod", local=True)
    assert (local["catalog"], local["schema"]) == ("from_env", "from_local")


def test_complex_env_value_is_json(basic, monkeypatch):
    monkeypatch.setenv("BUNDLE_VAR_emails", '["x@example.com"]')
    assert load_bundle(basic).resolve_variables("prod", local=False)["emails"] == ["x@example.com"]


def test_local_user_comes_from_local_yml(basic):
    write(basic, "local.yml", "workspace:\n  current_user:\n    short_name: me\n    userName: me@here\n")
    assert load_bundle(basic).resolve_variables("dev", local=True)["schema"] == "me_raw"


def test_workspace_user_is_asked_only_when_needed(basic):
    calls = []

    def user():
        calls.append(1)
        return {"userName": "Jane.Doe@example.com"}

    bundle = load_bundle(basic, current_user=user)
    bundle.resolve_variables("prod", local=False)
    assert calls == []
    values = bundle.resolve_variables("dev", local=False)
    assert values["schema"] == "jane_doe_raw"
    bundle.resolve_variables("dev", local=False)
    assert calls == [1]  # cached


def test_workspace_user_failure_is_a_bundle_error(basic):
    def broken():
        raise RuntimeError("no credentials")

    with pytest.raises(BundleConfigError, match=r"workspace user.*no credentials"):
        load_bundle(basic, current_user=broken).resolve_variables("dev", local=False)


def test_local_root_reference(basic):
    write(basic, "local.yml", "variables:\n  root: ${local.root}/files\n")
    bundle = load_bundle(basic)
    values = bundle.resolve_variables("prod", local=True)
    assert values["root"] == str(basic.resolve() / ".lakehouse" / "prod" / "files")
    assert bundle.local_root("prod") == basic.resolve() / ".lakehouse" / "prod"


def test_local_root_outside_local_run_is_an_error(basic, monkeypatch):
    monkeypatch.setenv("BUNDLE_VAR_root", "${local.root}/x")
    with pytest.raises(BundleConfigError, match=r"BUNDLE_VAR_root.*only exists in local runs"):
        load_bundle(basic).resolve_variables("prod", local=False)


def test_jobs_resolve_dollar_refs_and_keep_job_refs(basic):
    bundle = load_bundle(basic)
    job = bundle.jobs("prod", local=False)["etl"]
    assert job["name"] == "etl-prod"
    assert job["email_notifications"]["on_failure"] == ["a@example.com", "b@example.com"]
    assert job["parameters"] == [{"name": "catalog", "default": "prod"}]
    task = job["tasks"][0]
    assert task["max_retries"] == 4
    assert task["notebook_task"]["base_parameters"] == {"table": "{{input}}", "label": "demo-{{job.run_id}}"}
    assert bundle.job_file("etl") == basic.resolve() / "resources" / "etl.job.yml"


def test_target_resources_override_merges_tasks_by_key(basic):
    text = (basic / "databricks.yml").read_text()
    text += "    resources:\n      jobs:\n        etl:\n          tasks:\n            - task_key: t1\n              max_retries: 0\n"
    (basic / "databricks.yml").write_text(text)
    job = load_bundle(basic).jobs("prod", local=False)["etl"]
    assert job["tasks"][0]["max_retries"] == 0
    assert job["tasks"][0]["notebook_task"]["notebook_path"] == "../nb/one"


def test_spark_conf_values_are_strings(basic):
    write(basic, "local.yml", "spark_conf:\n  spark.a: 4\n  spark.b: true\n  spark.c: 1g\n")
    assert load_bundle(basic).spark_conf() == {"spark.a": "4", "spark.b": "true", "spark.c": "1g"}


def test_spark_conf_without_local_yml_is_empty(basic):
    assert load_bundle(basic).spark_conf() == {}


def test_yaml_syntax_error_names_file_and_line(basic):
    write(basic, "resources/bad.yml", "resources:\n  jobs: [unclosed\n")
    with pytest.raises(BundleConfigError) as err:
        load_bundle(basic)
    assert str(err.value).startswith("resources/bad.yml:")
    assert "invalid YAML" in str(err.value)


def test_unknown_target(basic):
    bundle = load_bundle(basic)
    with pytest.raises(BundleConfigError, match=r"unknown target 'qa' \(targets: dev, prod\)"):
        bundle.resolve_variables("qa", local=True)
    with pytest.raises(BundleConfigError, match="unknown target"):
        bundle.jobs("qa", local=True)


def test_unknown_variable_reference_names_file_and_key(basic):
    write(basic, "resources/extra.yml", "resources:\n  jobs:\n    other:\n      name: ${var.nope}\n")
    with pytest.raises(BundleConfigError) as err:
        load_bundle(basic).jobs("prod", local=False)
    message = str(err.value)
    assert message.startswith("resources/extra.yml: resources.jobs.other.name:")
    assert "${var.nope}" in message and "catalog" in message


def test_unsupported_reference(basic):
    write(
        basic,
        "resources/extra.yml",
        "resources:\n  jobs:\n    other:\n      name: ${resources.jobs.etl.id}\n",
    )
    with pytest.raises(BundleConfigError, match=r"cannot resolve \$\{resources.jobs.etl.id\}"):
        load_bundle(basic).jobs("prod", local=False)


def test_reference_cycle_is_reported(tmp_path):
    write(
        tmp_path,
        "databricks.yml",
        """
        bundle: {name: x}
        variables:
          a: {default: "${var.b}/a"}
          b: {default: "${var.c}"}
          c: {default: "x-${var.a}"}
        """,
    )
    with pytest.raises(BundleConfigError, match=r"reference cycle: var.a -> var.b -> var.c -> var.a"):
        load_bundle(tmp_path).resolve_variables("default", local=False)


def test_complex_value_inside_a_string_is_an_error(basic, monkeypatch):
    monkeypatch.setenv("BUNDLE_VAR_catalog", "c-${var.emails}")
    with pytest.raises(BundleConfigError, match=r"complex value"):
        load_bundle(basic).resolve_variables("prod", local=False)


def test_variable_without_value_fails_where_referenced_and_names_the_setting(tmp_path):
    write(
        tmp_path,
        "databricks.yml",
        "bundle: {name: x}\nvariables:\n  token: {description: secret}\n  other: {default: 1}\n"
        "resources:\n  jobs:\n    j: {name: '${var.token}'}\n",
    )
    bundle = load_bundle(tmp_path)
    assert bundle.resolve_variables("default", local=False) == {"other": 1}
    with pytest.raises(
        BundleConfigError, match=r"variable 'token' has no value for target 'default'.*BUNDLE_VAR_token"
    ):
        bundle.jobs("default", local=False)


def test_local_yml_variable_must_be_declared(basic):
    write(basic, "local.yml", "variables:\n  catalgo: x\n")
    with pytest.raises(BundleConfigError, match=r"local.yml: variables.catalgo is not declared"):
        load_bundle(basic)


def test_duplicate_job_in_two_files(basic):
    write(basic, "resources/again.yml", "resources:\n  jobs:\n    etl: {name: again}\n")
    with pytest.raises(
        BundleConfigError,
        match=r"resources/etl.job.yml: resources.jobs.etl is already defined in resources/again.yml",
    ):
        load_bundle(basic)


def test_missing_databricks_yml(tmp_path):
    with pytest.raises(BundleConfigError, match=r"databricks\.yml: file not found"):
        load_bundle(tmp_path)


# The project's own bundle -------------------------------------------------------------------


def test_project_bundle_dev_local():
    bundle = load_bundle(PROJECT)
    assert bundle.default_target == "dev"
    values = bundle.resolve_variables("dev", local=True)
    assert values["catalog"] == "spark_catalog"
    assert (values["bronze_schema"], values["silver_schema"], values["gold_schema"]) == (
        "local_bronze",
        "local_silver",
        "local_gold",
    )
    assert values["landing_root"] == str(PROJECT / ".lakehouse" / "dev" / "landing")
    assert values["checkpoint_root"] == str(PROJECT / ".lakehouse" / "dev" / "checkpoints")
    assert values["notification_email"] == ""


def test_project_bundle_prod_remote_with_stubbed_user():
    bundle = load_bundle(PROJECT, current_user=lambda: {"userName": "someone@example.com"})
    values = bundle.resolve_variables("prod", local=False)
    assert values["catalog"] == "prod"
    assert values["bronze_schema"] == "bronze"
    assert values["landing_root"] == "/Volumes/prod/bronze/landing"
    dev = bundle.resolve_variables("dev", local=False)
    assert dev["bronze_schema"] == "someone_bronze"


def test_project_job_parameters_dev_local():
    bundle = load_bundle(PROJECT)
    job = bundle.jobs("dev", local=True, keys=("medallion",))["medallion"]
    assert bundle.notebook_jobs("dev") == ["maintenance", "medallion"]  # not the dashboards' refresh job
    params = {p["name"]: p["default"] for p in job["parameters"]}
    assert params["target"] == "dev"
    assert params["catalog"] == "spark_catalog"
    assert params["landing_root"] == str(PROJECT / ".lakehouse" / "dev" / "landing")
    assert job["tasks"][1]["for_each_task"]["inputs"] == "{{tasks.plan.values.bronze_tables}}"
    assert job["tasks"][1]["for_each_task"]["concurrency"] == 2
    assert bundle.job_file("medallion") == PROJECT / "resources" / "medallion.job.yml"


def test_lookup_variable_is_left_out_until_referenced(tmp_path):
    write(
        tmp_path,
        "databricks.yml",
        """
        bundle: {name: x}
        variables:
          cluster: {lookup: {cluster: shared}}
          name: {default: plain}
        resources:
          jobs:
            j: {name: "${var.cluster}"}
        """,
    )
    bundle = load_bundle(tmp_path)
    assert bundle.resolve_variables("default", local=True) == {"name": "plain"}
    with pytest.raises(
        BundleConfigError, match=r"resources.jobs.j.name: variable 'cluster' is a lookup variable"
    ):
        bundle.jobs("default", local=True)
