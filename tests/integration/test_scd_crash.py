"""A process killed at any point of the SCD2 silver build, then rerun, ends with exactly the tables
an uninterrupted run produces (docs/scd.md: "process killed mid-batch").

The test writes the bronze table once and builds the uninterrupted tables itself, in its warm Spark
session. Each trial runs the build in a subprocess (`scd_crash_worker.py`, its own Spark session and
Derby metastore in a fresh lakehouse holding a copy of that bronze table), SIGKILLs the worker's
whole process group (the Python driver and its JVM together, as a crash would) inside a random step
of the build, reruns it to completion and compares the silver table, its change log and its
quarantine with the uninterrupted run's, row for row (all columns but `_quarantined_at`, the
wall-clock time, and `_run_id`).

Environment:
    SCD_CRASH_TRIALS  number of kill-and-rerun trials (default 1, what `make test` runs: each CI run
                      kills at a new random moment); for a search, e.g.
                      `SCD_CRASH_TRIALS=50 .venv/bin/pytest tests/integration/test_scd_crash.py -s`
    SCD_CRASH_SEED    base seed of the kill points (default: a fresh one, printed). Trial i draws,
                      with random.Random(f"{seed}:{i}"), one step of the build (its set-up, each
                      micro-batch, the late bronze append, ...; every step equally likely) and a
                      delay of uniform(0, STAGE_SLOWDOWN * the step's time in the uninterrupted
                      run), and kills that long after the worker announces the step; and which
                      way a batch's keys are swapped (as literals, the default for 8 keys, or as
                      a key frame and a MERGE: SCD_CRASH_LITERAL_KEYS=4 in the worker and its
                      rerun). The line `trial i: seed=... kill ...s into <step>` gives them to
                      reproduce a failure with (timings vary between machines).
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
from itertools import pairwise
from pathlib import Path

import pytest
import scd_crash_worker as worker

pytestmark = [pytest.mark.spark, pytest.mark.timeout(1500)]

WORKER = Path(__file__).with_name("scd_crash_worker.py")
TRIALS = int(os.environ.get("SCD_CRASH_TRIALS", "1"))
FAST_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
# A worker runs a step a little slower than this session (a fresh JVM, the machine shared with it);
# a delay that overshoots its step lands in a later one, which is a kill point too.
STAGE_SLOWDOWN = 1.5
# How a batch's keys are swapped: None keeps the default (8 keys are literals, a replaceWhere); 4
# makes them a key frame and a MERGE, the way a batch new to the change log is replaced unread.
SWAPS = (None, 4)
TIMEOUT = 1800  # seconds for one worker run; a loaded 2-core runner is slow, a hang is a failure


class Worker:
    """One `scd_crash_worker.py` process in its own session (process group), output in files."""

    def __init__(self, root: Path, *args: str, logs: Path, literal_keys: int | None = None):
        self.out = logs.with_suffix(".out")
        self.err = logs.with_suffix(".err")
        # A short-lived JVM spends much of its time compiling; C1 alone makes a run ~40% faster.
        java = f"{os.environ.get('JAVA_TOOL_OPTIONS', '')} {FAST_JVM}".strip()
        env = {**os.environ, "MEDALLION_SPARK": "local", "JAVA_TOOL_OPTIONS": java}
        if literal_keys is not None:
            env[worker.LITERAL_KEYS_VARIABLE] = str(literal_keys)
        with self.out.open("w") as out, self.err.open("w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, str(WORKER), str(root), *args],
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


def _rerun(root: Path, result: Path, logs: Path, literal_keys: int | None) -> dict:
    """Run the worker to completion with --out/--again; returns its result."""
    process = Worker(root, "--out", str(result), "--again", logs=logs, literal_keys=literal_keys)
    process.finish()
    return json.loads(result.read_text())


def _uninterrupted(spark, root: Path) -> tuple[dict, list[tuple[str, float]]]:
    """The build without a kill, in this session (warm, so fast), with the worker's own functions:
    its result as `--out --again` writes it, and each step's name and seconds."""
    ctx = worker.context(root, schema="crash_uninterrupted")
    worker.attach_bronze(spark, ctx, root / worker.BRONZE_FOLDER)
    marks: list[tuple[str, float]] = []
    with pytest.MonkeyPatch.context() as patch:  # the worker's stream and batch hooks, undone after
        worker.run(spark, ctx, lambda step: marks.append((step, time.monotonic())), patch.setattr)
        result = {"tables": worker.dump(spark, ctx), "versions": worker.versions(spark, ctx)}
        worker.run(spark, ctx, lambda step: None, patch.setattr)
        result["versions_again"] = worker.versions(spark, ctx)
    steps = [(step, end - start) for (step, start), (_, end) in pairwise(marks)]
    return result, steps


def _progress(root: Path) -> str:
    """What the killed run left on disk: checkpointed micro-batches and Delta versions."""
    parts = []
    for log in sorted((root / "checkpoints").glob("silver/*/*/offsets")):
        committed = list((log.parent / "commits").glob("[0-9]*"))
        parts.append(f"batches planned {len(list(log.glob('[0-9]*')))} committed {len(committed)}")
    for log in [
        root / worker.BRONZE_FOLDER / "_delta_log",
        *sorted((root / "warehouse").glob("*/*/_delta_log")),
    ]:
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
    assert len({r["_batch_id"] for r in tables["quarantine"]}) == 2, "expected two micro-batches"


def test_killed_scd2_build_reruns_to_the_uninterrupted_tables(spark, tmp_path):
    seed = int(os.environ.get("SCD_CRASH_SEED") or random.randrange(10**6))
    print(f"\nSCD crash test: {TRIALS} trials, SCD_CRASH_SEED={seed}, under {tmp_path}")

    # Each trial's lakehouse starts as a fresh folder holding a copy of the prepared bronze table.
    root, bronze = tmp_path / "lakehouse", tmp_path / "prepared_bronze"
    worker.write_prepared_bronze(spark, bronze)

    def restore(folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(bronze, folder / worker.BRONZE_FOLDER)

    restore(tmp_path / "uninterrupted")
    expected, steps = _uninterrupted(spark, tmp_path / "uninterrupted")
    _check_coverage(expected["tables"])
    assert expected["versions_again"] == expected["versions"], "a rerun of a completed run committed"
    assert [step for step, _ in steps] == ["build1", "batch 0", "append", "build2", "batch 1"]
    print(
        f"uninterrupted: {', '.join(f'{step} {s:.1f}s' for step, s in steps)}; versions {expected['versions']}"
    )

    failures = []
    for trial in range(TRIALS):
        draw = random.Random(f"{seed}:{trial}")
        step, seconds = draw.choice(steps)
        delay = draw.uniform(0, STAGE_SLOWDOWN * seconds)
        literal_keys = draw.choice(SWAPS)
        restore(root)
        victim = Worker(root, logs=tmp_path / f"trial{trial}-killed", literal_keys=literal_keys)
        victim.wait_for(f"STAGE {step}")
        time.sleep(delay)
        exited = victim.proc.poll()
        victim.kill()
        where = f"in {victim.stage()}" if exited is None else "after it had finished"
        where += f"; left {_progress(root)}"
        swap = "MERGE" if literal_keys else "literal keys"
        note = f"trial {trial}: seed={seed} kill {delay:.3f}s into {step} ({where}; keys swapped by {swap})"
        if exited:
            failures.append(f"{note}: the run failed before the kill ({exited}):\n{victim.tail()}")
            continue
        try:
            actual = _rerun(
                root, tmp_path / f"trial{trial}.json", tmp_path / f"trial{trial}-rerun", literal_keys
            )
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
