"""The data-quality rules every silver table gets without a spec row, named after what failed.

- `<column>_is_null`: keys, sequence columns and columns declared `nullable=false` are filled;
- `<column>_not_<type>`: a typed column converts from its bronze text (a value that does not turn
  into NULL silently);
- `malformed_record`: the bronze reader rescued no value of a declared column (`_rescued_data` is
  empty, or holds only fields the source does not declare: a new field in a feed kept by the
  `rescue` schema evolution policy is not an error; a value that did not fit its column is).

They are plain DQX metadata, so `medallion validate` checks spec'd rule names against them and the
silver build runs them with the spec'd rules in one DQX pass.
"""

from __future__ import annotations

import re

from medallion.names import RESCUED_DATA, SOURCE_ROW
from medallion.specs.model import BronzeSpec, QualityRule, SilverSpec

__all__ = ["BUILTIN_FILE", "builtin_rules"]

BUILTIN_FILE = "(built in)"  # what `QualityRule.file` says for these


def builtin_rules(table: SilverSpec, source: BronzeSpec | None) -> tuple[QualityRule, ...]:
    """The rules the framework adds to `table` (`source`: its bronze table, None when unknown)."""
    rules: list[QualityRule] = []
    required = [*table.keys, *table.sequence_by]
    required += [c.name for c in table.columns if not c.nullable and c.name not in required]
    for column in required:
        rules.append(_builtin(table, f"{column}_is_null", "is_not_null", {"column": column}))
    bronze = {c.name.lower() for c in source.columns} if source else set()
    for column in table.columns:
        if column.expression or column.data_type.lower() == "string" or column.name.lower() not in bronze:
            continue
        kind = re.split(r"[(<]", column.data_type.lower(), maxsplit=1)[0].strip()
        raw = f"`{SOURCE_ROW}`.`{column.name}`"
        expression = f"{raw} IS NULL OR trim(CAST({raw} AS STRING)) = '' OR `{column.name}` IS NOT NULL"
        arguments = {
            "expression": expression,
            "msg": f"{column.name} is not a valid {column.data_type} in the source row",
            "columns": [column.name],
        }
        rules.append(_builtin(table, f"{column.name}_not_{kind}", "sql_expression", arguments))
    if source is None:
        return tuple(rules)
    rescued = f"`{SOURCE_ROW}`.`{RESCUED_DATA}`"
    declared = ", ".join(f"'{c.name.lower()}'" for c in source.columns) or "''"
    # A JSON object of undeclared fields only passes; anything else rescued (a raw record that did not
    # parse, a declared field's value) fails: json_object_keys is NULL for text that is no object.
    only_new_fields = (
        f"coalesce(NOT arrays_overlap(transform(json_object_keys({rescued}), k -> lower(k)), "
        f"array({declared})), false)"
    )
    arguments = {
        "expression": f"{rescued} IS NULL OR {only_new_fields}",
        "msg": f"the source record is malformed or a value does not fit its column (see {SOURCE_ROW}.{RESCUED_DATA})",
    }
    rules.append(_builtin(table, "malformed_record", "sql_expression", arguments))
    return tuple(rules)


def _builtin(table: SilverSpec, name: str, function: str, arguments: dict) -> QualityRule:
    check = {
        "name": name,
        "criticality": "error",
        "check": {"function": function, "arguments": arguments},
        "user_metadata": {"builtin": "true"},
    }
    return QualityRule(table=table.table, name=name, check=check, file=BUILTIN_FILE)
