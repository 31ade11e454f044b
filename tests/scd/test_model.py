"""The reference model against hand-written tables, one test per case of docs/scd.md. No Spark."""

from __future__ import annotations

import itertools

import pytest
from model import CONFLICT, STALE_SNAPSHOT, TIE, Layout, Unspecified, run, run_snapshots

L = Layout()  # k | seq | a, b tracked | u untracked


def ev(k, seq, a=None, b=None, u=None, *, d=False, src=None, **extra):
    return {"k": k, "seq": seq, "a": a, "b": b, "u": u, "is_delete": d, "_source_file": src, **extra}


def scd2(history):
    """(k, a, b, u, seq, effective_from, effective_to, is_current), by key and effective_from."""
    return sorted(
        (
            (
                r["k"],
                r["a"],
                r["b"],
                r["u"],
                r["seq"],
                r["effective_from"],
                r["effective_to"],
                r["is_current"],
            )
            for r in history.scd2()
        ),
        key=lambda row: (row[0], row[5]),
    )


def scd1(history):
    return sorted(
        ((r["k"], r["a"], r["b"], r["u"], r["seq"]) for r in history.scd1()), key=lambda row: row[0]
    )


def reasons(history):
    return sorted(((r["k"], r["seq"], reason) for r, reason in history.quarantine), key=repr)


# --- steps 1-4 ------------------------------------------------------------------------------


def test_step1_null_key_or_sequence_is_quarantined_with_the_reason():
    h = run([[ev(None, 1, "x"), ev("k1", None, "x"), ev(None, None), ev(None, 1, "x"), ev("k1", 1)]], L)
    assert reasons(h) == sorted(
        [
            (None, 1, "rules: k_is_null"),
            (None, 1, "rules: k_is_null"),  # step 1 comes before de-duplication
            ("k1", None, "rules: seq_is_null"),
            (None, None, "rules: k_is_null, seq_is_null"),
        ],
        key=repr,
    )
    assert [e["k"] for e in h.changes] == ["k1"]
    assert h.duplicates == 0


def test_step2_exact_duplicates_in_a_batch_and_of_accepted_events_are_counted_not_kept():
    h = run(
        [
            [ev("k1", 1, "x", src="f1"), ev("k1", 1, "x", src="f2"), ev("k1", 2, "y")],
            [ev("k1", 1, "x", src="f3"), ev("k1", 2, "y"), ev("k1", 2, "y")],
        ],
        L,
    )
    assert [b.duplicates for b in h.batches] == [1, 3]
    assert h.quarantine == []
    assert [(e["seq"], e["_source_file"]) for e in h.changes] == [(1, "f1"), (2, None)]


def test_step2_the_delete_flag_is_part_of_the_identity():
    h = run([[ev("k1", 1, "x")], [ev("k1", 1, "x", d=True)]], L)
    assert h.duplicates == 0
    assert reasons(h) == [("k1", 1, CONFLICT)]


def test_step3_different_rows_at_one_key_and_sequence_in_a_batch_all_go_to_quarantine():
    h = run([[ev("k1", 1, "x"), ev("k1", 1, "y"), ev("k1", 1, "y"), ev("k1", 2, "z")]], L)
    assert h.duplicates == 1  # step 2 first: one of the two "y" rows
    assert reasons(h) == [("k1", 1, TIE), ("k1", 1, TIE)]
    assert scd2(h) == [("k1", "z", None, None, 2, 2, None, True)]


def test_step3_a_different_row_at_an_accepted_key_and_sequence_conflicts_and_the_accepted_one_stays():
    # also when they are two different rows in one batch: there is a winner already
    h = run([[ev("k1", 1, "x")], [ev("k1", 1, "y"), ev("k1", 1, "x", u="other"), ev("k1", 1, "x")]], L)
    assert reasons(h) == [("k1", 1, CONFLICT), ("k1", 1, CONFLICT)]
    assert h.duplicates == 1
    h = run([[ev("k1", 1, "x")], [ev("k1", 1, "y")], [ev("k1", 1, "x", u="other")]], L)
    assert reasons(h) == [("k1", 1, CONFLICT), ("k1", 1, CONFLICT)]
    assert scd2(h) == [("k1", "x", None, None, 1, 1, None, True)]


def test_step4_accepted_events_make_the_change_log_in_arrival_order():
    h = run([[ev("k1", 3, "c"), ev("k1", 1, "a")], [ev("k1", 2, "b")]], L)
    assert [e["seq"] for e in h.changes] == [3, 1, 2]


# --- the consequences table -----------------------------------------------------------------


def test_several_changes_to_one_key_in_one_batch_give_one_version_per_sequence_in_order():
    h = run([[ev("k1", 3, "c"), ev("k1", 1, "a"), ev("k1", 2, "b")]], L)
    assert scd2(h) == [
        ("k1", "a", None, None, 1, 1, 2, False),
        ("k1", "b", None, None, 2, 2, 3, False),
        ("k1", "c", None, None, 3, 3, None, True),
    ]
    assert scd1(h) == [("k1", "c", None, None, 3)]


def test_a_late_event_is_inserted_in_its_place_and_the_current_row_stays_current():
    h = run([[ev("k1", 1, "a"), ev("k1", 5, "c")], [ev("k1", 3, "b")]], L)
    assert scd2(h) == [
        ("k1", "a", None, None, 1, 1, 3, False),
        ("k1", "b", None, None, 3, 3, 5, False),
        ("k1", "c", None, None, 5, 5, None, True),
    ]
    assert scd1(h) == [("k1", "c", None, None, 5)]


def test_a_late_event_with_the_same_tracked_values_joins_the_version_before_it():
    h = run([[ev("k1", 1, "a", u="p"), ev("k1", 5, "c")], [ev("k1", 3, "a", u="q")]], L)
    assert scd2(h) == [
        ("k1", "a", None, "q", 3, 1, 5, False),
        ("k1", "c", None, None, 5, 5, None, True),
    ]


def test_a_late_event_before_the_first_version_ends_at_its_start():
    h = run([[ev("k1", 5, "c")], [ev("k1", 2, "a")]], L)
    assert scd2(h) == [
        ("k1", "a", None, None, 2, 2, 5, False),
        ("k1", "c", None, None, 5, 5, None, True),
    ]


def test_a_delete_closes_the_current_version_and_a_later_insert_opens_a_new_one():
    h = run([[ev("k1", 1, "a")], [ev("k1", 2, d=True)], [ev("k1", 4, "a")]], L)
    assert scd2(h) == [
        ("k1", "a", None, None, 1, 1, 2, False),
        ("k1", "a", None, None, 4, 4, None, True),  # same values as before the delete: still new
    ]
    assert scd1(h) == [("k1", "a", None, None, 4)]
    h = run([[ev("k1", 1, "a")], [ev("k1", 2, d=True)]], L)
    assert scd2(h) == [("k1", "a", None, None, 1, 1, 2, False)]
    assert scd1(h) == []


def test_a_second_delete_changes_nothing():
    h = run([[ev("k1", 1, "a"), ev("k1", 2, d=True), ev("k1", 3, d=True)]], L)
    assert scd2(h) == [("k1", "a", None, None, 1, 1, 2, False)]


def test_a_delete_for_an_unseen_key_is_a_tombstone_an_older_insert_ends_at_it():
    h = run([[ev("k1", 5, d=True)]], L)
    assert scd2(h) == [] and scd1(h) == []
    assert [e["seq"] for e in h.changes] == [5]
    h = run([[ev("k1", 5, d=True)], [ev("k1", 2, "a")]], L)
    assert scd2(h) == [("k1", "a", None, None, 2, 2, 5, False)]
    assert scd1(h) == []
    h = run([[ev("k1", 5, d=True)], [ev("k1", 7, "b")], [ev("k1", 2, "a")]], L)
    assert scd2(h) == [
        ("k1", "a", None, None, 2, 2, 5, False),
        ("k1", "b", None, None, 7, 7, None, True),
    ]
    assert scd1(h) == [("k1", "b", None, None, 7)]


def test_a_late_delete_splits_a_version():
    h = run([[ev("k1", 1, "a"), ev("k1", 5, "a")], [ev("k1", 3, d=True)]], L)
    assert scd2(h) == [
        ("k1", "a", None, None, 1, 1, 3, False),
        ("k1", "a", None, None, 5, 5, None, True),
    ]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ((None, None), ("x", None)),  # NULL -> value
        (("x", None), (None, None)),  # value -> NULL
        (("x", "y"), ("y", "x")),  # swapped between tracked columns
        (("x", None), (None, "x")),  # moved to the other column
    ],
)
def test_null_safe_change_detection(before, after):
    h = run([[ev("k1", 1, *before), ev("k1", 2, *after)]], L)
    assert scd2(h) == [
        ("k1", *before, None, 1, 1, 2, False),
        ("k1", *after, None, 2, 2, None, True),
    ]


def test_untracked_only_change_or_same_tracked_values_update_the_current_version_in_place():
    h = run([[ev("k1", 1, None, "y", "p", src="f1")], [ev("k1", 2, None, "y", "q", src="f2")]], L)
    assert scd2(h) == [("k1", None, "y", "q", 2, 1, None, True)]
    assert [r["_source_file"] for r in h.scd2()] == ["f2"]  # lineage of the version's last event
    h = run([[ev("k1", 1, "x", u="p")], [ev("k1", 2, "x", u="p")]], L)
    assert scd2(h) == [("k1", "x", None, "p", 2, 1, None, True)]
    assert scd1(h) == [("k1", "x", None, "p", 2)]


def test_null_key_sequence_and_ties_are_counted_in_quarantine():
    h = run([[ev(None, 1, "a"), ev("k1", None), ev("k2", 1, "a"), ev("k2", 1, "b")], [ev("k2", 1, "c")]], L)
    assert len(h.quarantine) == 4
    assert [len(b.quarantined) for b in h.batches] == [4, 0]
    assert h.changes[-1]["a"] == "c"  # after a tie nothing was accepted at k2/1: the later row is new
    assert scd2(h) == [("k2", "c", None, None, 1, 1, None, True)]


def test_a_rerun_of_a_batch_changes_nothing():
    batches = [[ev("k1", 1, "a"), ev("k1", 2, "b"), ev("k2", 1, d=True)], [ev("k1", 3, "c", u="p")]]
    once = run(batches, L)
    twice = run([*batches, batches[-1]], L)
    assert scd2(twice) == scd2(once) and scd1(twice) == scd1(once)
    assert twice.batches[-1].duplicates == len(batches[-1])
    assert twice.batches[-1].accepted == [] and twice.batches[-1].quarantined == []


def test_validity_comes_from_the_first_of_a_composite_sequence():
    layout = Layout(sequence=("day", "n"))

    def e(day, n, a):
        return {"k": "k1", "day": day, "n": n, "a": a, "is_delete": False}

    h = run([[e(10, 2, "b"), e(10, 1, "a"), e(20, 0, "c")]], layout)
    got = sorted((r["a"], r["day"], r["n"], r["effective_from"], r["effective_to"]) for r in h.scd2())
    assert got == [("a", 10, 1, 10, 10), ("b", 10, 2, 10, 20), ("c", 20, 0, 20, None)]
    h = run([[e(10, None, "a")]], layout)
    assert [reason for _, reason in h.quarantine] == ["rules: n_is_null"]


def test_the_table_is_a_function_of_the_accepted_events_whatever_the_batches():
    events = [
        ev("k1", 1, "a"),
        ev("k1", 2, d=True),
        ev("k1", 3, "a", u="p"),
        ev("k1", 4, "b"),
        ev("k2", 2, "z"),
    ]
    expected = scd2(run([events], L)), scd1(run([events], L))
    for order in itertools.permutations(events):
        for cut in range(len(order) + 1):
            h = run([list(order[:cut]), list(order[cut:])], L)
            assert (scd2(h), scd1(h)) == expected


def test_several_keys_are_independent():
    h = run([[ev("k1", 1, "a"), ev("k2", 1, "a"), ev("k2", 2, d=True), ev("k1", 2, "b")]], L)
    assert scd2(h) == [
        ("k1", "a", None, None, 1, 1, 2, False),
        ("k1", "b", None, None, 2, 2, None, True),
        ("k2", "a", None, None, 1, 1, 2, False),
    ]
    assert scd1(h) == [("k1", "b", None, None, 2)]


# --- snapshot sources -----------------------------------------------------------------------


def snap(seq, *rows):
    return [{"k": k, "seq": seq, "a": a, "b": None, "u": u} for k, a, u in rows]


def test_snapshot_new_changed_and_missing_keys_become_upserts_and_deletes():
    h = run_snapshots(
        [
            snap(1, ("k1", "a", None), ("k2", "x", None)),
            snap(2, ("k1", "a", "p"), ("k3", "n", None)),  # k1 untracked change, k2 gone, k3 new
            snap(3, ("k1", "b", "p"), ("k3", "n", None)),
        ],
        L,
    )
    assert sorted((e["k"], e["seq"], e["is_delete"]) for e in h.changes) == [
        ("k1", 1, False),
        ("k1", 2, False),
        ("k1", 3, False),
        ("k2", 1, False),
        ("k2", 2, True),
        ("k3", 2, False),
    ]
    assert scd2(h) == [
        ("k1", "a", None, "p", 2, 1, 3, False),
        ("k1", "b", None, "p", 3, 3, None, True),
        ("k2", "x", None, None, 1, 1, 2, False),
        ("k3", "n", None, None, 2, 2, None, True),
    ]
    assert scd1(h) == [("k1", "b", None, "p", 3), ("k3", "n", None, None, 2)]


def test_an_older_snapshot_is_quarantined_whole():
    h = run_snapshots([snap(5, ("k1", "a", None)), snap(3, ("k1", "z", None), ("k2", "y", None))], L)
    assert reasons(h) == [("k1", 3, STALE_SNAPSHOT), ("k2", 3, STALE_SNAPSHOT)]
    assert scd2(h) == [("k1", "a", None, None, 5, 5, None, True)]


def test_a_snapshot_without_changes_is_applied_too_so_an_older_one_after_it_is_quarantined():
    h = run_snapshots([snap(1, ("k1", "a", None)), snap(3, ("k1", "a", None)), snap(2, ("k1", "b", None))], L)
    assert [e["seq"] for e in h.changes] == [1]  # the snapshot at 3 changed nothing
    assert reasons(h) == [("k1", 2, STALE_SNAPSHOT)]
    assert scd2(h) == [("k1", "a", None, None, 1, 1, None, True)]


def test_snapshots_in_one_batch_apply_in_sequence_order():
    h = run_snapshots([snap(2, ("k1", "b", None)) + snap(1, ("k1", "a", None))], L)
    assert scd2(h) == [
        ("k1", "a", None, None, 1, 1, 2, False),
        ("k1", "b", None, None, 2, 2, None, True),
    ]


def test_snapshot_rows_with_null_keys_duplicates_and_ties():
    h = run_snapshots(
        [
            snap(
                1,
                (None, "a", None),
                ("k1", "a", None),
                ("k1", "a", None),
                ("k2", "x", None),
                ("k2", "y", None),
            )
        ],
        L,
    )
    assert h.duplicates == 0  # copies of a snapshot row collapse: a snapshot row is not an event
    assert reasons(h) == sorted([(None, 1, "rules: k_is_null"), ("k2", 1, TIE), ("k2", 1, TIE)], key=repr)
    assert scd1(h) == [("k1", "a", None, None, 1)]


def test_a_snapshot_at_the_newest_applied_sequence_is_not_specified():
    with pytest.raises(Unspecified):
        run_snapshots([snap(1, ("k1", "a", None)), snap(1, ("k1", "a", None))], L)
