"""Split a query at its top-level UNIONs, without a SQL engine.

A gold table's keys SQL is usually a UNION of cheap reads of the change feeds and costly joins with
whole silver tables. Run branch by branch, planning can stop as soon as the keys found already mean
a rebuild, before the costly branches run (medallion.layers.gold_refresh).
"""

from __future__ import annotations

from medallion.specs.sql_text import tokenize

__all__ = ["union_branches"]

# Top-level words that make a query more than a plain UNION of independent SELECTs: a CTE shared by
# the branches, other set operators, or a clause that applies to the whole union.
_NOT_SPLITTABLE = frozenset(
    {"with", "intersect", "except", "minus", "order", "sort", "cluster", "distribute", "limit", "offset"}
)


def union_branches(sql: str) -> list[str] | None:
    """The SELECTs joined by top-level `UNION` / `UNION ALL` / `UNION DISTINCT`, in order; None when
    the query is not such a union (one SELECT, a CTE, another set operator, an ORDER BY or LIMIT of
    the whole, a branch that does not start with SELECT, or text that does not tokenize cleanly)."""
    tokens, errors = tokenize(sql)
    if errors:
        return None
    depth, cuts = 0, []  # cuts: (start of UNION, end of UNION [ALL|DISTINCT])
    firsts = tokens[:1]  # each branch's first token
    for index, token in enumerate(tokens):
        if token.kind == "op":
            depth += {"(": 1, ")": -1}.get(token.text, 0)
            continue
        if depth or token.kind != "ident":
            continue
        word = token.text.lower()
        if word in _NOT_SPLITTABLE:
            return None
        if word == "union":
            last = index + 1 if _is_word(tokens, index + 1, ("all", "distinct")) else index
            cuts.append((token.start, tokens[last].start + len(tokens[last].text)))
            firsts.append(tokens[last + 1] if last + 1 < len(tokens) else None)
    if not cuts:
        return None
    if not all(
        first is not None and first.kind == "ident" and first.text.lower() == "select" for first in firsts
    ):
        return None  # a parenthesized or empty branch: run the query whole
    bounds = [0, *[edge for cut in cuts for edge in cut], len(sql)]
    return [sql[bounds[i] : bounds[i + 1]].strip() for i in range(0, len(bounds), 2)]


def _is_word(tokens: list, index: int, words: tuple[str, ...]) -> bool:
    return index < len(tokens) and tokens[index].kind == "ident" and tokens[index].text.lower() in words
