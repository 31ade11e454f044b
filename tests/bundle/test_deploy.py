"""What a workspace receives from `databricks bundle validate/plan/deploy` of each target (real CLI, loopback)."""

from __future__ import annotations

import json
import re

import pytest
from bundle_harness import DEVELOPER, PROJECT, SERVICE_PRINCIPAL, TARGETS, TEAM_EMAIL, Cli, bundle_copy
from schema_check import schema_problems
from workspace_stub import WorkspaceStub

TASKS = ["plan", "bronze", "silver_references", "silver", "gold", "gold_on_gold", "security", "dq_alerts"]
EXCLUDED_FOLDERS = ("tests", "bench", "docs", "scripts", "requirements", ".github", ".ci")


def job_created(deployment, target: str, job: str = "") -> dict:
    """The data job (or the `dashboards` refresh or `maintenance` job) as the deploy created it."""
    creates = deployment.results[("deploy", target)].calls("POST", "/jobs/create")
    kinds = {c["body"]["name"].split("] ")[-1].split("-")[1]: c["body"] for c in creates}
    assert len(creates) == 3 and set(kinds) == {target, "dashboards", "maintenance"}, list(kinds)
    return kinds[job or target]


def root_path(target: str) -> str:
    who = DEVELOPER if target == "dev" else SERVICE_PRINCIPAL
    return f"/Workspace/Users/{who}/.bundle/medallion/{target}"


def all_tasks(job: dict) -> list[dict]:
    """Top-level tasks and the task inside each for-each."""
    found = []
    for task in job["tasks"]:
        found.append(task)
        if "for_each_task" in task:
            found.append(task["for_each_task"]["task"])
    return found


@pytest.mark.parametrize("target", TARGETS)
def test_validate_strict_passes_without_warnings(deployment, target):
    result = deployment.results[("validate", target)]
    assert result.returncode == 0, result.output
    assert "Validation OK!" in result.output
    for word in ("Warning", "Recommendation", "Error"):
        assert word not in result.output, result.output


@pytest.mark.parametrize("target", TARGETS)
def test_plan_and_deploy_succeed_with_every_call_answered(deployment, target):
    plan = deployment.results[("plan", target)]
    assert plan.returncode == 0, plan.output
    for resource in (
        "jobs.medallion",
        "schemas.bronze",
        "schemas.silver",
        "schemas.gold",
        "schemas.ops",
        "volumes.landing",
        "volumes.checkpoints",
    ):
        assert f"create {resource}" in plan.output
    deploy = deployment.results[("deploy", target)]
    assert deploy.returncode == 0, deploy.output
    assert "Deployment complete!" in deploy.output
    assert not [r for r in deploy.requests if r.get("unhandled")]


@pytest.mark.parametrize("target", TARGETS)
def test_job_tasks_run_the_deployed_notebooks_on_serverless(deployment, target):
    job = job_created(deployment, target)
    assert sorted(t["task_key"] for t in job["tasks"]) == sorted(TASKS)  # the CLI sends them sorted
    for task in all_tasks(job):
        if "notebook_task" in task:
            assert task["notebook_task"]["notebook_path"].startswith(f"{root_path(target)}/files/notebooks/")
        # serverless: no cluster and no cluster libraries (the notebooks install the project)
        assert not task.get("job_cluster_key") and not task.get("libraries") and not task.get("new_cluster")
    assert not job.get("job_clusters")
    bronze = next(t for t in job["tasks"] if t["task_key"] == "bronze")
    assert bronze["for_each_task"]["inputs"] == "{{tasks.plan.values.bronze_tables}}"
    assert bronze["depends_on"] == [{"task_key": "plan"}]


@pytest.mark.parametrize("target", TARGETS)
def test_job_timeout_covers_its_tasks_and_one_mail_per_failure(deployment, target):
    job = job_created(deployment, target)
    assert job["timeout_seconds"] >= sum(task.get("timeout_seconds", 0) for task in all_tasks(job))
    expected = DEVELOPER if target == "dev" else TEAM_EMAIL
    assert job["email_notifications"]["on_failure"] == [expected]
    assert all(not task.get("email_notifications") for task in all_tasks(job))


def test_schedule_is_paused_in_dev_and_runs_in_staging_and_prod(deployment):
    schedules = {t: job_created(deployment, t)["schedule"] for t in TARGETS}
    assert schedules["dev"]["pause_status"] == "PAUSED"
    assert schedules["staging"]["pause_status"] == schedules["prod"]["pause_status"] == "UNPAUSED"
    assert {s["quartz_cron_expression"] for s in schedules.values()} == {"0 0 5 * * ?"}


def test_names_dev_copy_per_developer_and_prod_as_is(deployment):
    assert job_created(deployment, "dev")["name"] == "[dev jane_doe] medallion-dev"
    assert job_created(deployment, "prod")["name"] == "medallion-prod"
    assert job_created(deployment, "staging")["name"] == "medallion-staging"


def test_staging_and_prod_run_as_the_service_principal_and_dev_as_the_developer(deployment):
    assert "run_as" not in job_created(deployment, "dev")
    for target in ("staging", "prod"):
        assert job_created(deployment, target)["run_as"] == {"service_principal_name": SERVICE_PRINCIPAL}


@pytest.mark.parametrize("target", ["staging", "prod"])
def test_permissions_owner_is_the_service_principal_and_readers_only_view(deployment, target):
    deploy = deployment.results[("deploy", target)]
    acl_by_object = {
        r["path"]: r["body"]["access_control_list"] for r in deploy.calls("PUT", "/permissions/")
    }
    job_acl = next(acl for path, acl in acl_by_object.items() if "/permissions/jobs/" in path)
    levels = {
        (e.get("service_principal_name") or e.get("group_name") or e.get("user_name")): e["permission_level"]
        for e in job_acl
    }
    assert levels == {SERVICE_PRINCIPAL: "IS_OWNER", "data-engineers": "CAN_VIEW"}
    folder_acl = next(acl for path, acl in acl_by_object.items() if "/permissions/directories/" in path)
    writers = {
        e.get("service_principal_name") or e.get("group_name") or e.get("user_name")
        for e in folder_acl
        if e["permission_level"] in ("CAN_MANAGE", "CAN_EDIT", "CAN_RUN")
    }
    assert writers == {SERVICE_PRINCIPAL}


@pytest.mark.parametrize("target", TARGETS)
def test_files_go_to_the_deployers_home_and_only_what_the_job_needs(deployment, target):
    uploads = [
        r["body"]["path"] for r in deployment.results[("deploy", target)].calls("POST", "/import-file/")
    ]
    files = [
        p.removeprefix(f"{root_path(target)}/files/")
        for p in uploads
        if p.startswith(f"{root_path(target)}/files/")
    ]
    assert "notebooks/00_plan.py" in files and "notebooks/_bootstrap.py" in files
    assert (
        "pyproject.toml" in files
        and "src/medallion/cli/__init__.py" in files
        and "specs/bronze_sources.csv" in files
    )
    assert not [f for f in files if f.split("/")[0] in EXCLUDED_FOLDERS], "tooling and tests are not deployed"
    assert all(p.startswith(root_path(target)) for p in uploads)
    assert not [p for p in uploads if "/Shared/" in p]


@pytest.mark.parametrize("target", TARGETS)
def test_schemas_and_volumes_are_the_ones_the_job_parameters_name(deployment, target):
    deploy = deployment.results[("deploy", target)]
    params = {p["name"]: p["default"] for p in job_created(deployment, target)["parameters"]}
    catalog = params["catalog"]
    assert catalog == target
    schemas = {
        (r["body"]["catalog_name"], r["body"]["name"]) for r in deploy.calls("POST", "/unity-catalog/schemas")
    }
    layers = ("bronze", "silver", "gold", "security", "ops")  # security: mask functions; ops: run records
    backup = params["bronze_schema"].replace("bronze", "backup")  # `medallion backup`: named like the layers
    assert schemas == {(catalog, params[f"{layer}_schema"]) for layer in layers} | {(catalog, backup)}
    volumes = {r["body"]["name"]: r["body"] for r in deploy.calls("POST", "/unity-catalog/volumes")}
    assert set(volumes) == {"landing", "checkpoints"}
    for name, parameter in (("landing", "landing_root"), ("checkpoints", "checkpoint_root")):
        volume = volumes[name]
        assert volume["volume_type"] == "MANAGED"
        assert params[parameter] == f"/Volumes/{volume['catalog_name']}/{volume['schema_name']}/{name}"
    if target == "dev":
        assert params["bronze_schema"] == "jane_doe_bronze"  # no second dev prefix


@pytest.mark.parametrize("target", TARGETS)
def test_the_maintenance_job_runs_on_its_own_schedule(deployment, target):
    job = job_created(deployment, target, "maintenance")
    assert job["schedule"]["quartz_cron_expression"] == "0 0 3 ? * SUN"
    assert (job["schedule"].get("pause_status") == "PAUSED") == (target == "dev")
    (task,) = job["tasks"]
    assert task["notebook_task"]["notebook_path"].endswith("/files/notebooks/50_maintenance")
    params = {p["name"]: p["default"] for p in job["parameters"]}
    assert params["predictive_optimization"] == "false" and params["catalog"] == target


def test_second_deploy_changes_nothing(deployment):
    again = deployment.results[("redeploy", "dev")]
    assert again.returncode == 0, again.output
    assert not again.calls("POST", "/jobs/create") and not again.calls("POST", "/jobs/reset")
    assert not again.calls("POST", "/unity-catalog/")
    assert not [r for r in again.calls("POST", "/import-file/") if "/files/" in r["body"]["path"]]


def test_config_schema_accepts_the_bundle_and_catches_a_typo(deployment, tmp_path):
    schema = json.loads(deployment.developer("bundle", "schema").stdout)

    files = [deployment.root / "databricks.yml", *sorted((deployment.root / "resources").glob("*.yml"))]
    assert {f.name: schema_problems(schema, f) for f in files} == {f.name: [] for f in files}
    broken = tmp_path / "broken.yml"
    text = (deployment.root / "resources" / "unity_catalog.yml").read_text().replace("MANAGED", "MANGED", 1)
    broken.write_text(text.replace("comment:", "coment:", 1))
    problems = schema_problems(schema, broken)
    assert any("MANGED" in p for p in problems) and any("coment" in p for p in problems), problems


@pytest.mark.parametrize("target", ["staging", "prod"])
def test_missing_service_principal_is_named(deployment, target):
    env = deployment.pipeline.env(BUNDLE_VAR_notification_email=TEAM_EMAIL)
    result = deployment.pipeline("bundle", "validate", "-t", target, env=env)
    assert result.returncode != 0
    assert "service_principal" in result.output


def test_classic_compute_option_from_the_docs_deploys_every_task_on_the_job_cluster(databricks_cli, tmp_path):
    doc = (PROJECT / "docs" / "deploy.md").read_text(encoding="utf-8")
    snippet = re.search(r"<!-- classic-compute:.*?-->\n```yaml\n(.*?)```", doc, re.DOTALL).group(1)
    with WorkspaceStub(user_name=SERVICE_PRINCIPAL) as stub:
        root = bundle_copy(tmp_path / "project", stub.host)
        config = root / "databricks.yml"
        text = config.read_text(encoding="utf-8")
        assert text.rstrip().endswith("level: CAN_VIEW"), "prod must stay the last target for this test"
        config.write_text(text.rstrip() + "\n" + snippet, encoding="utf-8")
        cli = Cli(databricks_cli, root, stub, tmp_path / "home")
        env = cli.env(
            BUNDLE_VAR_service_principal=SERVICE_PRINCIPAL, BUNDLE_VAR_notification_email=TEAM_EMAIL
        )
        assert (result := cli("bundle", "validate", "--strict", "-t", "prod", env=env)).returncode == 0, (
            result.output
        )
        deploy = cli("bundle", "deploy", "--auto-approve", "-t", "prod", env=env)
        assert deploy.returncode == 0, deploy.output
        job = next(
            c["body"] for c in deploy.calls("POST", "/jobs/create") if c["body"]["name"] == "medallion-prod"
        )
    assert [c["job_cluster_key"] for c in job["job_clusters"]] == ["medallion_cluster"]
    cluster = job["job_clusters"][0]["new_cluster"]
    assert cluster["spark_version"] == "17.3.x-scala2.13" and cluster["data_security_mode"] == "SINGLE_USER"
    assert sorted(t["task_key"] for t in job["tasks"]) == sorted(TASKS)
    assert {t.get("job_cluster_key") for t in all_tasks(job) if "notebook_task" in t} == {"medallion_cluster"}
