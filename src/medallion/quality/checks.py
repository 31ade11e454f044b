"""Apply a silver table's rules to one batch with DQX and split it into passing and failing rows.

Rules are DQX metadata (built-in + spec'd, see `medallion.specs.builtin_rules`); DQX's
`apply_checks_by_metadata_and_split` evaluates row- and dataset-level rules in one pass. Rows with
an error go to quarantine; rows with only warnings pass and their warnings are kept. A rule whose
`on_error` is `fail` stops the task before anything of the batch is written.
"""

from __future__ import annotations

import copy
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from databricks.labs.dqx.engine import DQEngine, DQEngineCore
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from medallion.errors import DataQualityError, SpecError, SpecProblem
from medallion.names import DQX_ERRORS, DQX_WARNINGS, LINEAGE_COLUMNS, SOURCE_ROW
from medallion.quality.engine import dq_engine
from medallion.specs.builtin_rules import builtin_rules
from medallion.specs.model import QualityRule, SilverSpec

__all__ = ["CheckedBatch", "QualityRun", "check_batch", "start_quality_run", "with_source_row"]

log = logging.getLogger(__name__)

ERRORS, WARNINGS = DQX_ERRORS, DQX_WARNINGS


@dataclass
class QualityRun:
    """One table's rules for one run, ready for DQX, and the per-rule tally of the run so far."""

    table: SilverSpec
    run_id: str
    rules: tuple[QualityRule, ...]
    checks: list[dict]  # DQX metadata of `rules`, in the same order
    engine: DQEngine | DQEngineCore
    rows_checked: int = 0
    failed: Counter = field(default_factory=Counter)  # rule -> rows with that error
    warned: Counter = field(default_factory=Counter)  # rule -> rows with that warning

    @property
    def fail_rules(self) -> frozenset[str]:
        """Rules whose failure stops the task (on_error = fail)."""
        return frozenset(r.name for r in self.rules if r.on_error == "fail")


@dataclass(frozen=True)
class CheckedBatch:
    """`valid`: rows for the writer (no result columns); `rejected`: rows with errors; `warned`:
    rows that passed with warnings (both with `_errors`/`_warnings` and the source row)."""

    valid: DataFrame
    rejected: DataFrame
    warned: DataFrame
    n_rows: int = 0  # rows checked: valid, rejected and warned together
    n_rejected: int = 0
    n_warned: int = 0
    cached: tuple = ()  # frames persisted for this batch

    def release(self) -> None:
        for frame in self.cached:
            frame.unpersist()


def start_quality_run(
    spark: SparkSession,
    table: SilverSpec,
    run_id: str,
    resolve_table: Callable[[str], str],
) -> QualityRun:
    """The table's rules ready for DQX, for one build or replay.

    `resolve_table` turns a spec'd table name (`ref_table` of a foreign-key rule) into its full name.
    A rule that cannot run is reported at its file:row by `check_batch`, before any data moves.
    """
    return _quality_run(spark, table, run_id, resolve_table)


def _quality_run(
    spark: SparkSession, table: SilverSpec, run_id: str, resolve_table: Callable[[str], str]
) -> QualityRun:
    checks = []
    # Tables from the specs carry their built-in rules; a table made in code gets the key checks.
    rules = table.rules or builtin_rules(table, None)
    for rule in rules:
        check = copy.deepcopy(rule.check)
        arguments = check.get("check", {}).get("arguments", {})
        ref = arguments.get("ref_table")
        if isinstance(ref, str) and "." not in ref:
            arguments["ref_table"] = resolve_table(ref)
        metadata = dict(check.get("user_metadata") or {})
        metadata["on_error"] = rule.on_error
        check["user_metadata"] = metadata
        checks.append(check)
    return QualityRun(table=table, run_id=run_id, rules=rules, checks=checks, engine=dq_engine(spark, run_id))


def _name_broken_rules(run: QualityRun, empty: DataFrame) -> None:
    """After the rules failed to apply together: try each alone on an empty batch of the same shape,
    so a rule that cannot run (a value DQX reads as a column name, a missing reference table) is
    reported as its file:row, not a plan dump. Returns when each runs alone (the caller re-raises)."""
    problems = []
    for rule, check in zip(run.rules, run.checks, strict=True):
        try:
            run.engine.apply_checks_by_metadata(empty, [check])
        except Exception as exc:  # Spark's analysis errors carry the cause on their first line
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            problems.append(
                SpecProblem(
                    rule.file,
                    rule.row,
                    "arguments" if rule.file.endswith(".csv") else "",
                    f"rule {rule.name!r} cannot run on {run.table.table}: {first[:300]}",
                    "string values in DQX arguments are SQL: put plain values in the allowed/min/max "
                    "cells of dq_rules.csv, or quote literals in arguments, e.g. \"'vip'\"",
                )
            )
    if problems:
        raise SpecError(problems)


def with_source_row(df: DataFrame) -> DataFrame:
    """Keep the bronze row as read in one struct column, so quarantine holds the original values."""
    data = [c for c in df.columns if c not in LINEAGE_COLUMNS]
    return df.withColumn(SOURCE_ROW, F.struct(*[F.col(f"`{c}`") for c in data]))


def check_batch(run: QualityRun, rows: DataFrame) -> CheckedBatch:
    """Split conformed rows (with the source row) by the run's rules; count them and tally failures
    per rule, in one pass (so `rows` need not be cached or counted apart).

    Raises SpecError naming the rules that cannot run (DQX builds every check while the batch's plan
    is analysed, so that is before any row moves), and DataQualityError when a rule with
    on_error=fail fails, before anything is written.
    """
    try:
        checked = run.engine.apply_checks_by_metadata(rows, run.checks)
    except Exception:
        log.debug("silver %s: the rules cannot run together; trying each alone", run.table.table)
        _name_broken_rules(run, rows.limit(0))
        raise
    # Evaluated once: the valid and the failing rows come from the same evaluation, even when a
    # rule's reference table changes meanwhile (another task loading it), so no row is in both or neither.
    checked = _source_row_where_flagged(checked).persist()
    good, bad = run.engine.get_valid(checked), run.engine.get_invalid(checked)
    has_errors = _has_results(bad.columns, ERRORS)
    try:
        before = {rule: run.failed[rule] for rule in run.fail_rules}
        n_rows, n_rejected, n_warned = _tally(run, checked)
        if any(run.failed[rule] > count for rule, count in before.items()):  # else no job to look
            _stop_on_fail_rules(run, bad)
    except BaseException:
        checked.unpersist()
        raise
    return CheckedBatch(
        valid=good.drop(SOURCE_ROW),
        rejected=bad.filter(has_errors),
        warned=bad.filter(~has_errors),
        n_rows=n_rows,
        n_rejected=n_rejected,
        n_warned=n_warned,
        cached=(checked,),
    )


def _tally(run: QualityRun, checked: DataFrame) -> tuple[int, int, int]:
    """Rows, rows with errors, rows with only warnings, and rows per rule (added to the run's tally,
    with the rows to `rows_checked`). The totals are counted over every row, the rules over the
    flagged rows only: labelling each row and grouping by label costs seconds per million rows."""
    errors, warnings = _has_results(checked.columns, ERRORS), _has_results(checked.columns, WARNINGS)
    n_rows, n_rejected, n_warned = checked.agg(
        F.count(F.lit(1)), F.count_if(errors), F.count_if(~errors & warnings)
    ).first()
    if n_rejected or n_warned:

        def names(column: str, prefix: str):
            if column not in checked.columns:
                return F.array().cast("array<string>")
            found = F.transform(
                F.coalesce(F.col(column), F.array()), lambda e: F.concat(F.lit(prefix), e["name"])
            )
            return F.array_distinct(found)

        labels = F.explode(F.concat(names(ERRORS, "error:"), names(WARNINGS, "warn:")))
        flagged = checked.where(errors | warnings).select(labels.alias("label"))
        for row in flagged.groupBy("label").count().collect():
            kind, _, rule = row["label"].partition(":")
            (run.failed if kind == "error" else run.warned)[rule] += row["count"]
    run.rows_checked += n_rows
    return n_rows, n_rejected, n_warned


def _source_row_where_flagged(checked: DataFrame) -> DataFrame:
    """The bronze row only on rows with a DQX result: those are the ones the side tables keep it
    for, and the valid rows drop it. Cleared on the others before the cache, it no longer fills the
    cache: 3.5M clickstream rows cached in 234 MiB instead of 808 MiB, and built faster."""
    if SOURCE_ROW not in checked.columns:
        return checked
    flagged = _has_results(checked.columns, ERRORS) | _has_results(checked.columns, WARNINGS)
    return checked.withColumn(SOURCE_ROW, F.when(flagged, F.col(SOURCE_ROW)))


def _has_results(columns: list[str], column: str) -> Column:
    """Whether a checked row holds any DQX result in `column` (_errors or _warnings; DQX leaves the
    column out when no rule of that criticality exists)."""
    return F.coalesce(F.size(column), F.lit(0)) > 0 if column in columns else F.lit(False)


def _stop_on_fail_rules(run: QualityRun, bad: DataFrame) -> None:
    stopping = run.fail_rules
    if not stopping or ERRORS not in bad.columns:
        return
    hits = bad.select(F.explode(F.coalesce(F.col(ERRORS), F.array())).alias("e")).filter(
        F.col("e.name").isin(*stopping)
    )
    examples = hits.select("e.name", "e.message").limit(3).collect()
    if not examples:
        return
    rules = {r.name: r for r in run.rules}
    shown = "; ".join(f"{row['name']}: {row['message']}" for row in examples)
    where = ", ".join(sorted({f"{rules[row['name']].file}:{rules[row['name']].row}" for row in examples}))
    raise DataQualityError(
        f"silver table {run.table.table}: a rule with on_error=fail failed, so nothing of this batch was "
        f"written ({shown}). Fix the source data and rerun, or change the rule ({where})"
    )
