"""`make bench`: the generated top of docs/benchmarks.md from bench/results.json (scripts/bench.py)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["kept_sections", "markdown"]


def markdown(results: dict) -> str:
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


def kept_sections(docs: Path) -> str:
    """Sections other benchmarks write into the same file (between `<!-- name:begin` markers)."""
    text = docs.read_text() if docs.exists() else ""
    start = text.find("<!-- ")
    while start != -1 and ":begin" not in text[start : text.find("-->", start)]:
        start = text.find("<!-- ", start + 1)
    return "\n" + text[start:] if start != -1 else ""
