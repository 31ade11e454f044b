"""Every malformed fixture case reports exactly the problems its expected.txt lists.

A case folder under tests/fixtures/specs/malformed/ holds only the files that differ from the
valid base (tests/fixtures/specs/valid/), an optional delete.txt naming base files to remove, and
expected.txt: one line per expected problem, `<file>[:row][:column]: <message fragment>`.
An empty expected.txt means the case must validate clean.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from medallion.errors import SpecError, SpecProblem
from medallion.specs import check_specs, load_specs

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "specs"
VALID = FIXTURES / "valid"
MALFORMED = FIXTURES / "malformed"
CASES = sorted(p.name for p in MALFORMED.iterdir() if p.is_dir())


def _overlay(case: str, tmp_path: Path) -> Path:
    specs = tmp_path / "specs"
    shutil.copytree(VALID, specs)
    case_dir = MALFORMED / case
    for path in case_dir.rglob("*"):
        relative = path.relative_to(case_dir)
        if path.is_file() and relative.name not in ("expected.txt", "delete.txt"):
            (specs / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, specs / relative)
    delete = case_dir / "delete.txt"
    for name in delete.read_text().split() if delete.exists() else []:
        (specs / name).unlink()
    return specs


def _where(problem: SpecProblem) -> str:
    return str(problem).split(": ", 1)[0]


def _expected(case: str) -> list[tuple[str, str]]:
    lines = (MALFORMED / case / "expected.txt").read_text(encoding="utf-8").splitlines()
    return [tuple(line.split(": ", 1)) for line in lines if line.strip() and not line.startswith("#")]


def test_there_are_at_least_twenty_malformed_cases():
    assert len([c for c in CASES if _expected(c)]) >= 20


@pytest.mark.parametrize("case", CASES)
def test_malformed_case(case: str, tmp_path: Path):
    problems = check_specs(_overlay(case, tmp_path))
    expected = _expected(case)
    shown = "\n".join(str(p) for p in problems) or "(no problems)"
    for where, fragment in expected:
        assert any(_where(p) == where and fragment in str(p).split(": ", 1)[1] for p in problems), (
            f"expected {where}: {fragment}\nreported:\n{shown}"
        )
    assert len(problems) == len(expected), f"expected {len(expected)} problem(s), reported:\n{shown}"


def test_valid_base_loads_with_columns_and_gold_order():
    specs = load_specs(VALID)
    assert [b.table for b in specs.bronze] == ["things", "events"]
    assert specs.bronze_table("things").reader_options == {"header": "true", "delimiter": "|"}
    assert specs.bronze_table("events").landing_folder == "incoming/events"
    dim = specs.silver_table("dim_thing")
    assert [c.name for c in dim.columns] == ["thing_id", "label", "amount", "updated_at"]
    assert dim.keys == ("thing_id",) and dim.sequence_by == ("updated_at",)
    assert dim.delete_when == "op = 'D'"
    assert dim.columns[0].nullable is False and dim.columns[0].row == 11
    assert dim.columns[2].select_expression == "try_cast(`amount` AS decimal(10,2))"
    fact = specs.silver_table("fact_event")
    assert fact.partition_by == ("event_date",)
    assert fact.columns[-1].nullable is True  # "yes"
    # gold_tables.csv lists event_summary first, but it reads daily_events
    assert [g.table for g in specs.gold] == ["daily_events", "event_summary"]
    summary = specs.gold_table("event_summary")
    assert summary.upstream == (("gold", "daily_events"),)
    assert "${gold}.daily_events" in summary.sql
    assert specs.gold_table("daily_events").upstream == (("silver", "fact_event"), ("silver", "dim_thing"))


def test_project_specs_validate_clean():
    project_specs = Path(__file__).resolve().parents[3] / "specs"
    assert check_specs(project_specs) == []
    specs = load_specs(project_specs)
    assert specs.bronze and specs.silver and specs.gold
    assert all(table.columns for table in (*specs.bronze, *specs.silver))


def test_many_problems_are_reported_at_once(tmp_path: Path):
    specs = _overlay("unknown_data_type", tmp_path)
    (specs / "bronze_sources.csv").write_text(
        "table,format,landing_folder,reader_options,description\n"
        "things,xml,/abs,header,x\n"
        "events,json,incoming/events,,\n"
    )
    (specs / "incremental_load_patterns.csv").write_text(
        "table,source_table,load_pattern,keys,sequence_by,delete_when,partition_by,description\n"
        "dim_thing,things,merge,,,op = 'D',,\n"
        "fact_event,events,snapshot,,,,event_dat,\n"
    )
    (specs / "gold" / "event_summary.sql").write_text("SELECT * FROM ${gold}.nope\n")
    with pytest.raises(SpecError) as info:
        load_specs(specs)
    found = {_where(p) for p in info.value.problems}
    assert found == {
        "specs/bronze_sources.csv:2:format",
        "specs/bronze_sources.csv:2:landing_folder",
        "specs/bronze_sources.csv:2:reader_options",
        "specs/incremental_load_patterns.csv:2:keys",
        "specs/incremental_load_patterns.csv:2:sequence_by",
        "specs/incremental_load_patterns.csv:3:load_pattern",
        "specs/incremental_load_patterns.csv:3:partition_by",
        "specs/columns.csv:15:data_type",
        "specs/gold/event_summary.sql:1",
    }
    message = str(info.value)
    assert message.startswith("9 problems in the specs:")
    assert "specs/columns.csv:15:data_type: unknown data type 'strng'" in message


def test_missing_specs_folder_is_a_problem(tmp_path: Path):
    problems = check_specs(tmp_path / "nowhere")
    assert len(problems) == 1 and "specs folder not found" in problems[0].message


def test_unregistered_files_are_ignored(tmp_path: Path):
    specs = _overlay("ignored_headers_are_fine", tmp_path)
    (specs / "scd_type2_mappings.csv").write_text("whatever,columns\n1,2,3\n")
    (specs / "README.txt").write_bytes(b"\xff\xfe not utf-8")
    assert check_specs(specs) == []
