"""The change feed of keyed entities over several drops: reinserts, several changes of a key in one
drop, late events, unique key + sequence, and references that resolve at the referring row's time."""

from __future__ import annotations

import copy
import json
from collections import Counter
from itertools import pairwise

import pytest
from datagen_helpers import (
    END,
    START,
    all_bytes,
    lines,
    read_entity,
    run,
    settings_raw,
    timelines,
    valid_at,
)

from medallion.datagen import SettingsError, parse_settings
from medallion.datagen.timeline import split_range

DIMS = {"customers": "customer_id", "products": "product_id"}
BATCHES = 4
BUSY = {"update": 0.2, "delete": 0.05, "reinsert": 0.5, "repeat": 0.5, "late": 0.3, "unchanged": 0.2}


def _busy_settings(tmp_path, **rates):
    """The demo settings with high change rates on both dimensions, written to a file."""
    raw = copy.deepcopy(settings_raw())
    for entity in raw["entities"]:
        if entity["name"] in DIMS:
            entity["changes"].update(BUSY, **rates)
    path = tmp_path / "busy.json"
    path.write_text(json.dumps(raw))
    return path


@pytest.fixture(scope="module")
def busy(tmp_path_factory):
    base = tmp_path_factory.mktemp("busy")
    landing = base / "landing"
    report = run(landing, rows=1000, seed=21, batches=BATCHES, settings=_busy_settings(base))
    return landing, report


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    landing = tmp_path_factory.mktemp("demo")
    return landing, run(landing, rows=3000, seed=5, batches=BATCHES)


def _late(events: list[dict]) -> list[dict]:
    """Events delivered in a drop after an event of the same key with a later time was delivered."""
    out = []
    for event in events:
        before = [e["updated_at"] for e in events if e["_drop"] < event["_drop"]]
        if before and event["updated_at"] < max(before):
            out.append(event)
    return out


@pytest.mark.parametrize("which", ["busy", "demo"])
@pytest.mark.parametrize("entity", sorted(DIMS))
def test_change_feed_has_reinserts_repeats_and_late_events(request, which, entity):
    landing, report = request.getfixturevalue(which)
    keyed = timelines(landing, entity, DIMS[entity])
    reinserted = [
        k
        for k, ev in keyed.items()
        if any(a["operation"] == "D" and b["operation"] == "I" for a, b in pairwise(ev))
    ]
    per_drop = Counter((k, e["_drop"]) for k, ev in keyed.items() for e in ev if e["operation"] == "U")
    late = [e for ev in keyed.values() for e in _late(ev)]
    counts = report.entities[entity]
    if which == "busy" or entity == "customers":  # the demo's few products may see none of them
        assert reinserted and late and max(per_drop.values()) >= 2, (entity, which)
    assert counts.reinserts == len(reinserted) and counts.late == len(late)


def test_reinserts_follow_their_delete_in_a_later_drop(busy):
    landing, _ = busy
    seen = 0
    for entity, key in DIMS.items():
        for events in timelines(landing, entity, key).values():
            assert events[0]["operation"] == "I"
            for a, b in pairwise(events):
                assert a["operation"] != "D" or b["operation"] == "I", events  # only an insert after a delete
                assert b["operation"] != "I" or a["operation"] == "D", events  # an insert only after a delete
                if a["operation"] == "D":
                    assert b["_drop"] > a["_drop"]
                    seen += 1
    assert seen >= 5


def test_several_changes_of_a_key_in_one_drop_come_in_time_order(busy):
    landing, _ = busy
    repeated = 0
    for entity, key in DIMS.items():
        keyed = timelines(landing, entity, key)
        for events in keyed.values():
            on_time: dict[int, list[dict]] = {}
            for e in events:
                if e not in _late(events):
                    on_time.setdefault(e["_drop"], []).append(e)
            for group in on_time.values():
                by_line = [e["updated_at"] for e in sorted(group, key=lambda e: e["_line"])]
                assert by_line == sorted(by_line) and len(set(by_line)) == len(by_line)
                updates = [e for e in group if e["operation"] == "U"]
                assert len(updates) <= 3  # repeat_max
                repeated += len(updates) >= 2
    assert repeated >= 10


def test_late_events_are_updates_from_the_drop_before(busy):
    landing, _ = busy
    slices = split_range(START, END, BATCHES)
    found = 0
    for entity, key in DIMS.items():
        for events in timelines(landing, entity, key).values():
            for e in _late(events):
                found += 1
                assert e["operation"] == "U" and e["_drop"] >= 2
                earlier = slices[e["_drop"] - 2]
                assert earlier.first_day.isoformat() <= e["updated_at"][:10] <= earlier.last_day.isoformat()
                newer = [x for x in events if x["updated_at"] > e["updated_at"] and x["_drop"] < e["_drop"]]
                assert newer and all(x["operation"] != "D" for x in newer)
    assert found >= 5


@pytest.mark.parametrize("which", ["busy", "demo"])
def test_key_and_sequence_are_unique(request, which):
    landing, _ = request.getfixturevalue(which)
    for entity, key in {**DIMS, "orders": "order_id"}.items():
        pairs = Counter((row[key], row["updated_at"]) for _, _, row in read_entity(landing, entity))
        assert pairs and max(pairs.values()) == 1, entity


def test_some_updates_repeat_the_current_values(busy):
    """A product update always draws a new price, so equal prices come from `unchanged` alone."""
    landing, _ = busy
    same = changed = 0
    for events in timelines(landing, "products", "product_id").values():
        for a, b in pairwise(events):
            if b["operation"] == "U":
                same += a["unit_price"] == b["unit_price"]
                changed += a["unit_price"] != b["unit_price"]
    assert same >= 5 and changed > 2 * same


@pytest.mark.parametrize("which", ["busy", "demo"])
def test_references_find_the_version_valid_at_the_fact_time(request, which):
    """Gold joins a fact to the dimension version with effective_from <= fact time < effective_to."""
    landing, _ = request.getfixturevalue(which)
    customers = timelines(landing, "customers", "customer_id")
    products = timelines(landing, "products", "product_id")
    order_ts = {}
    for _, _, row in read_entity(landing, "orders"):
        assert valid_at(customers[row["customer_id"]], row["order_ts"]), row
        order_ts[row["order_id"]] = row["order_ts"]
    for _, _, row in read_entity(landing, "order_lines"):
        version = valid_at(products[row["product_id"]], order_ts[row["order_id"]])
        assert version and version["unit_price"] == row["unit_price"], row  # the price at the order's time
    for _, _, row in read_entity(landing, "web_events"):
        assert valid_at(customers[row["customer_id"]], row["event_ts"]), row
        if row["product_id"] is not None:
            assert valid_at(products[row["product_id"]], row["event_ts"]), row


def test_same_seed_same_bytes_and_anomalies_stay_exact(tmp_path):
    settings = _busy_settings(tmp_path)
    for name in ("a", "b"):
        run(tmp_path / name, rows=300, seed=9, batches=BATCHES, anomalies=True, settings=settings)
    run(tmp_path / "clean", rows=300, seed=9, batches=BATCHES, settings=settings)
    a, b = all_bytes(tmp_path / "a"), all_bytes(tmp_path / "b")
    assert a == b
    listed = {(e["file"], e["line"]) for e in json.loads(a["_manifests/anomalies.json"])["anomalies"]}
    clean = all_bytes(tmp_path / "clean")
    assert clean.keys() == {k for k in a if not k.startswith("_manifests")}
    for name in clean:
        kept = [t for n, t in enumerate(lines(tmp_path / "a" / name), 1) if (name, n) not in listed]
        assert kept == lines(tmp_path / "clean" / name), name


def test_settings_without_the_new_rates_give_a_plain_feed(tmp_path):
    raw = copy.deepcopy(settings_raw())
    zero = copy.deepcopy(raw)
    for plain, zeroed in zip(raw["entities"], zero["entities"], strict=True):
        for name in ("reinsert", "repeat", "repeat_max", "late", "unchanged"):
            plain.get("changes", {}).pop(name, None)
            if "changes" in zeroed and name in zeroed["changes"]:
                zeroed["changes"][name] = 3 if name == "repeat_max" else 0
    for name, settings in (("plain", raw), ("zero", zero)):
        (tmp_path / f"{name}.json").write_text(json.dumps(settings))
        run(tmp_path / name, rows=300, seed=3, batches=BATCHES, settings=tmp_path / f"{name}.json")
    assert all_bytes(tmp_path / "plain") == all_bytes(tmp_path / "zero")
    for entity, key in DIMS.items():
        for events in timelines(tmp_path / "plain", entity, key).values():
            assert [e["operation"] for e in events].count("I") == 1
            assert not _late(events)
            drops = Counter(e["_drop"] for e in events)
            assert max(drops.values()) == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"delete": 0}, "entities[0].changes.reinsert: reinserts bring back deleted keys"),
        ({"update": 0}, "entities[0].changes.late: 'late' shapes updates; set changes.update > 0"),
        ({"repeat_max": 1}, "entities[0].changes.repeat_max: must be >= 2, got 1"),
        ({"late": 1.5}, "entities[0].changes.late: must be <= 1, got 1.5"),
        ({"reinsert": "often"}, "entities[0].changes.reinsert: must be a number"),
        ({"lates": 0.1}, "entities[0].changes.lates: unknown setting"),
    ],
)
def test_change_settings_mistakes_name_their_path(change, message):
    raw = copy.deepcopy(settings_raw())
    raw["entities"][0]["changes"].update(change)
    with pytest.raises(SettingsError) as info:
        parse_settings(raw, "s.json")
    assert f"s.json:{message}" in str(info.value)


def test_rows_made_per_parent_take_no_feed_settings():
    raw = copy.deepcopy(settings_raw())
    raw["entities"][3]["changes"] = {"late": 0.1}
    with pytest.raises(SettingsError, match=r"entities\[3\]\.changes: rows made per parent"):
        parse_settings(raw, "s.json")


def _facts_with_history(tmp_path, fact_days: int, customer_days: int):
    """Orders (and so their lines and clicks) dated before the first drop too, like a backfill."""
    raw = copy.deepcopy(settings_raw())
    entities = {e["name"]: e for e in raw["entities"]}
    entities["orders"]["time"] = {"history_days": fact_days}
    entities["customers"]["time"] = {"history_days": customer_days}
    entities["customers"]["changes"].update(BUSY)
    entities["web_events"]["time"]["parent_offset_minutes"] = [-2880, 0]  # clicks up to 2 days before
    path = tmp_path / "history.json"
    path.write_text(json.dumps(raw))
    landing = tmp_path / "landing"
    run(landing, rows=800, seed=13, batches=BATCHES, settings=path)
    return landing, timelines(landing, "customers", "customer_id")


def test_facts_dated_before_the_first_drop_refer_to_keys_live_then(tmp_path):
    landing, customers = _facts_with_history(tmp_path, fact_days=60, customer_days=120)
    orders = read_entity(landing, "orders")
    assert min(row["order_ts"] for _, _, row in orders) < (START.isoformat())
    for _, _, row in orders:
        assert valid_at(customers[row["customer_id"]], row["order_ts"]), row
    for _, _, row in read_entity(landing, "web_events"):
        assert valid_at(customers[row["customer_id"]], row["event_ts"]), row


def test_facts_older_than_every_key_take_the_oldest_key(tmp_path):
    """The one case that cannot resolve: no key is live yet at the fact's time."""
    landing, customers = _facts_with_history(tmp_path, fact_days=60, customer_days=20)
    first = min(events[0]["updated_at"] for events in customers.values())
    oldest = next(k for k, events in customers.items() if events[0]["updated_at"] == first)
    misses = 0
    for _, _, row in read_entity(landing, "orders"):
        if row["order_ts"] < first:
            assert row["customer_id"] == oldest
            misses += 1
        else:
            assert valid_at(customers[row["customer_id"]], row["order_ts"]), row
    assert misses > 0
