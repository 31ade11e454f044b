"""The dashboards, their alerts and their refresh job as `databricks bundle deploy` (real CLI, loopback)
creates them for each target from the generated resources/dashboards.yml and .lvdash.json files."""

from __future__ import annotations

import json

import pytest
from bundle_harness import DEVELOPER, PROJECT, TARGETS, TEAM_EMAIL
from test_deploy import job_created

from medallion.dashboards.build import stale_files
from medallion.specs import load_specs

SPECS = {spec.name: spec for spec in load_specs(PROJECT / "specs").of("dashboards")}
SCHEMAS = {"dev": "jane_doe_{}", "staging": "{}", "prod": "{}"}


def _dashboards(deployment, target: str) -> dict[str, dict]:
    """Dashboard name (the spec's) -> its create request (body and query)."""
    creates = deployment.results[("deploy", target)].calls("POST", "/lakeview/dashboards")
    found = {}
    for create in creates:
        if create["path"].endswith("/published"):
            continue
        title = create["body"]["display_name"].split("] ")[-1].rsplit(" (", 1)[0]
        name = next(n for n, spec in SPECS.items() if spec.title == title)
        found[name] = create
    return found


def test_the_generated_files_are_up_to_date():
    assert stale_files(PROJECT, tuple(SPECS.values())) == []
    assert set(SPECS) == {"pipeline_health", "sales"}  # the built-in one and the demo's


@pytest.mark.parametrize("target", TARGETS)
def test_each_dashboard_reads_its_layer_of_the_target_and_is_published(deployment, target):
    created = _dashboards(deployment, target)
    assert set(created) == set(SPECS)
    for name, create in created.items():
        layer = SPECS[name].layer
        assert create["query"] == {"dataset_catalog": target, "dataset_schema": SCHEMAS[target].format(layer)}
        sent = json.loads(create["body"]["serialized_dashboard"])
        assert sent == json.loads((PROJECT / "dashboards" / f"{name}.lvdash.json").read_text())
        assert create["body"]["warehouse_id"] == "0123456789abcdef"  # looked up by name
    published = deployment.results[("deploy", target)].calls("POST", "/published")
    assert len(published) == len(SPECS) and all(p["body"]["embed_credentials"] is False for p in published)


@pytest.mark.parametrize("target", TARGETS)
def test_alerts_query_the_targets_tables_and_mail_the_team(deployment, target):
    alerts = {
        a["body"]["display_name"]: a["body"]
        for a in deployment.results[("deploy", target)].calls("POST", "/api/2.0/alerts")
    }
    assert len(alerts) == sum(len(spec.alerts) for spec in SPECS.values())
    stale = next(body for title, body in alerts.items() if "stale_table" in title)
    assert f"`{target}`.`{SCHEMAS[target].format('ops')}`.run_log" in stale["query_text"]
    assert stale["evaluation"]["comparison_operator"] == "GREATER_THAN"
    assert stale["evaluation"]["source"] == {"name": "stalest_hours"}
    email = DEVELOPER if target == "dev" else TEAM_EMAIL
    assert all(
        a["evaluation"]["notification"]["subscriptions"] == [{"user_email": email}] for a in alerts.values()
    )
    assert ("pause_status" in stale["schedule"]) == (target == "dev")  # development mode pauses them


@pytest.mark.parametrize("target", TARGETS)
def test_the_refresh_job_refreshes_each_dashboard_when_its_tables_change(deployment, target):
    job = job_created(deployment, target, "dashboards")
    ids = {name: c for name, c in _dashboards(deployment, target).items()}
    assert {t["task_key"] for t in job["tasks"]} == {f"refresh_{name}" for name in SPECS}
    assert all(t["dashboard_task"]["warehouse_id"] == "0123456789abcdef" for t in job["tasks"])
    assert len(ids) == len(job["tasks"])
    tables = job["trigger"]["table_update"]["table_names"]
    gold = SCHEMAS[target].format("gold")
    assert (
        f"{target}.{gold}.daily_sales" in tables
        and f"{target}.{SCHEMAS[target].format('ops')}.dq_metrics" in tables
    )


def test_dashboard_permissions_come_from_the_spec(deployment):
    sets = deployment.results[("deploy", "prod")].calls("PUT", "/permissions/dashboards/")
    levels = {
        (e.get("group_name"), e["permission_level"]) for s in sets for e in s["body"]["access_control_list"]
    }
    assert {("analysts", "CAN_RUN"), ("data_engineers", "CAN_MANAGE")} <= levels
