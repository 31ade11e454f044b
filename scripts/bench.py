"""`make bench`: the whole job at several scales against a raw-Spark baseline.

For each scale (orders in the first drop) it copies the project into bench/work/<scale>/, generates
sample data, then, each in a fresh process (its own JVM, so neither warms the other up):
  1. a raw baseline: plain Spark reading the same landing files and writing the same rows to Delta
     (bronze append, silver typed rows, latest row per key where the spec merges, gold SQL);
  2. the job with the framework (`medallion.runtime.runner.run_job`): a full load; a second run with
     nothing new; the next day's drop, 1% new data, delivered and a run again (incremental).
Session start (JVM, Spark, the metastore's first query) is timed apart from the runs. It samples
the resident memory of the Python process and its JVM while each layer runs.
Results go to bench/results.json and the table in docs/benchmarks.md.
Beside it: bench_raw.py (the baseline), bench_measure.py (memory, per-layer figures), bench_report.py
(the docs table); bench_scd.py is the SCD2 part of `make bench`.

    python scripts/bench.py [--scales 10000,100000,1000000] [--seed 42]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from bench_measure import MemorySampler, by_layer
from bench_raw import raw_run
from bench_report import kept_sections, markdown

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / "work"
COPIED = ("databricks.yml", "local.yml", "resources", "notebooks", "specs")
STAGED = ".bench_drops"  # generated drops not yet delivered to the landing folders
# The incremental run's drop: the day after the full load, DROP_SHARE of the full load's rows new.
DROP_DAY = date(2024, 4, 1)
DROP_SHARE = 0.01
HISTORY_DAYS = 91  # the full load's orders span the quarter before that day


def _prepare(scale: int, seed: int) -> Path:
    project = WORK / str(scale)
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir(parents=True)
    for name in COPIED:
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, project / name)
    return project


def _bench_settings(project: Path) -> Path:
    """The project's sample-data settings with two drops: the full load, then one day of new data.

    Entities with a history of their own (master files) have DROP_SHARE of their rows changed, a
    tenth of that deleted and DROP_SHARE new in the second drop; the others (with the entities whose
    rows follow theirs) get a history of HISTORY_DAYS days for the full load and DROP_SHARE new rows,
    no changes, in the second drop: new orders, lines and events and some changed customers, the
    drop the incremental goal is stated for, not a re-delivery of existing keys.
    """
    settings = json.loads((project / "specs" / "sample_data.json").read_text())
    for entity in settings["entities"]:
        changes = entity.get("changes")
        if changes is None:
            continue  # its rows follow its parent's
        timing = entity.setdefault("time", {})
        if timing.get("history_days"):
            changes.update(new=DROP_SHARE, update=DROP_SHARE, delete=DROP_SHARE / 10)
        else:
            timing["history_days"] = HISTORY_DAYS
            changes.update(new=DROP_SHARE, update=0.0, delete=0.0)
    path = project / "bench_sample_data.json"
    path.write_text(json.dumps(settings, indent=2))
    return path


def _generate(project: Path, landing: Path, rows: int, seed: int) -> float:
    """Both drops, staged beside the landing folders; the first (the full load) delivered."""
    from medallion.datagen import generate_data

    start = time.perf_counter()
    generate_data(
        _bench_settings(project),
        project / STAGED,
        rows=rows,
        seed=seed,
        start_date=DROP_DAY - timedelta(days=1),
        end_date=DROP_DAY,
        batches=2,
        anomalies=False,
    )
    _deliver(project, landing, 1)
    return time.perf_counter() - start


def _deliver(project: Path, landing: Path, drop: int) -> int:
    """Move one staged drop's files into the landing folders, as the drop would arrive; their count."""
    staged = project / STAGED
    files = [f for f in sorted(staged.rglob(f"*_{drop:04d}_*.*")) if "_manifests" not in f.parts]
    for file in files:
        dest = landing / file.relative_to(staged)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(file, dest)
    return len(files)


def _framework_run(spark, bundle, label: str) -> dict:
    from medallion.runtime.runner import run_job

    seconds: dict[str, float] = {}
    memory: dict[str, float] = {}
    tables: list[dict] = []
    layers = (
        (["plan"], "plan"),
        (["bronze"], "bronze"),
        (["silver_references", "silver"], "silver"),
        (["gold", "gold_on_gold"], "gold"),
    )
    for tasks, layer in layers:
        start = time.perf_counter()
        with MemorySampler() as sampler:
            result = run_job(spark, bundle, "dev", tasks=tasks, echo=lambda *_: None)
        if not result.ok:
            raise SystemExit(f"{label}: {result.error}")
        seconds[layer] = time.perf_counter() - start
        memory[layer] = sampler.peak
        tables += [t for t in result.tables if t["layer"] == layer]
    return {"layers": by_layer(tables, seconds, memory), "seconds": round(sum(seconds.values()), 2)}


def _session(bundle):
    """A fresh Spark session, ready to work: the metastore's first query is part of starting."""
    from medallion.runtime.session import get_spark

    start = time.perf_counter()
    spark = get_spark(bundle, "dev")
    spark.sql("SHOW DATABASES").collect()
    return spark, round(time.perf_counter() - start, 2)


def run_part(scale: int, seed: int, part: str) -> dict:
    """One part of one scale in this process (main runs each part in a child process)."""
    from medallion.bundle import load_bundle
    from medallion.specs import load_specs

    project = WORK / str(scale)
    bundle = load_bundle(project)
    landing = Path(bundle.resolve_variables("dev", local=True)["landing_root"])
    if part == "generate":
        return {"generate_seconds": round(_generate(project, landing, scale, seed), 2)}
    spark, session_seconds = _session(bundle)
    try:
        if part == "raw":
            return {
                "raw": raw_run(spark, load_specs(project / "specs"), landing),
                "raw_session_seconds": session_seconds,
            }
        full = _framework_run(spark, bundle, f"full run at {scale}")
        nothing_new = _framework_run(spark, bundle, f"run with nothing new at {scale}")
        if not _deliver(project, landing, 2):
            raise SystemExit(f"no staged second drop in {project / STAGED}: run the generate part first")
        incremental = _framework_run(spark, bundle, f"incremental run at {scale}")
        return {
            "framework": full,
            "nothing_new": nothing_new,
            "incremental_1pct": incremental,
            "session_seconds": session_seconds,
        }
    finally:
        spark.stop()


def run_scale(scale: int, seed: int) -> dict:
    """Generate, then the raw baseline and the framework each in a fresh process."""
    result: dict = {"scale_orders": scale}
    for part in ("generate", "raw", "framework"):
        print(f"  {part} ...", flush=True)
        # The part writes its result to a file: the JVM and the notebooks print to the same stdout.
        out = WORK / f"{scale}.{part}.json"
        command = [sys.executable, __file__, "--one-scale", str(scale), "--part", part]
        subprocess.run(
            [*command, "--seed", str(seed), "--out", str(out)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        result.update(json.loads(out.read_text()))
    full = result["framework"]["seconds"]
    result["ratio_framework_to_raw"] = (
        round(full / result["raw"]["seconds"], 2) if result["raw"]["seconds"] else None
    )
    for key, ratio in (
        ("incremental_1pct", "ratio_incremental_to_full"),
        ("nothing_new", "ratio_nothing_new_to_full"),
    ):
        result[ratio] = round(result[key]["seconds"] / full, 3) if full else None
    return result


def _validate_seconds() -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "medallion.cli", "--project-dir", str(ROOT), "validate"],
        check=True,
        capture_output=True,
    )
    return round(time.perf_counter() - start, 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default=os.environ.get("BENCH_SCALES", "10000,100000,1000000"))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--one-scale", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--part", choices=("generate", "raw", "framework"), help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one_scale:
        Path(args.out).write_text(json.dumps(run_part(args.one_scale, args.seed, args.part)))
        return 0
    import pyspark

    results = {
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "spark": pyspark.__version__,
        "validate_seconds": _validate_seconds(),
        "scales": [],
    }
    for scale in [int(s) for s in args.scales.split(",") if s.strip()]:
        _prepare(scale, args.seed)
        print(f"scale {scale:,} orders ...", flush=True)
        results["scales"].append(run_scale(scale, args.seed))
        print(
            json.dumps({k: v for k, v in results["scales"][-1].items() if k.startswith("ratio")}), flush=True
        )
    (ROOT / "bench").mkdir(exist_ok=True)
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    docs = ROOT / "docs" / "benchmarks.md"
    docs.write_text(markdown(results) + kept_sections(docs))
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
