"""`medallion dashboards preview`: each dashboard over the demo lakehouse as one HTML page, opened in a
real headless Chromium: every widget rendered, no script error, counters showing what the SQL
returns. Screenshots go to test-artifacts/ (`UPDATE_SCREENSHOTS=1` also rewrites docs/images/, which
docs/dashboards.md shows).

Chromium is Debian's package (`make tools` installs it); without it the tests fail on CI and are
skipped elsewhere, saying how to install it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from medallion.context import RunContext
from medallion.dashboards.preview import write_preview
from medallion.specs import load_specs

pytestmark = pytest.mark.spark

PROJECT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS") or PROJECT / "test-artifacts")


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    message = "no chromium on PATH: `make tools` installs Debian's chromium (apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


class _Dom(HTMLParser):
    """The attributes of <body> and of every widget, and the counters' values."""

    def __init__(self):
        super().__init__()
        self.body: dict[str, str] = {}
        self.widgets: list[dict[str, str]] = []
        self.counters: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        if tag == "body":
            self.body = attrs
        elif "widget" in attrs.get("class", "").split():
            self.widgets.append(attrs)
        elif attrs.get("class") == "counter" and self.widgets:
            self.counters[self.widgets[-1]["data-name"]] = attrs.get("data-value", "")


def _open(chromium: str, page: Path, name: str) -> _Dom:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1280,2200"]
    dom = subprocess.run(
        [chromium, *flags, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"{name}.png"
    subprocess.run(
        [chromium, *flags, f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.stat().st_size > 10_000, "the screenshot is empty"
    if os.environ.get("UPDATE_SCREENSHOTS"):
        shutil.copy(shot, PROJECT / "docs" / "images" / f"dashboard_{name}.png")
    parsed = _Dom()
    parsed.feed(dom)
    return parsed


def _ctx(demo_job, specs_dir: Path) -> RunContext:
    return RunContext(
        target="dev",
        catalog="spark_catalog",
        bronze_schema=demo_job.schemas["bronze"],
        silver_schema=demo_job.schemas["silver"],
        gold_schema=demo_job.schemas["gold"],
        ops_schema=demo_job.schemas["ops"],
        landing_root=str(demo_job.landing),
        checkpoint_root=str(demo_job.landing.parent / "checkpoints"),
        specs_dir=str(specs_dir),
    )


def _assert_rendered(dom: _Dom, spec) -> None:
    assert dom.body.get("data-ready") == "1", "the page's script did not finish"
    assert "data-script-errors" not in dom.body, dom.body
    names = [w.name for page in spec.pages for w in page.widgets]
    assert [w["data-name"] for w in dom.widgets] == names  # one element per widget, in order
    assert all(w["data-rendered"] == "1" for w in dom.widgets), [
        w for w in dom.widgets if w["data-rendered"] != "1"
    ]


def _same(shown: str, expected) -> bool:
    return abs(Decimal(shown) - Decimal(str(expected))) < Decimal("0.01")


def test_the_demo_dashboard_renders_every_widget_with_the_sql_values(spark, demo_job, chromium, tmp_path):
    spec = next(d for d in load_specs(demo_job.project / "specs").of("dashboards") if d.name == "sales")
    page = write_preview(spark, spec, _ctx(demo_job, demo_job.project / "specs"), tmp_path / "sales.html")
    dom = _open(chromium, page, "sales")
    _assert_rendered(dom, spec)
    daily = spark.table(f"spark_catalog.{demo_job.schemas['gold']}.daily_sales")
    totals = daily.agg(F.sum("revenue").alias("revenue"), F.sum("orders").alias("orders")).first()
    counters = {w.title: dom.counters[w.name] for p in spec.pages for w in p.widgets if w.kind == "counter"}
    assert _same(counters["Revenue"], totals.revenue) and _same(counters["Orders"], totals.orders)
    assert totals.revenue > 0
    charts = [w for w in dom.widgets if w["data-kind"] in ("bar", "line", "pie")]
    assert charts and all(int(w["data-rows"]) > 0 for w in charts)


def test_a_project_without_gold_gets_the_health_dashboard_alone(spark, demo_job, chromium, tmp_path):
    specs = tmp_path / "specs"
    shutil.copytree(demo_job.project / "specs", specs)
    (specs / "gold_tables.csv").write_text("table,sql_file,description\n")
    shutil.rmtree(specs / "gold")
    shutil.rmtree(specs / "dashboards")
    (specs / "security" / "tags.csv").write_text(
        "".join(
            line
            for line in (specs / "security" / "tags.csv").read_text().splitlines(True)
            if "daily_sales" not in line
        )
    )
    (specs / "security" / "grants.csv").write_text(
        "".join(
            line
            for line in (specs / "security" / "grants.csv").read_text().splitlines(True)
            if "table,daily_sales" not in line
            and "customer_lifetime" not in line
            and "product_performance" not in line
        )
    )
    for spec_file in ("table_maintenance.csv", "freshness.csv"):  # their rows for gold tables
        path = specs / spec_file
        path.write_text(
            "".join(line for line in path.read_text().splitlines(True) if "daily_sales" not in line)
        )
    dashboards = load_specs(specs).of("dashboards")
    assert [d.name for d in dashboards] == ["pipeline_health"]
    spec = dashboards[0]
    page = write_preview(spark, spec, _ctx(demo_job, specs), tmp_path / "health.html")
    dom = _open(chromium, page, "pipeline_health")
    _assert_rendered(dom, spec)
    operations = spark.table(f"spark_catalog.{demo_job.schemas['ops']}.run_log")
    runs = operations.select("run_id").distinct().count()
    counters = {w.title: dom.counters[w.name] for p in spec.pages for w in p.widgets if w.kind == "counter"}
    assert int(counters["Runs"]) == runs > 0
    assert int(counters["Rows quarantined"]) == operations.agg(F.sum("rows_quarantined")).first()[0]
