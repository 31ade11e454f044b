"""The table guard (no window of exposure), with a recording stand-in for Spark: a new table's masks,
filter and tags run before the fingerprint is stored; an existing table is caught up only when its
stored fingerprint differs; locally nothing runs but the fingerprint is recorded."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from medallion.names import SECURITY_PROPERTY
from medallion.security.protect import TableGuard
from medallion.security.statements import SecurableNames
from medallion.specs import load_specs

NAMES = SecurableNames("main", {"bronze": "b", "silver": "s", "gold": "g"})
DIM = "`main`.`s`.`dim_customer`"
QUARANTINE = "`main`.`s`.`dim_customer_quarantine`"


class FakeSpark:
    """Tables with columns and properties; records the statements it is asked to run."""

    def __init__(self, tables: dict[str, dict[str, str]]):
        self.tables = tables
        self.properties: dict[str, dict[str, str]] = {name: {} for name in tables}
        self.executed: list[str] = []
        self.catalog = SimpleNamespace(
            tableExists=lambda name: f"`{name.replace('.', '`.`')}`" in self.tables
        )

    def table(self, name: str):
        fields = [
            SimpleNamespace(name=c, dataType=SimpleNamespace(simpleString=lambda t=t: t))
            for c, t in self.tables[name].items()
        ]
        return SimpleNamespace(schema=SimpleNamespace(fields=fields))

    def sql(self, text: str):
        rows = []
        if text.startswith("SHOW TBLPROPERTIES"):
            name = text.split(" ", 2)[2]
            rows = [{"key": k, "value": v} for k, v in self.properties[name].items()]
        else:
            self.executed.append(text)
            found = re.fullmatch(r"ALTER TABLE (\S+) SET TBLPROPERTIES \('([^']+)' = '([^']+)'\)", text)
            if found:
                self.properties[found.group(1)][found.group(2)] = found.group(3)
        return SimpleNamespace(collect=lambda: rows)


@pytest.fixture
def spec(project_root: Path):
    return load_specs(project_root / "specs").of("security")[0]


def _dim_columns() -> dict[str, str]:
    columns = {"customer_id": "string", "first_name": "string", "last_name": "string", "email": "string"}
    return columns | {"country": "string", "city": "string", "segment": "string", "signup_date": "date"}


def test_a_new_table_is_protected_before_its_fingerprint_is_stored(spec):
    spark = FakeSpark({DIM: _dim_columns()})
    guard = TableGuard(spark, spec, NAMES, unity_catalog=True)
    ran = guard(DIM, created=True)
    assert spark.executed[:-1] == ran and ran
    assert spark.executed[-1].startswith(f"ALTER TABLE {DIM} SET TBLPROPERTIES ('{SECURITY_PROPERTY}'")
    masked = {m.column for m in spec.masks_of("silver.dim_customer")}
    set_masks = {re.search(r"ALTER COLUMN `(\w+)` SET MASK", s).group(1) for s in ran if "SET MASK" in s}
    assert set_masks == masked
    assert any(s.startswith(f"ALTER TABLE {DIM} SET ROW FILTER") for s in ran)
    assert any("SET TAGS ('class' = 'pii')" in s for s in ran)
    first_alter = next(i for i, s in enumerate(ran) if s.startswith("ALTER"))
    assert all(s.startswith("CREATE OR REPLACE FUNCTION") for s in ran[:first_alter])  # functions first
    assert not any(s.startswith("GRANT") for s in ran)  # grants are the security task's

    # The next run finds the fingerprint: nothing runs. A changed spec (or a lost property) catches up.
    spark.executed.clear()
    assert guard(DIM, created=False) == [] and spark.executed == []
    spark.properties[DIM][SECURITY_PROPERTY] = "stale"
    assert guard(DIM, created=False) == ran


def test_side_tables_and_other_tables(spec):
    quarantine = {
        "customer_id": "string",
        "email": "string",
        "signup_date": "string",
        "_source_row": "string",
    }
    spark = FakeSpark({DIM: _dim_columns(), QUARANTINE: quarantine, "`main`.`s`.`other`": {"a": "string"}})
    guard = TableGuard(spark, spec, NAMES, unity_catalog=True)
    assert not guard.protects("`main`.`s`.`other`") and guard("`main`.`s`.`other`", created=True) == []
    ran = guard(QUARANTINE, created=True)
    assert {re.search(r"ALTER COLUMN `(\w+)` SET MASK", s).group(1) for s in ran if "SET MASK" in s} == {
        "email",
        "signup_date",
        "_source_row",
    }
    # A side table not written yet is left for its creation.
    assert guard("`main`.`s`.`dim_customer_dq_warnings`", created=False) == []


def test_locally_nothing_runs_but_a_new_table_records_its_fingerprint(spec):
    spark = FakeSpark({DIM: _dim_columns()})
    guard = TableGuard(spark, spec, NAMES, unity_catalog=False)
    would = guard(DIM, created=True)
    assert would and spark.executed == [spark.executed[-1]]
    assert SECURITY_PROPERTY in spark.properties[DIM]
    spark.properties[DIM].clear()
    assert guard(DIM, created=False) == []  # an existing local table has nothing to catch up on
