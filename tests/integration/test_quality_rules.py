"""Data-quality rules inside the silver path (`process_batch`), on a small SCD2 table and a merge table.

Rows failing a rule never reach the writer (so never a version), warnings pass and are recorded,
an `on_error: fail` rule stops the batch before anything is written, and every row is counted.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from scd_harness import ScdHarness, scd_table

from medallion.errors import DataQualityError
from medallion.specs.builtin_rules import builtin_rules
from medallion.specs.model import QualityRule

pytestmark = pytest.mark.spark


def ev(key, seq, name="N", tier="gold", note="n", op="U"):
    return {"id": key, "updated_at": seq, "name": name, "tier": tier, "note": note, "op": op}


def _rule(name, function, arguments, criticality="error", on_error="quarantine") -> QualityRule:
    check = {
        "name": name,
        "criticality": criticality,
        "check": {"function": function, "arguments": arguments},
    }
    return QualityRule(
        "dim_item", name, check, on_error=on_error, file="specs/data_quality/dq_rules.csv", row=2
    )


TIER_KNOWN = _rule("tier_known", "is_in_list", {"column": "tier", "allowed": ["'gold'", "'silver'"]})
NAME_SET = _rule("name_set", "is_not_null", {"column": "name"}, criticality="warn")


def _with_rules(table, *rules):
    return replace(table, rules=(*builtin_rules(table, None), *rules))


@pytest.fixture
def dim(spark):
    return ScdHarness(spark, _with_rules(scd_table(2), TIER_KNOWN, NAME_SET))


def _conserved(counts: dict) -> bool:
    return counts["read"] == counts["written"] + counts["quarantined"] + counts["duplicates"]


def test_rows_failing_a_rule_never_create_a_version_and_passing_rows_do(dim, spark):
    counts = dim.apply([ev("a", 1, "A"), ev("a", 2, "A", tier="platinum"), ev("a", 3, "A2")])
    assert dim.rows("id", "name", "tier", "effective_from", "effective_to") == [
        ("a", "A", "gold", 1, 3),
        ("a", "A2", "gold", 3, None),
    ]
    assert dim.quarantine() == [("a", 2, "rules: tier_known")]
    logged = spark.read.table(dim.target.changes).select("updated_at").collect()
    assert sorted(r[0] for r in logged) == [1, 3], "the failing row is not in the change log either"
    assert counts["quarantined"] == 1 and counts["written"] == 2 and _conserved(counts)
    # The quarantined row keeps the bronze row as read and DQX's errors.
    row = spark.read.table(dim.target.quarantine).first()
    assert row["_source_row"]["tier"] == "platinum" and row["_source_row"]["updated_at"] == "2"
    assert [e["name"] for e in row["_errors"]] == ["tier_known"] and row["_errors"][0][
        "function"
    ] == "is_in_list"


def test_warned_rows_pass_and_their_warnings_are_recorded(dim, spark):
    counts = dim.apply([ev("a", 1, name=None), ev("b", 1, "B")])
    assert dim.rows("id", "name") == [("a", None), ("b", "B")]
    assert counts["warned"] == 1 and counts["quarantined"] == 0 and _conserved(counts)
    warned = spark.read.table(dim.target.warnings).collect()
    assert [(r["id"], [w["name"] for w in r["_warnings"]]) for r in warned] == [("a", ["name_set"])]
    # Kept for the rows with a result only (the cache clears it on clean rows): warned rows included.
    assert warned[0]["_source_row"]["id"] == "a" and warned[0]["_source_row"]["updated_at"] == "1"


def test_a_fail_rule_stops_the_batch_before_anything_is_written(spark):
    dim = ScdHarness(spark, _with_rules(scd_table(2), replace(TIER_KNOWN, on_error="fail")))
    dim.apply([ev("a", 1, "A")])
    version = dim.version()
    with pytest.raises(DataQualityError, match=r"tier_known.*specs/data_quality/dq_rules.csv:2"):
        dim.apply([ev("a", 2, "A2"), ev("b", 2, "B", tier="platinum")])
    assert dim.version() == version
    assert dim.quarantine() == []
    assert dim.rows("id", "name") == [("a", "A")]


def test_every_row_is_counted_once_across_rules_duplicates_and_ties(dim):
    counts = dim.apply(
        [
            ev("a", 1, "A"),
            ev("a", 1, "A"),  # exact duplicate
            ev("b", 1, "B1"),
            ev("b", 1, "B2"),  # tie
            ev(None, 1, "no key"),  # built-in rule
            ev("c", 1, "C", tier="bronze"),  # spec'd rule
        ]
    )
    assert counts["read"] == 6
    assert (counts["written"], counts["quarantined"], counts["duplicates"]) == (1, 4, 1)
    assert _conserved(counts)


def test_merge_tables_account_for_superseded_and_duplicate_rows(spark):
    table = replace(scd_table(2), load_pattern="merge", scd=None, spec_file="incremental_load_patterns.csv")
    merge = ScdHarness(spark, _with_rules(table, TIER_KNOWN))
    counts = merge.apply([ev("a", 1, "A"), ev("a", 2, "A2"), ev("a", 2, "A2"), ev("b", 1, "B", tier="x")])
    assert merge.rows("id", "name", "updated_at") == [("a", "A2", 2)]
    assert (counts["read"], counts["written"], counts["quarantined"], counts["duplicates"]) == (4, 2, 1, 1)


def test_rules_run_offline_without_a_workspace_client_or_telemetry(spark, monkeypatch):
    from databricks.sdk import WorkspaceClient

    def refuse(*args, **kwargs):
        raise AssertionError("a real WorkspaceClient was created: it would try to reach a workspace")

    monkeypatch.setattr(WorkspaceClient, "__init__", refuse)
    # ... nor renders a batch's query plan for telemetry that is never sent (DQEngine does, per batch)
    explained = []
    monkeypatch.setattr(
        "databricks.labs.dqx.telemetry.get_spark_plan_as_string", lambda df: explained.append(df) or ""
    )
    dim = ScdHarness(spark, _with_rules(scd_table(2), TIER_KNOWN))
    counts = dim.apply([ev("a", 1, "A"), ev("b", 1, "B", tier="x")])
    assert (counts["written"], counts["quarantined"]) == (1, 1)
    assert explained == []


def test_dataset_rules_foreign_key_quarantines_aggregate_fails_freshness_warns(spark):
    schema = "dq_dataset_rules"
    spark.sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    spark.createDataFrame([("a",), ("b",)], "id string").write.mode("overwrite").saveAsTable(
        f"{schema}.known_ids"
    )
    rules = (
        _rule(
            "id_known",
            "foreign_key",
            {"columns": ["id"], "ref_table": f"{schema}.known_ids", "ref_columns": ["id"]},
        ),
        _rule(
            "rows_per_id",
            "is_aggr_not_greater_than",
            {"column": "id", "aggr_type": "count", "group_by": ["id"], "limit": 2},
            on_error="fail",
        ),
        _rule(
            "ingested_recently", "is_data_fresh", {"column": "_ingested_at", "max_age_minutes": 60}, "warn"
        ),
    )
    dim = ScdHarness(spark, _with_rules(scd_table(2), *rules), schema=schema)
    counts = dim.apply([ev("a", 1, "A"), ev("a", 2, "A2"), ev("z", 1, "Z")])
    assert dim.quarantine() == [("z", 1, "rules: id_known")]
    # The harness ingests rows dated 2024-01-01: stale, so every loaded row carries the warning.
    assert (counts["written"], counts["quarantined"], counts["warned"]) == (2, 1, 2)
    version = dim.version()
    with pytest.raises(DataQualityError, match="rows_per_id"):
        dim.apply([ev("b", 1, "B"), ev("b", 2, "B2"), ev("b", 3, "B3")])
    assert dim.version() == version


def test_a_rule_that_cannot_run_is_named_at_its_row_before_any_data_moves(spark):
    """The rules fail to apply together: each is tried alone on an empty batch to name the broken ones,
    and the batch stops before its first write."""
    from medallion.errors import SpecError

    vip = _rule("tier_vip", "is_in_list", {"column": "tier", "allowed": ["vip"]})  # a column `vip`?
    fine = _rule("tier_known_too", "is_in_list", {"column": "tier", "allowed": ["'gold'"]})
    harness = ScdHarness(spark, _with_rules(scd_table(2), fine, replace(vip, row=7)))
    version = harness.version()
    with pytest.raises(SpecError) as raised:
        harness.apply([ev("a", 1, tier="vip"), ev("b", 1, tier=None)])
    problems = raised.value.problems
    assert [(p.file, p.row, p.column) for p in problems] == [
        ("specs/data_quality/dq_rules.csv", 7, "arguments")
    ]
    assert "rule 'tier_vip' cannot run on dim_item" in problems[0].message
    assert "allowed/min/max" in problems[0].fix
    assert harness.version() == version and harness.rows() == []
    assert not spark.catalog.tableExists(harness.target.quarantine.replace("`", ""))
