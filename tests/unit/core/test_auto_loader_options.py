"""Each `schema_evolution` policy maps to Auto Loader's own mode on Databricks (no Spark needed)."""

from __future__ import annotations

import pytest

from medallion.layers.bronze import auto_loader_options
from medallion.specs.model import BronzeSpec, ColumnSpec


def _source(policy: str) -> BronzeSpec:
    columns = (
        ColumnSpec("bronze", "orders", "order_id", "string"),
        ColumnSpec("bronze", "orders", "qty", "int"),
    )
    return BronzeSpec(
        "orders", "json", "orders", {"multiLine": "false"}, columns=columns, schema_evolution=policy
    )


@pytest.mark.parametrize(
    ("policy", "mode"), [("rescue", "rescue"), ("add_columns", "addNewColumns"), ("fail", "failOnNewColumns")]
)
def test_each_policy_is_an_auto_loader_schema_evolution_mode(policy, mode):
    options = auto_loader_options(_source(policy), "/Volumes/c/s/v/_schema")
    assert options["cloudFiles.schemaEvolutionMode"] == mode
    assert options["rescuedDataColumn"] == "_rescued_data"
    assert options["cloudFiles.schemaLocation"] == "/Volumes/c/s/v/_schema"
    assert options["multiLine"] == "false"  # the spec's reader options pass through


def test_add_columns_gives_the_declared_columns_as_hints_not_a_fixed_schema():
    assert (
        auto_loader_options(_source("add_columns"), "x")["cloudFiles.schemaHints"]
        == "`order_id` string, `qty` int"
    )
    assert "cloudFiles.schemaHints" not in auto_loader_options(_source("rescue"), "x")
