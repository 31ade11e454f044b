"""Scan spec SQL text (column expressions, delete_when, gold SQL) without a SQL engine.

`medallion validate` must run in well under a second and without a JVM, so instead of parsing with
Spark this module tokenizes the text and answers the few questions the checks need: are quotes and
parentheses balanced, which functions are called, which columns and `${layer}.table` names are
referenced. It errs on the side of silence: anything it cannot classify is not reported.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from medallion.specs.hints import close_matches

__all__ = [
    "LAYER_PLACEHOLDERS",
    "PLACEHOLDERS",
    "ColumnRef",
    "TableRef",
    "Token",
    "column_references",
    "data_type_problem",
    "expression_problems",
    "known_functions",
    "outer_column_references",
    "table_references",
    "tokenize",
]

log = logging.getLogger(__name__)

LAYER_PLACEHOLDERS = ("bronze", "silver", "gold")
PLACEHOLDERS = (*LAYER_PLACEHOLDERS, "catalog")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_SIMPLE_TYPES = _words(
    "string boolean tinyint byte smallint short int integer bigint long float real double "
    "date timestamp timestamp_ntz timestamp_ltz binary decimal dec numeric"
)
_DECIMAL = re.compile(r"^(?:decimal|dec|numeric)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)$")
TYPE_FIX = "use a Spark SQL type such as string, bigint, decimal(10,2), timestamp"

# Words that are syntax, type names, interval units or functions callable without parentheses.
# An identifier in this set is never taken for a column, and `word(` is never taken for a call.
_KEYWORDS = _words(
    """
    and or not null is in like ilike rlike regexp between case when then else end as true false
    unknown distinct cast try_cast interval escape over partition by order asc desc nulls first
    last rows range unbounded preceding following current row filter where within group exists
    any some all from for both leading trailing using on to placing ignore respect div
    string boolean tinyint byte smallint short int integer bigint long float real double date
    timestamp timestamp_ntz timestamp_ltz binary decimal dec numeric char varchar void array map
    struct
    year years month months week weeks day days hour hours minute minutes second seconds
    millisecond milliseconds microsecond microseconds
    current_date current_timestamp current_user current_catalog current_database current_schema
    current_timezone user session_user localtimestamp
    """
)
# Calls the Spark parser handles itself, so SHOW FUNCTIONS does not list them.
_SYNTAX_FUNCTIONS = frozenset({"timestampadd", "timestampdiff", "identifier"})
_IDENT_START = re.compile(r"[A-Za-z_]")
_IDENT = re.compile(r"[A-Za-z0-9_]*")
_NUMBER = re.compile(r"[A-Za-z0-9_.]*")
_TWO_CHAR_OPS = ("->", "=>", "::", "<=", ">=", "<>", "!=", "==", "||", "<<", ">>")


@dataclass(frozen=True)
class Token:
    """`kind` is ident, quoted (a `backquoted` identifier), string, number, placeholder or op;
    `start` is where it begins in the text."""

    kind: str
    text: str
    line: int
    start: int = 0


@dataclass(frozen=True)
class ColumnRef:
    """A column reference; `parts` has several names for `a.b` (qualifier or struct field)."""

    parts: tuple[str, ...]
    line: int

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class TableRef:
    """`${layer}.table` in gold SQL."""

    layer: str
    table: str
    line: int


def tokenize(text: str) -> tuple[list[Token], list[tuple[int, str]]]:
    """Tokens without comments and whitespace, plus (line, message) for unclosed quotes or brackets."""
    tokens: list[Token] = []
    errors: list[tuple[int, str]] = []
    opened: list[int] = []  # line of each unclosed "("
    i, line, n = 0, 1, len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
            i += 1
        elif ch.isspace():
            i += 1
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                errors.append((line, "comment /* is never closed with */"))
                break
            line += text.count("\n", i, end)
            i = end + 2
        elif ch in "'\"`":
            end = _closing_quote(text, i)
            if end < 0:
                what = "backquote" if ch == "`" else "quote"
                errors.append((line, f"{what} {ch} is never closed"))
                break
            body = text[i + 1 : end]
            kind = "quoted" if ch == "`" else "string"
            tokens.append(Token(kind, body.replace("``", "`") if kind == "quoted" else body, line, i))
            line += body.count("\n")
            i = end + 1
        elif text.startswith("${", i):
            end = text.find("}", i)
            if end < 0:
                errors.append((line, "placeholder ${ is never closed with }"))
                break
            tokens.append(Token("placeholder", text[i + 2 : end].strip(), line, i))
            i = end + 1
        elif _IDENT_START.match(ch):
            end = _IDENT.match(text, i + 1).end()
            tokens.append(Token("ident", text[i:end], line, i))
            i = end
        elif ch.isdigit() or (ch == "." and i + 1 < n and text[i + 1].isdigit()):
            end = _NUMBER.match(text, i + 1).end()
            tokens.append(Token("number", text[i:end], line, i))
            i = end
        else:
            op = next((op for op in _TWO_CHAR_OPS if text.startswith(op, i)), ch)
            if op == "(":
                opened.append(line)
            elif op == ")":
                if opened:
                    opened.pop()
                else:
                    errors.append((line, "')' has no matching '('"))
            tokens.append(Token("op", op, line, i))
            i += len(op)
    else:
        for opened_line in opened:
            errors.append((opened_line, "'(' is never closed with ')'"))
    return tokens, errors


def _closing_quote(text: str, start: int) -> int:
    """Index of the quote closing the one at `start`, or -1; backslash escapes like Spark's."""
    quote = text[start]
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and quote != "`":
            i += 2
            continue
        if ch == quote:
            if quote == "`" and text.startswith("``", i):
                i += 2
                continue
            return i
        i += 1
    return -1


@lru_cache(maxsize=1)
def known_functions() -> frozenset[str]:
    """Spark SQL built-in function names shipped in spark_functions.txt (empty if it is missing)."""
    try:
        text = resources.files(__package__).joinpath("spark_functions.txt").read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        log.warning("spark_functions.txt is missing; function names in expressions are not checked")
        return frozenset()
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def _lambda_variables(tokens: list[Token]) -> set[str]:
    """Names bound by `x -> ...` or `(x, y) -> ...`: not columns."""
    names: set[str] = set()
    for i, token in enumerate(tokens):
        if token.kind != "op" or token.text != "->" or i == 0:
            continue
        prev = tokens[i - 1]
        if prev.kind == "ident":
            names.add(prev.text.lower())
        elif prev.text == ")":
            j = i - 2
            while j >= 0 and tokens[j].text != "(":
                if tokens[j].kind == "ident":
                    names.add(tokens[j].text.lower())
                j -= 1
    return names


def _scan(tokens: list[Token]) -> tuple[list[ColumnRef], list[Token]]:
    """Column references and function-call name tokens."""
    refs: list[ColumnRef] = []
    calls: list[Token] = []
    lambdas = _lambda_variables(tokens)
    i, n = 0, len(tokens)
    while i < n:
        first = tokens[i]
        if first.kind not in ("ident", "quoted"):
            i += 1
            continue
        parts = [first]
        j = i + 1
        while (
            j + 1 < n
            and tokens[j].kind == "op"
            and tokens[j].text == "."
            and tokens[j + 1].kind in ("ident", "quoted")
        ):
            parts.append(tokens[j + 1])
            j += 2
        prev = tokens[i - 1] if i else None
        nxt = tokens[j] if j < n else None
        i = j
        plain = first.kind == "ident"
        if prev is not None and prev.kind == "op" and prev.text in (":", "."):
            continue  # JSON path (col:field) or a field of an expression result
        if prev is not None and prev.kind == "ident" and prev.text.lower() == "as":
            continue  # alias or type name
        if len(parts) == 1 and plain and first.text.lower() in _KEYWORDS:
            continue
        if nxt is not None and nxt.kind == "op" and nxt.text == "(":
            if len(parts) == 1 and plain:
                calls.append(first)
            continue
        if nxt is not None and nxt.kind == "op" and nxt.text in ("->", "=>"):
            continue
        if plain and first.text.lower() in lambdas:
            continue
        refs.append(ColumnRef(tuple(part.text for part in parts), first.line))
    return refs, calls


def column_references(text: str) -> list[ColumnRef]:
    """Names an expression reads from its input row (keywords, functions, aliases left out)."""
    tokens, _ = tokenize(text)
    unique: dict[str, ColumnRef] = {}
    for ref in _scan(tokens)[0]:
        unique.setdefault(ref.text.lower(), ref)
    return list(unique.values())


def outer_column_references(text: str) -> list[ColumnRef]:
    """Names an expression reads from its own row, leaving out what its subqueries `(SELECT ...)`
    read from their tables (a row filter's lookup of another table, say)."""
    tokens, _ = tokenize(text)
    kept: list[Token] = []
    depth = 0  # parentheses open inside the subquery being skipped
    for i, token in enumerate(tokens):
        opens, closes = token.kind == "op" and token.text == "(", token.kind == "op" and token.text == ")"
        if depth:
            depth += opens - closes
            if not depth:
                kept.append(token)
            continue
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if opens and nxt is not None and nxt.kind == "ident" and nxt.text.lower() in ("select", "with"):
            depth = 1
        kept.append(token)
    unique: dict[str, ColumnRef] = {}
    for ref in _scan(kept)[0]:
        unique.setdefault(ref.text.lower(), ref)
    return list(unique.values())


def expression_problems(text: str) -> list[tuple[str, str]]:
    """(message, fix) for unbalanced quotes/parentheses and unknown function names."""
    tokens, errors = tokenize(text)
    problems = [(message, "close every quote and parenthesis") for _, message in errors]
    functions = known_functions()
    if functions:
        for call in _scan(tokens)[1]:
            name = call.text.lower()
            if name not in functions and name not in _SYNTAX_FUNCTIONS:
                problems.append((f"unknown SQL function {call.text!r}", _function_fix(name, functions)))
    return problems


def _function_fix(name: str, functions: frozenset[str]) -> str:
    close = close_matches(name, functions, n=3)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    return f"{hint}only Spark SQL built-in functions are known (medallion/specs/spark_functions.txt)"


def table_references(
    sql: str, extra_layers: tuple[str, ...] = ()
) -> tuple[list[TableRef], list[tuple[int, str, str]]]:
    """`${layer}.table` references of gold SQL, plus (line, message, fix) for bad placeholders or quotes.

    `extra_layers` are more placeholders that name tables the same way (a keys SQL's `${changes}`).
    """
    known = (*PLACEHOLDERS, *extra_layers)
    tokens, errors = tokenize(sql)
    problems = [(line, message, "close every quote, comment and parenthesis") for line, message in errors]
    refs: list[TableRef] = []
    for i, token in enumerate(tokens):
        if token.kind != "placeholder":
            continue
        if token.text not in known:
            problems.append(
                (
                    token.line,
                    f"unknown placeholder ${{{token.text}}}",
                    f"use one of {', '.join('${' + p + '}' for p in known)}",
                )
            )
            continue
        if token.text not in (*LAYER_PLACEHOLDERS, *extra_layers):
            continue
        dot = tokens[i + 1] if i + 1 < len(tokens) else None
        name = tokens[i + 2] if i + 2 < len(tokens) else None
        if dot is None or dot.text != "." or name is None or name.kind not in ("ident", "quoted"):
            problems.append(
                (
                    token.line,
                    f"${{{token.text}}} is not followed by .<table>",
                    f"write ${{{token.text}}}.table_name",
                )
            )
            continue
        refs.append(TableRef(token.text, name.text, token.line))
    return refs, problems


def data_type_problem(text: str) -> tuple[str, str] | None:
    """(message, fix) when `text` is not a Spark SQL type the pipeline can cast to, else None."""
    lowered = text.strip().lower()
    if lowered in _SIMPLE_TYPES:
        return None
    match = _DECIMAL.match(lowered)
    if not match:
        return f"unknown data type {text!r}", TYPE_FIX
    precision = int(match.group(1))
    scale = int(match.group(2) or 0)
    if not 1 <= precision <= 38 or not 0 <= scale <= precision:
        return (
            f"{text!r} is out of range",
            "decimal(p,s) needs precision p from 1 to 38 and scale s from 0 to p",
        )
    return None
