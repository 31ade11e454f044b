"""Running the real Databricks CLI on a copy of the project against a loopback workspace."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from workspace_stub import WorkspaceStub

PROJECT = Path(__file__).resolve().parents[2]
SERVICE_PRINCIPAL = "7d5a1f3e-0c4b-4d2a-9e61-3b8f2c9a0d14"
TEAM_EMAIL = "data-team@example.com"
DEVELOPER = "jane.doe@example.com"
TARGETS = ("dev", "staging", "prod")
# What a deploy must not upload or copy: tooling, caches and local state.
_NOT_COPIED = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".lakehouse",
    ".databricks",
    "dist",
    "build",
    "__pycache__",
    "*.egg-info",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    "work",
)


@dataclass
class CliResult:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    requests: list[dict] = field(default_factory=list)  # what the workspace received during the call

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def calls(self, method: str, path_part: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == method and path_part in r["path"]]


class Cli:
    """Runs the pinned CLI in a bundle folder against one stub, as one identity (its own HOME)."""

    def __init__(self, binary: str, root: Path, stub: WorkspaceStub, home: Path):
        self.binary, self.root, self.stub, self.home = binary, root, stub, home

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(self.home),
            "DATABRICKS_TOKEN": "dummy",
            "DATABRICKS_BUNDLE_ENGINE": "direct",
            "DATABRICKS_CLI_DISABLE_TELEMETRY": "1",
        }
        env.update(extra)
        return env

    def __call__(self, *args: str, env: dict[str, str] | None = None, timeout: int = 120) -> CliResult:
        first = len(self.stub.requests)
        proc = subprocess.run(
            [self.binary, *args],
            cwd=self.root,
            env=env or self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return CliResult(list(args), proc.returncode, proc.stdout, proc.stderr, self.stub.requests[first:])


def bundle_copy(dest: Path, host: str) -> Path:
    """The project as a deploy sees it, with every target's workspace.host pointing at the stub."""
    shutil.copytree(PROJECT, dest, ignore=_NOT_COPIED)
    config = dest / "databricks.yml"
    text, count = re.subn(r"https://[a-z]+-workspace\.invalid", host, config.read_text(encoding="utf-8"))
    assert count == len(TARGETS), "every target must name its workspace host"
    config.write_text(text, encoding="utf-8")
    return dest


@dataclass
class Deployment:
    """Every target validated, planned and deployed once against one stub, in the CI's identities."""

    stub: WorkspaceStub
    root: Path
    developer: Cli
    pipeline: Cli  # the service principal, as CI/CD deploys staging and prod
    results: dict[tuple[str, str], CliResult]
    seconds: float

    def cli_for(self, target: str) -> Cli:
        return self.developer if target == "dev" else self.pipeline

    def env_for(self, target: str) -> dict[str, str]:
        if target == "dev":
            return self.developer.env()
        return self.pipeline.env(
            BUNDLE_VAR_service_principal=SERVICE_PRINCIPAL, BUNDLE_VAR_notification_email=TEAM_EMAIL
        )
