"""Bundle YAML files checked against the JSON schema the pinned CLI prints (`databricks bundle schema`).

The schema allows every object to be either the object or a `${...}` reference string, so a problem
deep in a file surfaces as "not valid under any of the given schemas" at the top; the useful messages
are the leaves of the object branch, which is what `schema_problems` reports (path: message).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import jsonschema
import yaml


def schema_problems(schema: dict, path: Path) -> list[str]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    found = {
        f"{'.'.join(map(str, leaf.absolute_path)) or '<top>'}: {leaf.message[:200]}"
        for error in validator.iter_errors(document)
        for leaf in _leaves(error)
    }
    return sorted(found)


def _leaves(error: jsonschema.ValidationError) -> Iterator[jsonschema.ValidationError]:
    if not error.context:
        yield error
        return
    for sub in error.context:
        if sub.validator == "pattern" or (sub.validator == "type" and sub.validator_value == "string"):
            continue  # the `${...}` reference alternative: not what the author meant
        yield from _leaves(sub)
