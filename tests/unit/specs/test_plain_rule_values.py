"""dq_rules.csv takes plain spreadsheet values (`allowed`, `min`, `max`) and hands DQX the arguments
it expects: SQL string literals for text columns, numbers for numeric ones, ISO dates for dates.
DQX YAML files keep DQX's own format."""

from __future__ import annotations

import shutil
from pathlib import Path

from medallion.specs import load_specs

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "specs"


def _specs(tmp_path: Path, case: str):
    specs = tmp_path / "specs"
    shutil.copytree(FIXTURES / "valid", specs)
    shutil.copytree(FIXTURES / "malformed" / case / "data_quality", specs / "data_quality")
    return load_specs(specs)


def _arguments(specs, table: str, rule: str) -> dict:
    found = [r for r in specs.silver_table(table).rules if r.name == rule]
    assert len(found) == 1, f"{table}.{rule} not found"
    return found[0].check["check"]["arguments"]


def test_plain_values_become_dqx_arguments_typed_for_the_column(tmp_path: Path):
    specs = _specs(tmp_path, "dq_plain_values_valid")
    assert _arguments(specs, "dim_thing", "label_known") == {
        "column": "label",
        "allowed": ["'A'", "'B'", "'O\\'Brien'"],  # text: quoted, so DQX does not read a column
    }
    assert _arguments(specs, "dim_thing", "amount_in_range") == {
        "column": "amount",
        "min_limit": 0.5,
        "max_limit": 100,
    }
    # one-sided checks take `limit`: min for "not less than", max for "not greater than"
    assert _arguments(specs, "fact_event", "recent") == {"column": "event_date", "limit": "2024-01-01"}
    assert _arguments(specs, "fact_event", "seen_before_now") == {
        "column": "event_ts",
        "limit": "2030-01-01 00:00:00",
    }


def test_the_demo_rules_use_plain_values_and_match_dqx_literals(project_root: Path):
    """The project's own lists and ranges are written as plain values and reach DQX quoted."""
    specs = load_specs(project_root / "specs")
    segment = _arguments(specs, "dim_customer", "segment_is_known")
    assert segment["allowed"] == ["'consumer'", "'business'", "'vip'"]
    assert _arguments(specs, "fact_order_line", "quantity_in_range") == {
        "column": "quantity",
        "min_limit": 1,
        "max_limit": 50,
    }
    rules_csv = (project_root / "specs" / "data_quality" / "dq_rules.csv").read_text()
    assert "'vip'" not in rules_csv  # no SQL quoting left for a spreadsheet user to type
