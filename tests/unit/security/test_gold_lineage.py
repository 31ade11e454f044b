"""Gold SQL must not copy a masked silver column into a gold column without a mask of its own.

`medallion validate` follows each output column of a gold SQL file to the columns feeding its value
(sqlglot, no Spark): a masked one is reported at the gold file's line and output column. Columns that
only filter, join, group, order or are counted pass; SQL it cannot follow is reported (fail closed).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_security_specs import PROJECT_SPECS, _specs

from medallion import cli
from medallion.specs import check_specs
from medallion.specs.gold_lineage import Exposure, LineageError, exposed_columns

GOLD_FILE = "specs/gold/leak.sql"
# The demo's masks (first_name, last_name, email, city, signup_date of silver.dim_customer).
DEMO_MASKS = (PROJECT_SPECS / "security" / "column_masks.csv").read_text().split("\n", 1)[1]
ALL_MASKED = sorted(row.split(",")[1] for row in DEMO_MASKS.splitlines() if row.startswith("dim_customer,"))


def _project(tmp_path: Path, sql: str, masks: str = DEMO_MASKS, table: str = "leak") -> Path:
    """The demo specs with `masks` and one more gold table `table` built by `sql`."""
    specs = tmp_path / "specs"
    if not specs.exists():
        _specs(tmp_path, "column_masks.csv", masks)
    (specs / "gold" / f"{table}.sql").write_text(sql)
    with (specs / "gold_tables.csv").open("a") as rows:
        rows.write(f"{table},{table}.sql,Lineage test\n")
    return specs


def _problems(specs: Path) -> list[str]:
    """Problems of the gold SQL files (the rest of the demo specs is checked elsewhere)."""
    return sorted(str(p) for p in check_specs(specs) if p.file.startswith("specs/gold/"))


def _leak(line: int, column: str, source: str, table: str = "leak") -> str:
    return (
        f"specs/gold/{table}.sql:{line}:{column}: gold.{table}.{column} selects the masked column "
        f"silver.dim_customer.{source} but has no mask (add a row for gold.{table},{column} to "
        f"specs/security/column_masks.csv, or do not select silver.dim_customer.{source} "
        "(fail closed: a masked value stays masked in gold))"
    )


EXPOSED = [
    (
        "direct",
        "SELECT\n  c.customer_id,\n  c.email\nFROM ${silver}.dim_customer AS c\n",
        [(3, "email", "email")],
    ),
    (
        "alias",
        "SELECT\n  customer_id,\n  email AS contact\nFROM ${silver}.dim_customer\n",
        [(3, "contact", "email")],
    ),
    (
        "expression",
        "SELECT\n  customer_id,\n  concat(\n    initcap(first_name), ' ', upper(city)\n  ) AS label\n"
        "FROM ${silver}.dim_customer\n",
        [(3, "label", "city"), (3, "label", "first_name")],
    ),
    (
        "coalesce, case and max",
        "SELECT\n  country,\n  coalesce(max(email), 'none') AS any_mail,\n"
        "  max(CASE WHEN signup_date < DATE'2020-01-01' THEN 'early' ELSE 'late' END) AS cohort\n"
        "FROM ${silver}.dim_customer\nGROUP BY country\n",
        [(3, "any_mail", "email"), (4, "cohort", "signup_date")],
    ),
    (
        "cte",
        "WITH named AS (\n  SELECT customer_id, lower(email) AS mail FROM ${silver}.dim_customer\n)\n"
        "SELECT\n  o.order_id,\n  n.mail\nFROM ${silver}.fact_order AS o\n"
        "JOIN named AS n ON n.customer_id = o.customer_id\n",
        [(6, "mail", "email")],
    ),
    (
        "subquery",
        "SELECT\n  s.m\nFROM (SELECT max(last_name) AS m FROM ${silver}.dim_customer) AS s\n",
        [(2, "m", "last_name")],
    ),
    (
        "scalar subquery",
        "SELECT\n  o.order_id,\n  (SELECT max(d.email) FROM ${silver}.dim_customer AS d\n"
        "   WHERE d.customer_id = o.customer_id) AS mail\nFROM ${silver}.fact_order AS o\n",
        [(3, "mail", "email")],
    ),
    ("star", "-- every column\nSELECT *\nFROM ${silver}.dim_customer\n", [(2, c, c) for c in ALL_MASKED]),
    (
        "table star",
        "SELECT\n  o.order_id,\n  c.*\nFROM ${silver}.fact_order AS o\n"
        "JOIN ${silver}.dim_customer AS c ON c.customer_id = o.customer_id\n",
        [(3, c, c) for c in ALL_MASKED],
    ),
    (
        "union branch",
        "SELECT customer_id AS who FROM ${silver}.fact_order\nUNION ALL\nSELECT email FROM ${silver}.dim_customer\n",
        [(3, "who", "email")],
    ),
]


@pytest.mark.parametrize(("sql", "expected"), [case[1:] for case in EXPOSED], ids=[c[0] for c in EXPOSED])
def test_a_masked_column_selected_into_gold_is_reported(tmp_path: Path, sql: str, expected: list):
    problems = _problems(_project(tmp_path, sql))
    assert problems == sorted(_leak(*item) for item in expected)


NOT_EXPOSED = {
    "where, join, group by, having, order by": (
        "SELECT c.country, count(*) AS customers\nFROM ${silver}.dim_customer AS c\n"
        "JOIN ${silver}.fact_order AS o ON o.customer_id = c.customer_id AND c.email IS NOT NULL\n"
        "WHERE c.city <> 'Berlin'\nGROUP BY c.country, c.last_name\n"
        "HAVING max(c.signup_date) > DATE'2020-01-01'\nORDER BY c.country\n"
    ),
    "count": (
        "SELECT country, count(email) AS with_mail, count(DISTINCT city) AS cities\n"
        "FROM ${silver}.dim_customer\nGROUP BY country\n"
    ),
    "exists and window partition": (
        "SELECT o.order_id, row_number() OVER (PARTITION BY c.email ORDER BY c.signup_date) AS n\n"
        "FROM ${silver}.fact_order AS o JOIN ${silver}.dim_customer AS c ON c.customer_id = o.customer_id\n"
        "WHERE EXISTS (SELECT 1 FROM ${silver}.dim_customer AS d WHERE d.first_name = 'x')\n"
    ),
    "filter in a cte": (
        "WITH eu AS (SELECT customer_id, country FROM ${silver}.dim_customer WHERE email LIKE '%.eu')\n"
        "SELECT * FROM eu\n"
    ),
}


@pytest.mark.parametrize("sql", NOT_EXPOSED.values(), ids=NOT_EXPOSED.keys())
def test_a_masked_column_that_only_filters_groups_or_is_counted_passes(tmp_path: Path, sql: str):
    assert _problems(_project(tmp_path, sql)) == []


def test_a_gold_column_with_its_own_mask_passes(tmp_path: Path):
    sql = "SELECT\n  customer_id,\n  email,\n  city\nFROM ${silver}.dim_customer\n"
    own = "gold.leak,email,email_domain,,pii_readers,,Gold keeps the mask\n"
    assert _problems(_project(tmp_path, sql, DEMO_MASKS + own)) == [_leak(4, "city", "city")]


def test_a_masked_gold_column_stays_masked_in_the_gold_tables_reading_it(tmp_path: Path):
    own = "gold.leak,email,email_domain,,pii_readers\n"
    specs = _project(tmp_path, "SELECT customer_id, email FROM ${silver}.dim_customer\n", DEMO_MASKS + own)
    _project(tmp_path, "SELECT\n  l.email AS mail\nFROM ${gold}.leak AS l\n", table="reader")
    assert _problems(specs) == [
        "specs/gold/reader.sql:2:mail: gold.reader.mail selects the masked column gold.leak.email "
        "but has no mask (add a row for gold.reader,mail to specs/security/column_masks.csv, or do "
        "not select gold.leak.email (fail closed: a masked value stays masked in gold))"
    ]


CANNOT_FOLLOW = [
    (
        "unparseable",
        "SELECT customer_id,\n  FROM WHERE ${silver}.dim_customer\n",
        ":2: the lineage of masked columns could not be checked: the SQL does not parse: ",
        "(fix the SQL; if Databricks runs it, rewrite the part sqlglot",
    ),
    (
        "unknown column",
        "SELECT\n  nope\nFROM ${silver}.dim_customer\n",
        ":2: the lineage of masked columns could not be checked: Column 'nope' could not be resolved (",
        "(write one SELECT that reads columns the specs declare",
    ),
    (
        "star over an undeclared table",
        "SELECT *\nFROM ${catalog}.elsewhere.customers\n",
        ":1: the lineage of masked columns could not be checked: * reads a table whose columns the specs",
        "(write one SELECT that reads columns the specs declare",
    ),
]


@pytest.mark.parametrize(
    ("sql", "where", "fix"), [case[1:] for case in CANNOT_FOLLOW], ids=[c[0] for c in CANNOT_FOLLOW]
)
def test_sql_the_check_cannot_follow_is_a_problem_not_a_crash(tmp_path: Path, sql: str, where: str, fix: str):
    (problem,) = _problems(_project(tmp_path, sql))
    assert problem.startswith(GOLD_FILE + where), problem
    assert fix in problem


def test_the_demo_gold_sql_passes_and_a_leak_added_to_it_does_not(tmp_path: Path, project_root: Path):
    assert [str(p) for p in check_specs(project_root / "specs")] == []
    specs = _specs(tmp_path, "column_masks.csv", DEMO_MASKS)
    daily = specs / "gold" / "daily_sales.sql"
    text = daily.read_text()
    line = text.splitlines().index("  o.channel,") + 1
    daily.write_text(text.replace("  o.channel,\n", "  o.channel,\n  c.email AS contact,\n"))
    assert _problems(specs) == [_leak(line + 1, "contact", "email", table="daily_sales")]


def test_without_masks_the_lineage_check_is_skipped(tmp_path: Path):
    """Unparseable gold SQL is a lineage problem only where masks exist to protect (sqlglot itself is
    loaded anyway: dashboards read gold SQL's columns with it)."""
    code = (
        "import sys; from medallion.specs import check_specs; "
        "problems = [p for p in check_specs(sys.argv[1]) if p.file.startswith('specs/gold/') "
        "and 'lineage' in p.message]; print(len(problems))"
    )
    without = _project(tmp_path / "without", "SELECT FROM WHERE\n", masks="")
    with_masks = _project(tmp_path / "with", "SELECT FROM WHERE\n")
    for specs, expected in ((without, "0"), (with_masks, "1")):
        result = subprocess.run(
            [sys.executable, "-c", code, str(specs)], capture_output=True, text=True, timeout=60, check=True
        )
        assert result.stdout.strip() == expected, (specs, result.stderr)


def test_validate_names_file_line_and_column(tmp_path: Path, capsys):
    _project(tmp_path, "SELECT\n  customer_id,\n  email AS contact\nFROM ${silver}.dim_customer\n")
    (tmp_path / "databricks.yml").write_text("bundle:\n  name: lineage_test\n")
    assert cli.main(["--project-dir", str(tmp_path), "validate"]) == 2
    err = capsys.readouterr().err
    assert "specs/gold/leak.sql:3:contact: gold.leak.contact selects the masked column" in err
    assert "Traceback" not in err


def test_exposed_columns_follows_bronze_recursion_lateral_views_and_correlation():
    schema = {"bronze.people": {"mail": "string", "id": "string"}}
    masked = {("bronze.people", "mail")}
    recursive = (
        "WITH RECURSIVE r AS (SELECT mail AS m, id FROM ${bronze}.people UNION ALL SELECT m, id FROM r)\n"
        "SELECT m FROM r"
    )
    lateral = "SELECT id,\n  x\nFROM ${bronze}.people LATERAL VIEW explode(array(mail)) t AS x"
    assert exposed_columns(recursive, schema, masked) == [Exposure("m", 2, "bronze.people.mail")]
    assert exposed_columns(lateral, schema, masked) == [Exposure("x", 2, "bronze.people.mail")]
    correlated = "SELECT (SELECT max(p.mail) FROM ${bronze}.people AS q WHERE q.id = p.id) AS m FROM ${bronze}.people AS p"
    assert exposed_columns(correlated, schema, masked) == [Exposure("m", 1, "bronze.people.mail")]
    assert exposed_columns("SELECT id FROM ${bronze}.people WHERE mail > ''", schema, masked) == []
    with pytest.raises(LineageError, match="exactly one query"):
        exposed_columns("SELECT 1; SELECT 2", schema, masked)
