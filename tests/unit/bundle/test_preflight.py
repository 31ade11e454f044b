"""`medallion preflight`: what a target needs before its first deploy, named with the fix (no workspace call)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from medallion.bundle import load_bundle
from medallion.bundle.deploy_check import expected_deployment, preflight
from medallion.cli import main

PROJECT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _no_bundle_env(monkeypatch):
    import os

    for key in list(os.environ):
        if key.startswith("BUNDLE_VAR_"):
            monkeypatch.delenv(key)


@pytest.fixture
def project(tmp_path) -> Path:
    """The project's bundle files, with real-looking hosts for every target."""
    for name in ("databricks.yml", "local.yml"):
        shutil.copy(PROJECT / name, tmp_path / name)
    shutil.copytree(PROJECT / "resources", tmp_path / "resources")
    config = tmp_path / "databricks.yml"
    config.write_text(
        re.sub(r"https://(\w+)-workspace\.invalid", r"https://\1.cloud.example.com", config.read_text()),
        encoding="utf-8",
    )
    return tmp_path


def test_the_template_placeholder_hosts_are_refused_with_the_fix():
    problems = preflight(load_bundle(PROJECT), "dev")
    assert problems == [
        "databricks.yml: targets.dev.workspace.host is the template's placeholder https://dev-workspace.invalid: "
        "put the URL of the dev workspace there"
    ]


def test_staging_names_each_variable_it_needs(project):
    problems = preflight(load_bundle(project), "staging")
    assert [p.split(" has no value")[0] for p in problems] == [
        "variable notification_email",
        "variable service_principal",
    ]
    assert all("set BUNDLE_VAR_" in p and "targets.staging.variables." in p for p in problems)


def test_ready_when_the_environment_sets_them(project, monkeypatch, capsys):
    monkeypatch.setenv("BUNDLE_VAR_service_principal", "7d5a1f3e-0c4b-4d2a-9e61-3b8f2c9a0d14")
    monkeypatch.setenv("BUNDLE_VAR_notification_email", "team@example.com")
    assert preflight(load_bundle(project), "prod") == []
    assert main(["--project-dir", str(project), "preflight", "-t", "prod"]) == 0
    assert "target prod: ready to deploy" in capsys.readouterr().out


def test_command_exits_2_and_lists_the_problems(project, capsys):
    assert main(["--project-dir", str(project), "preflight", "-t", "prod"]) == 2
    err = capsys.readouterr().err
    assert "BUNDLE_VAR_service_principal" in err and "target prod is not ready to deploy (2 to fix" in err


def test_dev_expectation_carries_the_development_prefix(project):
    bundle = load_bundle(project, current_user=lambda: {"userName": "jane.doe@example.com"})
    expected = expected_deployment(bundle, "dev")
    assert expected.job_name == "[dev jane_doe] medallion-dev"
    assert expected.run_as is None
    assert expected.schemas == (
        "dev.jane_doe_bronze",
        "dev.jane_doe_silver",
        "dev.jane_doe_gold",
        "dev.jane_doe_security",
        "dev.jane_doe_ops",
    )
    assert expected.task_keys == (
        "plan",
        "bronze",
        "silver_references",
        "silver",
        "gold",
        "gold_on_gold",
        "security",
        "dq_alerts",
    )
