"""scd_mappings.csv becomes SilverSpec objects with an ScdSpec; empty cells take their defaults."""

from __future__ import annotations

import shutil
from pathlib import Path

from medallion.specs import load_specs

VALID = Path(__file__).resolve().parents[2] / "fixtures" / "specs" / "valid"
HEADER = (
    "table,source_table,scd_type,keys,sequence_by,delete_when,tracked_columns,untracked_columns,"
    "source_kind,effective_from_column,effective_to_column,is_current_column,partition_by,description"
)


def _specs(tmp_path: Path, row: str):
    specs = tmp_path / "specs"
    shutil.copytree(VALID, specs)
    merge_file = specs / "incremental_load_patterns.csv"
    lines = [line for line in merge_file.read_text().splitlines() if not line.startswith("dim_thing,")]
    merge_file.write_text("\n".join(lines) + "\n")
    (specs / "scd_mappings.csv").write_text(f"{HEADER}\n{row}\n")
    return load_specs(specs)


def test_empty_cells_take_defaults_and_tracked_means_every_other_column(tmp_path):
    table = _specs(tmp_path, "dim_thing,things,2,thing_id,updated_at,op = 'D',,amount,,,,,,").silver_table(
        "dim_thing"
    )
    assert table.load_pattern == "scd2" and table.spec_file == "scd_mappings.csv" and table.row == 2
    assert table.scd.tracked_columns == ("label",)  # not the key, the sequence or untracked amount
    assert table.scd.untracked_columns == ("amount",)
    assert table.scd.source_kind == "changes"
    assert table.scd.validity_columns == ("effective_from", "effective_to", "is_current")


def test_scd1_has_no_validity_columns_and_names_can_be_chosen(tmp_path):
    specs = _specs(
        tmp_path, "dim_thing,things,SCD1,thing_id,updated_at,,label,,snapshot,from_ts,to_ts,live,,"
    )
    table = specs.silver_table("dim_thing")
    assert table.load_pattern == "scd1" and table.scd.scd_type == 1
    assert table.scd.validity_columns == ()
    assert table.scd.effective_from_column == "from_ts" and table.scd.source_kind == "snapshot"


def test_a_project_without_the_file_has_no_history_tables():
    specs = load_specs(VALID)
    assert all(t.scd is None for t in specs.silver)
