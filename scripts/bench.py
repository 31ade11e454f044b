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

    python scripts/bench.py [--scales 10000,100000,1000000] [--seed 42]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / "work"
COPIED = ("databricks.yml", "local.yml", "resources", "notebooks", "specs")
STAGED = ".bench_drops"  # generated drops not yet delivered to the landing folders
# The incremental run's drop: the day after the full load, DROP_SHARE of the full load's rows new.
DROP_DAY = date(2024, 4, 1)
DROP_SHARE = 0.01
HISTORY_DAYS = 91  # the full load's orders span the quarter before that day


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


def _by_layer(tables: list[dict], seconds_by_layer: dict[str, float], memory: dict[str, float]) -> dict:
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
    return {"layers": _by_layer(tables, seconds, memory), "seconds": round(sum(seconds.values()), 2)}


def _raw_run(spark, specs, landing: Path) -> dict:
    """Plain Spark: the same files in, the same rows out, no framework."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from medallion.layers.gold import render_sql

    seconds: dict[str, float] = {}
    memory: dict[str, float] = {}
    tables: list[dict] = []
    names = {layer: f"spark_catalog.raw_{layer}" for layer in ("bronze", "silver", "gold")}
    for name in names.values():
        spark.sql(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        spark.sql(f"CREATE SCHEMA {name}")

    def timed_layer(layer, fn):
        start = time.perf_counter()
        with MemorySampler() as sampler:
            fn()
        seconds[layer] = time.perf_counter() - start
        memory[layer] = sampler.peak

    def bronze_layer():
        for s in specs.bronze:
            ddl = ", ".join(f"`{c.name}` {c.data_type}" for c in s.columns)
            df = (
                spark.read.format(s.format)
                .schema(ddl)
                .options(**s.reader_options)
                .load(str(landing / s.landing_folder))
            )
            df.write.format("delta").mode("overwrite").saveAsTable(f"{names['bronze']}.{s.table}")
            tables.append(
                {"layer": "bronze", "rows_written": spark.table(f"{names['bronze']}.{s.table}").count()}
            )

    def silver_layer():
        for t in specs.silver:
            df = spark.table(f"{names['bronze']}.{t.source_table}").selectExpr(
                *[f"{c.select_expression} AS `{c.name}`" for c in t.columns]
            )
            if t.scd is not None and t.scd.scd_type == 2:
                # Textbook SCD2 in one pass: each change opens a version that the next one closes.
                # (No tie, conflict or late-event handling, and deletes close nothing: the raw floor.)
                seq = F.col(t.sequence_by[0])
                by_key = Window.partitionBy(*t.keys).orderBy(seq)
                df = (
                    df.withColumn(t.scd.effective_from_column, seq.cast("timestamp"))
                    .withColumn(t.scd.effective_to_column, F.lead(seq).over(by_key).cast("timestamp"))
                    .withColumn(t.scd.is_current_column, F.col(t.scd.effective_to_column).isNull())
                )
            elif t.load_pattern == "merge" or t.scd is not None:
                order = [F.col(c).desc() for c in t.sequence_by]
                df = (
                    df.withColumn("_n", F.row_number().over(Window.partitionBy(*t.keys).orderBy(*order)))
                    .filter("_n = 1")
                    .drop("_n")
                )
            df.write.format("delta").mode("overwrite").saveAsTable(f"{names['silver']}.{t.table}")
            tables.append(
                {"layer": "silver", "rows_written": spark.table(f"{names['silver']}.{t.table}").count()}
            )

    def gold_layer():
        values = {
            "bronze": names["bronze"],
            "silver": names["silver"],
            "gold": names["gold"],
            "catalog": "spark_catalog",
        }
        for g in specs.gold:
            spark.sql(render_sql(g.sql, values)).write.format("delta").mode("overwrite").saveAsTable(
                f"{names['gold']}.{g.table}"
            )
            tables.append(
                {"layer": "gold", "rows_written": spark.table(f"{names['gold']}.{g.table}").count()}
            )

    timed_layer("bronze", bronze_layer)
    timed_layer("silver", silver_layer)
    timed_layer("gold", gold_layer)
    return {"layers": _by_layer(tables, seconds, memory), "seconds": round(sum(seconds.values()), 2)}


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
                "raw": _raw_run(spark, load_specs(project / "specs"), landing),
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


def _markdown(results: dict) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` (scripts/bench.py) on {results['date']}; do not edit by hand. Machine: "
        f"{results['machine']}. Spark {results['spark']}, local[2].",
        "",
        "Framework = the bundle's job run by `medallion run` (plan, bronze, silver, gold notebooks). "
        "Raw = plain Spark reading the same landing files and writing the same rows to Delta, no framework. "
        "Nothing new = a second run with no new files. Incremental = a run after the next day's drop: "
        "1% new orders with their lines and events, 1% of the customers and products changed (a tenth of "
        "those deleted) and 1% new, no order changed (scripts/bench.py, `_bench_settings`). Memory = peak resident memory of the Python process and its JVM while the layer "
        "ran. Raw and framework each run in a fresh process (their own JVM); session start (JVM, Spark, "
        "the metastore's first query) is reported apart and not counted in the runs.",
        "",
        f"`medallion validate` on the demo specs, cold (a new process): {results['validate_seconds']} s "
        "(goal < 2 s; no JVM, no DQX import).",
        "",
        "| orders | run | layer | rows written | seconds | rows/s | peak MiB |",
        "|---:|---|---|---:|---:|---:|---:|",
    ]
    for r in results["scales"]:
        for label, key in (
            ("framework", "framework"),
            ("raw", "raw"),
            ("nothing new", "nothing_new"),
            ("incremental 1%", "incremental_1pct"),
        ):
            for layer, m in r[key]["layers"].items():
                lines.append(
                    f"| {r['scale_orders']:,} | {label} | {layer} | {m['rows']:,} | {m['seconds']} | "
                    f"{m['rows_per_second']:,} | {m['peak_memory_mib']:,} |"
                )
    lines += [
        "",
        "| orders | session start s (framework / raw) | framework s | raw s | framework / raw (goal ≤ 2.5) "
        "| nothing new s | nothing new / full (goal ≤ 0.05) | incremental s | incremental / full (goal ≤ 0.15) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results["scales"]:
        lines.append(
            f"| {r['scale_orders']:,} | {r['session_seconds']} / {r['raw_session_seconds']} | "
            f"{r['framework']['seconds']} | {r['raw']['seconds']} | {r['ratio_framework_to_raw']} | "
            f"{r['nothing_new']['seconds']} | {r['ratio_nothing_new_to_full']} | "
            f"{r['incremental_1pct']['seconds']} | {r['ratio_incremental_to_full']} |"
        )
    return "\n".join(lines) + "\n"


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
    docs.write_text(_markdown(results) + _kept_sections(docs))
    print(_markdown(results))
    return 0


def _kept_sections(docs: Path) -> str:
    """Sections other benchmarks write into the same file (between `<!-- name:begin` markers)."""
    text = docs.read_text() if docs.exists() else ""
    start = text.find("<!-- ")
    while start != -1 and ":begin" not in text[start : text.find("-->", start)]:
        start = text.find("<!-- ", start + 1)
    return "\n" + text[start:] if start != -1 else ""


if __name__ == "__main__":
    sys.exit(main())
