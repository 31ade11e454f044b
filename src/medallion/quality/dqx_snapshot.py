"""The installed DQX's check functions and parameters, as the JSON `medallion.specs.dqx_checks` reads.

Each parameter keeps the JSON value kinds its annotation accepts (a check's arguments come from YAML
or JSON): `string` for text, columns, dates and schemas; `integer`/`number`/`boolean`; `list`;
`object`; `null` when it is optional; `any` when the annotation says nothing usable.
"""

from __future__ import annotations

import datetime
import decimal
import inspect
import json
import types
import typing

from databricks.labs.dqx import check_funcs
from databricks.labs.dqx.__version__ import __version__ as dqx_version
from databricks.labs.dqx.geo import check_funcs as geo_check_funcs
from databricks.labs.dqx.rule import CHECK_FUNC_REGISTRY
from pyspark.sql import Column
from pyspark.sql.types import StructType

__all__ = ["snapshot", "snapshot_text"]

_STRING_LIKE = (str, bytes, Column, StructType, datetime.date, datetime.datetime)


def snapshot() -> dict:
    functions = {}
    for name in sorted(CHECK_FUNC_REGISTRY):
        function = getattr(check_funcs, name, None) or getattr(geo_check_funcs, name, None)
        if function is None:  # optional modules (anomaly, PII) need extras this project does not install
            continue
        params, var_keyword = [], False
        for p in inspect.signature(function).parameters.values():
            if p.kind is p.VAR_KEYWORD:
                var_keyword = True
                continue
            if p.kind is p.VAR_POSITIONAL:
                continue
            params.append(
                {"name": p.name, "required": p.default is p.empty, "kinds": sorted(_kinds(p.annotation))}
            )
        functions[name] = {"type": CHECK_FUNC_REGISTRY[name], "params": params, "var_keyword": var_keyword}
    return {"dqx_version": dqx_version, "functions": functions}


def snapshot_text() -> str:
    """One function per line, so an upgrade's diff shows which functions changed."""
    data = snapshot()
    items = sorted(data["functions"].items())
    lines = [f"  {json.dumps(name)}: {json.dumps(body, sort_keys=True)}" for name, body in items]
    head = f'{{\n "dqx_version": {json.dumps(data["dqx_version"])},\n "functions": {{\n'
    return head + ",\n".join(lines) + "\n }\n}\n"


def _kinds(annotation) -> set[str]:
    if annotation is inspect.Parameter.empty or annotation is typing.Any:
        return {"any"}
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return set().union(*(_kinds(arg) for arg in typing.get_args(annotation)))
    if annotation is type(None):
        return {"null"}
    if annotation in (list, tuple) or origin in (list, tuple):
        return {"list"}
    if annotation is dict or origin is dict:
        return {"object"}
    if annotation is bool:
        return {"boolean"}
    if annotation is int:
        return {"integer"}
    if annotation in (float, decimal.Decimal):
        return {"number"}
    if isinstance(annotation, type) and issubclass(annotation, _STRING_LIKE):
        return {"string"}
    return {"any"}
