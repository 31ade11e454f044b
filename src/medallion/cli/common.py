"""What the command modules share: the target option, the project, the bundle, the Spark session."""

from __future__ import annotations

import argparse
from pathlib import Path

from medallion.bundle import load_bundle
from medallion.errors import ParameterError
from medallion.params import find_project_root, resolve_context
from medallion.specs import Specs

__all__ = [
    "bundle_and_target",
    "operations_context",
    "project_root",
    "spark_and_context",
    "spec_table",
    "target_option",
]


def target_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("-t", "--target", default=None, help="bundle target (default: the bundle's default)")


def project_root(args) -> Path:
    return find_project_root(args.project_dir)


def bundle_and_target(args):
    bundle = load_bundle(project_root(args))
    return bundle, args.target or bundle.default_target


def spark_and_context(args):
    """The target's Spark session and where its run reads and writes."""
    # imported here, not above: `medallion validate` must start fast and without Spark
    from medallion.runtime.session import get_spark

    bundle, target = bundle_and_target(args)
    return get_spark(bundle, target), resolve_context({"target": target}, bundle.root)


def operations_context(args):
    """(spark, RunContext, BundleConfig, target) for the operations commands."""
    bundle, target = bundle_and_target(args)
    spark, ctx = spark_and_context(args)
    return spark, ctx, bundle, target


def spec_table(specs: Specs, text: str) -> tuple[str, str]:
    """(layer, table) of a table the specs define, from `table` or `layer.table`."""
    wanted = text.lower()
    found = [
        (layer, t.table)
        for layer in ("bronze", "silver", "gold")
        for t in getattr(specs, layer)
        if wanted in (t.table.lower(), f"{layer}.{t.table.lower()}")
    ]
    if len(found) != 1:
        what = "is in several layers: write layer.table" if found else "is not a table of the specs"
        raise ParameterError(f"{text!r} {what}")
    return found[0]
