"""Landing files read by field name (the local stand-in for Auto Loader's schema handling).

Spark's CSV reader maps columns by position and its JSON reader keeps an object given for a string
column as its JSON text; neither says which fields a file has that the spec does not declare. Here
each file is read by name, so a new, missing or reordered field is seen, and every row gets:

- the declared columns, typed (a missing field is NULL);
- MALFORMED (dropped before the write): the raw record when the row is malformed (it did not
  parse, a value does not fit its declared type, an object or array stands where a scalar is
  declared, or a value holds U+FFFD, the mark of bytes that are not valid in the file's encoding);
- NEW_FIELDS (dropped before the write): the undeclared fields and their values as text, for the
  source's schema evolution policy (`layers.bronze`).

Cost: one pass over the new files (CSV headers are read first, one line per file).
"""

from __future__ import annotations

import csv
import logging
import re
from collections import Counter, defaultdict
from urllib.parse import unquote, urlparse

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from medallion.names import SOURCE_FILE
from medallion.specs.model import BronzeSpec

__all__ = ["MALFORMED", "NEW_FIELDS", "read_by_name"]

log = logging.getLogger(__name__)

NEW_FIELDS = "_new_fields"
MALFORMED = "_malformed_record"
_CORRUPT = "_corrupt_record"
_REPLACEMENT = "\ufffd"
_SCALAR = re.compile(
    r"^(string|varchar|char|int|integer|bigint|long|smallint|tinyint|short|byte|double|float|real|"
    r"decimal|numeric|boolean|bool|date|timestamp|timestamp_ntz)\b",
    re.IGNORECASE,
)
# A JSON string literal (escapes included), unrolled with possessive loops: no backtracking, and no
# regex recursion per character on a long string.
_JSON_STRING = r'"[^"\\]*+(?:\\.[^"\\]*+)*+"'


def read_by_name(spark: SparkSession, source: BronzeSpec, files: list[str]) -> DataFrame:
    """The rows of `files` (paths or file: URIs): declared columns, `_source_file`, MALFORMED and
    NEW_FIELDS."""
    if source.format == "csv":
        frames = [
            _csv_group(spark, source, names, group) for names, group in _by_header(source, files).items()
        ]
    else:
        frames = [_json_lines(spark, source, files)]
    frame = frames[0]
    for more in frames[1:]:
        frame = frame.unionByName(more)
    return frame


def _local_path(file: str) -> str:
    parsed = urlparse(file)
    return unquote(parsed.path) if parsed.scheme == "file" else file


def _encoding(source: BronzeSpec) -> str:
    """The files' encoding (reader option `encoding` or `charset`; UTF-8 when neither is given)."""
    options = {k.lower(): v for k, v in source.reader_options.items()}
    return options.get("encoding") or options.get("charset") or "utf-8"


def _by_header(source: BronzeSpec, files: list[str]) -> dict[tuple[str, ...], list[str]]:
    """Files grouped by their header's field names (read with Python's csv module, one line each)."""
    options = {k.lower(): v for k, v in source.reader_options.items()}
    delimiter = options.get("sep") or options.get("delimiter") or ","
    quote = options.get("quote") or '"'
    groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for file in files:
        with open(_local_path(file), encoding=_encoding(source), errors="replace", newline="") as handle:
            header = next(csv.reader(handle, delimiter=delimiter[0], quotechar=quote[0]), [])
        groups[tuple(name.strip() for name in header)].append(file)
    return groups


def _csv_group(
    spark: SparkSession, source: BronzeSpec, names: tuple[str, ...], files: list[str]
) -> DataFrame:
    """Files that share one header: every field read as text under its own name."""
    fields = [f"f{i}" for i in range(len(names))]  # positional stand-ins: header names may repeat or be odd
    schema = ", ".join([*(f"`{f}` string" for f in fields), f"`{_CORRUPT}` string"])
    df = (
        spark.read.options(**source.reader_options)
        .option("header", "true")
        .option("enforceSchema", "true")
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", _CORRUPT)
        .schema(schema)
        .csv(files)
    )
    pairs = [x for name, f in zip(names, fields, strict=True) for x in (F.lit(name.lower()), F.col(f))]
    record = F.to_json(F.struct(*[F.col(f).alias(name) for name, f in zip(names, fields, strict=True)]))
    seen = Counter(name.lower() for name in names)
    twins = sorted(name for name in names if seen[name.lower()] > 1)
    if twins:
        # Which of two same-named columns holds the field is anyone's guess: every row is malformed
        # (kept whole in the rescued data), none is loaded by a guess.
        log.warning(
            "bronze %s: the header of %s names %s more than once (case ignored); its rows are malformed "
            "until the file is sent again with one column per field",
            source.table,
            ", ".join(files),
            ", ".join(twins),
        )
    df = df.select(
        F.map_from_arrays(F.array(), F.array()).cast("map<string,string>").alias("m")
        if not pairs or twins
        else F.create_map(*pairs).alias("m"),
        F.coalesce(F.col(_CORRUPT), record).alias("raw"),
        (F.col(_CORRUPT).isNotNull() | F.lit(bool(twins))).alias("broken"),
        F.lit(False).alias("nested"),
        F.col("_metadata.file_path").alias(SOURCE_FILE),
    )
    return _conform(df, source)


def _json_lines(spark: SparkSession, source: BronzeSpec, files: list[str]) -> DataFrame:
    """JSON lines (UTF-8, RFC 8259): each raw line, its fields as text, whether a declared scalar
    holds an object or array."""
    parsed = "try_parse_json(value)"
    # The field map and the validity of the line are computed once each (their own projection:
    # Spark keeps a costly expression used several times there rather than copying it into each use).
    # Valid JSON (strict: the variant parser) whose first character is `{` is an object.
    df = spark.read.text(files).select(
        F.col("value"),
        F.from_json("value", "map<string,string>").alias("_named"),
        (F.col("value").rlike(r"^\s*\{") & F.expr(f"{parsed} IS NOT NULL") & _one_value("value")).alias(
            "_is_object"
        ),
        F.col("_metadata.file_path").alias(SOURCE_FILE),
    )
    # Fields are matched to columns whatever their case. A line naming one field twice that way
    # (`qty` and `Qty`) does not say which value it means: it is malformed (and a map keyed by the
    # lowered names could not even be built). Most lines name their fields in lower case already:
    # only the others are lowered and checked.
    named = F.col("_named")
    names = F.concat_ws("\n", F.map_keys(named))  # one string: no per-key function call
    capitals = F.coalesce(names != F.lower(names), F.lit(False))
    distinct = F.size(F.array_distinct(F.transform(F.map_keys(named), F.lower)))
    twins = F.when(capitals, distinct < F.size(named)).otherwise(F.lit(False))
    df = df.select(
        F.col("value"),
        F.when(~capitals, named)
        .when(~twins, F.transform_keys(named, lambda k, _: F.lower(k)))
        .alias("_fields"),
        (F.col("_is_object") & ~twins).alias("_is_object"),
        F.col(SOURCE_FILE),
    )
    raw, fields, is_object = F.col("value"), F.col("_fields"), F.col("_is_object")

    def holds_object_or_array(name: str) -> Column:
        # The field map renders an object or array as JSON text of its own, without leading blanks:
        # only a value starting with `{` or `[` needs the exact (and costly) check on the parsed line.
        exact = F.expr(f"schema_of_variant(variant_get({parsed}, '$[\"{name}\"]'))").rlike("^(OBJECT|ARRAY)")
        starts = F.substring(fields[name.lower()], 1, 1).isin("{", "[")
        return F.when(starts, F.coalesce(exact, F.lit(False))).otherwise(F.lit(False))

    nested = [holds_object_or_array(c.name) for c in source.columns if _SCALAR.match(c.data_type.strip())]
    df = df.select(
        F.when(is_object, fields).alias("m"),
        raw.alias("raw"),
        (~is_object).alias("broken"),
        _any(nested).alias("nested"),
        F.col(SOURCE_FILE),
    )
    return _conform(df, source)


def _one_value(column: str) -> Column:
    """True when a line that starts with `{` holds nothing after that object ends. Spark's JSON
    parsers stop at the end of the first value, so `{...}{...}` or `{...},{...}` would pass as its
    first record and lose the rest.

    A line without `[` or `]` (all of the demo's) is one value exactly when `[<line>,0]` is an
    array of two: nothing in the line can close that array early, so the parser reads all of it,
    and a value run on makes it invalid or longer (one streaming parse: about 2 s per million lines
    less than counting its braces). Any other line must end with `}` and has its brackets outside
    strings walked: the depth must not return to zero before the last one.
    """
    line = F.col(column)
    no_brackets = (F.instr(line, "[") == 0) & (F.instr(line, "]") == 0)
    one_of_two = F.json_array_length(F.concat(F.lit("["), line, F.lit(",0]"))) == 2
    brackets = F.regexp_replace(F.regexp_replace(line, _JSON_STRING, ""), r"[^\[\]{}]", "")
    walked = F.aggregate(
        F.split(brackets, ""),
        F.struct(F.lit(0).alias("depth"), F.lit(0).alias("seen"), F.lit(True).alias("single")),
        lambda acc, c: F.struct(
            (acc["depth"] + F.when(c.isin("{", "["), 1).otherwise(-1)).alias("depth"),
            (acc["seen"] + 1).alias("seen"),
            (acc["single"] & ~((acc["depth"] == 0) & (acc["seen"] > 0))).alias("single"),
        ),
    )
    walked_single = line.rlike(r"\}\s*$") & walked["single"] & (walked["depth"] == 0)
    return F.when(no_brackets, F.coalesce(one_of_two, F.lit(False))).otherwise(walked_single)


def _any(flags: list[Column]) -> Column:
    if not flags:
        return F.lit(False)
    return F.greatest(*flags) if len(flags) > 1 else flags[0]


def _conform(df: DataFrame, source: BronzeSpec) -> DataFrame:
    """Declared columns typed from the field map; malformed rows and new fields marked."""
    declared = [c.name.lower() for c in source.columns]
    m = F.col("m")
    values, misfits = [], []
    for column in source.columns:
        text = m[column.name.lower()]
        kind = column.data_type.strip().lower()
        if kind == "string":
            values.append(text.alias(column.name))
            continue
        typed = F.expr(f"try_cast(m['{column.name.lower()}'] AS {column.data_type})")
        values.append(typed.alias(column.name))
        misfits.append(text.isNotNull() & (F.trim(text) != "") & typed.isNull())
    replaced = F.exists(F.map_values(m), lambda v: v.contains(_REPLACEMENT))
    misfit = _any(misfits)
    malformed = (
        F.col("broken")
        | F.col("nested")
        | F.coalesce(misfit, F.lit(False))
        | F.coalesce(replaced, F.lit(False))
    )
    new_fields = F.map_filter(m, lambda k, _: ~k.isin(*declared)) if declared else m
    return df.select(
        *values,
        F.col(SOURCE_FILE),
        F.when(malformed, F.col("raw")).alias(MALFORMED),
        new_fields.alias(NEW_FIELDS),
    )
