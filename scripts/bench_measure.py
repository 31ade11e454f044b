"""`make bench`: what every benchmark run measures beside seconds (scripts/bench.py, bench_scd.py)."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

__all__ = ["MemorySampler", "by_layer"]


class MemorySampler:
    """Peak resident memory (MiB) of this process plus its child processes (the JVM)."""

    def __init__(self, interval: float = 0.2):
        self.interval = interval
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _loop(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, _tree_rss_mib(os.getpid()))
            self._stop.wait(self.interval)


def _tree_rss_mib(pid: int) -> float:
    total = 0
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def by_layer(tables: list[dict], seconds_by_layer: dict[str, float], memory: dict[str, float]) -> dict:
    """Rows written, seconds, rows/s and peak memory per layer, from a run's table records."""
    layers = {}
    for layer in ("bronze", "silver", "gold"):
        rows = [t for t in tables if t["layer"] == layer]
        written = sum(int(t["rows_written"]) for t in rows)
        seconds = seconds_by_layer[layer]
        layers[layer] = {
            "rows": written,
            "seconds": round(seconds, 2),
            "rows_per_second": round(written / seconds) if seconds else 0,
            "peak_memory_mib": round(memory.get(layer, 0.0)),
        }
    return layers
