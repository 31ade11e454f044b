"""Schema evolution per source (bronze_sources.csv `schema_evolution`), on drops that add, remove and
retype a field, and the two silent corruptions they must not cause: an object where a scalar is
declared, and bytes that are not valid in the file's encoding.

Each policy ingests a first drop with the declared fields, then a drifted drop, through
`bronze.ingest` (the job's bronze task); the built-in `malformed_record` rule is evaluated on the
bronze rows as silver would see them.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace

import pytest
from local_context import local_context

from medallion.context import RunContext
from medallion.errors import SchemaDriftError
from medallion.layers.bronze import ingest
from medallion.names import RESCUED_DATA, SOURCE_ROW
from medallion.specs.builtin_rules import builtin_rules
from medallion.specs.model import BronzeSpec, ColumnSpec, SilverSpec

pytestmark = pytest.mark.spark

COLUMNS = (("id", "string"), ("qty", "int"), ("name", "string"))


def _source(table: str, fmt: str, policy: str, **options: str) -> BronzeSpec:
    return BronzeSpec(
        table=table,
        format=fmt,
        landing_folder=table,
        reader_options={"header": "true", **options} if fmt == "csv" else dict(options),
        columns=tuple(ColumnSpec("bronze", table, n, t) for n, t in COLUMNS),
        row=7,
        schema_evolution=policy,
    )


@pytest.fixture(scope="module")
def lakehouse(spark_session, tmp_path_factory):
    root = tmp_path_factory.mktemp("evolution")
    ctx = local_context(root, "evolution")
    for layer in ("bronze", "silver"):
        spark_session.sql(f"CREATE SCHEMA IF NOT EXISTS {ctx.schema(layer)}")
    return ctx


def _drop(ctx: RunContext, source: BronzeSpec, name: str, content: str | bytes) -> None:
    folder = ctx.landing(source.landing_folder)
    os.makedirs(folder, exist_ok=True)
    data = content.encode() if isinstance(content, str) else content
    with open(os.path.join(folder, name), "wb") as handle:
        handle.write(data)


def _rows(spark, ctx: RunContext, source: BronzeSpec) -> dict[str, dict]:
    """Bronze rows by file name and first field, with the malformed_record verdict silver would give."""
    silver = SilverSpec(table=f"s_{source.table}", source_table=source.table, load_pattern="append")
    rule = next(r for r in builtin_rules(silver, source) if r.name == "malformed_record")
    expression = rule.check["check"]["arguments"]["expression"]
    df = spark.table(ctx.table("bronze", source.table))
    data = [c for c in df.columns if c not in ("_source_file", "_ingested_at")]
    checked = df.withColumn(SOURCE_ROW, _struct(data)).selectExpr("*", f"({expression}) AS passes")
    return {r["_source_file"].rsplit("/", 1)[-1] + ":" + str(r["id"]): r.asDict() for r in checked.collect()}


def _struct(columns: list[str]):
    from pyspark.sql import functions as F

    return F.struct(*[F.col(f"`{c}`") for c in columns])


def test_rescue_keeps_new_fields_beside_the_row_and_quarantines_only_misfits(spark, lakehouse):
    source = _source("ev_rescue", "csv", "rescue")
    _drop(lakehouse, source, "d1.csv", "id,qty,name\n1,2,Ann\n")
    _drop(lakehouse, source, "d2.csv", "id,coupon,qty\n4,C1,5\n5,C2,three\n")  # added, removed, retyped
    run = ingest(spark, source, lakehouse)
    assert run.rows_written == 3
    rows = _rows(spark, lakehouse, source)
    assert rows["d1.csv:1"]["qty"] == 2 and rows["d1.csv:1"][RESCUED_DATA] is None
    added = rows["d2.csv:4"]
    assert (added["qty"], added["name"]) == (5, None)  # by name, not by position; a removed field is NULL
    assert json.loads(added[RESCUED_DATA]) == {"coupon": "C1"} and added["passes"]
    retyped = rows["d2.csv:5"]
    assert retyped["qty"] is None and not retyped["passes"]
    assert json.loads(retyped[RESCUED_DATA]) == {
        "id": "5",
        "coupon": "C2",
        "qty": "three",
    }  # the record as read
    assert ingest(spark, source, lakehouse).rows_written == 0  # each file once


def test_a_field_named_twice_whatever_the_case_makes_rows_malformed_without_stopping_the_read(
    spark, lakehouse
):
    """`qty` and `QTY` both match the column qty: which value is meant is a guess, so the row (a CSV
    file's every row, by its header) is malformed and kept whole, and the rest of the drop loads."""
    csv_source = _source("ev_twins_csv", "csv", "rescue")
    _drop(lakehouse, csv_source, "d1.csv", "id,qty,QTY\n1,2,3\n")
    _drop(lakehouse, csv_source, "d2.csv", "id,qty,name\n4,5,Eve\n")
    assert ingest(spark, csv_source, lakehouse).rows_written == 2
    rows = _rows(spark, lakehouse, csv_source)
    twin = rows["d1.csv:None"]
    assert not twin["passes"] and json.loads(twin[RESCUED_DATA]) == {"id": "1", "qty": "2", "QTY": "3"}
    assert rows["d2.csv:4"]["qty"] == 5 and rows["d2.csv:4"]["passes"]

    json_source = _source("ev_twins_json", "json", "rescue")
    _drop(lakehouse, json_source, "d1.json", '{"id": "a", "qty": 1, "Qty": 2}\n{"id": "b", "qty": 3}\n')
    assert ingest(spark, json_source, lakehouse).rows_written == 2
    rows = _rows(spark, lakehouse, json_source)
    assert not rows["d1.json:None"]["passes"] and rows["d1.json:None"][RESCUED_DATA].startswith('{"id": "a"')
    assert rows["d1.json:b"]["qty"] == 3 and rows["d1.json:b"]["passes"]


def test_add_columns_makes_new_fields_bronze_columns(spark, lakehouse):
    source = _source("ev_add", "json", "add_columns")
    _drop(lakehouse, source, "d1.json", '{"id": "a", "qty": 1, "name": "Ann"}\n')
    ingest(spark, source, lakehouse)
    _drop(
        lakehouse,
        source,
        "d2.json",
        '{"id": "b", "qty": 2, "Coupon": "X"}\n{"id": "c", "qty": "three"}\n{"id": {"n": 7}, "qty": 1}\n',
    )
    assert ingest(spark, source, lakehouse).rows_written == 3
    table = spark.table(lakehouse.table("bronze", source.table))
    assert "coupon" in table.columns
    rows = _rows(spark, lakehouse, source)
    assert rows["d2.json:b"]["coupon"] == "X" and rows["d2.json:b"][RESCUED_DATA] is None
    assert rows["d2.json:b"]["passes"] and rows["d1.json:a"]["coupon"] is None
    assert not rows["d2.json:c"]["passes"]
    # An object where the spec declares a scalar: malformed, the raw line kept, never its text as a value.
    nested = next(
        r
        for k, r in rows.items()
        if k.startswith("d2.json:") and r[RESCUED_DATA] and '"n"' in r[RESCUED_DATA]
    )
    assert nested[RESCUED_DATA] == '{"id": {"n": 7}, "qty": 1}' and not nested["passes"]


def test_fail_stops_before_writing_and_names_the_file_and_fields(spark, lakehouse):
    source = _source("ev_fail", "csv", "fail")
    _drop(lakehouse, source, "d1.csv", "id,qty,name\n1,2,Ann\n")
    ingest(spark, source, lakehouse)
    _drop(lakehouse, source, "d2.csv", "id,qty,name,coupon,channel\n2,3,Bo,C,web\n")
    with pytest.raises(SchemaDriftError) as raised:
        ingest(spark, source, lakehouse)
    message = str(raised.value)
    assert "d2.csv: channel, coupon" in message and "bronze_sources.csv row 7" in message
    assert "columns.csv" in message
    assert spark.table(lakehouse.table("bronze", source.table)).count() == 1
    # The fix the message names (here: rescue) lets the next run load the file, once.
    assert ingest(spark, replace(source, schema_evolution="rescue"), lakehouse).rows_written == 1
    assert spark.table(lakehouse.table("bronze", source.table)).count() == 2


def test_bytes_invalid_in_the_encoding_are_malformed_and_the_encoding_option_reads_them(spark, lakehouse):
    text = "id,qty,name\n1,1,M\u00fcller\n2,1,Ann\n"
    wrong = _source("ev_utf8", "csv", "rescue")
    _drop(lakehouse, wrong, "d1.csv", text.encode("cp1252"))
    ingest(spark, wrong, lakehouse)
    rows = _rows(spark, lakehouse, wrong)
    assert not rows["d1.csv:1"]["passes"] and "\ufffd" in rows["d1.csv:1"][RESCUED_DATA]
    assert rows["d1.csv:2"]["passes"]

    right = _source("ev_cp1252", "csv", "rescue", encoding="cp1252")
    _drop(lakehouse, right, "d1.csv", text.encode("cp1252"))
    ingest(spark, right, lakehouse)
    rows = _rows(spark, lakehouse, right)
    assert rows["d1.csv:1"]["name"] == "M\u00fcller" and rows["d1.csv:1"]["passes"]


def test_silver_reads_a_bronze_table_that_gained_a_column_and_quarantines_only_the_misfits(spark, lakehouse):
    """After add_columns, silver keeps building from the wider bronze table: the new field is in each
    quarantined row's `_source_row`; rows with a new field and fitting values reach silver."""
    from medallion.layers import silver as silver_layer

    source = _source("ev_wide", "json", "add_columns")
    _drop(lakehouse, source, "d1.json", '{"id": "a", "qty": 1, "name": "Ann"}\n')
    ingest(spark, source, lakehouse)
    table = SilverSpec(
        table="s_ev_wide",
        source_table=source.table,
        load_pattern="append",
        columns=tuple(ColumnSpec("silver", "s_ev_wide", n, t) for n, t in COLUMNS),
    )
    table = replace(table, rules=builtin_rules(table, source))
    assert silver_layer.build(spark, table, lakehouse).rows_written == 1
    _drop(lakehouse, source, "d2.json", '{"id": "b", "qty": 2, "coupon": "X"}\n{"id": "c", "qty": "three"}\n')
    ingest(spark, source, lakehouse)
    run = silver_layer.build(spark, table, lakehouse)
    assert (run.rows_written, run.details.get("quarantined")) == (1, 1)
    stored = spark.table(lakehouse.table("silver", table.table))
    assert sorted(r["id"] for r in stored.collect()) == ["a", "b"]
    held = spark.table(lakehouse.table("silver", f"{table.table}_quarantine")).collect()
    assert [(r[SOURCE_ROW]["id"], r[SOURCE_ROW]["coupon"]) for r in held] == [("c", None)]


def test_json_lines_that_are_not_one_object_are_malformed_and_objects_in_names_are_found(spark, tmp_path):
    """The by-name JSON read: a line is a row only when it is exactly one JSON object (whitespace
    around it allowed, nothing else after it); an object or array under a declared scalar is
    malformed, a string that merely holds braces is a value."""
    from pyspark.sql import functions as F

    from medallion.layers.bronze_read import MALFORMED, read_by_name

    lines = [
        ' \t{"id": "ok", "qty": 1, "name": "{not an object"}',  # whitespace first, a brace in a string
        '{"id": "arr", "qty": 1, "name": ["x"]}',  # an array where a string is declared
        '{"id": "obj", "qty": {"n": 1}, "name": "x"}',  # an object where an int is declared
        '{"id": "spaced", "qty": 2, "name": \t  { "n" : [1] } }',  # blanks before an object
        '[{"id": "top-level array"}]',
        '"just a string"',
        # Spark's parsers stop after the first value: each of these would pass as its first record alone.
        '{"id": "first", "qty": 1}{"id": "second", "qty": 2}',
        '{"id": "comma", "qty": 1},{"id": "next", "qty": 2}',
        '{"id": "text after", "qty": 1} and more',
        '{"id": "closed twice", "qty": 1, "tags": {"a": [1]}}]}',
        '{"id": "array closed early", "qty": 1},0]{"id": "hidden", "qty": 2}',  # `[line,0]` has two values
        '{"id": "case twins", "qty": 1, "QTY": 2}',  # which qty? (fields match columns whatever their case)
    ]
    valid = [
        '{"id": "braces in strings", "qty": 1, "name": "}{ \\"}{\\" {"}  ',  # escaped quotes too
        '{"id": "nested extra", "qty": 1, "name": "x", "extra": {"a": [1, {"b": "}"}], "c": {}}}',
        '{"id": "objects, no brackets", "qty": 1, "extra": {"a": {"b": 1}, "c": {}}} \t',
        '{"ID": "capital names", "Qty": 4}',  # fields match columns whatever their case
    ]
    path = tmp_path / "edge.json"
    path.write_text("\n".join(lines + valid) + "\n")
    rows = {
        row["value"]: row
        for row in read_by_name(spark, _source("edge", "json", "rescue"), [str(path)])
        .withColumn("value", F.coalesce(F.col(MALFORMED), F.col("id")))
        .collect()
    }
    assert rows["ok"]["name"] == "{not an object" and rows["ok"]["qty"] == 1
    assert rows["braces in strings"]["name"] == '}{ "}{" {'
    assert rows["nested extra"]["qty"] == 1
    assert rows["objects, no brackets"]["qty"] == 1
    assert rows["capital names"]["qty"] == 4
    malformed = {value for value, row in rows.items() if row[MALFORMED] is not None}
    assert malformed == set(lines[1:]), malformed
