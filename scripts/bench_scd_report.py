"""`make bench`, SCD2 part: the "SCD2" section of docs/benchmarks.md from the results (scripts/bench_scd.py)."""

from __future__ import annotations

from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
BEGIN, END = "<!-- scd2:begin (scripts/bench_scd.py) -->", "<!-- scd2:end -->"


def _alt_cells(result: dict) -> tuple[str, str, str, str, str]:
    """(batch as it is, what was timed, seconds, rows/s, matches) for the alternatives' table."""
    as_is = result["as_is"]
    if as_is["ok"]:
        return "ran", "the batch", str(as_is["seconds"]), f"{as_is['rows_per_second']:,}", _matches(as_is)
    error = as_is.get("error_class") or as_is["error"]
    refused = f"refused after {as_is['seconds']} s: {error}"
    work = result.get("newest_per_key", {})
    if not work.get("ok"):
        return refused, "newest event per key", "failed", "", "no"
    rate = f"{work['rows_per_second']:,}"
    return refused, "newest event per key", str(work["seconds"]), rate, _matches(work)


def _matches(r: dict) -> str:
    if r["matches"]:
        return "yes"
    causes = ", ".join(f"{n:,} {c}" for c, n in r["by_cause"].items())
    return f"no: {r['keys_differ']:,} keys differ ({causes})"


def markdown(results: dict) -> str:
    keys = results["keys"]
    mack = results.get("mack")
    lines = [
        BEGIN,
        "## SCD2",
        "",
        f"Written by `make bench` (scripts/bench_scd.py, `KEYS={keys}`); results in bench/scd_results.json. "
        f"Machine: {results['machine']}; Spark {results['spark']}, Delta {results['delta']}, "
        f"{results['master']}, {results['shuffle_partitions']} shuffle partitions, driver memory 4g. "
        f"Whole run {results['total_seconds']} s (session start {results.get('session_start_seconds')} s, "
        f"untimed warm-up {results.get('warm_up_seconds')} s, data generation and checks included).",
        "",
        f"A {keys:,}-key dimension (key `id`, tracked `name` + `tier`, untracked `note`, int sequence "
        "`updated_at`, deletes `op = 'D'`) built through the real silver path (`process_batch` → "
        "`write_scd`): an initial load, then a batch in which 1% of the keys change, then one in which "
        "10% change, on the same table. Of the changed keys ~60% change once, ~25% twice, ~15% three "
        "times in the batch; ~20% of the events change only `note`, ~2% of the tracked changes set "
        "`tier` to NULL, ~5% of the changed keys end with a delete. rows/s = bronze rows in the batch / "
        "seconds.",
        "",
        "| batch | bronze rows | keys | engine s | engine rows/s | of which recompute + MERGE s | "
        "engine vs reference (sampled keys) |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for s in results["scenarios"]:
        e = s["engine"]
        check = e["check"]
        verdict = "ok" if check["ok"] else f"{check['keys_mismatched']} keys differ"
        lines.append(
            f"| {s['scenario']} | {s['input_rows']:,} | {s['keys_in_batch']:,} | {e['seconds']} | "
            f"{e['rows_per_second']:,} | {e['replace_keys_seconds']} | {verdict} ({check['sampled_keys']:,}) |"
        )
    lines += [
        "",
        "Alternatives, each on a copy of the engine's table as it was before the batch, fed the same "
        "conformed rows, and compared with the engine's table after it (the engine is the model: its "
        "sampled keys match a pure-Python computation of docs/scd.md, column above). *textbook* = the "
        "single MERGE with a staged union (updates UNION rows-to-insert with a NULL merge key; MERGE ON "
        "key AND is_current), extended to close a version on a delete and to update `note` in place, on a "
        "copy with only the columns it writes and no table properties. *textbook, same table* = the same "
        "MERGE on a copy like the engine's table: it also keeps the lineage columns (`_source_file`, "
        "`_ingested_at`, set on the rows it writes) and has the change data feed on, as every silver "
        "table has (gold reads it). "
        + (
            f"*mack* = mack {mack} `type_2_scd_generic_upsert` (not a project dependency; it has no deletes "
            "and versions on every column it is given, so it gets the upserts and `name`, `tier`; it is "
            "compared on those columns). "
            if mack
            else "mack was not importable in this run (see below). "
        )
        + "When Delta refuses the batch as it is, the usual workaround is timed: keep the newest event "
        "per key.",
        "",
        "| batch | alternative | the batch as it is | timed run on | s | rows/s | matches the model |",
        "|---|---|---|---|---:|---:|---|",
    ]
    for s in results["scenarios"]:
        for name, result in s["alternatives"].items():
            outcome, timed, seconds, rate, matches = _alt_cells(result)
            lines.append(
                f"| {s['scenario']} | {name} | {outcome} | {timed} | {seconds} | {rate} | {matches} |"
            )
    lines += [
        "",
        "Caveats: one run on a 2-core machine, no repetitions; everything runs in one JVM after an "
        "untimed warm-up (engine and MERGEs on a 2,000-key table), the engine first in each batch. The "
        "engine's seconds include what the alternatives do not do: classifying duplicates and ties "
        "against the change log, appending to it, and recomputing every touched key's whole history "
        "from it. No late events, duplicates or ties in this data; with them the single MERGE would "
        "differ further. rows/s of a run on the newest event per key still counts all bronze rows of "
        "the batch, and its seconds exclude the refused attempt. mack runs only when `import mack` "
        "works: `pip install mack` into a throwaway venv and put its site-packages on PYTHONPATH (its "
        "wheel declares no dependencies, so the pinned pyspark/delta-spark stay as they are).",
        END,
    ]
    return "\n".join(lines) + "\n"


def write_docs(results: dict) -> None:
    text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    section = markdown(results)
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        text = head + section + (("\n" + tail) if tail else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOCS.write_text(text)
