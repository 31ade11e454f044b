"""Spec -> `.lvdash.json` and bundle resources: what Lakeview and the Databricks CLI read. The committed
files under dashboards/ are the golden files (`medallion dashboards build` rewrites them; the deploy
tests check they are current); these tests pin the rules that make them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from medallion.dashboards.build import RESOURCES_FILE, generated_files, stale_files
from medallion.dashboards.lvdash import WIDGET_SPECS, lvdash
from medallion.dashboards.resources import resources, to_yaml
from medallion.specs import load_specs


@pytest.fixture(scope="module")
def dashboards(project_root: Path):
    return {d.name: d for d in load_specs(project_root / "specs").of("dashboards")}


def _widgets(board: dict) -> list[dict]:
    return [item["widget"] for page in board["pages"] for item in page["layout"]]


def test_each_widget_is_a_query_over_its_dataset_and_a_versioned_spec(dashboards):
    board = lvdash(dashboards["sales"])
    datasets = {d["name"]: d for d in board["datasets"]}
    assert "".join(datasets["daily"]["queryLines"]) == "SELECT * FROM daily_sales"  # schema: per target
    assert datasets["products"]["parameters"][0]["keyword"] == "top_n"
    assert datasets["products"]["parameters"][0]["defaultSelection"]["values"]["values"] == [{"value": "10"}]
    for widget, spec in zip(
        _widgets(board), [w for p in dashboards["sales"].pages for w in p.widgets], strict=True
    ):
        assert (widget["spec"]["widgetType"], widget["spec"]["version"]) == WIDGET_SPECS[spec.kind]
        query = widget["queries"][0]["query"]
        assert query["datasetName"] == spec.dataset
        names = {f["name"] for f in query["fields"]}
        encoded = widget["spec"]["encodings"]
        used = [e["fieldName"] for e in (encoded.get("columns") or encoded.get("fields") or encoded.values())]
        assert set(used) <= names, (spec.name, used, names)
    line = next(w for w in _widgets(board) if w["spec"]["widgetType"] == "line")
    assert line["spec"]["encodings"]["x"] == {
        "fieldName": "order_date",
        "scale": {"type": "temporal"},
        "displayName": "order_date",
    }
    assert {"name": "sum(revenue)", "expression": "SUM(`revenue`)"} in line["queries"][0]["query"]["fields"]
    table = next(w for w in _widgets(board) if w["spec"]["widgetType"] == "table")
    assert table["queries"][0]["query"]["disaggregated"] is True


def test_positions_stay_on_the_six_column_grid(dashboards):
    for spec in dashboards.values():
        for page in lvdash(spec)["pages"]:
            for item in page["layout"]:
                p = item["position"]
                assert p["x"] >= 0 and p["x"] + p["width"] <= 6 and p["height"] > 0


def test_resources_name_each_targets_schema_and_round_trip_as_yaml(dashboards):
    data = resources(tuple(dashboards.values()))
    assert yaml.safe_load(to_yaml(data)) == data
    boards = data["resources"]["dashboards"]
    assert boards["sales"]["dataset_schema"] == "${var.gold_schema}"
    assert boards["pipeline_health"]["dataset_schema"] == "${var.ops_schema}"
    assert {p["level"] for p in boards["sales"]["permissions"]} == {"CAN_RUN", "CAN_MANAGE"}
    alert = data["resources"]["alerts"]["sales_no_recent_sales"]
    assert "`${var.catalog}`.`${var.gold_schema}`.daily_sales" in alert["query_text"]
    assert alert["evaluation"]["comparison_operator"] == "LESS_THAN"
    job = data["resources"]["jobs"]["dashboards_refresh"]
    assert [t["dashboard_task"]["dashboard_id"] for t in job["tasks"]] == [
        "${resources.dashboards.pipeline_health.id}",
        "${resources.dashboards.sales.id}",
    ]
    assert "${var.catalog}.${var.gold_schema}.daily_sales" in job["trigger"]["table_update"]["table_names"]


def test_a_spec_change_makes_the_generated_files_stale(dashboards, project_root, tmp_path):
    specs = tuple(dashboards.values())
    assert stale_files(project_root, specs) == []
    files = generated_files(specs)
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "dashboards" / "gone.lvdash.json").write_text("{}")
    retitled = tuple(
        d if d.name != "sales" else d.__class__(**{**d.__dict__, "title": "Revenue"}) for d in specs
    )
    assert stale_files(tmp_path, retitled) == [RESOURCES_FILE, "dashboards/gone.lvdash.json"]
