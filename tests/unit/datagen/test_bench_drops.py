"""The drops `make bench` measures: a full load, then one day of 1% new data (scripts/bench.py).

The incremental goal is stated for new data; a drop that re-delivered existing keys with other
dates would measure a different thing (every date and customer touched).
"""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def bench():
    """scripts/bench.py as `python scripts/bench.py` loads it: its folder first on the path (its parts
    are modules beside it)."""
    scripts = ROOT / "scripts"
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(scripts))
        spec = importlib.util.spec_from_file_location("bench_script", scripts / "bench.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def drops(bench, tmp_path_factory):
    """A small bench project: the first drop delivered, the second staged, then delivered too."""
    bench.WORK = tmp_path_factory.mktemp("bench")
    project = bench._prepare(2000, 7)
    landing = project / "landing"
    bench._generate(project, landing, 2000, 7)
    first = sorted(p.relative_to(landing) for p in landing.rglob("*.*"))
    delivered = bench._deliver(project, landing, 2)
    return landing, first, delivered


def _rows(path: Path) -> list[dict]:
    if path.suffix == ".json":
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _drop(landing: Path, folder: str, number: int) -> list[dict]:
    (path,) = (landing / folder).glob(f"*_{number:04d}_*.*")
    return _rows(path)


def test_the_full_load_alone_is_delivered_first_and_the_next_day_after_it(drops):
    landing, first, delivered = drops
    assert first and all("_0001_" in p.name for p in first)
    second = sorted(p.relative_to(landing) for p in landing.rglob("*_0002_*"))
    assert 0 < len(second) == delivered <= len(first)  # at most one file per entity in each drop
    assert not list((landing.parent / ".bench_drops").rglob("*_0002_*"))  # all moved, none copied


def test_the_second_drop_is_one_percent_new_orders_on_the_next_day(bench, drops):
    landing, _, _ = drops
    full, new = _drop(landing, "orders", 1), _drop(landing, "orders", 2)
    assert len(full) == 2000 and len(new) == round(bench.DROP_SHARE * len(full))
    assert not {o["order_id"] for o in new} & {o["order_id"] for o in full}  # new keys, no re-delivery
    day = bench.DROP_DAY.isoformat()
    assert {o["order_ts"][:10] for o in new} == {day}
    assert max(o["order_ts"] for o in full) < day
    lines = _drop(landing, "order_lines", 2)
    assert lines and {line["order_id"] for line in lines} <= {o["order_id"] for o in new}


def test_the_second_drop_changes_about_one_percent_of_the_customers(bench, drops):
    landing, _, _ = drops
    full = {c["customer_id"] for c in _drop(landing, "customers", 1)}
    changes = _drop(landing, "customers", 2)
    changed = {c["customer_id"] for c in changes} & full
    assert 0 < len(changed) <= 3 * bench.DROP_SHARE * len(full)
    assert {c["customer_id"] for c in changes} - full  # and some are new
