"""The real Databricks CLI against a loopback workspace: one deploy of each target, asserted many times.

`make tools` builds the pinned CLI once per machine; `make test` passes its path in DATABRICKS_CLI.
Without it these tests skip locally and fail in CI (CI=true), so a green CI run always includes them.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from bundle_harness import DEVELOPER, SERVICE_PRINCIPAL, TARGETS, Cli, Deployment, bundle_copy
from workspace_stub import WorkspaceStub


def pytest_collection_modifyitems(items):
    """Everything here runs the CLI: `make test-unit` leaves it out (`-m "not spark and not bundle"`)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.bundle)


@pytest.fixture(scope="session")
def databricks_cli() -> str:
    path = os.environ.get("DATABRICKS_CLI", "")
    if path and Path(path).is_file():
        return path
    message = "the pinned Databricks CLI is not available: run `make tools` (DATABRICKS_CLI is unset)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def deployment(databricks_cli, tmp_path_factory) -> Deployment:
    started = time.monotonic()
    base = tmp_path_factory.mktemp("bundle")
    stub = WorkspaceStub(user_name=DEVELOPER)
    root = bundle_copy(base / "project", stub.host)
    developer = Cli(databricks_cli, root, stub, base / "home-developer")
    pipeline = Cli(databricks_cli, root, stub, base / "home-pipeline")
    deployment = Deployment(stub, root, developer, pipeline, {}, 0.0)
    for target in TARGETS:
        cli, env = deployment.cli_for(target), deployment.env_for(target)
        # The stub answers "who am I" with whoever deploys this target.
        stub.user["userName"] = DEVELOPER if target == "dev" else SERVICE_PRINCIPAL
        for name, args in (
            ("validate", ["bundle", "validate", "--strict", "-t", target]),
            ("config", ["bundle", "validate", "-o", "json", "-t", target]),
            ("plan", ["bundle", "plan", "-t", target]),
            ("deploy", ["bundle", "deploy", "--auto-approve", "-t", target]),
        ):
            deployment.results[(name, target)] = cli(*args, env=env)
    stub.user["userName"] = DEVELOPER
    deployment.results[("redeploy", "dev")] = developer("bundle", "deploy", "--auto-approve", "-t", "dev")
    deployment.seconds = time.monotonic() - started
    yield deployment
    stub.stop()
