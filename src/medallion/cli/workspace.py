"""Commands about a target's workspace side: dashboards, Unity Catalog security, and the checks
before and after `databricks bundle deploy`."""

from __future__ import annotations

import sys
from pathlib import Path

from medallion.cli.common import bundle_and_target, project_root, spark_and_context, target_option
from medallion.dashboards.build import stale_files, write_files
from medallion.errors import ParameterError
from medallion.security.reconcile import SecurityState, desired_state, plan
from medallion.security.statements import SecurableNames
from medallion.security.warehouse import WarehouseSql
from medallion.security.workspace import reconcile
from medallion.specs import load_specs

__all__ = ["add_workspace_commands"]


def add_workspace_commands(sub) -> None:
    """`dashboards build|preview`, `security plan`, `preflight`, `deploy-check`."""
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
    target_option(p)
    p.add_argument(
        "--out", help="where to write the page (default: .lakehouse/<target>/previews/<name>.html)"
    )
    p.set_defaults(handler=_dashboards_preview)

    p = sub.add_parser("security", help="Unity Catalog security from specs/security (docs/security.md)")
    security = p.add_subparsers(dest="security_command", required=True, metavar="SECURITY_COMMAND")
    p = security.add_parser(
        "plan", help="the statements the security task would run on a target (nothing is changed)"
    )
    target_option(p)
    p.add_argument(
        "--warehouse-id",
        help="read the target's information_schema through this SQL warehouse (default: plan for a "
        "workspace that has none of it yet, without calling it)",
    )
    p.set_defaults(handler=_security_plan)

    p = sub.add_parser(
        "preflight", help="what a target needs before `databricks bundle deploy` (no workspace call)"
    )
    target_option(p)
    p.set_defaults(handler=_preflight)

    p = sub.add_parser(
        "deploy-check", help="after a deploy: schemas, volumes, the job and its last run, on the workspace"
    )
    target_option(p)
    p.add_argument("--skip-run", action="store_true", help="do not require a successful last run")
    p.set_defaults(handler=_deploy_check)


def _dashboards_build(args) -> int:
    root = project_root(args)
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

    spark, ctx = spark_and_context(args)
    specs = {spec.name: spec for spec in load_specs(ctx.specs_dir).of("dashboards")}
    if args.name not in specs:
        raise ParameterError(f"no dashboard {args.name!r} (known: {', '.join(sorted(specs))})")
    out = Path(args.out) if args.out else Path(ctx.landing_root).parent / "previews" / f"{args.name}.html"
    path = write_preview(spark, specs[args.name], ctx, out)
    print(path)
    return 0


def _security_plan(args) -> int:
    bundle, target = bundle_and_target(args)
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


def _preflight(args) -> int:
    from medallion.bundle.deploy_check import preflight  # keeps the SDK out of other commands

    bundle, target = bundle_and_target(args)
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

    bundle, target = bundle_and_target(args)
    expected = deploy_check.expected_deployment(bundle, target)
    checks = deploy_check.run_deploy_check(
        deploy_check.workspace_client(bundle, target), expected, require_run=not args.skip_run
    )
    for check in checks:
        print(check.line())
    failed = [c for c in checks if not c.ok]
    print(f"deploy check of {target}: {len(checks) - len(failed)} ok, {len(failed)} failed")
    return 1 if failed else 0
