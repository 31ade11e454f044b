"""The expression scanner finds real column references and bad SQL, and stays quiet otherwise."""

from __future__ import annotations

import pytest

from medallion.specs.sql_text import (
    column_references,
    data_type_problem,
    expression_problems,
    known_functions,
    table_references,
)


@pytest.mark.parametrize(
    ("expression", "columns"),
    [
        ("initcap(trim(first_name))", ["first_name"]),
        ("transform(arr, x -> x + 1)", ["arr"]),
        ("filter(arr, (x, i) -> i > 0 AND x IS NOT NULL)", ["arr"]),
        ("CASE WHEN a = 'x' THEN b ELSE c END", ["a", "b", "c"]),
        ("ts + INTERVAL 1 DAY", ["ts"]),
        ("a::int", ["a"]),
        ("payload:items[0].sku", ["payload"]),
        ("current_date", []),
        ("s.field", ["s.field"]),
        ("`my col` || 'x'", ["my col"]),
        ("date '2024-01-01'", []),
        ("extract(YEAR FROM ts)", ["ts"]),
        ("trim(BOTH ' ' FROM x)", ["x"]),
        ("CAST(q AS decimal(10,2)) * p", ["q", "p"]),
        ("struct(a AS b)", ["a"]),
        ("1e5 + 10L + .5", []),
        ("'it\\'s' || 'it''s' || d -- e\n", ["d"]),
        ("/* a\n b */ if(c > 0, c, NULL)", ["c"]),
        ("timestampadd(HOUR, 1, ts)", ["ts"]),
    ],
)
def test_column_references(expression: str, columns: list[str]):
    assert [ref.text for ref in column_references(expression)] == columns


@pytest.mark.parametrize(
    "expression",
    [
        "to_date(try_cast(order_ts AS timestamp))",
        "try_cast(q AS int) * try_cast(p AS decimal(10,2)) * (1 - coalesce(try_cast(d AS decimal(4,2)), 0))",
        "x IN ('a', 'b') AND NOT(y)",
        "count(DISTINCT z)",
        "timestampadd(HOUR, 1, ts)",
        "upper(x) ilike 'a%'",
    ],
)
def test_valid_expressions_have_no_problems(expression: str):
    assert expression_problems(expression) == []


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("lower(trim(x)", "'(' is never closed with ')'"),
        ("lower(x))", "')' has no matching '('"),
        ("x = 'D", "quote ' is never closed"),
        ("`x = 1", "backquote ` is never closed"),
        ("x /* note", "comment /* is never closed with */"),
        ("lowr(x)", "unknown SQL function 'lowr'"),
    ],
)
def test_expression_problems(expression: str, message: str):
    assert [m for m, _ in expression_problems(expression)] == [message]


def test_unknown_function_suggests_a_close_name():
    [(_, fix)] = expression_problems("initcapp(x)")
    assert fix.startswith("did you mean initcap?")


def test_function_list_is_shipped_and_plausible():
    names = known_functions()
    assert {"coalesce", "to_date", "initcap", "try_to_number", "transform"} <= names
    assert "select" not in names and "+" not in names


def test_table_references_skip_comments_and_strings():
    sql = (
        "-- ${silver}.in_a_comment\n"
        "SELECT * FROM ${catalog}.${silver}.`a`\n"
        "JOIN ${bronze} . b ON x = '${gold}.in_a_string'\n"
        "JOIN ${gold}.c USING (k)\n"
    )
    refs, problems = table_references(sql)
    assert [(r.layer, r.table, r.line) for r in refs] == [
        ("silver", "a", 2),
        ("bronze", "b", 3),
        ("gold", "c", 4),
    ]
    assert problems == []


def test_table_references_report_bad_placeholders_with_lines():
    refs, problems = table_references("SELECT 1\nFROM ${silverr}.a\nJOIN ${gold} AS g\nWHERE ${env} = 1")
    assert refs == []
    assert [(line, message) for line, message, _ in problems] == [
        (2, "unknown placeholder ${silverr}"),
        (3, "${gold} is not followed by .<table>"),
        (4, "unknown placeholder ${env}"),
    ]


@pytest.mark.parametrize(
    "data_type",
    ["string", "STRING", "boolean", "tinyint", "byte", "smallint", "short", "int", "integer", "bigint", "long",
     "float", "double", "date", "timestamp", "timestamp_ntz", "binary", "decimal", "decimal(38,0)",
     "decimal( 10 , 2 )", "decimal(5)", "decimal(1,1)"],
)  # fmt: skip
def test_accepted_data_types(data_type: str):
    assert data_type_problem(data_type) is None


@pytest.mark.parametrize(
    ("data_type", "message"),
    [
        ("strng", "unknown data type 'strng'"),
        ("varchar", "unknown data type 'varchar'"),
        ("array<string>", "unknown data type 'array<string>'"),
        ("decimal(10,2", "unknown data type 'decimal(10,2'"),
        ("decimal(39,2)", "'decimal(39,2)' is out of range"),
        ("decimal(0,0)", "'decimal(0,0)' is out of range"),
        ("decimal(4,5)", "'decimal(4,5)' is out of range"),
    ],
)
def test_rejected_data_types(data_type: str, message: str):
    problem = data_type_problem(data_type)
    assert problem is not None and problem[0] == message
