"""Parsers for the data-quality specs in `specs/data_quality/`.

- `dq_rules.csv`: one DQX check per row (table, rule, check function, column, JSON arguments,
  criticality, on_error, filter, for_each_column).
- `<table>.yml` / `<table>.yaml`: DQX's own YAML check list for one silver table, for checks a
  CSV row cannot express well. Each item keeps its line number for error messages.
- `dq_alerting.csv`: thresholds on a run's rule metrics, and whether a breach fails or notifies.

Rows become `QualityRule` / `QualityAlert`; `validate_quality` checks them against the tables and
runs DQX's own check validation.
"""

from __future__ import annotations

import json
import logging

from medallion.errors import SpecProblem
from medallion.specs.csv_rows import Row
from medallion.specs.draft import (
    ALERTS_FILE,
    IDENTIFIER,
    IDENTIFIER_FIX,
    QUALITY_FOLDER,
    RULES_FILE,
    Draft,
    SpecFile,
    name_list,
)
from medallion.specs.model import (
    QUALITY_ACTIONS,
    QUALITY_CRITICALITIES,
    QUALITY_ON_ERROR,
    QualityAlert,
    QualityRule,
)
from medallion.specs.sql_text import expression_problems

__all__ = ["QUALITY_FILES", "parse_check_files"]

log = logging.getLogger(__name__)

RULE_HEADERS = (
    "column",
    "arguments",
    "criticality",
    "on_error",
    "filter",
    "for_each_column",
    "description",
)


def _parse_rule(row: Row, draft: Draft) -> None:
    criticality = (row.get("criticality") or "error").lower()
    if criticality not in QUALITY_CRITICALITIES:
        draft.problems.append(
            row.problem(
                "criticality",
                f"unknown criticality {row.get('criticality')!r}",
                "use error (the row is kept out of silver) or warn (the row passes with a warning)",
            )
        )
    on_error = (row.get("on_error") or "quarantine").lower()
    if on_error not in QUALITY_ON_ERROR:
        draft.problems.append(
            row.problem("on_error", f"unknown on_error {row.get('on_error')!r}", "use quarantine or fail")
        )
    elif row.get("on_error") and criticality == "warn":
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
    known = criticality if criticality in QUALITY_CRITICALITIES else "error"  # reported above
    metadata: dict = {"name": row.get("rule"), "criticality": known, "check": check}
    if row.get("filter"):
        metadata["filter"] = row.get("filter")
        for message, fix in expression_problems(row.get("filter")):
            draft.problems.append(row.problem("filter", message, fix))
    draft.rules.append(
        QualityRule(
            table=row.get("table"),
            name=row.get("rule"),
            check=metadata,
            on_error=on_error if known == "error" and on_error in QUALITY_ON_ERROR else "quarantine",
            file=row.file,
            row=row.number,
        )
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
    rate = _number(row, "min_pass_rate", draft, low=0.0, high=1.0)
    failed = _number(row, "max_failed_rows", draft, low=0, integer=True)
    if rate is None and failed is None and not row.get("min_pass_rate") and not row.get("max_failed_rows"):
        draft.problems.append(
            row.problem(
                "min_pass_rate",
                "the alert has no threshold",
                "fill min_pass_rate (e.g. 0.99) or max_failed_rows (e.g. 0)",
            )
        )
    action = (row.get("action") or "fail").lower()
    if action not in QUALITY_ACTIONS:
        draft.problems.append(
            row.problem(
                "action", f"unknown action {row.get('action')!r}", f"use one of: {', '.join(QUALITY_ACTIONS)}"
            )
        )
    draft.alerts.append(
        QualityAlert(
            table=table,
            rule=rule,
            min_pass_rate=rate,
            max_failed_rows=int(failed) if failed is not None else None,
            action=action,
            description=row.get("description"),
            row=row.number,
        )
    )


def _number(
    row: Row, column: str, draft: Draft, *, low: float, high: float | None = None, integer: bool = False
) -> float | None:
    text = row.get(column).strip()
    if not text:
        return None
    percent = text.endswith("%")
    try:
        value = float(text.rstrip("%")) / (100 if percent else 1)
    except ValueError:
        value = None
    bad = (
        value is None
        or value < low
        or (high is not None and value > high)
        or (integer and (percent or value != int(value)))
    )
    if bad:
        span = f"between {low} and {high}" if high is not None else f"{low} or more"
        kind = "a whole number" if integer else "a number"
        draft.problems.append(
            row.problem(
                column, f"{text!r} is not {kind} {span}", "e.g. 0.99 or 99%" if not integer else "e.g. 0"
            )
        )
        return None
    return value


def parse_check_files(draft: Draft) -> None:
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
            if on_error not in QUALITY_ON_ERROR:
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
            draft.rules.append(
                QualityRule(table=path.stem, name=name, check=item, on_error=on_error, file=display, row=line)
            )


def _yaml_items(path, display: str) -> list[tuple[int, dict, SpecProblem | None]]:
    """(line, check dict, problem) per list item; a problem alone when the file is unusable."""
    import yaml

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


QUALITY_FILES: tuple[SpecFile, ...] = (
    SpecFile(
        RULES_FILE,
        required=("table", "rule", "check"),
        optional=RULE_HEADERS,
        unique=("table", "rule"),
        identifiers=("table", "rule"),
        parse=_parse_rule,
        may_be_missing=True,
    ),
    SpecFile(
        ALERTS_FILE,
        required=("table",),
        optional=("rule", "min_pass_rate", "max_failed_rows", "action", "description"),
        unique=(),
        identifiers=(),
        parse=_parse_alert,
        may_be_missing=True,
    ),
)
