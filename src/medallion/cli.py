"""`medallion` command line: validate specs, make sample data, run the job locally, query tables,
replay quarantined rows, report on data quality, and check a target before and after a deploy.

Errors a user can fix (`MedallionError`) are printed as plain messages; exit codes:
0 ok, 1 a run failed, 2 bad specs or parameters.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from datetime import date
from pathlib import Path

from medallion.bundle import load_bundle
from medallion.cli_operations import add_operations_commands, spec_table
from medallion.dashboards.build import stale_files, write_files
from medallion.errors import MedallionError, ParameterError, SpecError
from medallion.logs import configure as configure_logs
from medallion.params import find_project_root, resolve_context
from medallion.security.persona import lakehouse_tables, persona_query
from medallion.security.reconcile import SecurityState, desired_state, plan
from medallion.security.statements import SecurableNames
from medallion.security.warehouse import WarehouseSql
from medallion.security.workspace import reconcile
from medallion.specs import load_specs
from medallion.specs.diff import diff_specs
from medallion.specs.git_files import specs_at
from medallion.specs.model import Specs

__all__ = ["main"]

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.INFO
    if os.environ.get("MEDALLION_LOG_FORMAT", "").lower() == "json":
        configure_logs(json_lines=True, stream=sys.stderr, level=level)  # one JSON object per line
    else:
        logging.basicConfig(
            level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S"
        )
    logging.getLogger("py4j").setLevel(logging.WARNING)  # one line per JVM callback otherwise
    try:
        return args.handler(args)
    except SpecError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except MedallionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2 if exc.__class__.__name__ in {"ParameterError", "BundleConfigError"} else 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="medallion", description=__doc__.splitlines()[0])
    parser.add_argument("--project-dir", default=".", help="project folder (default: the one holding cwd)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check every spec file; no Spark needed")
    p.add_argument("--specs", help="specs folder (default: <project>/specs)")
    p.set_defaults(handler=_validate)

    p = sub.add_parser("generate-data", help="write sample landing files with faker")
    _target_option(p)
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
    _target_option(p)
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
    _target_option(p)
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
    _target_option(p)
    p.add_argument("--limit", type=int, default=20, help="versions to show (newest first)")
    p.set_defaults(handler=_history)

    add_operations_commands(sub, _operations_context, _target_option)

    p = sub.add_parser("tables", help="list local tables with row count, Delta version, last update")
    _target_option(p)
    p.set_defaults(handler=_tables)

    p = sub.add_parser(
        "requeue", help="send a silver table's quarantined rows through its current rules (once)"
    )
    _target_option(p)
    p.add_argument("table", help="silver table whose quarantine to replay")
    p.set_defaults(handler=_requeue)

    p = sub.add_parser("dq", help="data-quality commands")
    dq = p.add_subparsers(dest="dq_command", required=True, metavar="DQ_COMMAND")
    p = dq.add_parser("report", help="pass rates per silver table and the top failing rules")
    _target_option(p)
    p.add_argument("--run", default="", help="one run id (default: the latest run of each table)")
    p.add_argument("--top", type=int, default=10, help="failing rules shown (default 10)")
    p.set_defaults(handler=_dq_report)

    p = sub.add_parser("specs", help="spec commands")
    spec_commands = p.add_subparsers(dest="specs_command", required=True, metavar="SPECS_COMMAND")
    p = spec_commands.add_parser(
        "diff", help="additive and breaking changes since a git ref; exit 1 on an unacknowledged breaking one"
    )
    p.add_argument("--base", required=True, help="the git ref to compare with, e.g. origin/main")
    p.set_defaults(handler=_specs_diff)

    p = sub.add_parser("dashboards", help="dashboards from specs/dashboards (docs/dashboards.md)")
    dashboards = p.add_subparsers(dest="dashboards_command", required=True, metavar="DASHBOARDS_COMMAND")
    p = dashboards.add_parser(
        "build", help="write the .lvdash.json files and resources/dashboards.yml from the specs"
    )
    p.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 when a generated file is stale"
    )
    p.set_defaults(handler=_dashboards_build)
    p = dashboards.add_parser(
        "preview", help="one self-contained HTML page of a dashboard over the local lakehouse"
    )
    p.add_argument("name", help="the dashboard (a specs/dashboards/<name>.json, or pipeline_health)")
    _target_option(p)
    p.add_argument(
        "--out", help="where to write the page (default: .lakehouse/<target>/previews/<name>.html)"
    )
    p.set_defaults(handler=_dashboards_preview)

    p = sub.add_parser("security", help="Unity Catalog security from specs/security (docs/security.md)")
    security = p.add_subparsers(dest="security_command", required=True, metavar="SECURITY_COMMAND")
    p = security.add_parser(
        "plan", help="the statements the security task would run on a target (nothing is changed)"
    )
    _target_option(p)
    p.add_argument(
        "--warehouse-id",
        help="read the target's information_schema through this SQL warehouse (default: plan for a "
        "workspace that has none of it yet, without calling it)",
    )
    p.set_defaults(handler=_security_plan)

    p = sub.add_parser(
        "preflight", help="what a target needs before `databricks bundle deploy` (no workspace call)"
    )
    _target_option(p)
    p.set_defaults(handler=_preflight)

    p = sub.add_parser(
        "deploy-check", help="after a deploy: schemas, volumes, the job and its last run, on the workspace"
    )
    _target_option(p)
    p.add_argument("--skip-run", action="store_true", help="do not require a successful last run")
    p.set_defaults(handler=_deploy_check)
    return parser


def _target_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("-t", "--target", default=None, help="bundle target (default: the bundle's default)")


def _root(args) -> Path:
    return find_project_root(args.project_dir)


def _bundle_and_target(args):
    bundle = load_bundle(_root(args))
    return bundle, args.target or bundle.default_target


def _preflight(args) -> int:
    from medallion.bundle.deploy_check import preflight  # keeps the SDK out of other commands

    bundle, target = _bundle_and_target(args)
    problems = preflight(bundle, target)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(
            f"target {target} is not ready to deploy ({len(problems)} to fix, docs/deploy.md)",
            file=sys.stderr,
        )
        return 2
    print(f"target {target}: ready to deploy")
    return 0


def _deploy_check(args) -> int:
    from medallion.bundle import deploy_check  # keeps the SDK out of other commands

    bundle, target = _bundle_and_target(args)
    expected = deploy_check.expected_deployment(bundle, target)
    checks = deploy_check.run_deploy_check(
        deploy_check.workspace_client(bundle, target), expected, require_run=not args.skip_run
    )
    for check in checks:
        print(check.line())
    failed = [c for c in checks if not c.ok]
    print(f"deploy check of {target}: {len(checks) - len(failed)} ok, {len(failed)} failed")
    return 1 if failed else 0


def _specs_diff(args) -> int:
    root = _root(args)
    with tempfile.TemporaryDirectory() as folder:
        base_dir = specs_at(root, args.base, Path(folder))
        base = load_specs(base_dir) if base_dir is not None else Specs()
        changes = diff_specs(base, load_specs(root / "specs"))
    for change in changes:
        print(change)
    blocking = [c for c in changes if c.blocking]
    breaking = sum(c.breaking for c in changes)
    print(
        f"specs diff against {args.base}: {len(changes)} change(s), {breaking} breaking, "
        f"{len(blocking)} not acknowledged"
    )
    if blocking:
        print("acknowledge each breaking change as it says, or undo it (docs/operations.md)", file=sys.stderr)
    return 1 if blocking else 0


def _dashboards_build(args) -> int:
    root = _root(args)
    specs = load_specs(root / "specs").of("dashboards")
    if args.check:
        stale = stale_files(root, specs)
        for name in stale:
            print(f"stale: {name}", file=sys.stderr)
        if stale:
            print(
                "run `medallion dashboards build` and commit the files (docs/dashboards.md)", file=sys.stderr
            )
            return 1
        print(f"dashboards: {len(specs)} up to date")
        return 0
    changed = write_files(root, specs)
    print(
        f"dashboards: {len(specs)} built, {len(changed)} file(s) written"
        + "".join(f"\n  {n}" for n in changed)
    )
    return 0


def _dashboards_preview(args) -> int:
    # imported here, not above: `medallion validate` must start fast and without Spark
    from medallion.dashboards.preview import write_preview

    spark, ctx = _context(args)
    specs = {spec.name: spec for spec in load_specs(ctx.specs_dir).of("dashboards")}
    if args.name not in specs:
        raise ParameterError(f"no dashboard {args.name!r} (known: {', '.join(sorted(specs))})")
    out = Path(args.out) if args.out else Path(ctx.landing_root).parent / "previews" / f"{args.name}.html"
    path = write_preview(spark, specs[args.name], ctx, out)
    print(path)
    return 0


def _security_plan(args) -> int:
    bundle, target = _bundle_and_target(args)
    variables = bundle.resolve_variables(target, local=False)
    schemas = {layer: str(variables[f"{layer}_schema"]) for layer in ("bronze", "silver", "gold")}
    names = SecurableNames(
        str(variables["catalog"]),
        schemas,
        str(variables.get("security_schema") or ""),
        use_policies=str(variables.get("security_mode")) == "policies",
    )
    spec = load_specs(bundle.root / "specs").of("security")[0]
    if args.warehouse_id:
        from medallion.bundle.deploy_check import workspace_client  # keeps the SDK out of other commands

        warehouse = WarehouseSql(workspace_client(bundle, target), args.warehouse_id)
        statements = reconcile(warehouse, spec, names, execute=False).statements
        where = f"{target} ({names.catalog}, read through warehouse {args.warehouse_id})"
    else:
        statements = plan(desired_state(spec, names), SecurityState())
        where = f"a fresh {target} workspace ({names.catalog}; --warehouse-id reads what it has)"
    for statement in statements:
        print(f"{statement};\n")
    print(f"security plan for {where}: {len(statements)} statement(s)")
    return 0


def _validate(args) -> int:
    specs_dir = Path(args.specs) if args.specs else _root(args) / "specs"
    specs = load_specs(specs_dir)
    print(
        f"specs OK: {len(specs.bronze)} bronze, {len(specs.silver)} silver, "
        f"{len(specs.gold)} gold tables in {specs_dir}"
    )
    security = specs.of("security")
    if security and (security[0].masks or security[0].filters or security[0].tags or security[0].grants):
        spec = security[0]
        print(
            f"security: {len(spec.masks)} column masks, {len(spec.protected_tables)} protected tables, "
            f"{len(spec.tags)} tags, {len(spec.grants)} grants"
        )
    dashboards = specs.of("dashboards")
    if dashboards:
        widgets = sum(len(p.widgets) for d in dashboards for p in d.pages)
        alerts = sum(len(d.alerts) for d in dashboards)
        print(f"dashboards: {', '.join(d.name for d in dashboards)} ({widgets} widgets, {alerts} alerts)")
    return 0


def _generate_data(args) -> int:
    # imported here, not above: `medallion validate` must start fast and without Spark
    from medallion.datagen import generate_data

    bundle, target = _bundle_and_target(args)
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
    bundle, target = _bundle_and_target(args)
    spark = get_spark(bundle, target)
    result = run_job(
        spark, bundle, target, job=args.job, tasks=args.task, tables=args.table, parameters=parameters
    )
    print(result.summary())
    return 0 if result.ok else 1


def _sql(args) -> int:
    # imported here, not above: `medallion validate` must start fast and without Spark
    from medallion.delta.query import format_rows
    from medallion.runtime.session import get_spark

    bundle, target = _bundle_and_target(args)
    spark = get_spark(bundle, target)
    frame = _persona_frame(spark, args, bundle, target) if args.as_groups else spark.sql(args.query)
    print(format_rows(frame, args.format, limit=args.limit))
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
    from medallion.delta.query import format_rows

    spark, ctx = _context(args)
    rows = table_history(spark, ctx, *spec_table(load_specs(ctx.specs_dir), args.table), limit=args.limit)
    print(
        format_rows(
            spark.createDataFrame([tuple(r.values()) for r in rows], HISTORY_COLUMNS), limit=args.limit
        )
    )
    return 0


def _tables(args) -> int:
    # imported here, not above: `medallion validate` must start fast and without Spark
    from medallion.delta.query import format_rows, table_inventory
    from medallion.runtime.session import get_spark

    bundle, target = _bundle_and_target(args)
    spark = get_spark(bundle, target)
    print(format_rows(table_inventory(spark), "table", limit=10_000))
    return 0


def _context(args):
    # imported here, not above: `medallion validate` must start fast and without Spark
    from medallion.runtime.session import get_spark

    bundle, target = _bundle_and_target(args)
    return get_spark(bundle, target), resolve_context({"target": target}, bundle.root)


def _operations_context(args):
    bundle, target = _bundle_and_target(args)
    spark, ctx = _context(args)
    return spark, ctx, bundle, target


def _requeue(args) -> int:
    # imported here, not above: `medallion validate` must start fast and without Spark
    from medallion.layers.requeue import requeue

    spark, ctx = _context(args)
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

    spark, ctx = _context(args)
    print(dq_report(spark, ctx, run_id=args.run, top=args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
