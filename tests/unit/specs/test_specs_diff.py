"""`medallion specs diff`: every change between two versions of the specs is additive or breaking, and a
breaking one passes only when the same change acknowledges it (full_refresh.csv, retired_tables.csv)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from medallion import cli
from medallion.specs import load_specs
from medallion.specs.diff import diff_specs, narrows
from medallion.specs.kinds.changes import FullRefresh, RetiredTable
from medallion.specs.model import Specs

PROJECT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def base() -> Specs:
    return load_specs(PROJECT / "specs")


def _items(specs: Specs) -> dict[str, tuple]:
    keys = ("bronze", "silver", "gold", "alerts", "security", "dashboards", "full_refresh", "retired_tables")
    keys += ("maintenance", "freshness")
    return {key: specs.of(key) for key in keys}


def _with_silver(base: Specs, name: str, **changes) -> Specs:
    items = _items(base)
    items["silver"] = tuple(replace(t, **changes) if t.table == name else t for t in base.silver)
    return Specs(items)


def _column(table, name: str, **changes):
    return replace(
        table, columns=tuple(replace(c, **changes) if c.name == name else c for c in table.columns)
    )


def _table(base: Specs, name: str):
    return next(t for t in base.silver if t.table == name)


def _one(changes):
    assert len(changes) == 1, [str(c) for c in changes]
    return changes[0]


def test_the_same_specs_have_no_change(base):
    assert diff_specs(base, base) == []


def test_a_silver_key_change_is_breaking_until_a_full_refresh_row_acknowledges_it(base):
    head = _with_silver(base, "fact_order", keys=("order_id", "customer_id"))
    change = _one(diff_specs(base, head))
    assert change.breaking and change.blocking
    assert "silver.fact_order: keys changed from (order_id) to (order_id, customer_id)" in str(change)
    assert "add a row for fact_order to specs/full_refresh.csv" in str(change)
    acked = Specs({**_items(head), "full_refresh": (FullRefresh("fact_order", "new key", 2),)})
    change = _one(diff_specs(base, acked))
    assert change.breaking and not change.blocking and change.acknowledged == "specs/full_refresh.csv:2"


@pytest.mark.parametrize(
    ("table", "changes", "expected"),
    [
        ("fact_order", {"sequence_by": ("order_ts",)}, "sequence changed"),
        ("fact_order", {"load_pattern": "append"}, "load pattern changed"),
        ("fact_order", {"partition_by": ()}, "partitioning changed from (order_date) to none"),
    ],
)
def test_what_stored_rows_depend_on_is_breaking(base, table, changes, expected):
    if changes.get("partition_by") == () and not _table(base, table).partition_by:
        pytest.skip("the demo's table is not partitioned")
    change = _one(diff_specs(base, _with_silver(base, table, **changes)))
    assert change.breaking and expected in change.what


def test_scd_type_and_tracked_columns_are_breaking(base):
    dim = _table(base, "dim_customer")
    lighter = replace(dim.scd, tracked_columns=tuple(c for c in dim.scd.tracked_columns if c != "segment"))
    change = _one(diff_specs(base, _with_silver(base, "dim_customer", scd=lighter)))
    assert change.breaking and "tracked columns changed" in change.what
    as_scd1 = replace(dim.scd, scd_type=1)
    whats = [c.what for c in diff_specs(base, _with_silver(base, "dim_customer", scd=as_scd1))]
    assert any("SCD type changed from 2 to 1" in w for w in whats) and any(
        "validity columns" in w for w in whats
    )


def test_columns_removed_required_or_narrowed_break_and_widened_or_nullable_do_not(base):
    line = _table(base, "fact_order_line")
    removed = replace(line, columns=tuple(c for c in line.columns if c.name != "discount"))
    assert _one(diff_specs(base, _with_silver(base, "fact_order_line", columns=removed.columns))).breaking
    narrowed = _column(line, "line_amount", data_type="decimal(10,2)")
    change = _one(diff_specs(base, _with_silver(base, "fact_order_line", columns=narrowed.columns)))
    assert change.breaking and "narrowed from decimal(12,2) to decimal(10,2)" in change.what
    widened = _column(line, "quantity", data_type="bigint")
    change = _one(diff_specs(base, _with_silver(base, "fact_order_line", columns=widened.columns)))
    assert not change.breaking and "widened from int to bigint" in change.what
    required = _column(line, "product_id", nullable=False)
    assert _one(diff_specs(base, _with_silver(base, "fact_order_line", columns=required.columns))).breaking
    extra = replace(line.columns[0], name="coupon", nullable=True, row=99)
    change = _one(diff_specs(base, _with_silver(base, "fact_order_line", columns=(*line.columns, extra))))
    assert not change.breaking and "coupon added (nullable)" in change.what
    must = replace(extra, nullable=False)
    assert _one(
        diff_specs(base, _with_silver(base, "fact_order_line", columns=(*line.columns, must)))
    ).breaking


def test_tables_added_removed_and_retired(base):
    items = _items(base)
    without = Specs({**items, "silver": tuple(t for t in base.silver if t.table != "fact_web_event")})
    change = _one(diff_specs(base, without))
    assert change.blocking and "silver table fact_web_event removed" in change.what
    retired = Specs(
        {**_items(without), "retired_tables": (RetiredTable("fact_web_event", "no longer sold", 2),)}
    )
    assert not _one(diff_specs(base, retired)).blocking
    assert not _one(diff_specs(without, base)).breaking  # the other way round: added


def test_gold_sql_changes_rebuild_and_removed_masks_need_review(base):
    items = _items(base)
    gold = tuple(replace(g, sql=g.sql + "\n") if g.table == "daily_sales" else g for g in base.gold)
    change = _one(diff_specs(base, Specs({**items, "gold": gold})))
    assert not change.breaking and "gold.daily_sales: SQL changed" in change.what
    security = base.of("security")[0]
    fewer = replace(security, masks=tuple(m for m in security.masks if m.column != "email"))
    change = _one(diff_specs(base, Specs({**items, "security": (fewer,)})))
    assert change.blocking and "mask of silver.dim_customer.email removed" in change.what
    assert not _one(diff_specs(Specs({**items, "security": (fewer,)}), base)).breaking


def test_operational_settings_are_additive_field_by_field(base):
    items = _items(base)
    upkeep = tuple(
        replace(m, vacuum_retain_hours=336) if m.table == "silver.fact_order" else m
        for m in base.of("maintenance")
    )
    change = _one(diff_specs(base, Specs({**items, "maintenance": upkeep})))
    assert not change.breaking and change.file == "specs/table_maintenance.csv" and change.row > 0
    assert change.what == "maintenance of silver.fact_order: vacuum_retain_hours 168 -> 336"
    fewer = tuple(f for f in base.of("freshness") if f.table != "gold.daily_sales")
    change = _one(diff_specs(base, Specs({**items, "freshness": fewer})))
    assert not change.breaking and change.what == "freshness SLA of gold.daily_sales removed"
    assert (
        _one(diff_specs(Specs({**items, "freshness": fewer}), base)).what
        == "freshness SLA of gold.daily_sales added"
    )


@pytest.mark.parametrize(
    ("old", "new", "narrower"),
    [
        ("bigint", "int", True),
        ("int", "bigint", False),
        ("int", "string", False),
        ("string", "int", True),
        ("decimal(12,2)", "decimal(14,2)", False),
        ("decimal(12,2)", "decimal(12,1)", True),
        ("decimal(12,2)", "decimal(13,3)", False),
        ("date", "timestamp", False),
        ("timestamp", "date", True),
        ("double", "float", True),
    ],
)
def test_narrowing(old, new, narrower):
    assert narrows(old, new) is narrower


def test_the_command_compares_with_a_git_ref_and_fails_on_an_unacknowledged_break(tmp_path, capsys):
    root = tmp_path / "project"
    shutil.copytree(PROJECT / "specs", root / "specs")
    (root / "databricks.yml").write_text("bundle:\n  name: diff_test\n")
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    columns = root / "specs" / "columns.csv"
    columns.write_text(
        columns.read_text().replace(
            "silver,fact_order_line,quantity,int,", "silver,fact_order_line,quantity,smallint,"
        )
    )
    assert cli.main(["--project-dir", str(root), "specs", "diff", "--base", "HEAD"]) == 1
    out = capsys.readouterr()
    assert (
        "breaking specs/columns.csv:63: silver.fact_order_line.quantity narrowed from int to smallint"
        in out.out
    )
    assert "1 not acknowledged" in out.out
    (root / "specs" / "full_refresh.csv").write_text(
        "table,reason\nfact_order_line,quantity is a smallint now\n"
    )
    assert cli.main(["--project-dir", str(root), "specs", "diff", "--base", "HEAD"]) == 0
    assert "acknowledged by specs/full_refresh.csv:2" in capsys.readouterr().out
    assert cli.main(["--project-dir", str(root), "specs", "diff", "--base", "nope"]) == 2
    assert "--base 'nope' is not a commit" in capsys.readouterr().err
