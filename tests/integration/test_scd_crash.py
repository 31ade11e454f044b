"""A process killed at any point of the SCD2 silver build, then rerun, ends with exactly the tables
an uninterrupted run produces (docs/scd.md: "process killed mid-batch").

The build runs in a subprocess (`scd_crash_worker.py`, its own Spark session and Derby metastore
under a copy of one prepared lakehouse). Each trial SIGKILLs the worker's whole process group (the
Python driver and its JVM together, as a crash would) at a random time after its Spark session is
up, reruns it to completion and compares the silver table, its change log and its quarantine with
the uninterrupted run's, row for row (all columns but `_quarantined_at`, the wall-clock time).

Environment:
    SCD_CRASH_TRIALS  number of kill-and-rerun trials (default 1, what `make test` runs: each CI run
                      kills at a new random moment); for a search, e.g.
                      `SCD_CRASH_TRIALS=50 .venv/bin/pytest tests/integration/test_scd_crash.py -s`
    SCD_CRASH_SEED    base seed of the kill delays (default: a fresh one, printed). Trial i kills
                      after uniform(0, T) seconds with random.Random(f"{seed}:{i}"), T the
                      uninterrupted run's build time; the line `trial i: seed=... kill after ...s`
                      gives the delay to reproduce a failure with (timings vary between machines).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.spark, pytest.mark.timeout(1500)]

WORKER = Path(__file__).with_name("scd_crash_worker.py")
TRIALS = int(os.environ.get("SCD_CRASH_TRIALS", "1"))
FAST_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
TIMEOUT = 1800  # seconds for one worker run; a loaded 2-core runner is slow, a hang is a failure


class Worker:
    """One `scd_crash_worker.py` process in its own session (process group), output in files."""

    def __init__(self, root: Path, phase: str, *args: str, logs: Path):
        self.out = logs.with_suffix(".out")
        self.err = logs.with_suffix(".err")
        # A short-lived JVM spends much of its time compiling; C1 alone makes a run ~40% faster.
        java = f"{os.environ.get('JAVA_TOOL_OPTIONS', '')} {FAST_JVM}".strip()
        env = {**os.environ, "MEDALLION_SPARK": "local", "JAVA_TOOL_OPTIONS": java}
        with self.out.open("w") as out, self.err.open("w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, str(WORKER), str(root), phase, *args],
                stdout=out,
                stderr=err,
                env=env,
                start_new_session=True,  # its own process group: the JVM dies with it
            )

    def lines(self) -> list[str]:
        return self.out.read_text().splitlines()

    def wait_for(self, marker: str) -> float:
        """Block until the worker prints `marker`; returns the time it was seen."""
        deadline = time.monotonic() + TIMEOUT
        while marker not in self.lines():
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"worker exited ({self.proc.returncode}) before {marker}:\n{self.tail()}"
                )
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"worker printed no {marker} in {TIMEOUT}s:\n{self.tail()}")
            time.sleep(0.02)
        return time.monotonic()

    def finish(self) -> None:
        try:
            code = self.proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"worker did not finish in {TIMEOUT}s:\n{self.tail()}") from None
        assert code == 0, f"worker failed ({code}):\n{self.tail()}"

    def kill(self) -> None:
        """SIGKILL the whole process group (driver and JVM) at once, like a crash."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stage(self) -> str:
        """The last step the worker announced (where a kill landed)."""
        stages = [line.split(" ", 1)[1] for line in self.lines() if line.startswith("STAGE ")]
        return stages[-1] if stages else "startup"

    def tail(self, n: int = 12) -> str:
        """The worker's errors (its last exception lines, else its last lines) and where its log is."""
        lines = self.err.read_text().splitlines()
        errors = [line for line in lines if re.match(r"^\S*(Exception|Error)\b.*: ", line)]
        shown = list(dict.fromkeys(errors))[-3:] or lines[-n:]
        return "\n".join([*(line[:600] for line in shown), f"(worker log: {self.err})"])


def _run(root: Path, result: Path, logs: Path) -> tuple[dict, float]:
    """Run the worker to completion with --out/--again; returns the result and its build seconds."""
    worker = Worker(root, "run", "--out", str(result), "--again", logs=logs)
    ready = worker.wait_for("READY")
    done = worker.wait_for("STAGE done")
    worker.finish()
    return json.loads(result.read_text()), done - ready


def _progress(root: Path) -> str:
    """What the killed run left on disk: checkpointed micro-batches and Delta versions."""
    parts = []
    for log in sorted((root / "checkpoints").glob("silver/*/*/offsets")):
        committed = list((log.parent / "commits").glob("[0-9]*"))
        parts.append(f"batches planned {len(list(log.glob('[0-9]*')))} committed {len(committed)}")
    for log in sorted((root / "warehouse").glob("*/*/_delta_log")):
        commits = [int(p.stem) for p in log.glob("*.json")]
        parts.append(f"{log.parent.name} v{max(commits) if commits else '-'}")
    return ", ".join(parts) or "nothing"


def _differences(expected: dict[str, list], actual: dict[str, list], limit: int = 10) -> list[str]:
    """Rows in one dump but not the other, per table (multiset difference)."""
    lines = []
    for table in sorted(expected.keys() | actual.keys()):
        want = [json.dumps(r, sort_keys=True) for r in expected.get(table, [])]
        got = [json.dumps(r, sort_keys=True) for r in actual.get(table, [])]
        missing, extra = list(want), []
        for row in got:
            if row in missing:
                missing.remove(row)
            else:
                extra.append(row)
        if missing or extra:
            lines.append(f"{table}: {len(want)} rows expected, {len(got)} found")
            lines += [f"  missing {row}" for row in missing[:limit]]
            lines += [f"  extra   {row}" for row in extra[:limit]]
    return lines


def _check_coverage(tables: dict[str, list]) -> None:
    """The uninterrupted run exercises what a crash could break: versions, deletes, quarantine."""
    from medallion.layers.scd import CONFLICT_REASON, TIE_REASON

    reasons = {r["_quarantine_reason"] for r in tables["quarantine"]}
    assert {TIE_REASON, CONFLICT_REASON, "rules: id_is_null", "rules: updated_at_is_null"} <= reasons, reasons
    assert any(r["_is_delete"] for r in tables["changes"])
    assert any(not r["is_current"] for r in tables["silver"])
    assert {"effective_from": 20, "effective_to": 45} in [
        {k: r[k] for k in ("effective_from", "effective_to")} for r in tables["silver"] if r["id"] == "t01"
    ], "the tombstone for t01 does not end its older insert"
    assert len({r["_batch_id"] for r in tables["quarantine"]}) == 3, "expected three micro-batches"


def test_killed_scd2_build_reruns_to_the_uninterrupted_tables(tmp_path):
    seed = int(os.environ.get("SCD_CRASH_SEED") or random.randrange(10**6))
    print(f"\nSCD crash test: {TRIALS} trials, SCD_CRASH_SEED={seed}, under {tmp_path}")

    # Every run uses the same folder: the metastore and checkpoints hold absolute paths, so a
    # lakehouse is restored from a copy of the prepared one, never used from another place.
    root, prepared = tmp_path / "lakehouse", tmp_path / "prepared"

    def restore() -> None:
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(prepared, root, symlinks=True)

    Worker(root, "prepare", logs=tmp_path / "prepare").finish()
    shutil.copytree(root, prepared, symlinks=True)
    expected, build_seconds = _run(root, tmp_path / "baseline.json", tmp_path / "baseline")
    _check_coverage(expected["tables"])
    assert expected["versions_again"] == expected["versions"], "a rerun of a completed run committed"
    print(f"uninterrupted: build {build_seconds:.1f}s, versions {expected['versions']}")

    failures = []
    for trial in range(TRIALS):
        delay = random.Random(f"{seed}:{trial}").uniform(0, build_seconds)
        restore()
        victim = Worker(root, "run", logs=tmp_path / f"trial{trial}-killed")
        victim.wait_for("READY")
        time.sleep(delay)
        exited = victim.proc.poll()
        victim.kill()
        where = f"in {victim.stage()}" if exited is None else "after it had finished"
        where += f"; left {_progress(root)}"
        note = f"trial {trial}: seed={seed} kill after {delay:.3f}s ({where})"
        if exited:
            failures.append(f"{note}: the run failed before the kill ({exited}):\n{victim.tail()}")
            continue
        try:
            actual, _ = _run(root, tmp_path / f"trial{trial}.json", tmp_path / f"trial{trial}-rerun")
            problems = _differences(expected["tables"], actual["tables"])
            if actual["versions_again"] != actual["versions"]:
                problems.append(
                    f"a second rerun committed: {actual['versions']} -> {actual['versions_again']}"
                )
        except AssertionError as error:
            problems = [f"the rerun failed: {error}"]
        print(f"{note}: {'FAILED' if problems else 'same tables'}")
        if problems:
            kept = tmp_path / f"trial{trial}-lakehouse"
            root.rename(kept)  # for a look (its metastore still names the lakehouse folder)
            failures.append("\n".join([f"{note} (lakehouse kept in {kept}):", *problems]))
    assert not failures, "\n\n".join(failures)
