"""`make bench`: the whole job at several scales against a raw-Spark baseline.

For each scale (orders in the first drop) it copies the project into bench/work/<scale>/, generates
sample data, and in a fresh process per scale:
  1. runs the job with the framework (`medallion.runtime.runner.run_job`), a full load;
  2. runs a raw baseline: plain Spark reading the same landing files and writing the same rows to
     Delta (bronze append, silver typed rows, latest row per key where the spec merges, gold SQL);
  3. adds a drop with 1% new data and runs the job again (incremental).
It samples the resident memory of the Python process and its JVM while each layer runs.
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
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / "work"
COPIED = ("databricks.yml", "local.yml", "resources", "notebooks", "specs")


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


def _generate(project: Path, landing: Path, rows: int, seed: int, suffix: str = "") -> float:
    from medallion.datagen import generate_data

    start = time.perf_counter()
    target = landing if not suffix else project / ".bench_extra"
    generate_data(
        project / "specs" / "sample_data.json",
        target,
        rows=rows,
        seed=seed,
        start_date=date(2024, 1, 1),
        end_date=date(2024, 3, 31),
        batches=1,
        anomalies=False,
    )
    if suffix:  # move the extra drop in under new file names, as a later drop would arrive
        for file in sorted(target.rglob("*.*")):
            if "_manifests" in file.parts:
                continue
            dest = landing / file.relative_to(target)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(file, dest.with_name(f"{dest.stem}{suffix}{dest.suffix}"))
        shutil.rmtree(target)
    return time.perf_counter() - start


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
    for task, layer in (("plan", "plan"), ("bronze", "bronze"), ("silver", "silver"), ("gold", "gold")):
        start = time.perf_counter()
        with MemorySampler() as sampler:
            result = run_job(spark, bundle, "dev", tasks=[task], echo=lambda *_: None)
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
            if t.load_pattern == "merge":
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


def run_scale(scale: int, seed: int) -> dict:
    """One scale, in this process (called in a child process per scale by main)."""
    from medallion.bundle import load_bundle
    from medallion.runtime.session import get_spark
    from medallion.specs import load_specs

    project = WORK / str(scale)
    bundle = load_bundle(project)
    landing = Path(bundle.resolve_variables("dev", local=True)["landing_root"])
    generate_seconds = _generate(project, landing, scale, seed)
    spark = get_spark(bundle, "dev")
    specs = load_specs(project / "specs")
    full = _framework_run(spark, bundle, f"full run at {scale}")
    raw = _raw_run(spark, specs, landing)
    extra = max(1, scale // 100)
    _generate(project, landing, extra, seed + 1, suffix="_incr")
    incremental = _framework_run(spark, bundle, f"incremental run at {scale}")
    spark.stop()
    return {
        "scale_orders": scale,
        "generate_seconds": round(generate_seconds, 2),
        "framework": full,
        "raw": raw,
        "ratio_framework_to_raw": round(full["seconds"] / raw["seconds"], 2) if raw["seconds"] else None,
        "incremental_1pct": incremental,
        "ratio_incremental_to_full": round(incremental["seconds"] / full["seconds"], 2)
        if full["seconds"]
        else None,
    }


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
        "Written by `make bench` (scripts/bench.py); do not edit by hand. Machine: "
        f"{results['machine']}. Spark {results['spark']}, local[2].",
        "",
        "Framework = the bundle's job run by `medallion run` (plan, bronze, silver, gold notebooks). "
        "Raw = plain Spark reading the same landing files and writing the same rows to Delta, no framework. "
        "Incremental = a second run after a drop with 1% new orders. Memory = peak resident memory of the "
        "Python process and its JVM while the layer ran. The framework's full run goes first in a fresh "
        "JVM; raw runs after it in the same warmed-up JVM, which flatters raw at small scales.",
        "",
        f"`medallion validate` on the demo specs: {results['validate_seconds']} s (no JVM).",
        "",
        "| orders | run | layer | rows written | seconds | rows/s | peak MiB |",
        "|---:|---|---|---:|---:|---:|---:|",
    ]
    for r in results["scales"]:
        for label, key in (
            ("framework", "framework"),
            ("raw", "raw"),
            ("incremental 1%", "incremental_1pct"),
        ):
            for layer, m in r[key]["layers"].items():
                lines.append(
                    f"| {r['scale_orders']:,} | {label} | {layer} | {m['rows']:,} | {m['seconds']} | "
                    f"{m['rows_per_second']:,} | {m['peak_memory_mib']:,} |"
                )
    lines += [
        "",
        "| orders | framework s | raw s | framework / raw | incremental s | incremental / full |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results["scales"]:
        lines.append(
            f"| {r['scale_orders']:,} | {r['framework']['seconds']} | {r['raw']['seconds']} | "
            f"{r['ratio_framework_to_raw']} | {r['incremental_1pct']['seconds']} | {r['ratio_incremental_to_full']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default=os.environ.get("BENCH_SCALES", "10000,100000,1000000"))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--one-scale", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one_scale:
        print(json.dumps(run_scale(args.one_scale, args.seed)))
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
        out = subprocess.run(
            [sys.executable, __file__, "--one-scale", str(scale), "--seed", str(args.seed)],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        )
        results["scales"].append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(json.dumps(results["scales"][-1]["ratio_framework_to_raw"]), flush=True)
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
