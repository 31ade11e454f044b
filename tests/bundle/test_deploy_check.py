"""`medallion deploy-check` against the loopback workspace after the real CLI deployed and ran staging."""

from __future__ import annotations

import subprocess
import sys

import pytest
from bundle_harness import SERVICE_PRINCIPAL, TEAM_EMAIL

from medallion.bundle import load_bundle
from medallion.bundle.deploy_check import expected_deployment, run_deploy_check


@pytest.fixture(scope="module")
def ran_staging(deployment):
    """Staging deployed (session fixture) and its job run once through `databricks bundle run`."""
    result = deployment.pipeline(
        "bundle", "run", "medallion", "-t", "staging", env=deployment.env_for("staging")
    )
    assert result.returncode == 0, result.output
    assert result.calls("POST", "/jobs/run-now")
    return deployment


@pytest.fixture
def client(ran_staging, monkeypatch):
    from databricks.sdk import WorkspaceClient

    monkeypatch.setenv("BUNDLE_VAR_service_principal", SERVICE_PRINCIPAL)
    monkeypatch.setenv("BUNDLE_VAR_notification_email", TEAM_EMAIL)
    return WorkspaceClient(host=ran_staging.stub.host, token="dummy", auth_type="pat")


def check_staging(deployment, client):
    expected = expected_deployment(load_bundle(deployment.root), "staging")
    return {check.name: check for check in run_deploy_check(client, expected)}


def test_expectation_comes_from_the_job_parameters(ran_staging, client):
    expected = expected_deployment(load_bundle(ran_staging.root), "staging")
    assert expected.job_name == "medallion-staging"
    assert expected.run_as == SERVICE_PRINCIPAL
    assert expected.schemas == (
        "staging.bronze", "staging.silver", "staging.gold", "staging.security", "staging.ops"
    )  # fmt: skip
    assert expected.volumes == ("staging.bronze.landing", "staging.bronze.checkpoints")


def test_everything_the_deploy_made_is_found_and_the_run_succeeded(ran_staging, client):
    checks = check_staging(ran_staging, client)
    assert all(check.ok for check in checks.values()), [c.line() for c in checks.values()]
    assert set(checks) == {
        "schema staging.bronze",
        "schema staging.silver",
        "schema staging.gold",
        "schema staging.security",
        "schema staging.ops",
        "volume staging.bronze.landing",
        "volume staging.bronze.checkpoints",
        "job 'medallion-staging'",
        "last run",
    }
    assert checks["last run"].detail.startswith("SUCCESS")


def test_a_missing_volume_and_a_failed_run_fail_by_name(ran_staging, client):
    stub = ran_staging.stub
    with stub._lock:
        volume = stub.volumes.pop("staging.bronze.landing")
        last = max(r for r in stub.runs if stub.runs[r]["job_id"] in stub.jobs)
        state = dict(stub.runs[last]["state"])
        stub.runs[last]["state"] = {**state, "result_state": "FAILED"}
    try:
        checks = check_staging(ran_staging, client)
    finally:
        with stub._lock:
            stub.volumes["staging.bronze.landing"] = volume
            stub.runs[last]["state"] = state
    failed = {name for name, check in checks.items() if not check.ok}
    assert failed == {"volume staging.bronze.landing", "last run"}
    assert checks["last run"].detail.startswith("FAILED")


def test_command_prints_each_check_and_exits_by_the_result(ran_staging):
    env = ran_staging.env_for("staging") | {"DATABRICKS_HOST": ran_staging.stub.host}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "medallion.cli",
            "--project-dir",
            str(ran_staging.root),
            "deploy-check",
            "-t",
            "staging",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok    job 'medallion-staging'" in proc.stdout
    assert "deploy check of staging: 9 ok, 0 failed" in proc.stdout
