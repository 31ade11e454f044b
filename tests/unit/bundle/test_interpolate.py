"""`${...}` substitution rules."""

from __future__ import annotations

import pytest

from medallion.bundle.interpolate import key_path, references, substitute
from medallion.errors import BundleConfigError

VALUES = {"var.n": 4, "var.items": ["a", "b"], "var.flag": True, "bundle.name": "demo"}


def lookup(ref, where):
    return VALUES[ref]


def test_whole_reference_keeps_type():
    assert substitute("${var.n}", lookup, "f") == 4
    assert substitute("${var.items}", lookup, "f") == ["a", "b"]


def test_reference_in_text_is_rendered():
    assert substitute("x-${var.n}-${var.flag}-${bundle.name}", lookup, "f") == "x-4-true-demo"


def test_job_runtime_references_are_untouched():
    value = {"a": ["{{input}}", "${bundle.name}/{{job.parameters.x}}"]}
    assert substitute(value, lookup, "f") == {"a": ["{{input}}", "demo/{{job.parameters.x}}"]}


def test_complex_in_text_names_where():
    with pytest.raises(BundleConfigError, match=r"^f.k\[0\]: \$\{var.items\} is a complex value"):
        substitute({"k": ["x ${var.items}"]}, lookup, "f")


def test_references_and_key_path():
    assert references({"a": "${var.a} ${bundle.name}", "b": ["${var.c[0]}"]}) == [
        "var.a",
        "bundle.name",
        "var.c[0]",
    ]
    assert key_path("var.cfg.items[2]") == ["var", "cfg", "items", 2]
