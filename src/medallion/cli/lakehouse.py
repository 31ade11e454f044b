"""Commands on the local lakehouse: make sample data, run the job, query tables and their history,
replay quarantined rows, report on data quality."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from medallion.cli.common import bundle_and_target, spark_and_context, spec_table, target_option
from medallion.errors import ParameterError, summary_line
from medallion.params import resolve_context
from medallion.security.persona import lakehouse_tables, persona_query
from medallion.specs import load_specs

__all__ = ["add_lakehouse_commands"]


def add_lakehouse_commands(sub) -> None:
    """`generate-data`, `run`, `sql`, `history`, `tables`, `requeue`, `dq report`."""
    p = sub.add_parser("generate-data", help="write sample landing files with faker")
    target_option(p)
    p.add_argument("--landing", help="landing folder (default: the target's landing_root)")
    p.add_argument("--settings", help="generator settings (default: <project>/specs/sample_data.json)")
    p.add_argument(
        "--rows",
        type=int,
        default=2000,
        help="driver rows in the first drop; other entities scale from it (default 2000)",
    )
    p.add_argument("--seed", type=int, default=42, help="same seed, same bytes (default 42)")
    p.add_argument("--start-date", type=date.fromisoformat, default=date(2024, 1, 1))
    p.add_argument("--end-date", type=date.fromisoformat, default=date(2024, 3, 31))
    p.add_argument("--batches", type=int, default=1, help="landing drops over the date range (default 1)")
    p.add_argument("--anomalies", action="store_true", help="inject bad rows and write a manifest")
    p.set_defaults(handler=_generate_data)

    p = sub.add_parser("run", help="run the bundle's job on the local lakehouse")
    target_option(p)
    p.add_argument(
        "--job",
        help="job key in resources/*.yml (default: the data job, medallion; maintenance runs the Delta upkeep job)",
    )
    p.add_argument("--task", action="append", default=[], help="run only this task (repeatable)")
    p.add_argument(
        "--table", action="append", default=[], help="only this table in for-each tasks (repeatable)"
    )
    p.add_argument(
        "--full-refresh",
        action="append",
        default=[],
        metavar="TABLE",
        help="drop this silver table (with its change log and quarantine) and rebuild it from bronze; "
        "needed after changing its keys, sequence, tracked columns or SCD type (repeatable)",
    )
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a job parameter for this run, e.g. tables=fact_order for the maintenance job (repeatable)",
    )
    p.set_defaults(handler=_run)

    p = sub.add_parser("sql", help="run a SQL query on the local lakehouse")
    target_option(p)
    p.add_argument("query")
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")
    p.add_argument("--limit", type=int, default=1000, help="rows shown at most (default 1000)")
    p.add_argument(
        "--as",
        dest="as_groups",
        default="",
        metavar="GROUP[,GROUP]",
        help="answer as a member of these groups would see it on Databricks (specs/security: grants, "
        "masks, row filters)",
    )
    p.set_defaults(handler=_sql)

    p = sub.add_parser(
        "history", help="a local table's Delta versions with their runs, rows and upstream versions"
    )
    p.add_argument("table", help="a table of the specs: name or layer.name")
    target_option(p)
    p.add_argument("--limit", type=int, default=20, help="versions to show (newest first)")
    p.set_defaults(handler=_history)

    p = sub.add_parser("tables", help="list local tables with row count, Delta version, last update")
    target_option(p)
    p.set_defaults(handler=_tables)

    p = sub.add_parser(
        "requeue", help="send a silver table's quarantined rows through its current rules (once)"
    )
    target_option(p)
    p.add_argument("table", help="silver table whose quarantine to replay")
    p.set_defaults(handler=_requeue)

    p = sub.add_parser("dq", help="data-quality commands")
    dq = p.add_subparsers(dest="dq_command", required=True, metavar="DQ_COMMAND")
    p = dq.add_parser("report", help="pass rates per silver table and the top failing rules")
    target_option(p)
    p.add_argument("--run", default="", help="one run id (default: the latest run of each table)")
    p.add_argument("--top", type=int, default=10, help="failing rules shown (default 10)")
    p.set_defaults(handler=_dq_report)


def _generate_data(args) -> int:
    # imported here, not above: `medallion validate` must start fast and without Spark
    from medallion.datagen import generate_data

    bundle, target = bundle_and_target(args)
    landing = (
        Path(args.landing)
        if args.landing
        else Path(bundle.resolve_variables(target, local=True)["landing_root"])
    )
    settings = Path(args.settings) if args.settings else bundle.root / "specs" / "sample_data.json"
    report = generate_data(
        settings,
        landing,
        rows=args.rows,
        seed=args.seed,
        start_date=args.start_date,
        end_date=args.end_date,
        batches=args.batches,
        anomalies=args.anomalies,
    )
    print(report.summary())
    return 0


def _run(args) -> int:
    # imported here, not above: `medallion validate` must start fast and without Spark
    from medallion.runtime.runner import run_job
    from medallion.runtime.session import get_spark

    parameters = {"full_refresh": ",".join(args.full_refresh)} if args.full_refresh else {}
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"--param {item!r}: write NAME=VALUE, e.g. --param tables=fact_order")
        parameters[name.strip()] = value.strip()
    bundle, target = bundle_and_target(args)
    spark = get_spark(bundle, target)
    result = run_job(
        spark, bundle, target, job=args.job, tasks=args.task, tables=args.table, parameters=parameters
    )
    print(result.summary())
    return 0 if result.ok else 1


def _sql(args) -> int:
    # imported here, not above: `medallion validate` must start fast and without Spark
    from pyspark.errors.exceptions.captured import CapturedException

    # likewise: these modules import Spark
    from medallion.delta.query import format_rows
    from medallion.runtime.session import get_spark

    bundle, target = bundle_and_target(args)
    spark = get_spark(bundle, target)
    try:
        frame = _persona_frame(spark, args, bundle, target) if args.as_groups else spark.sql(args.query)
        print(format_rows(frame, args.format, limit=args.limit))
    except CapturedException as exc:  # a mistake in the query (or a value it cannot compute): Spark's words
        raise ParameterError(f"the query did not run: {summary_line(exc)}") from None
    return 0


def _persona_frame(spark, args, bundle, target):
    groups = tuple(g.strip() for g in args.as_groups.split(",") if g.strip())
    ctx = resolve_context({"target": target}, bundle.root)
    spec = load_specs(ctx.specs_dir).of("security")[0]
    schemas = {layer: getattr(ctx, f"{layer}_schema") for layer in ("bronze", "silver", "gold")}
    tables = lakehouse_tables(spark, ctx.catalog, schemas)
    return persona_query(spark, args.query, groups, spec, ctx.catalog, schemas, tables)


def _history(args) -> int:
    # imported here, not above: `medallion validate` must start fast and without Spark
    from medallion.delta.history import HISTORY_COLUMNS, table_history
    from medallion.delta.literal_rows import literal_frame
    from medallion.delta.query import format_rows

    spark, ctx = spark_and_context(args)
    rows = table_history(spark, ctx, *spec_table(load_specs(ctx.specs_dir), args.table), limit=args.limit)
    print(
        format_rows(
            literal_frame(spark, [tuple(r.values()) for r in rows], HISTORY_COLUMNS), limit=args.limit
        )
    )
    return 0


def _tables(args) -> int:
    # imported here, not above: `medallion validate` must start fast and without Spark
    from medallion.delta.query import format_rows, table_inventory
    from medallion.runtime.session import get_spark

    bundle, target = bundle_and_target(args)
    spark = get_spark(bundle, target)
    print(format_rows(table_inventory(spark), "table", limit=10_000))
    return 0


def _requeue(args) -> int:
    # imported here, not above: `medallion validate` must start fast and without Spark
    from medallion.layers.requeue import requeue

    spark, ctx = spark_and_context(args)
    specs = load_specs(ctx.specs_dir)
    table = specs.silver_table(args.table)
    run = requeue(spark, table, ctx, alerts=specs.alerts)
    if run.status == "skipped":
        print(f"{table.table}: {run.details.get('reason')}")
    else:
        again = run.details.get("quarantined", 0)
        print(
            f"{table.table}: replayed {run.rows_read} quarantined rows: {run.rows_written} reached silver, "
            f"{again} failed again and stay in quarantine, {run.details.get('duplicates', 0)} duplicates"
        )
    return 0


def _dq_report(args) -> int:
    # imported here, not above: `medallion validate` must start fast and without Spark
    from medallion.quality.report import dq_report

    spark, ctx = spark_and_context(args)
    print(dq_report(spark, ctx, run_id=args.run, top=args.top))
    return 0
