"""CI/CD as the deploy docs promise it: OIDC only, least privilege, prod behind its environment."""

from __future__ import annotations

from pathlib import Path

import yaml

WORKFLOWS = Path(__file__).resolve().parents[3] / ".github" / "workflows"


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))


def test_ci_runs_exactly_what_ci_run_runs_with_read_only_token():
    ci = load("ci.yml")
    assert ci["permissions"] == {"contents": "read"}
    steps = ci["jobs"]["check"]["steps"]
    assert [s["run"] for s in steps if "run" in s] == ["bash .ci/run"]
    assert {"pull_request", "push", "workflow_call"} <= set(ci[True])  # YAML reads `on:` as True


def test_cd_deploys_with_github_oidc_and_no_stored_secret():
    text = (WORKFLOWS / "cd.yml").read_text(encoding="utf-8")
    assert "secrets." not in text, "no long-lived tokens: the service principal federates with GitHub OIDC"
    cd = load("cd.yml")
    assert cd["permissions"] == {"contents": "read"}
    for job, environment in (("staging", "staging"), ("prod", "prod")):
        body = cd["jobs"][job]
        assert body["environment"] == environment
        assert body["permissions"] == {"contents": "read", "id-token": "write"}
        assert body["env"]["DATABRICKS_AUTH_TYPE"] == "github-oidc"
        assert body["needs"] == "checks"
        runs = [s.get("run", "") for s in body["steps"]]
        assert f"databricks bundle deploy -t {job} --auto-approve" in runs
        assert any(r.startswith(f".venv/bin/medallion deploy-check -t {job}") for r in runs)


def test_staging_follows_main_and_prod_only_version_tags():
    cd = load("cd.yml")
    assert cd["jobs"]["staging"]["if"] == "github.ref == 'refs/heads/main'"
    assert cd["jobs"]["prod"]["if"] == "startsWith(github.ref, 'refs/tags/v')"
    assert any("bundle run medallion -t staging" in s.get("run", "") for s in cd["jobs"]["staging"]["steps"])
