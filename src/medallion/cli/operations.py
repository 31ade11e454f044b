"""The CLI's operations commands: `medallion rollback --run <id>`, `medallion backup [--restore]` and
`medallion lineage <table>` (docs/operations.md). Registered by `medallion.cli`; the notebooks
60_rollback and 61_backup run the same functions from the workspace."""

from __future__ import annotations

from medallion.cli.common import operations_context, spec_table, target_option
from medallion.params import bundle_value
from medallion.specs import load_specs

__all__ = ["add_operations_commands"]


def add_operations_commands(sub) -> None:
    """`rollback`, `backup`, `lineage`."""
    p = sub.add_parser(
        "rollback",
        help="restore every table a run wrote to its version before the run, streams included",
    )
    p.add_argument(
        "--run", required=True, metavar="RUN_ID", help="the job run id (`medallion history` shows them)"
    )
    p.add_argument("--dry-run", action="store_true", help="only list the tables and versions")
    target_option(p)
    p.set_defaults(handler=_rollback)

    p = sub.add_parser("backup", help="copy the silver and gold tables to the target's backup schema")
    p.add_argument("--restore", action="store_true", help="write the backup back into the tables")
    p.add_argument(
        "--version", type=int, default=None, help="with --restore: that version of each backup table"
    )
    target_option(p)
    p.set_defaults(handler=_backup)

    p = sub.add_parser(
        "lineage", help="where a table version came from: its upstream versions down to the landing files"
    )
    p.add_argument("table", help="a table of the specs: name or layer.name")
    p.add_argument("--version", type=int, default=None, help="that Delta version (default: the newest)")
    p.add_argument("--files", action="store_true", help="list every landing file, not only their count")
    target_option(p)
    p.set_defaults(handler=_lineage)


def _lineage(args) -> int:
    # imported here, not above: `medallion validate` must start fast and without Spark
    from medallion.delta.lineage import trace

    spark, ctx, _, _ = operations_context(args)
    layer, table = spec_table(load_specs(ctx.specs_dir), args.table)
    found = trace(spark, ctx, f"{layer}.{table}", args.version)
    if not found.tables:
        print(f"{layer}.{table}: no lineage recorded (not built yet, or built before lineage was kept)")
        return 1
    for name, version, upstream, up_version in found.edges:
        if up_version is not None:
            print(f"{name}@{version} <- {upstream}@{up_version}")
    by_table: dict[str, list[str]] = {}
    for name, _, upstream, up_version in found.edges:
        if up_version is None:
            by_table.setdefault(f"{name}@{found.tables[name]}", []).append(upstream)
    for name, files in sorted(by_table.items()):
        print(f"{name} <- {len(files)} landing file(s)")
        for file in sorted(files) if args.files else ():
            print(f"  {file}")
    return 0


def _rollback(args) -> int:
    # imported here, not above: `medallion validate` must start fast and without Spark
    from medallion.layers.rollback import rollback_run

    spark, ctx, _, _ = operations_context(args)
    steps = rollback_run(spark, ctx, load_specs(ctx.specs_dir), args.run, dry_run=args.dry_run)
    verb = "would restore" if args.dry_run else "restored"
    for step in steps:
        print(f"{verb} {step}")
    print(f"run {args.run}: {len(steps)} table(s) {verb}")
    return 0


def _backup(args) -> int:
    # imported here, not above: `medallion validate` must start fast and without Spark
    from medallion.layers.backup import backup_tables, restore_tables

    spark, ctx, bundle, target = operations_context(args)
    schema = bundle_value("backup_schema", target, bundle.root)
    specs = load_specs(ctx.specs_dir)
    if args.restore:
        copies = restore_tables(spark, ctx, specs, schema, version=args.version)
        print(f"{len(copies)} table(s) restored from {schema}; the next run continues from the backup")
    else:
        copies = backup_tables(spark, ctx, specs, schema)
        print(f"{len(copies)} table(s) copied to {schema}")
    for copy in copies:
        print(f"  {copy}")
    return 0
