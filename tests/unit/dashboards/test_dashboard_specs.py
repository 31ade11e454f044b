"""specs/dashboards/*.json: parsed and laid out on the grid; every mistake named at file and JSON path
(or line, for JSON that does not parse) with a fix."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from medallion.specs import check_specs, load_specs

PROJECT_SPECS = Path(__file__).resolve().parents[3] / "specs"
GOOD = {
    "title": "Test",
    "datasets": {"daily": {"table": "gold.daily_sales"}},
    "pages": [
        {
            "title": "One",
            "widgets": [
                {"kind": "counter", "dataset": "daily", "value": "sum(revenue)", "name": "revenue"},
                {"kind": "bar", "dataset": "daily", "x": "country", "y": "sum(revenue)"},
            ],
        }
    ],
}


def _specs(tmp_path: Path, spec: dict | str) -> Path:
    specs = tmp_path / "specs"
    shutil.copytree(PROJECT_SPECS, specs)
    text = spec if isinstance(spec, str) else json.dumps(spec, indent=2)
    (specs / "dashboards" / "test.json").write_text(text)
    return specs


def _with(path: str, value) -> dict:
    """GOOD with one value replaced (or added) at a dotted path; `None` removes the key."""
    spec = json.loads(json.dumps(GOOD))
    node = spec
    keys = [int(k) if k.isdigit() else k for k in path.split(".")]
    for key in keys[:-1]:
        node = node[key]
    if value is None:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value
    return spec


def test_the_demo_and_the_built_in_dashboards_load_laid_out_on_the_grid(project_root: Path):
    dashboards = {d.name: d for d in load_specs(project_root / "specs").of("dashboards")}
    assert set(dashboards) == {"pipeline_health", "sales"}
    sales = dashboards["sales"]
    assert sales.layer == "gold" and dashboards["pipeline_health"].layer == "ops"
    assert dashboards["pipeline_health"].builtin and not sales.builtin
    first = sales.pages[0].widgets
    assert [(w.kind, w.x, w.y, w.width) for w in first[:4]] == [
        ("counter", 0, 0, 2),
        ("counter", 2, 0, 2),
        ("counter", 4, 0, 2),
        ("line", 0, 2, 6),
    ]
    for page in (p for d in dashboards.values() for p in d.pages):
        cells = [
            (w.x + dx, w.y + dy) for w in page.widgets for dx in range(w.width) for dy in range(w.height)
        ]
        assert len(cells) == len(set(cells)) and all(0 <= x < 6 for x, _ in cells), page.title
    assert sales.dataset("products").parameters == (("top_n", "INT", "10"),)
    assert set(sales.dataset("daily").columns) >= {"order_date", "country", "revenue", "orders"}


def _overlapping() -> dict:
    spec = _with("pages.0.widgets.0.position", {"x": 0, "y": 0, "width": 2, "height": 2})
    spec["pages"][0]["widgets"][1]["position"] = {"x": 1, "y": 1, "width": 3, "height": 2}
    return spec


MALFORMED = [
    ('{"title": "x",\n  "datasets": {', "test.json:2: not valid JSON"),
    (
        _with("pages.0.widgets.1.kind", "donut"),
        "test.json:$.pages[0].widgets[1].kind: unknown widget kind 'donut'",
    ),
    (
        _with("pages.0.widgets.1.dataset", "dayly"),
        "test.json:$.pages[0].widgets[1].dataset: unknown dataset 'dayly'",
    ),
    (
        _with("pages.0.widgets.1.y", "sum(revenu)"),
        "test.json:$.pages[0].widgets[1].y: dataset daily has no column 'revenu'",
    ),
    (
        _with("datasets.daily.table", "gold.daily_sale"),
        "test.json:$.datasets.daily.table: unknown table 'gold.daily_sale'",
    ),
    (
        _with("pages.0.widgets.1.width", 7),
        "test.json:$.pages[0].widgets[1].position.width: width 7 is more than the grid's 6 columns",
    ),
    (_overlapping(), "test.json:$.pages[0].widgets[1].position: overlaps widget revenue"),
    (
        _with("pages.0.widgets.1.name", "revenue"),
        "test.json:$.pages[0].widgets[1].name: duplicate widget name 'revenue'",
    ),
    (
        _with("datasets.runs", {"sql": "SELECT run_id FROM ${ops}.run_log"}),
        "test.json:$.datasets: the datasets read gold and ops",
    ),
    (
        _with(
            "alerts",
            [
                {
                    "name": "a",
                    "sql": "SELECT count(*) AS n FROM ${gold}.daily_sales",
                    "column": "n",
                    "op": "=>",
                    "threshold": 1,
                    "notify": ["x@y.io"],
                }
            ],
        ),
        "test.json:$.alerts[0].op: unknown operator '=>'",
    ),
    (
        _with(
            "alerts",
            [
                {
                    "name": "a",
                    "sql": "SELECT count(*) AS n FROM ${gold}.daily_sales",
                    "column": "m",
                    "op": ">",
                    "threshold": 1,
                    "notify": ["x@y.io"],
                }
            ],
        ),
        "test.json:$.alerts[0].column: the alert's SQL returns no column 'm'",
    ),
    (
        _with(
            "alerts",
            [
                {
                    "name": "a",
                    "sql": "SELECT 1 AS n",
                    "column": "n",
                    "op": ">",
                    "threshold": 1,
                    "notify": ["nobody"],
                }
            ],
        ),
        "test.json:$.alerts[0].notify: notify is a list of e-mail addresses",
    ),
    (
        _with("permissions", [{"group": "analysts", "level": "CAN_LOOK"}]),
        "test.json:$.permissions[0].level: unknown level 'CAN_LOOK'",
    ),
    (
        _with("pages.0.widgets.1.x", "sum(country)"),
        "test.json:$.pages[0].widgets[1].x: x groups rows: a column, not 'sum(country)'",
    ),
    (
        _with("pages.0.widgets.1.y", "sum(revenue"),
        "test.json:$.pages[0].widgets[1].y: 'sum(revenue' is not a column or an aggregation of one",
    ),
    (_with("pages.0.widgets.1.y", None), "test.json:$.pages[0].widgets[1].y: a bar widget needs y"),
    (
        _with("pages.0.widgets.1.colour", "channel"),
        "test.json:$.pages[0].widgets[1].colour: unknown key 'colour'",
    ),
    ('{"title": "a", "title": "b", "datasets": {}, "pages": []}', "test.json:$: key 'title' appears twice"),
    (
        _with(
            "datasets.daily",
            {
                "sql": "SELECT * FROM ${gold}.daily_sales LIMIT :n",
                "parameters": {"m": {"type": "INT", "default": 5}},
            },
        ),
        "test.json:$.datasets.daily.parameters.m: the SQL never uses :m",
    ),
]


@pytest.mark.parametrize(("spec", "expected"), MALFORMED, ids=[str(i) for i in range(len(MALFORMED))])
def test_malformed_dashboards_are_named_at_file_and_json_path(tmp_path, spec, expected):
    problems = [str(p) for p in check_specs(_specs(tmp_path, spec))]
    assert any(f"specs/dashboards/{expected}" in p for p in problems), problems
    assert not any("pipeline_health" in p for p in problems), problems  # the built-in one stays clean
