"""gold_tables.csv `refresh_key` + `refresh_keys_sql`: parsed into the gold spec, mistakes named at
file:row:column (or the keys file's line) by `medallion validate`, without Spark."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from pyspark.sql.types import DateType, DecimalType, IntegerType, MapType, StringType, TimestampType

from medallion.delta.key_predicates import key_predicate
from medallion.layers.gold_refresh import (
    MAX_KEYS,
    MIN_UPSTREAM_ROWS,
    few_upstream_rows,
    most_keys_changed,
    plan_keyed_refresh,
    rebuild_rule,
    refresh_fingerprint,
)
from medallion.specs import check_specs, load_specs

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "specs"
HEADER = "table,sql_file,description,refresh_key,refresh_keys_sql\n"
KEYS_SQL = (
    "-- days whose events changed\n"
    "SELECT event_date FROM ${changes}.fact_event\n"
    "UNION\n"
    "SELECT e.event_date FROM ${changes}.dim_thing AS t JOIN ${silver}.fact_event AS e USING (thing_id)\n"
)


def _specs(tmp_path: Path, daily_row: str, keys_sql: str = KEYS_SQL) -> Path:
    specs = tmp_path / "specs"
    shutil.copytree(FIXTURES / "valid", specs)
    (specs / "gold_tables.csv").write_text(
        HEADER + "event_summary,event_summary.sql,Events per label,,\n" + daily_row + "\n"
    )
    (specs / "gold" / "daily_events.keys.sql").write_text(keys_sql)
    return specs


def test_refresh_columns_are_parsed_into_the_gold_spec(tmp_path: Path):
    specs = load_specs(
        _specs(tmp_path, "daily_events,daily_events.sql,Per day,event_date,daily_events.keys.sql")
    )
    daily = next(g for g in specs.gold if g.table == "daily_events")
    assert daily.refresh_key == "event_date"
    assert daily.keys_sql_file == "daily_events.keys.sql"
    assert daily.changes_from == ("fact_event", "dim_thing")
    summary = next(g for g in specs.gold if g.table == "event_summary")
    assert (summary.refresh_key, summary.changes_from) == ("", ())


def test_the_demo_gold_tables_refresh_by_key(project_root: Path):
    gold = {g.table: g for g in load_specs(project_root / "specs").gold}
    assert {t: g.refresh_key for t, g in gold.items()} == {
        "daily_sales": "order_date",
        "customer_lifetime_value": "customer_id",
        "product_performance": "product_id",
    }
    # Every silver table a gold SQL reads has its changes read by the keys SQL (else: whole rebuilds).
    for g in gold.values():
        assert {t for layer, t in g.upstream if layer == "silver"} == set(g.changes_from), g.table


@pytest.mark.parametrize(
    ("row", "keys_sql", "expected"),
    [
        (
            "daily_events,daily_events.sql,Per day,event_date,",
            KEYS_SQL,
            "specs/gold_tables.csv:3:refresh_keys_sql: refresh_keys_sql is empty but refresh_key is set",
        ),
        (
            "daily_events,daily_events.sql,Per day,,daily_events.keys.sql",
            KEYS_SQL,
            "specs/gold_tables.csv:3:refresh_key: refresh_key is empty but refresh_keys_sql is set",
        ),
        (
            "daily_events,daily_events.sql,Per day,event date,daily_events.keys.sql",
            KEYS_SQL,
            "specs/gold_tables.csv:3:refresh_key: 'event date' is not a column name",
        ),
        (
            "daily_events,daily_events.sql,Per day,event_date,missing.keys.sql",
            KEYS_SQL,
            "specs/gold_tables.csv:3:refresh_keys_sql: specs/gold/missing.keys.sql not found",
        ),
        (
            "daily_events,daily_events.sql,Per day,event_date,daily_events.keys.sql",
            "SELECT event_date FROM ${silver}.fact_event\n",
            "specs/gold/daily_events.keys.sql: the keys SQL reads no ${changes}.<table>",
        ),
        (
            "daily_events,daily_events.sql,Per day,event_date,daily_events.keys.sql",
            "SELECT event_date\nFROM ${changes}.fact_evnt\n",
            "specs/gold/daily_events.keys.sql:2: ${changes}.fact_evnt is not a silver table that "
            "daily_events.sql reads (did you mean fact_event?)",
        ),
        (
            "daily_events,daily_events.sql,Per day,event_date,daily_events.keys.sql",
            "SELECT event_date FROM ${changes}.fact_event JOIN ${silvr}.dim_thing USING (thing_id)\n",
            "specs/gold/daily_events.keys.sql:1: unknown placeholder ${silvr}",
        ),
    ],
)
def test_refresh_mistakes_are_named_where_they_are(tmp_path: Path, row: str, keys_sql: str, expected: str):
    problems = [str(p) for p in check_specs(_specs(tmp_path, row, keys_sql))]
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("data_type", "keys", "expected"),
    [
        (StringType(), ["a", "it's"], "`k` IN ('a', 'it\\'s')"),
        (DateType(), [__import__("datetime").date(2024, 1, 2)], "`k` IN (DATE'2024-01-02')"),
        (IntegerType(), [3, None], "`k` IN (3) OR `k` IS NULL"),
        (DecimalType(18, 2), [__import__("decimal").Decimal("1.50")], "`k` IN (1.50BD)"),
        (TimestampType(), [], "FALSE"),
    ],
)
def test_key_predicates_are_sql_literals(data_type, keys, expected):
    assert key_predicate("k", keys, data_type) == expected


def _daily(tmp_path: Path):
    specs = load_specs(
        _specs(tmp_path, "daily_events,daily_events.sql,Per day,event_date,daily_events.keys.sql")
    )
    return next(g for g in specs.gold if g.table == "daily_events")


def test_a_refresh_by_key_is_planned_only_when_it_is_safe(tmp_path: Path):
    """Each reason to rebuild whole is decided from the stamps alone, before any Spark work."""
    daily = _daily(tmp_path)
    state = {"silver.dim_thing": {"version": 3, "id": "a"}, "silver.fact_event": {"version": 7, "id": "b"}}
    stamp = {"fingerprint": refresh_fingerprint(daily), "upstream_state": state}

    def plan(previous, current, table=daily):
        return plan_keyed_refresh(None, table, None, previous, current, DateType(), str).reason

    assert plan({}, state) == "first build"
    assert plan({**stamp, "fingerprint": "other"}, state) == "its SQL changed since the last build"
    recreated = {**state, "silver.fact_event": {"version": 9, "id": "new"}}
    assert plan(stamp, recreated) == "silver.fact_event was recreated since the last build"
    narrower = replace(daily, changes_from=("dim_thing",), keys_sql="SELECT 1 FROM ${changes}.dim_thing")
    moved = {**state, "silver.fact_event": {"version": 8, "id": "b"}}
    assert plan({**stamp, "fingerprint": refresh_fingerprint(narrower)}, moved, narrower) == (
        "silver.fact_event changed and the keys SQL does not read ${changes}.fact_event"
    )
    assert (
        "has type map<string,int>"
        in plan_keyed_refresh(
            None, daily, None, stamp, moved, MapType(StringType(), IntegerType()), str
        ).reason
    )


@pytest.mark.parametrize(
    ("changed", "stored", "rebuild"), [(1, 100, False), (50, 100, False), (51, 100, True), (3, 0, True)]
)
def test_a_refresh_touching_most_keys_rebuilds_instead(changed, stored, rebuild):
    assert most_keys_changed(changed, stored) is rebuild


@pytest.mark.parametrize(
    ("rows", "rebuild"), [(0, True), (MIN_UPSTREAM_ROWS - 1, True), (MIN_UPSTREAM_ROWS, False)]
)
def test_small_upstream_tables_rebuild_without_planning(rows, rebuild):
    assert few_upstream_rows(rows) is rebuild


def test_the_rebuild_rule_counts_the_stored_keys_once_and_only_when_keys_changed():
    counted = []

    def stored_keys():
        counted.append(1)
        return 100

    rule = rebuild_rule(stored_keys)
    assert rule(0) == ""
    assert not counted  # nothing changed: no need to count the table's keys
    assert rule(50) == ""
    assert rule(51) == "at least 51 of its 100 keys changed: a rebuild costs less"
    assert rule(MAX_KEYS + 1) == f"more than {MAX_KEYS} keys changed"
    assert len(counted) == 1
    assert rebuild_rule(None)(MAX_KEYS) == ""  # no stored count given: only the MAX_KEYS bound
