"""Spec kind "data_quality": the rules and alert thresholds in `specs/data_quality/`.

- `dq_rules.csv`: one DQX check per row (table, rule, check function, column, plain `allowed` /
  `min` / `max` values, JSON arguments, criticality, on_error, filter, for_each_column).
- `<table>.yml` / `<table>.yaml`: DQX's own YAML check list for one silver table, for checks a
  CSV row cannot express well. Each item keeps its line number for error messages.
- `dq_alerting.csv`: thresholds on a run's rule metrics, and whether a breach fails or notifies.

Rows become `QualityRule` / `QualityAlert`; `data_quality_checks` checks them against the tables,
turns the plain values into DQX arguments and runs DQX's own check validation.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import yaml

from medallion.errors import SpecProblem
from medallion.specs.cells import IDENTIFIER, IDENTIFIER_FIX, choice, name_list, number
from medallion.specs.csv_rows import Row
from medallion.specs.kinds.data_quality_checks import check_quality
from medallion.specs.model import QualityAlert, QualityRule
from medallion.specs.registry import Draft, SpecFile, SpecKind
from medallion.specs.sql_text import expression_problems

__all__ = [
    "ACTIONS",
    "ALERTS_FILE",
    "CRITICALITIES",
    "DATA_QUALITY",
    "ON_ERROR",
    "QUALITY_FOLDER",
    "RULES_FILE",
]

log = logging.getLogger(__name__)

QUALITY_FOLDER = "data_quality"
RULES_FILE = f"{QUALITY_FOLDER}/dq_rules.csv"
ALERTS_FILE = f"{QUALITY_FOLDER}/dq_alerting.csv"
CRITICALITIES = ("error", "warn")  # DQX's words: error keeps the row out, warn lets it pass
ON_ERROR = ("quarantine", "fail")  # what an `error` rule does with failing rows
ACTIONS = ("fail", "notify")  # what a breached alert threshold does
PLAIN_VALUE_HEADERS = ("allowed", "min", "max")  # spreadsheet values, turned into DQX arguments

RULE_HEADERS = (
    "column",
    *PLAIN_VALUE_HEADERS,
    "arguments",
    "criticality",
    "on_error",
    "filter",
    "for_each_column",
    "description",
)


def _parse_rule(row: Row, draft: Draft) -> None:
    criticality = choice(
        row,
        "criticality",
        CRITICALITIES,
        draft,
        default="error",
        fix="use error (the row is kept out of silver) or warn (the row passes with a warning)",
    )
    on_error = choice(row, "on_error", ON_ERROR, draft, default="quarantine", fix="use quarantine or fail")
    if on_error in ON_ERROR and row.get("on_error") and criticality == "warn":
        draft.problems.append(
            row.problem(
                "on_error",
                "on_error applies to criticality error only (a warning never stops a row)",
                "clear on_error, or set criticality to error",
            )
        )
    arguments = _arguments(row, draft)
    if row.get("column") and row.get("for_each_column"):
        draft.problems.append(
            row.problem(
                "for_each_column",
                "a rule takes column or for_each_column, not both",
                "clear one of the two cells",
            )
        )
    check: dict = {"function": row.get("check"), "arguments": arguments}
    if row.get("column"):
        if "column" in arguments or "columns" in arguments:
            draft.problems.append(
                row.problem(
                    "arguments", "the column is given twice", "remove it from arguments or from column"
                )
            )
        columns = name_list(row, "column", draft)
        arguments["column"] = list(columns) if len(columns) > 1 else row.get("column")
    if row.get("for_each_column"):
        check["for_each_column"] = list(name_list(row, "for_each_column", draft))
    known = criticality if criticality in CRITICALITIES else "error"  # reported above
    metadata: dict = {"name": row.get("rule"), "criticality": known, "check": check}
    if row.get("filter"):
        metadata["filter"] = row.get("filter")
        for message, fix in expression_problems(row.get("filter")):
            draft.problems.append(row.problem("filter", message, fix))
    draft.add(
        "rules",
        QualityRule(
            table=row.get("table"),
            name=row.get("rule"),
            check=metadata,
            on_error=on_error if known == "error" and on_error in ON_ERROR else "quarantine",
            file=row.file,
            row=row.number,
            plain_values={h: row.get(h) for h in PLAIN_VALUE_HEADERS if row.get(h)},
        ),
    )


def _arguments(row: Row, draft: Draft) -> dict:
    text = row.get("arguments")
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        draft.problems.append(
            row.problem(
                "arguments",
                f"not valid JSON ({exc.msg} at character {exc.pos + 1})",
                'write a JSON object, e.g. {"min_limit": 1, "max_limit": 100}',
            )
        )
        return {}
    if not isinstance(value, dict):
        draft.problems.append(
            row.problem(
                "arguments",
                f"expected a JSON object, found {type(value).__name__}",
                'write a JSON object, e.g. {"allowed": ["a", "b"]}',
            )
        )
        return {}
    return value


def _parse_alert(row: Row, draft: Draft) -> None:
    table = row.get("table")
    if table != "*" and not IDENTIFIER.match(table):
        draft.problems.append(
            row.problem("table", f"{table!r} is not a valid name", f"{IDENTIFIER_FIX}, or *")
        )
    rule = row.get("rule") or "*"
    if rule != "*" and not IDENTIFIER.match(rule):
        draft.problems.append(row.problem("rule", f"{rule!r} is not a valid name", f"{IDENTIFIER_FIX}, or *"))
    rate = number(row, "min_pass_rate", draft, low=0.0, high=1.0)
    failed = number(row, "max_failed_rows", draft, low=0, integer=True)
    if rate is None and failed is None and not row.get("min_pass_rate") and not row.get("max_failed_rows"):
        draft.problems.append(
            row.problem(
                "min_pass_rate",
                "the alert has no threshold",
                "fill min_pass_rate (e.g. 0.99) or max_failed_rows (e.g. 0)",
            )
        )
    action = choice(row, "action", ACTIONS, draft, default="fail", fix=f"use one of: {', '.join(ACTIONS)}")
    draft.add(
        "alerts",
        QualityAlert(
            table=table,
            rule=rule,
            min_pass_rate=rate,
            max_failed_rows=int(failed) if failed is not None else None,
            action=action,
            description=row.get("description"),
            file=row.file,
            row=row.number,
        ),
    )


def read_check_files(draft: Draft) -> None:
    """DQX YAML check files, `data_quality/<table>.yml`: every item becomes a rule of `<table>`."""
    folder = draft.specs_dir / QUALITY_FOLDER
    if not folder.is_dir():
        return
    for path in sorted(p for p in folder.iterdir() if p.suffix in (".yml", ".yaml")):
        display = draft.display(f"{QUALITY_FOLDER}/{path.name}")
        for line, item, problem in _yaml_items(path, display):
            if problem:
                draft.problems.append(problem)
                continue
            metadata = item.get("user_metadata") or {}
            on_error = (
                str(metadata.get("on_error", "quarantine")).lower() if isinstance(metadata, dict) else ""
            )
            if on_error not in ON_ERROR:
                draft.problems.append(
                    SpecProblem(
                        display,
                        line,
                        "user_metadata",
                        f"unknown on_error {on_error!r}",
                        "use quarantine or fail",
                    )
                )
            name = str(item.get("name") or "")
            draft.add(
                "rules",
                QualityRule(
                    table=path.stem, name=name, check=item, on_error=on_error, file=display, row=line
                ),
            )


def _yaml_items(path: Path, display: str) -> list[tuple[int, dict, SpecProblem | None]]:
    """(line, check dict, problem) per list item; a problem alone when the file is unusable."""
    try:
        text = path.read_text(encoding="utf-8-sig")
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except UnicodeDecodeError:
        return [(0, {}, SpecProblem(display, 0, "", "not UTF-8 text", "save the file as UTF-8"))]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        return [
            (
                line,
                {},
                SpecProblem(
                    display,
                    line,
                    "",
                    f"not valid YAML: {getattr(exc, 'problem', exc)}",
                    "fix the YAML syntax",
                ),
            )
        ]
    if data is None:
        return []
    if not isinstance(data, list) or root is None:
        return [
            (
                1,
                {},
                SpecProblem(
                    display,
                    1,
                    "",
                    "expected a list of DQX checks",
                    "start each check with '- criticality: ...'",
                ),
            )
        ]
    items = []
    for node, item in zip(root.value, data, strict=True):
        line = node.start_mark.line + 1
        if isinstance(item, dict):
            items.append((line, item, None))
        else:
            items.append(
                (
                    line,
                    {},
                    SpecProblem(display, line, "", "a check must be a mapping", "see the DQX check format"),
                )
            )
    return items


DATA_QUALITY = SpecKind(
    name="data_quality",
    description="DQX rules per silver table (CSV rows or DQX YAML) and alert thresholds",
    files=(
        SpecFile(
            RULES_FILE,
            required=("table", "rule", "check"),
            optional=RULE_HEADERS,
            unique=("table", "rule"),
            identifiers=("table", "rule"),
            parse=_parse_rule,
            produces="rules",
            may_be_missing=True,
        ),
        SpecFile(
            ALERTS_FILE,
            required=("table",),
            optional=("rule", "min_pass_rate", "max_failed_rows", "action", "description"),
            unique=(),
            identifiers=(),
            parse=_parse_alert,
            produces="alerts",
            may_be_missing=True,
        ),
    ),
    read=read_check_files,
    check=check_quality,
    after=("tables", "history"),
)
