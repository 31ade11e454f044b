"""Spec commands: `medallion validate` (every spec file, no Spark) and `medallion specs diff`."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from medallion.cli.common import project_root
from medallion.specs import load_specs
from medallion.specs.diff import diff_specs
from medallion.specs.git_files import specs_at
from medallion.specs.model import Specs

__all__ = ["add_spec_commands"]


def add_spec_commands(sub) -> None:
    """`validate` and `specs diff`."""
    p = sub.add_parser("validate", help="check every spec file; no Spark needed")
    p.add_argument("--specs", help="specs folder (default: <project>/specs)")
    p.set_defaults(handler=_validate)

    p = sub.add_parser("specs", help="spec commands")
    spec_commands = p.add_subparsers(dest="specs_command", required=True, metavar="SPECS_COMMAND")
    p = spec_commands.add_parser(
        "diff", help="additive and breaking changes since a git ref; exit 1 on an unacknowledged breaking one"
    )
    p.add_argument("--base", required=True, help="the git ref to compare with, e.g. origin/main")
    p.set_defaults(handler=_specs_diff)


def _validate(args) -> int:
    specs_dir = Path(args.specs) if args.specs else project_root(args) / "specs"
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


def _specs_diff(args) -> int:
    root = project_root(args)
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
