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

from medallion.cli.lakehouse import add_lakehouse_commands
from medallion.cli.operations import add_operations_commands
from medallion.cli.specs import add_spec_commands
from medallion.cli.workspace import add_workspace_commands
from medallion.errors import MedallionError, SpecError
from medallion.logs import configure as configure_logs

__all__ = ["main"]


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
    # PySpark logs each SQL error it raises, with the JVM's whole stack, before the command reports
    # it in one line (or handles it): the command's words are the ones a user should see. (Above
    # ERROR nothing reaches the logger's handlers, whatever class the logger was created with.)
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
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
    add_spec_commands(sub)
    add_lakehouse_commands(sub)
    add_operations_commands(sub)
    add_workspace_commands(sub)
    return parser
