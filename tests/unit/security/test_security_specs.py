"""specs/security/*.csv: parsed into one SecuritySpec; every mistake named at file:row:column with a fix,
including the fail-closed rule (a column tagged as personal data must be masked)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from medallion.specs import check_specs, load_specs

PROJECT_SPECS = Path(__file__).resolve().parents[3] / "specs"
FILES = {
    "column_masks.csv": "table,column,mask,argument,exempt_groups,using_columns,description\n",
    "row_filters.csv": "table,group,predicate,description\n",
    "tags.csv": "table,column,tag_key,tag_value\n",
    "grants.csv": "principal,securable_type,name,privileges\n",
}


def _specs(tmp_path: Path, file: str, rows: str) -> Path:
    """The demo specs with one security file replaced by its header and `rows`."""
    specs = tmp_path / "specs"
    shutil.copytree(PROJECT_SPECS, specs)
    (specs / "security" / file).write_text(FILES[file] + rows)
    if file == "column_masks.csv":  # the demo's pii tags would ask for the masks removed here
        (specs / "security" / "tags.csv").write_text(FILES["tags.csv"])
    return specs


def test_the_demo_security_specs_load(project_root: Path):
    spec = load_specs(project_root / "specs").of("security")[0]
    assert {(m.table, m.column, m.kind) for m in spec.masks} >= {
        ("silver.dim_customer", "email", "email_domain"),
        ("silver.dim_customer", "signup_date", "year_only"),
    }
    assert {m.data_type for m in spec.masks if m.column == "signup_date"} == {"date"}
    assert {(f.table, f.group, f.predicate is None) for f in spec.filters} == {
        ("silver.dim_customer", "eu_analysts", False),
        ("silver.dim_customer", "data_engineers", True),
        ("silver.dim_customer", "pii_readers", True),
        ("silver.fact_order", "eu_analysts", False),  # a lookup of the customer's country
        ("silver.fact_order", "data_engineers", True),
    }
    assert ("gold.daily_sales", "", "domain", "sales") in {
        (t.table, t.column, t.key, t.value) for t in spec.tags
    }
    catalog = [g for g in spec.grants if g.securable_type == "catalog"]
    assert catalog and all(g.privileges == ("USE CATALOG",) for g in catalog)
    assert spec.protected_tables == ("silver.dim_customer", "silver.fact_order")


def test_security_files_are_optional(tmp_path: Path):
    specs = tmp_path / "specs"
    shutil.copytree(PROJECT_SPECS, specs)
    shutil.rmtree(specs / "security")
    spec = load_specs(specs).of("security")[0]
    assert (spec.masks, spec.filters, spec.tags, spec.grants) == ((), (), (), ())


MALFORMED = [
    # column_masks.csv
    (
        "column_masks.csv",
        "dim_custmer,email,redact\n",
        "column_masks.csv:2:table: unknown table 'dim_custmer'",
    ),
    (
        "column_masks.csv",
        "dim_customer,e_mail,redact\n",
        "column_masks.csv:2:column: silver.dim_customer has no column 'e_mail'",
    ),
    ("column_masks.csv", "dim_customer,email,scramble\n", "column_masks.csv:2:mask: unknown mask 'scramble'"),
    (
        "column_masks.csv",
        "dim_customer,signup_date,hash\n",
        "column_masks.csv:2:mask: mask hash gives a string but silver.dim_customer.signup_date is date",
    ),
    (
        "column_masks.csv",
        "dim_customer,email,year_only\n",
        "column_masks.csv:2:mask: mask year_only gives a date/timestamp/timestamp_ntz",
    ),
    (
        "column_masks.csv",
        "dim_customer,email,partial,none\n",
        "column_masks.csv:2:argument: partial needs the number of characters to keep",
    ),
    (
        "column_masks.csv",
        "dim_customer,email,sql\n",
        "column_masks.csv:2:argument: mask sql needs an expression",
    ),
    ("column_masks.csv", "dim_customer,email,sql,concat(value\n", "column_masks.csv:2:argument:"),
    (
        "column_masks.csv",
        "dim_customer,email,redact\ndim_customer,email,hash\n",
        "column_masks.csv:3:column: duplicate column 'email'",
    ),
    (
        "column_masks.csv",
        "dim_customer,email,redact,,pii `readers`\n",
        "column_masks.csv:2:exempt_groups: 'pii `readers`' is not a group name",
    ),
    (
        "column_masks.csv",
        "dim_customer,email,redact,,,nope\n",
        "column_masks.csv:2:using_columns: silver.dim_customer has no column 'nope'",
    ),
    # row_filters.csv
    (
        "row_filters.csv",
        "dim_customer,eu,\"countri IN ('DE')\"\n",
        "row_filters.csv:2:predicate: silver.dim_customer has no column 'countri'",
    ),
    (
        "row_filters.csv",
        "dim_customer,eu,all_rows\ndim_customer,eu,all_rows\n",
        "row_filters.csv:3:group: duplicate group 'eu'",
    ),
    ("row_filters.csv", "dim_customer,eu,\"country IN ('DE'\"\n", "row_filters.csv:2:predicate:"),
    ("row_filters.csv", "nowhere,eu,all_rows\n", "row_filters.csv:2:table: unknown table 'nowhere'"),
    (
        "row_filters.csv",
        'fact_order,eu,"customer_id IN (SELECT customer_id FROM ${silver}.dim_custome)"\n',
        "row_filters.csv:2:predicate: the predicate reads ${silver}.dim_custome, which is not a silver table",
    ),
    (
        "row_filters.csv",
        'fact_order,eu,"customer_id IN (SELECT customer_id FROM ${platinum}.dim_customer)"\n',
        "row_filters.csv:2:predicate: unknown placeholder ${platinum}",
    ),
    (
        "row_filters.csv",
        'fact_order,eu,"country IN (SELECT country FROM ${silver}.dim_customer)"\n',
        "row_filters.csv:2:predicate: silver.fact_order has no column 'country'",  # the outer row's columns
    ),
    # tags.csv
    (
        "tags.csv",
        "dim_customer,country,class,pii\n",
        "tags.csv:2:tag_value: silver.dim_customer.country is tagged class=pii but has no mask",
    ),
    (
        "tags.csv",
        "dim_customer,,data.domain,sales\n",
        "tags.csv:2:tag_key: 'data.domain' is not a Unity Catalog tag key",
    ),
    (
        "tags.csv",
        "dim_customer,,domain," + "x" * 1001 + "\n",
        "tags.csv:2:tag_value: a tag value has at most 1000 characters",
    ),
    (
        "tags.csv",
        "dim_customer,phone,class,contact\n",
        "tags.csv:2:column: silver.dim_customer has no column 'phone'",
    ),
    # grants.csv
    (
        "grants.csv",
        "analysts,table,daily_sales,READ\n",
        "grants.csv:2:privileges: READ is not a privilege on a table",
    ),
    (
        "grants.csv",
        "analysts,view,daily_sales,SELECT\n",
        "grants.csv:2:securable_type: unknown securable_type 'view'",
    ),
    ("grants.csv", "analysts,schema,platinum,USE SCHEMA\n", "grants.csv:2:name: unknown schema 'platinum'"),
    (
        "grants.csv",
        "analysts,catalog,main,USE CATALOG\n",
        "grants.csv:2:name: 'main': a grant on the catalog is on the target's catalog",
    ),
    (
        "grants.csv",
        "'analysts',table,daily_sales,SELECT\n",
        "grants.csv:2:principal: \"'analysts'\" is not a principal name",
    ),
    (
        "grants.csv",
        'analysts,table,daily_sales,"SELECT, select"\n',
        "grants.csv:2:privileges: SELECT is listed twice",
    ),
    (
        "grants.csv",
        "analysts,volume,landing,READ VOLUME\n",
        "grants.csv:2:name: 'landing' is not layer.volume",
    ),
]


@pytest.mark.parametrize(
    ("file", "rows", "expected"), MALFORMED, ids=[e.split(" ", 1)[-1][:50] for _, _, e in MALFORMED]
)
def test_malformed_security_specs_are_named_where_they_are(
    tmp_path: Path, file: str, rows: str, expected: str
):
    problems = [str(p) for p in check_specs(_specs(tmp_path, file, rows))]
    assert any(f"specs/security/{expected}" in p for p in problems), problems


def test_a_pii_tag_on_a_masked_column_passes_and_problems_carry_a_fix(tmp_path: Path):
    specs = _specs(tmp_path, "column_masks.csv", "dim_customer,email,redact,,pii_readers\n")
    (specs / "security" / "tags.csv").write_text(FILES["tags.csv"] + "dim_customer,email,class,pii\n")
    assert [str(p) for p in check_specs(specs)] == []
    (specs / "security" / "tags.csv").write_text(FILES["tags.csv"] + "dim_customer,city,class,pii\n")
    (problem,) = check_specs(specs)
    assert "add a row for it to specs/security/column_masks.csv" in str(problem)
