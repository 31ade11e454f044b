"""A batch's keys as SQL literals: one column, several columns, a MERGE target's alias."""

from __future__ import annotations

from datetime import date

from pyspark.sql.types import ArrayType, DateType, LongType, StringType

from medallion.delta.key_predicates import keys_predicate


def test_one_key_column_is_an_in_list_and_an_alias_qualifies_it():
    assert keys_predicate(["id"], [(1,), (2,)], [LongType()]) == "`id` IN (1, 2)"
    assert keys_predicate(["id"], [(1,)], [LongType()], "t") == "t.`id` IN (1)"


def test_several_key_columns_are_a_tuple_in_list_with_typed_literals():
    found = keys_predicate(["shop", "day"], [("a'b", date(2024, 1, 2))], [StringType(), DateType()], "t")
    assert found == "(t.`shop`, t.`day`) IN (('a\\'b', DATE'2024-01-02'))"
    assert keys_predicate(["shop", "day"], [], [StringType(), DateType()]) == "FALSE"


def test_a_key_type_without_literals_gives_no_predicate():
    assert keys_predicate(["tags"], [(["x"],)], [ArrayType(StringType())]) is None
