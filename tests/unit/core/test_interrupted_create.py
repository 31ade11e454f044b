"""`delta.tables.creating` recovers from a table create that a killed run left half done (local only)."""

from __future__ import annotations

import pytest

from medallion.delta.tables import creating


def _refusal(location: str) -> Exception:
    return Exception(
        "[DELTA_CREATE_TABLE_WITH_NON_EMPTY_LOCATION] Cannot create table ('`s`.`t`'). "
        f"The associated location ('{location}') is not empty and also not a Delta table."
    )


def test_a_local_orphan_folder_is_removed_and_the_write_retried(tmp_path):
    orphan = tmp_path / "warehouse" / "s.db" / "t"
    (orphan / "_delta_log").mkdir(parents=True)
    calls = []

    def write():
        calls.append(1)
        if len(calls) == 1:
            raise _refusal(f"file:{orphan}")
        return "created"

    assert creating(write) == "created"
    assert len(calls) == 2 and not orphan.exists()


def test_other_errors_and_remote_locations_are_left_alone(tmp_path):
    with pytest.raises(ValueError):
        creating(lambda: (_ for _ in ()).throw(ValueError("boom")))
    with pytest.raises(Exception, match="NON_EMPTY_LOCATION"):
        creating(lambda: (_ for _ in ()).throw(_refusal("s3://bucket/t")))
