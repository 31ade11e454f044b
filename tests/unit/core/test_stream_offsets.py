"""The Delta source versions a micro-batch read, from the offsets Spark reports for it (the lineage
of silver versions). The offsets are the shapes a local Delta stream reported here."""

from __future__ import annotations

import pytest

from medallion.delta.run_marks import BATCH_KEY, RUN_KEY, commit_batch, commit_run_id
from medallion.delta.streams import _offset, delta_source_range


def _at(version: int, index: int, starting: bool = False) -> dict:
    return {"sourceVersion": 1, "reservoirId": "x", "reservoirVersion": version, "index": index,
            "isStartingVersion": starting}  # fmt: skip


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (None, _at(2, -1), (0, 1)),  # the first batch read the table's snapshot up to version 1
        (None, _at(1, 0, starting=True), (0, 1)),  # part of the starting snapshot of version 1
        (_at(1, 6, starting=True), _at(2, -1), (0, 1)),  # the snapshot's last files
        (_at(2, -1), _at(4, -1), (2, 3)),  # versions 2 and 3 whole
        (_at(2, -1), _at(2, 0), (2, 2)),  # the first file of version 2
        (_at(2, 0), _at(3, -1), (2, 2)),  # the rest of version 2
        (_at(3, 2**63 - 1), _at(5, -1), (4, 4)),  # version 3 was read to its end before
        (_at(4, -1), _at(4, -1), None),  # nothing new: the batch read nothing
        (None, {"logOffset": 3}, None),  # not a Delta source
    ],
)
def test_a_batch_reads_the_versions_between_its_offsets(start, end, expected):
    assert delta_source_range(start, end) == expected


def test_offsets_come_as_json_or_as_a_python_dict_text():
    assert _offset('{"reservoirVersion": 2, "index": -1}') == {"reservoirVersion": 2, "index": -1}
    assert _offset("{'reservoirVersion': 2, 'isStartingVersion': True}") == {
        "reservoirVersion": 2,
        "isStartingVersion": True,
    }
    assert _offset(None) is None


def test_a_commit_names_its_batch_and_run():
    commit = {"userMetadata": f'{{"{RUN_KEY}": "r1", "{BATCH_KEY}": 3}}'}
    assert (commit_batch(commit), commit_run_id(commit)) == (3, "r1")
    assert commit_batch({"userMetadata": "not json"}) is None
    assert commit_batch({"userMetadata": None}) is None
