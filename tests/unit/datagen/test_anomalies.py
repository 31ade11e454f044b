"""`--anomalies`: the manifest must point at exactly the bad lines, each showing its declared defect."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from datagen_helpers import END, all_bytes, lines, parse_line, read_entity, run, settings_raw

KINDS = {
    "null_key",
    "bad_type",
    "out_of_range",
    "duplicate_key",
    "malformed_json",
    "unknown_fk",
    "future_date",
}


@pytest.fixture(scope="module")
def landings(tmp_path_factory):
    bad = tmp_path_factory.mktemp("bad")
    clean = tmp_path_factory.mktemp("clean")
    report = run(bad, rows=200, batches=2, anomalies=True)
    run(clean, rows=200, batches=2, anomalies=False)
    manifest = json.loads((bad / "_manifests" / "anomalies.json").read_text())
    return bad, clean, report, manifest["anomalies"]


def _entity(name: str) -> dict:
    return next(e for e in settings_raw()["entities"] if e["name"] == name)


def _range(entity: dict, column: str) -> tuple[float, float]:
    col = next(c for c in entity["columns"] if c["name"] == column)
    if col["kind"] == "lookup":
        ref = next(c for c in entity["columns"] if c["name"] == col["reference"])
        return _range(_entity(ref["entity"]), col["column"])
    if col["kind"] == "choice":
        return min(col["values"]), max(col["values"])
    return col["min"], col["max"]


def _keys(landing, entity: str, skip=frozenset()) -> set:
    key = _entity(entity)["key"]
    return {row[key] for _, _, row in read_entity(landing, entity, skip)}


def test_every_kind_is_injected_and_listed(landings):
    _, _, report, entries = landings
    assert {e["kind"] for e in entries} == KINDS
    assert report.anomalies == len(entries) and report.manifest is not None
    assert len({(e["file"], e["line"]) for e in entries}) == len(entries)
    for e in entries:
        assert e["file"].startswith(_entity(e["entity"])["landing_folder"] + "/")


def test_each_entry_points_at_a_line_with_its_defect(landings):
    bad, clean, _, entries = landings
    broken = {(e["file"], e["line"]) for e in entries if e["kind"] == "malformed_json"}
    for e in entries:
        path = bad / e["file"]
        text = lines(path)
        line = text[e["line"] - 1]
        spec = _entity(e["entity"])
        if e["kind"] == "malformed_json":
            assert line == e["value"]
            with pytest.raises(json.JSONDecodeError):
                json.loads(line)
            continue
        header = text[0].split(",") if path.suffix == ".csv" else None
        row = parse_line(path, line, header)
        value = row[e["column"]]
        if "key" in spec and e["kind"] != "null_key":
            assert row[spec["key"]] == e["key"]
        kind = e["kind"]
        if kind == "null_key":
            assert e["column"] == spec["key"] and value is None and e["value"] is None
            continue
        assert str(value) == str(e["value"]), e
        if kind == "bad_type":
            with pytest.raises(ValueError):
                float(value)
        elif kind == "out_of_range":
            low, high = _range(spec, e["column"])
            assert not low <= float(value) <= high, e
        elif kind == "future_date":
            assert date.fromisoformat(value[:10]) > max(END, date.today()) + timedelta(days=365)
        elif kind == "unknown_fk":
            target = _fk_target(spec, e["column"])
            assert value not in _keys(bad, target, broken) and value not in _keys(clean, target)
        elif kind == "duplicate_key":
            twins = [
                other for n, other in _parsed(path, text, header) if n != e["line"]
                and other.get(spec["key"]) == value and other.get(spec.get("sequence")) == row.get(spec.get("sequence"))
            ]  # fmt: skip
            assert twins and all(t != row for t in twins), e


def _parsed(path, text, header):
    for n, line in enumerate(text, 1):
        if header and n == 1:
            continue
        try:
            yield n, parse_line(path, line, header)
        except json.JSONDecodeError:
            continue


def _fk_target(spec: dict, column: str) -> str:
    col = next(c for c in spec["columns"] if c["name"] == column)
    if col["kind"] == "reference":
        return col["entity"]
    parent = _entity(spec["rows"]["per_parent"])
    return parent["name"] if col["column"] == parent.get("key") else _fk_target(parent, col["column"])


def test_removing_listed_lines_gives_the_clean_files(landings):
    bad, clean, _, entries = landings
    listed = {(e["file"], e["line"]) for e in entries}
    clean_files = {k: v for k, v in all_bytes(clean).items()}
    bad_files = {k: v for k, v in all_bytes(bad).items() if not k.startswith("_manifests")}
    assert clean_files.keys() == bad_files.keys()
    for name in clean_files:
        kept = [t for n, t in enumerate(lines(bad / name), 1) if (name, n) not in listed]
        assert kept == lines(clean / name), name


def test_without_anomalies_no_manifest_and_stale_one_removed(tmp_path):
    run(tmp_path, anomalies=True)
    assert (tmp_path / "_manifests" / "anomalies.json").is_file()
    report = run(tmp_path, anomalies=False)
    assert report.manifest is None and not (tmp_path / "_manifests" / "anomalies.json").exists()
    for entity in ("customers", "orders", "web_events"):
        key = _entity(entity)["key"]
        rows = read_entity(tmp_path, entity)
        assert rows and all(row[key] for _, _, row in rows)
    for _, _, row in read_entity(tmp_path, "order_lines"):
        assert 1 <= int(row["quantity"]) <= 6 and float(row["unit_price"]) > 0
