"""End-to-end behaviour of `generate_data` on the demo settings (small row counts, no Spark)."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys

import pytest
from datagen_helpers import (
    END,
    SETTINGS,
    START,
    all_bytes,
    bronze_columns,
    read_entity,
    run,
    settings_raw,
    timelines,
    valid_at,
)

from medallion.datagen import fakerpool

TS = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
ENTITIES = ("customers", "products", "orders", "order_lines", "web_events")


@pytest.fixture(scope="module")
def three_drops(tmp_path_factory):
    landing = tmp_path_factory.mktemp("three")
    report = run(landing, rows=600, batches=3)
    return landing, report


def test_same_seed_gives_same_bytes_and_other_seed_differs(tmp_path):
    run(tmp_path / "a", seed=3, anomalies=True)
    fakerpool._POOLS.clear()  # the second run must rebuild its faker pools from the seed
    run(tmp_path / "b", seed=3, anomalies=True)
    run(tmp_path / "c", seed=4, anomalies=True)
    a, b, c = (all_bytes(tmp_path / x) for x in "abc")
    assert len(a) == 16 and a == b
    assert a.keys() == c.keys()
    assert all(a[name] != c[name] for name in a)


def test_rerun_keeps_files_and_mtimes(tmp_path):
    run(tmp_path, anomalies=True)
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    for p in files:
        os.utime(p, (1_000_000_000, 1_000_000_000))
    report = run(tmp_path, anomalies=True)
    assert report.changed == []
    assert [p.stat().st_mtime for p in files] == [1_000_000_000] * len(files)
    assert not (tmp_path / ".datagen-tmp").exists()


def test_file_names_sort_in_drop_order(three_drops):
    landing, report = three_drops
    names = sorted(p.name for p in (landing / "orders").iterdir())
    assert names == ["orders_0001_20240130.json", "orders_0002_20240229.json", "orders_0003_20240331.json"]
    assert sorted(p.name for p in (landing / "order_lines").iterdir())[0] == "order_lines_0001_20240130.csv"
    assert len(report.files) == 15 and report.manifest is None


def test_columns_match_bronze_spec(three_drops):
    landing, _ = three_drops
    spec = bronze_columns()
    folders = {e["name"]: (e["landing_folder"], e["format"]) for e in settings_raw()["entities"]}
    assert set(folders) == set(ENTITIES)
    for entity in ENTITIES:
        folder, fmt = folders[entity]
        files = sorted((landing / folder).iterdir())
        assert files and all(p.suffix == f".{fmt}" for p in files)
        if fmt == "csv":
            assert files[0].read_text().split("\n")[0] == ",".join(spec[entity])
        for _, _, row in read_entity(landing, entity):
            assert list(row) == spec[entity] if fmt == "csv" else sorted(row) == sorted(spec[entity])


def test_row_counts_scale_with_rows(tmp_path):
    small = run(tmp_path / "s", rows=100, batches=1).rows
    big = run(tmp_path / "b", rows=400, batches=1).rows
    assert small["orders"] == 100 and big["orders"] == 400
    assert small["customers"] == 20 and big["customers"] == 80  # rows / 5
    assert small["products"] == big["products"] == 50  # max(50, rows / 50)
    assert 100 <= small["order_lines"] <= 500 and big["order_lines"] > 2 * small["order_lines"]
    assert big["web_events"] > 2 * small["web_events"] >= 400


def test_value_formats(three_drops):
    landing, _ = three_drops
    for _, _, row in read_entity(landing, "orders"):
        assert TS.match(row["order_ts"]) and TS.match(row["updated_at"])
        assert row["updated_at"] >= row["order_ts"]
        assert row["status"] in {"placed", "shipped", "delivered", "cancelled", "returned"}
    for _, _, row in read_entity(landing, "order_lines"):
        assert re.fullmatch(r"\d+\.\d\d", row["unit_price"]) and re.fullmatch(r"0\.\d\d", row["discount"])
        assert 1 <= int(row["quantity"]) <= 6
    for _, _, row in read_entity(landing, "customers"):
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["signup_date"]) and row["operation"] in "IUD"


def test_later_drops_update_and_delete(three_drops):
    landing, report = three_drops
    for entity in ("customers", "products"):
        ops = {}
        versions: dict[str, list[str]] = {}
        for file, _, row in read_entity(landing, entity):
            ops.setdefault(file[-17:-13], set()).add(row["operation"])
            versions.setdefault(row[f"{entity[:-1]}_id"], []).append(row["updated_at"])
        assert ops["0001"] == {"I"}
        assert {"U", "D"} <= ops["0002"] | ops["0003"], entity
        multi = [v for v in versions.values() if len(v) > 1]
        assert multi and all(len(set(v)) == len(v) for v in multi)  # late events may come out of order
    orders: dict[str, list[dict]] = {}
    for _, _, row in read_entity(landing, "orders"):
        orders.setdefault(row["order_id"], []).append(row)
    changed = [v for v in orders.values() if len(v) > 1]
    assert changed and report.entities["orders"].updates == sum(len(v) - 1 for v in changed)
    moves = {
        ("placed", "shipped"),
        ("placed", "cancelled"),
        ("shipped", "delivered"),
        ("shipped", "returned"),
    }
    for versions in changed:
        assert len({v["order_ts"] for v in versions}) == 1
        for old, new in itertools.pairwise(versions):
            assert new["updated_at"] > old["updated_at"] and (old["status"], new["status"]) in moves


def test_references_resolve_at_the_time(three_drops):
    landing, _ = three_drops
    customers = timelines(landing, "customers", "customer_id")
    products = timelines(landing, "products", "product_id")
    order_ts = {}
    for _, _, row in read_entity(landing, "orders"):
        assert valid_at(customers[row["customer_id"]], row["order_ts"]), row
        order_ts[row["order_id"]] = row["order_ts"]
    lines = read_entity(landing, "order_lines")
    assert lines
    for _, _, row in lines:
        assert row["order_id"] in order_ts
        assert valid_at(products[row["product_id"]], order_ts[row["order_id"]]), row
    nulls = 0
    for _, _, row in read_entity(landing, "web_events"):
        assert valid_at(customers[row["customer_id"]], row["event_ts"]), row
        if row["product_id"] is None:
            nulls += 1
        else:
            assert valid_at(products[row["product_id"]], row["event_ts"]), row
        assert START.isoformat() <= row["event_ts"][:10] <= END.isoformat()
    assert nulls > 0


def test_product_popularity_is_skewed(tmp_path):
    run(tmp_path, rows=2000, batches=1)
    counts: dict[str, int] = {}
    for _, _, row in read_entity(tmp_path, "order_lines"):
        counts[row["product_id"]] = counts.get(row["product_id"], 0) + 1
    ranked = sorted(counts.values(), reverse=True)
    top_tenth = sum(ranked[: len(ranked) // 10])
    assert top_tenth > 0.3 * sum(ranked)  # uniform would give ~10 %


def test_bytes_do_not_depend_on_the_hash_seed(tmp_path):
    """Faker builds some word lists from sets; another process must still write the same bytes."""
    script = (
        "import sys; from pathlib import Path; from datetime import date; "
        "from medallion.datagen import generate_data; "
        f"generate_data(Path({str(SETTINGS)!r}), Path(sys.argv[1]), rows=80, seed=5, "
        "start_date=date(2024, 1, 1), end_date=date(2024, 2, 29), batches=2, anomalies=True)"
    )
    for name, hash_seed in (("a", "1"), ("b", "2")):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-c", script, str(tmp_path / name)], check=True, env=env)
    a, b = all_bytes(tmp_path / "a"), all_bytes(tmp_path / "b")
    assert len(a) == 11 and a == b  # 5 entities x 2 drops + the manifest
