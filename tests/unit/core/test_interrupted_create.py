"""`delta.tables.creating` recovers from a table create that a killed run left half done (local only)."""

from __future__ import annotations

import pytest

from medallion.delta.tables import creating


def _refusal(location: str) -> Exception:
    return Exception(
        "[DELTA_CREATE_TABLE_WITH_NON_EMPTY_LOCATION] Cannot create table ('`s`.`t`'). "
        f"The associated location ('{location}') is not empty and also not a Delta table."
    )


def _writer(calls: list, failures: list[Exception]):
    def write():
        calls.append(1)
        if len(calls) <= len(failures):
            raise failures[len(calls) - 1]
        return "created"

    return write


def test_a_local_orphan_folder_is_removed_and_the_write_retried(tmp_path):
    """Refused twice (a second look after a moment): the folder is a killed run's leftover."""
    orphan = tmp_path / "warehouse" / "s.db" / "t"
    (orphan / "_delta_log").mkdir(parents=True)
    calls: list = []
    refusal = _refusal(f"file:{orphan}")
    assert creating(_writer(calls, [refusal, refusal])) == "created"
    assert len(calls) == 3 and not orphan.exists()


def test_a_table_another_task_is_creating_is_kept(tmp_path):
    """Refused once, then accepted: another task was registering the table; nothing is removed."""
    folder = tmp_path / "warehouse" / "s.db" / "t"
    (folder / "_delta_log").mkdir(parents=True)
    calls: list = []
    assert creating(_writer(calls, [_refusal(f"file:{folder}")])) == "created"
    assert len(calls) == 2 and folder.exists()


def test_losing_a_create_race_writes_again_into_the_winners_table():
    calls: list = []
    race = Exception(
        "[TABLE_OR_VIEW_ALREADY_EXISTS] Cannot create table or view `s`.`t` because it already exists."
    )
    assert creating(_writer(calls, [race])) == "created"
    assert len(calls) == 2


def test_other_errors_and_remote_locations_are_left_alone(tmp_path):
    with pytest.raises(ValueError):
        creating(lambda: (_ for _ in ()).throw(ValueError("boom")))
    with pytest.raises(Exception, match="NON_EMPTY_LOCATION"):
        creating(lambda: (_ for _ in ()).throw(_refusal("s3://bucket/t")))
