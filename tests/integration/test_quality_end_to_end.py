"""Data quality end to end: the demo job on generated data with --anomalies, the manifest as oracle.

Every injected bad row must be in its table's quarantine, failing the rule that describes it, and
absent from silver; every table must account for every bronze row; a replay after a rule is
relaxed moves the rows that now pass exactly once.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest

from medallion.bundle import load_bundle
from medallion.datagen import generate_data
from medallion.layers.requeue import requeue
from medallion.params import resolve_context
from medallion.quality.report import dq_report
from medallion.runtime.runner import run_job
from medallion.specs import load_specs

pytestmark = pytest.mark.spark


def _fails(function: str | None = None, name_prefix: str | None = None, on_column: bool = True):
    """A predicate on (anomaly, errors of one quarantined row): the rule that describes the anomaly."""

    def check(anomaly: dict, errors: list) -> bool:
        for e in errors:
            if function and e["function"] != function:
                continue
            if name_prefix and not e["name"].startswith(name_prefix.format(**anomaly)):
                continue
            if on_column and anomaly["column"] not in (e["columns"] or []):
                continue
            return True
        return False

    return check


# The rule each kind of injected row must fail (demo specs: specs/data_quality/dq_rules.csv).
EXPECTED_RULE = {
    "null_key": _fails("is_not_null"),
    "bad_type": _fails(name_prefix="{column}_not_"),
    "out_of_range": _fails("is_in_range"),
    "future_date": _fails("is_not_in_future"),
    "unknown_fk": _fails("foreign_key"),
    "malformed_json": _fails(name_prefix="malformed_record", on_column=False),
    "duplicate_key": _fails("is_unique"),
}


@pytest.fixture
def isolated_schemas(monkeypatch):
    names = {layer: f"dq_e2e_{layer}" for layer in ("bronze", "silver", "gold", "ops")}
    for layer, name in names.items():
        monkeypatch.setenv(f"BUNDLE_VAR_{layer}_schema", name)
    return names


def _relax(rules_csv: Path, table: str, rule: str) -> None:
    """Widen a range rule of the rules spec so every value passes it."""
    import csv

    with rules_csv.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if row["table"] == table and row["rule"] == rule:
            row["min"], row["max"] = "-1000000000000", "1000000000000"  # plain limits (the spec's cells)
    with rules_csv.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _matches(anomaly: dict, row: dict, key: str | None) -> bool:
    """Is this quarantined row (its `_source_row`) the injected one?"""
    source = row["_source_row"]
    if not row["_source_file"].endswith(anomaly["file"]):
        return False
    kind, column, value = anomaly["kind"], anomaly["column"], anomaly["value"]
    if kind == "malformed_json":
        return source["_rescued_data"] is not None and source["_rescued_data"].strip() == value.strip()
    if kind == "null_key":
        return source[column] is None
    if kind == "duplicate_key":
        return source[key] == value
    return source[column] is not None and str(source[column]) == str(value)


def test_every_injected_row_is_quarantined_by_its_rule_and_every_row_is_accounted_for(
    spark, project_copy, isolated_schemas
):
    from pyspark.sql import functions as F

    bundle = load_bundle(project_copy)
    landing = Path(bundle.resolve_variables("dev", local=True)["landing_root"])
    generate_data(
        project_copy / "specs" / "sample_data.json",
        landing,
        rows=150,
        seed=11,
        start_date=date(2024, 1, 1),
        end_date=date(2024, 2, 29),
        batches=2,
        anomalies=True,
    )
    (project_copy / "specs" / "data_quality" / "dq_alerting.csv").write_text(
        "table,rule,min_pass_rate,max_failed_rows,action,description\n"
        "*,*,0.5,,fail,\n"
        "fact_order_line,*,,0,notify,any failing order line is reported\n"
    )
    # The tasks up to silver and the alerts: gold and security add nothing here (tests of their own).
    tasks = ["plan", "bronze", "silver_references", "silver", "dq_alerts"]
    result = run_job(spark, bundle, "dev", tasks=tasks, echo=lambda *_: None)
    # Every silver table is built; then the alerts task fails with the notify alerts the run breached.
    statuses = {t.task_key: t.status for t in result.task_runs}
    assert statuses == {**dict.fromkeys(tasks, "ok"), "dq_alerts": "failed"}
    assert "action notify" in result.error and "fact_order_line." in result.error
    specs = load_specs(project_copy / "specs")
    silver_schema = f"spark_catalog.{isolated_schemas['silver']}"
    ops_schema = f"spark_catalog.{isolated_schemas['ops']}"
    settings = json.loads((project_copy / "specs" / "sample_data.json").read_text())
    entity_keys = {e["name"]: e.get("key") for e in settings["entities"]}
    sequences = {e["name"]: e.get("sequence") for e in settings["entities"]}
    table_of = {
        entity: next(t for t in specs.silver if t.source_table == specs.bronze[i].table)
        for i, entity in enumerate(e["landing_folder"] for e in settings["entities"])
    }
    manifest = json.loads((landing / "_manifests" / "anomalies.json").read_text())["anomalies"]
    assert {a["kind"] for a in manifest} == set(EXPECTED_RULE), "the oracle covers every kind injected"

    by_table: dict[str, list[dict]] = defaultdict(list)
    for anomaly in manifest:
        by_table[table_of[anomaly["entity"]].table].append(anomaly)
    for table, anomalies in by_table.items():
        quarantine = [
            r.asDict(recursive=True)
            for r in spark.table(f"{silver_schema}.{table}_quarantine")
            .filter("_source_row IS NOT NULL")
            .collect()
        ]
        # silver's rows read once, every value as Spark casts it to a string (one job, not one per anomaly)
        silver = spark.table(f"{silver_schema}.{table}")
        stored = [
            r.asDict()
            for r in silver.select(*[F.col(c).cast("string").alias(c) for c in silver.columns]).collect()
        ]
        for anomaly in anomalies:
            key = entity_keys[anomaly["entity"]]
            found = [r for r in quarantine if _matches(anomaly, r, key)]
            assert found, f"injected row not in {table}_quarantine: {anomaly}"
            assert any(EXPECTED_RULE[anomaly["kind"]](anomaly, r["_errors"]) for r in found), (
                f"{anomaly} quarantined without its rule: {[r['_quarantine_reason'] for r in found]}"
            )
            # ... and it never reached silver: bad rows have keys no valid row uses.
            if anomaly["kind"] == "duplicate_key":  # both the copy and its original stay out
                sequence = sequences[anomaly["entity"]]
                held = {r["_source_row"][sequence] for r in found} if sequence else None
                assert not [
                    r for r in stored if r[key] == anomaly["value"] and (held is None or r[sequence] in held)
                ], anomaly
            elif anomaly["kind"] not in ("null_key", "malformed_json") and key:
                assert not [r for r in stored if r[key] == anomaly["key"]], anomaly
            elif anomaly["kind"] in ("out_of_range", "unknown_fk"):
                assert not [r for r in stored if r[anomaly["column"]] == str(anomaly["value"])], anomaly
        # rows the null_key anomalies injected: as many quarantined with a NULL key as injected
        nulls = Counter(a["file"] for a in anomalies if a["kind"] == "null_key")
        for file, count in nulls.items():
            column = entity_keys[anomalies[0]["entity"]]
            got = [
                r for r in quarantine if r["_source_file"].endswith(file) and r["_source_row"][column] is None
            ]
            assert len(got) >= count

    # Row conservation, per table and run: read = written + quarantined + duplicates, and read = bronze.
    operations = spark.table(f"{ops_schema}.run_log").filter(F.col("run_id") == result.run_id)
    layers = {r["kind"] for r in operations.collect()}
    assert layers == {"bronze", "build"}, layers
    rows = {r["table"]: r for r in operations.filter(F.col("kind") == "build").collect()}
    assert set(rows) == {t.table for t in specs.silver}
    for table in specs.silver:
        r = rows[table.table]
        assert r["status"] == "ok"
        assert r["rows_read"] == r["rows_written"] + r["rows_quarantined"] + r["rows_duplicates"], r
        bronze = spark.table(f"spark_catalog.{isolated_schemas['bronze']}.{table.source_table}").count()
        assert r["rows_read"] == bronze

    # Metrics history: one row per rule per table for this run, pass rates that match the counts.
    metrics = spark.table(f"{ops_schema}.dq_metrics").filter(F.col("run_id") == result.run_id).collect()
    assert {(m["table"], m["rule"]) for m in metrics} == {
        (t.table, r.name) for t in specs.silver for r in t.rules
    }
    for m in metrics:
        assert m["pass_rate"] == pytest.approx(1 - (m["rows_failed"] + m["rows_warned"]) / m["rows_checked"])

    ctx = resolve_context({"target": "dev"}, project_copy)
    report = dq_report(spark, ctx)
    assert all(t.table in report for t in specs.silver) and "Top failing rules" in report

    # Replay after relaxing a rule: the rows only that rule held now pass and reach silver once.
    lines = f"{silver_schema}.fact_order_line"
    quarantine = f"{lines}_quarantine"
    names = F.transform("_errors", lambda e: e["name"])
    single = spark.table(quarantine).filter(F.size("_errors") == 1).withColumn("rule", names[0])
    ranges = [r["rule"] for r in single.filter(F.col("rule").endswith("_in_range")).select("rule").collect()]
    assert ranges, "the data has rows held by one range rule only"
    relaxed_rule = ranges[0]
    _relax(project_copy / "specs" / "data_quality" / "dq_rules.csv", "fact_order_line", relaxed_rule)
    relaxed = load_specs(project_copy / "specs").silver_table("fact_order_line")
    held = single.filter(F.col("rule") == relaxed_rule)
    column = next(r for r in relaxed.rules if r.name == relaxed_rule).check["check"]["arguments"]["column"]
    moving = [(r["order_id"], r["line_number"], r["_source_row"][column]) for r in held.collect()]
    before_q, before_silver = spark.table(quarantine).count(), spark.table(lines).count()

    first = requeue(spark, relaxed, ctx)
    assert first.rows_written == len(moving)
    assert spark.table(lines).count() == before_silver + len(moving)
    assert spark.table(quarantine).count() == before_q - len(moving)
    for order_id, line_number, value in moving:
        match = (
            (F.col("order_id") == order_id)
            & (F.col("line_number") == line_number)
            & (F.col(column).cast("string") == value)
        )
        assert spark.table(lines).filter(match).count() == 1, (order_id, line_number, value)
        assert spark.table(quarantine).filter(match).isEmpty()

    second = requeue(spark, relaxed, ctx)
    assert second.rows_written == 0
    assert spark.table(lines).count() == before_silver + len(moving)
    assert spark.table(quarantine).count() == before_q - len(moving)


def test_the_plan_task_creates_the_record_tables_and_the_lineage_view_before_any_build(
    spark, project_copy, monkeypatch
):
    """Silver tasks run side by side and each records its run: the plan creates what they share first,
    so no two of them race to create a record table or the `lineage` view (a race the metastore logs
    as an error)."""
    for layer in ("bronze", "silver", "gold", "ops"):
        monkeypatch.setenv(f"BUNDLE_VAR_{layer}_schema", f"plan_only_{layer}")
    result = run_job(spark, load_bundle(project_copy), "dev", tasks=["plan"], echo=lambda *_: None)
    assert result.ok, result.error
    # (SHOW lists the session's temporary views too: other tests' gold planning leaves some)
    shown = {
        kind: {row[column] for row in spark.sql(f"SHOW {kind} IN spark_catalog.plan_only_ops").collect()
               if not row["isTemporary"]}
        for kind, column in (("VIEWS", "viewName"), ("TABLES", "tableName"))
    }  # fmt: skip
    views, tables = shown["VIEWS"], shown["TABLES"]
    assert views == {"lineage"}, views
    assert tables - views == {"run_log", "dq_metrics", "dq_alerts"}, tables
    assert spark.table("spark_catalog.plan_only_ops.lineage").count() == 0
