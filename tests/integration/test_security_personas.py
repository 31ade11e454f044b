"""`medallion sql --as`: each persona sees on the local lakehouse what the demo's security specs give it
on Databricks, checked against the plain tables and an independent Python model of each mask."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import replace
from datetime import date

import pytest

from medallion.errors import MedallionError
from medallion.names import SECURITY_PROPERTY
from medallion.security.persona import PersonaError, lakehouse_tables, persona_query
from medallion.security.protect import TableGuard
from medallion.security.statements import SecurableNames, quote_name
from medallion.specs import load_specs

pytestmark = pytest.mark.spark

EU = {"DE", "FR", "NL", "ES", "IT", "BE"}  # specs/security/row_filters.csv


def _model(kind: str, argument: str, raw):
    """What a non-exempt persona must see, written apart from the generated SQL."""
    if raw is None:
        return None
    return {
        "redact": lambda: argument or "***",
        "hash": lambda: hashlib.sha256(str(raw).encode()).hexdigest(),
        "partial": lambda: "*" * max(len(raw) - int(argument), 0) + raw[-int(argument) :],
        "email_domain": lambda: "***" + raw[raw.index("@") :] if "@" in raw else "***" + raw,
        "year_only": lambda: date(raw.year, 1, 1),
        "null": lambda: None,
    }[kind]()


@pytest.fixture(scope="module")
def lakehouse(spark_session, demo_job):
    spec = load_specs(demo_job.project / "specs").of("security")[0]
    schemas = demo_job.schemas
    tables = lakehouse_tables(spark_session, "spark_catalog", schemas)

    def query(sql: str, *groups: str):
        return persona_query(spark_session, sql, groups, spec, "spark_catalog", schemas, tables)

    return spec, schemas, tables, query


def test_masked_columns_show_no_raw_value_to_others_and_every_raw_value_to_the_exempt(spark, lakehouse):
    spec, schemas, tables, query = lakehouse
    silver = schemas["silver"]
    checked = []
    for name in ("dim_customer", "dim_customer_changes", "dim_customer_quarantine"):
        if name not in tables["silver"]:
            continue
        masks = [
            m
            for m in spec.masks_of("silver.dim_customer")
            if m.column in spark.table(f"{silver}.{name}").columns
        ]
        plain = spark.table(f"{silver}.{name}").collect()
        # pii_readers hold SELECT on dim_customer only; on side tables, exempt engineers read them.
        exempt_groups = ("pii_readers",) if name == "dim_customer" else ("data_engineers", "pii_readers")
        exempt = query(f"SELECT * FROM spark_catalog.{silver}.{name}", *exempt_groups).collect()
        others = query(f"SELECT * FROM `{silver}`.`{name}`", "data_engineers").collect()
        for mask in masks:
            raw = Counter(r[mask.column] for r in plain)
            assert Counter(r[mask.column] for r in exempt) == raw, f"{name}.{mask.column}: exempt sees masked"
            expected = Counter(_model(mask.kind, mask.argument, r[mask.column]) for r in plain)
            assert Counter(r[mask.column] for r in others) == expected, f"{name}.{mask.column}"
        if "_source_row" in spark.table(f"{silver}.{name}").columns:
            assert all(r["_source_row"] is None for r in others), "the raw bronze row leaks masked values"
        checked.append((name, len(plain), len(masks)))
    assert checked[0][0] == "dim_customer" and checked[0][1] > 0 and checked[0][2] == 5, checked
    assert len(checked) >= 2, checked  # a side table (the change log) is protected too


def test_row_filter_personas_get_exactly_the_rows_their_predicates_allow(spark, lakehouse):
    _, schemas, _, query = lakehouse
    table = f"{schemas['silver']}.dim_customer"
    plain = spark.table(table).collect()
    eu = query(f"SELECT customer_id, effective_from FROM {table}", "eu_analysts").collect()
    expected = Counter((r.customer_id, r.effective_from) for r in plain if r.country in EU)
    assert Counter((r.customer_id, r.effective_from) for r in eu) == expected
    assert 0 < len(eu) < len(plain)
    everyone = query(f"SELECT count(*) AS n FROM {table}", "data_engineers").first().n
    assert everyone == len(plain)
    # Orders have no country: their filter looks the customer up (`${silver}.dim_customer`).
    orders = f"{schemas['silver']}.fact_order"
    eu_customers = {r.customer_id for r in plain if r.is_current and r.country in EU}
    all_orders = spark.table(orders).select("order_id", "customer_id").collect()
    seen = query(f"SELECT order_id FROM {orders}", "eu_analysts").collect()
    assert Counter(r.order_id for r in seen) == Counter(
        r.order_id for r in all_orders if r.customer_id in eu_customers
    )
    assert 0 < len(seen) < len(all_orders)
    assert query(f"SELECT count(*) AS n FROM {orders}", "data_engineers").first().n == len(all_orders)
    # A group granted SELECT that the filter does not list sees no row at all (fail closed).
    spec, _, tables, _ = lakehouse
    auditors = [replace(g, principal="auditors") for g in spec.grants if g.principal == "pii_readers"]
    widened = replace(spec, grants=(*spec.grants, *auditors))
    rows = persona_query(
        spark, f"SELECT * FROM {table}", ("auditors",), widened, "spark_catalog", schemas, tables
    )
    assert rows.count() == 0


def test_a_persona_without_select_is_refused_by_name(lakehouse):
    _, schemas, _, query = lakehouse
    with pytest.raises(
        PersonaError,
        match=r"permission denied for analysts: missing silver\.dim_customer: .*SELECT on silver\.dim_customer",
    ):
        query(f"SELECT * FROM {schemas['silver']}.dim_customer", "analysts")
    with pytest.raises(PersonaError, match=r"SELECT on silver\.dim_customer_changes"):
        query(f"SELECT * FROM {schemas['silver']}.dim_customer_changes", "pii_readers")
    with pytest.raises(PersonaError, match=r"no table demo_job_silver\.nothing_here on the local lakehouse"):
        query(f"SELECT * FROM {schemas['silver']}.nothing_here", "data_engineers")
    assert issubclass(PersonaError, MedallionError)  # the CLI prints it as a message, not a traceback
    gold = query(f"SELECT count(*) AS n FROM {schemas['gold']}.daily_sales", "analysts").first().n
    assert gold > 0


def test_every_protected_table_was_protected_while_it_was_empty(spark, lakehouse):
    """No window of exposure: the job protected each table the specs name (side tables and gold
    included) in the commit right after its creation, before any row."""
    spec, schemas, tables, _ = lakehouse
    guard = TableGuard(spark, spec, SecurableNames("spark_catalog", schemas), unity_catalog=False)
    checked = []
    for layer, names in tables.items():
        for name in names:
            full = quote_name("spark_catalog", schemas[layer], name)
            if not guard.protects(full):
                continue
            history = spark.sql(f"DESCRIBE HISTORY {full}").orderBy("version").collect()
            protected = [
                h.version
                for h in history
                if h.operation == "SET TBLPROPERTIES"
                and SECURITY_PROPERTY in (h.operationParameters or {}).get("properties", "")
            ]
            assert protected, f"{layer}.{name} was never protected"
            assert spark.read.option("versionAsOf", protected[0]).table(full).count() == 0, f"{layer}.{name}"
            assert protected[0] == history[0].version + 1, f"{layer}.{name}: protected late"
            assert spark.table(full).count() > 0
            checked.append(f"{layer}.{name}")
    assert {"silver.dim_customer", "silver.fact_order", "gold.daily_sales"} <= set(checked), checked
    assert any(name.endswith(("_changes", "_quarantine")) for name in checked), checked
