"""Whole-layer scenarios: spec folder + landing drops + expected silver tables (tests/scenarios)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from chispa import assert_df_equality
from local_context import local_context

from medallion.delta.tables import current_version
from medallion.layers import bronze, silver
from medallion.specs import load_specs

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
pytestmark = pytest.mark.spark


def _scenario_names() -> list[str]:
    return sorted(p.name for p in SCENARIOS.iterdir() if (p / "specs").is_dir())


def _run_layers(spark, specs, ctx) -> None:
    for source in specs.bronze:
        bronze.ingest(spark, source, ctx)
    for table in specs.silver:
        silver.build(spark, table, ctx)


def _expected(spark, path: Path, actual_schema):
    """Read an expected CSV and cast each column to the type the actual table has."""
    from pyspark.sql import functions as F

    frame = spark.read.option("header", "true").csv(str(path))
    types = {f.name: f.dataType for f in actual_schema.fields}
    return frame.select([F.col(c).cast(types[c]).alias(c) for c in frame.columns])


@pytest.mark.parametrize("name", _scenario_names())
def test_scenario(spark, tmp_path, name):
    scenario = SCENARIOS / name
    specs = load_specs(scenario / "specs")
    ctx = local_context(tmp_path, name, scenario / "specs")
    for layer in ("bronze", "silver", "gold"):
        spark.sql(f"CREATE SCHEMA IF NOT EXISTS {ctx.schema(layer)}")

    for drop in sorted((scenario / "drops").iterdir()):
        for source in specs.bronze:
            landing = Path(ctx.landing(source.landing_folder))
            landing.mkdir(parents=True, exist_ok=True)
            for file in sorted(drop.glob(f"{source.landing_folder}_*")) or sorted(drop.iterdir()):
                shutil.copy(file, landing / file.name)
        _run_layers(spark, specs, ctx)

    # A rerun with nothing new commits no new Delta version anywhere.
    tables = [ctx.table("bronze", s.table) for s in specs.bronze] + [
        ctx.table("silver", t.table) for t in specs.silver
    ]
    before = {t: current_version(spark, t) for t in tables}
    _run_layers(spark, specs, ctx)
    assert {t: current_version(spark, t) for t in tables} == before

    for expected_file in sorted((scenario / "expected").glob("*.csv")):
        actual = spark.table(ctx.table("silver", expected_file.stem))
        expected = _expected(spark, expected_file, actual.schema)
        assert_df_equality(
            actual.select(expected.columns),
            expected,
            ignore_row_order=True,
            ignore_nullable=True,
        )
