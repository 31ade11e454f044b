"""specs/table_maintenance.csv: parsed per table; retention that would break rollback, clustering columns
the table does not have and clustering of a partitioned table are refused at file:row:column."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from medallion.specs import check_specs, load_specs

PROJECT_SPECS = Path(__file__).resolve().parents[3] / "specs"
HEADER = "table,cluster_by,zorder_by,optimize_every,vacuum_retain_hours,log_retention_days,deleted_file_retention_days,optimized_writes\n"


def _specs(tmp_path: Path, rows: str) -> Path:
    specs = tmp_path / "specs"
    shutil.copytree(PROJECT_SPECS, specs)
    (specs / "table_maintenance.csv").write_text(HEADER + rows)
    return specs


def test_the_demo_rows_load_with_their_layers_and_periods(project_root: Path):
    rows = {m.table: m for m in load_specs(project_root / "specs").of("maintenance")}
    assert (
        rows["silver.fact_order"].zorder_by == ("customer_id",)
        and rows["silver.fact_order"].optimize_every_hours == 24
    )
    assert (
        rows["silver.dim_customer"].cluster_by == ("customer_id",)
        and rows["silver.dim_customer"].optimize_every_hours == 168
    )
    assert rows["gold.daily_sales"].vacuum_retain_hours == 336


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            "dim_customer,,,,24\n",
            "table_maintenance.csv:2:vacuum_retain_hours: VACUUM keeping 24 hours would delete files a rollback needs",
        ),
        (
            "dim_customer,,,,,3\n",
            "table_maintenance.csv:2:log_retention_days: retention shorter than the 7-day rollback window",
        ),
        (
            "dim_customer,segmnt\n",
            "table_maintenance.csv:2:cluster_by: silver.dim_customer has no column 'segmnt'",
        ),
        ("fact_order,customer_id\n", "table_maintenance.csv:2:cluster_by: silver.fact_order is partitioned"),
        (
            "dim_customer,customer_id,segment\n",
            "table_maintenance.csv:2:zorder_by: a table is clustered or Z-ordered, not both",
        ),
        ("dim_customer,,,weekly\n", "table_maintenance.csv:2:optimize_every: 'weekly' is not a period"),
        ("dim_custmer\n", "table_maintenance.csv:2:table: unknown table 'dim_custmer'"),
        (
            "dim_customer,,,,,,,sometimes\n",
            "table_maintenance.csv:2:optimized_writes: 'sometimes' is not true or false",
        ),
    ],
)
def test_malformed_maintenance_rows_are_named_where_they_are(tmp_path, rows, expected):
    problems = [str(p) for p in check_specs(_specs(tmp_path, rows))]
    assert any(f"specs/{expected}" in p for p in problems), problems
