"""Settings and parameter validation: errors must name the JSON path or the option, and stop early."""

from __future__ import annotations

import copy
import json
from datetime import date

import pytest
from datagen_helpers import SETTINGS, run, settings_raw

from medallion.datagen import SettingsError, load_settings, parse_settings
from medallion.errors import ParameterError, SpecError


def _problems(raw) -> str:
    with pytest.raises(SettingsError) as info:
        parse_settings(raw, "s.json")
    assert isinstance(info.value, SpecError)
    return str(info.value)


def _edit(fn) -> dict:
    raw = copy.deepcopy(settings_raw())
    fn(raw)
    return raw


def test_demo_settings_load():
    s = load_settings(SETTINGS)
    assert [e.name for e in s.entities] == ["customers", "products", "orders", "order_lines", "web_events"]
    assert s.entity("orders").key == "order_id" and s.entity("order_lines").rows.parent == "orders"


def test_unknown_kind_names_its_path():
    raw = _edit(lambda r: r["entities"][2]["columns"][3].update(kind="chioce"))
    text = _problems(raw)
    assert "s.json:entities[2].columns[3].kind: unknown column kind 'chioce'" in text
    assert "known:" in text


def test_all_problems_are_listed_at_once():
    def breakit(r):
        r["entities"][0]["columns"][1].pop("provider")
        r["entities"][0]["rows"] = {"ratio": "lots"}
        r["entities"][1]["columns"][4]["weights"] = [1]
        r["entities"][1]["colour"] = "red"
        r["calendar"]["hour_weights"] = [1, 2]

    text = _problems(_edit(breakit))
    assert "5 problems" in text
    for where in (
        "entities[0].columns[1].provider: is required",
        "entities[0].rows.ratio: must be a number",
        "entities[1].colour: unknown setting",
        "calendar.hour_weights: must list 24 weights, got 2",
    ):
        assert where in text


def test_cross_reference_problems_name_paths():
    def breakit(r):
        r["entities"][2]["columns"][1]["entity"] = "clients"
        r["entities"][3]["columns"][0]["column"] = "order_no"
        r["entities"][0]["key"] = "first_name"
        r["entities"][2]["changes"]["delete"] = 0.1

    text = _problems(_edit(breakit))
    assert "entities[2].columns[1].entity: must name an entity listed before 'orders', got 'clients'" in text
    assert "entities[3].columns[0].column: names no column of 'orders': 'order_no'" in text
    assert "entities[0].key: column 'first_name' must have kind 'sequence'" in text
    assert "entities[2].changes.delete: deletes need 'key', 'sequence' and 'operation'" in text


def test_reference_needs_history_and_order():
    raw = _edit(lambda r: r["entities"].insert(0, r["entities"].pop(2)))
    assert "entities[0].columns[1].entity: must name an entity listed before 'orders'" in _problems(raw)
    raw = _edit(lambda r: r["entities"][1].pop("time"))
    assert "set entities[1].time.history_days" in _problems(raw)


def test_invalid_json_and_bad_faker_provider(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"entities": [}')
    with pytest.raises(SettingsError, match=r"bad.json:line 1 column 15: not valid JSON"):
        load_settings(bad)
    raw = _edit(lambda r: r["entities"][1]["columns"][3].update(provider="no_such_thing"))
    path = tmp_path / "s.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(
        SettingsError, match=r"entities\[1\]\.columns\[3\]\.provider: 'no_such_thing' is not a faker"
    ):
        run(tmp_path / "out", settings=path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rows": 0}, "--rows must be between 1"),
        ({"rows": True}, "--rows must be a whole number"),
        ({"batches": 0}, "--batches must be between 1"),
        ({"start_date": date(2024, 4, 1)}, "--start-date 2024-04-01 is after --end-date 2024-03-31"),
        ({"batches": 92}, "--batches 92 is more than the 91 days"),
    ],
)
def test_parameter_errors(tmp_path, change, message):
    with pytest.raises(ParameterError, match=message):
        run(tmp_path, **change)
    assert not any(tmp_path.iterdir())


def test_missing_settings_file(tmp_path):
    with pytest.raises(ParameterError, match="settings file not found"):
        run(tmp_path / "out", settings=tmp_path / "nope.json")
