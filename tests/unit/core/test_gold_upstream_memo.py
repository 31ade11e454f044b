"""Gold looks up each silver table's state once per run (layers/gold.py `_upstream_state`)."""

from __future__ import annotations

import threading
import time

import pytest

from medallion.layers import gold


class _Context:
    def table(self, layer: str, name: str) -> str:
        return f"{layer}.{name}"


@pytest.fixture
def lookups(monkeypatch):
    """Record each real lookup; the run id is whatever `run` holds."""
    calls: list[str] = []
    run = {"id": "run-1"}

    def fake_state(spark, name, with_id):
        time.sleep(0.05)  # long enough for two threads to ask at the same time
        calls.append(name)
        return {"version": len(calls)}

    monkeypatch.setattr(gold, "upstream_state", fake_state)
    monkeypatch.setattr(gold, "current_run_id", lambda spark: run["id"])
    monkeypatch.setattr(gold, "_RUN_STATES", {})
    monkeypatch.setattr(gold, "_KEY_LOCKS", {})
    return calls, run


def test_silver_state_is_looked_up_once_per_run_even_by_iterations_at_the_same_time(lookups):
    calls, _ = lookups
    results = []
    threads = [
        threading.Thread(
            target=lambda: results.append(gold._upstream_state(None, _Context(), "silver", "t", True))
        )
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == ["silver.t"]
    assert results == [{"version": 1}] * 3


def test_a_new_run_looks_again_and_forgets_the_old_one(lookups):
    _, run = lookups
    assert gold._upstream_state(None, _Context(), "silver", "t", False) == {"version": 1}
    run["id"] = "run-2"
    assert gold._upstream_state(None, _Context(), "silver", "t", False) == {"version": 2}
    assert {key[0] for key in gold._RUN_STATES} == {"run-2"}


@pytest.mark.parametrize(("run_id", "layer"), [("", "silver"), ("run-1", "gold")])
def test_no_memo_without_a_run_id_or_for_gold_upstreams(lookups, run_id, layer):
    calls, run = lookups
    run["id"] = run_id
    first = gold._upstream_state(None, _Context(), layer, "t", True)
    second = gold._upstream_state(None, _Context(), layer, "t", True)
    assert (first, second) == ({"version": 1}, {"version": 2})
    assert len(calls) == 2
