"""A new kind of spec is one module registered with the others: shown with a throwaway kind.

The kind below (`owners.csv`: who answers for a table) is defined and registered inside this test
only, through the public registry; no module of `medallion.specs` is edited. `medallion validate`
then reads its file, reports its problems at file:row:column and exposes its objects on `Specs`.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from medallion import cli
from medallion.specs import (
    Draft,
    SpecFile,
    SpecKind,
    check_specs,
    load_specs,
    register_kind,
    registered_kind,
    spec_kinds,
)
from medallion.specs.csv_rows import Row
from medallion.specs.registry import unregister_kind

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "specs"


@dataclass(frozen=True)
class Owner:
    table: str
    team: str
    contact: str
    row: int


def _parse_owner(row: Row, draft: Draft) -> None:
    if "@" not in row.get("contact"):
        draft.problems.append(row.problem("contact", "not an e-mail address", "e.g. team@example.com"))
    draft.add("owners", Owner(row.get("table"), row.get("team"), row.get("contact"), row.number))


def _check_owners(draft: Draft) -> None:
    """Cross-file: an owned table must be a silver or gold table (read from the other kinds)."""
    known = {t.table.lower() for key in ("silver", "gold") for t in draft.of(key)}
    for owner in draft.of("owners"):
        if owner.table.lower() not in known:
            draft.problem(
                "owners.csv", owner.row, "table", f"no silver or gold table {owner.table!r}", "fix it"
            )


OWNERS = SpecKind(
    name="owners",
    files=(
        SpecFile(
            "owners.csv",
            required=("table", "team", "contact"),
            optional=(),
            unique=("table",),
            identifiers=("table", "team"),
            parse=_parse_owner,
            produces="owners",
        ),
    ),
    check=_check_owners,
    after=("tables", "gold"),
)


def _project(tmp_path: Path, owners: str) -> Path:
    (tmp_path / "databricks.yml").write_text("bundle:\n  name: kinds_test\n")
    shutil.copytree(FIXTURES / "valid", tmp_path / "specs")
    (tmp_path / "specs" / "owners.csv").write_text(owners)
    return tmp_path


def test_a_registered_kind_is_validated_with_file_row_and_column(tmp_path: Path, capsys):
    owners = "table,team,contact\ndim_thing,core,core@example.com\ndim_nothing,core,core\nfact_event,bad team,x@y\n"
    project = _project(tmp_path, owners)
    with registered_kind(OWNERS):
        assert cli.main(["--project-dir", str(project), "validate"]) == 2
    err = capsys.readouterr().err
    assert "specs/owners.csv:3:table: no silver or gold table 'dim_nothing'" in err
    assert "specs/owners.csv:3:contact: not an e-mail address" in err
    assert "specs/owners.csv:4:team: 'bad team' is not a valid name" in err
    assert "Traceback" not in err


def test_a_registered_kind_reaches_specs_and_leaves_with_its_block(tmp_path: Path):
    project = _project(tmp_path, "table,team,contact\ndaily_events,bi,bi@example.com\n")
    with registered_kind(OWNERS):
        specs = load_specs(project / "specs")
        assert specs.of("owners") == (Owner("daily_events", "bi", "bi@example.com", 2),)
        assert [k.name for k in spec_kinds()].index("owners") > [k.name for k in spec_kinds()].index("gold")
    assert "owners" not in [k.name for k in spec_kinds()]
    assert load_specs(project / "specs").of("owners") == ()  # the file is ignored once unregistered


def test_a_missing_file_of_a_registered_kind_says_which_headers_to_write(tmp_path: Path):
    project = _project(tmp_path, "")
    (project / "specs" / "owners.csv").unlink()
    with registered_kind(OWNERS):
        problems = [str(p) for p in check_specs(project / "specs")]
    assert problems == [
        "specs/owners.csv: spec file is missing (create it with the header line: table,team,contact)"
    ]


def test_registry_refuses_duplicates_and_unknown_or_circular_order():
    with registered_kind(OWNERS), pytest.raises(ValueError, match="registered twice"):
        register_kind(OWNERS)
    with (
        registered_kind(SpecKind(name="late", after=("nowhere",))),
        pytest.raises(ValueError, match="not registered"),
    ):
        spec_kinds()
    try:
        register_kind(SpecKind(name="a", after=("b",)))
        register_kind(SpecKind(name="b", after=("a",)))
        with pytest.raises(ValueError, match="wait for each other"):
            spec_kinds()
    finally:
        unregister_kind("a")
        unregister_kind("b")


def test_specs_are_read_again_when_a_file_changes(tmp_path: Path):
    """Loading is remembered per folder (a job loads the specs in every task), never past an edit."""
    project = _project(tmp_path, "table,team,contact\ndaily_events,bi,bi@example.com\n")
    specs_dir = project / "specs"
    first = load_specs(specs_dir)
    assert load_specs(specs_dir) is first  # unchanged folder: the same objects
    with (specs_dir / "gold_tables.csv").open("a") as handle:
        handle.write("more_events,daily_events.sql,Another\n")
    assert [g.table for g in load_specs(specs_dir).gold][-1] == "more_events"
    (specs_dir / "gold" / "extra.sql").write_text("SELECT 1 AS one\n")  # a new file counts too
    assert load_specs(specs_dir) is not first
    with registered_kind(OWNERS):  # another set of kinds reads the folder again
        assert load_specs(specs_dir).of("owners")
