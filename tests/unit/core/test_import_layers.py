"""The package's imports flow one way: a module never imports from a layer above its own.

Layers, lowest first (docs/ARCHITECTURE.md): the base modules; spec parsing and configuration (no
Spark); the Delta plumbing; data quality; the medallion layers and their orchestration; the
entry points (CLI and local runtime). Type-only imports count too: they are dependencies all the
same. A function-local import must say why on its line or the line above (a `#` comment).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[3] / "src"
PACKAGE = SRC / "medallion"

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("base", ("medallion", "medallion.errors", "medallion.names", "medallion.environment", "medallion.logs")),
    (
        "specs and configuration",
        ("medallion.specs", "medallion.bundle", "medallion.context", "medallion.params", "medallion.datagen"),
    ),
    ("delta plumbing and Unity Catalog security", ("medallion.delta", "medallion.security")),
    ("data quality", ("medallion.quality",)),
    ("layers and orchestration", ("medallion.layers", "medallion.dashboards")),
    ("entry points", ("medallion.runtime", "medallion.cli")),
)


def layer_of(module: str) -> int:
    """The layer index of a dotted module name: its longest registered prefix."""
    best, level = "", -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
                best, level = prefix, index
    if level < 0:
        raise AssertionError(f"{module} is in no layer: add its package to LAYERS in {__file__}")
    return level


@dataclass(frozen=True)
class ImportLine:
    module: str  # the importing module
    imported: str  # the imported medallion module
    line: int
    local: bool  # inside a function
    text: str
    comment: bool  # a `#` comment on the line or just above the import block


def module_name(path: Path, root: Path = SRC) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, root: Path = SRC) -> list[ImportLine]:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    tree = ast.parse(text)
    module = module_name(path, root)
    local_nodes = {
        id(node)
        for func in ast.walk(tree)
        if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef))
        for node in ast.walk(func)
        if isinstance(node, (ast.Import, ast.ImportFrom))
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        first = node.lineno - 1
        above = first - 1
        while above >= 0 and lines[above].strip().startswith(("from ", "import ")):
            above -= 1  # the comment may sit above a block of imports
        comment = "#" in lines[first] or (above >= 0 and lines[above].strip().startswith("#"))
        for name in names:
            found.append(
                ImportLine(module, name, node.lineno, id(node) in local_nodes, lines[first].strip(), comment)
            )
    return found


def upward_imports(root: Path = SRC) -> list[str]:
    """Every import of a medallion module from a higher layer, as `module:line: text (why)`."""
    problems = []
    for path in sorted((root / "medallion").rglob("*.py")):
        for item in imports_of(path, root):
            if not item.imported.startswith("medallion"):
                continue
            target = _existing_module(item.imported, root)
            if target is None:
                continue
            if layer_of(target) > layer_of(item.module):
                problems.append(
                    f"{item.module}:{item.line}: {item.text} ({LAYERS[layer_of(item.module)][0]} imports "
                    f"{LAYERS[layer_of(target)][0]})"
                )
    return problems


def _existing_module(name: str, root: Path) -> str | None:
    """`name` if it is a module or package under `root`, else its parent (an imported attribute)."""
    for candidate in (name, name.rsplit(".", 1)[0]):
        path = root.joinpath(*candidate.split("."))
        if path.with_suffix(".py").is_file() or (path / "__init__.py").is_file():
            return candidate
    return None


def test_every_module_belongs_to_a_layer():
    for path in PACKAGE.rglob("*.py"):
        layer_of(module_name(path))


def test_no_module_imports_from_a_layer_above_it():
    assert upward_imports() == []


def test_a_function_local_import_says_why():
    silent = [
        f"{item.module}:{item.line}: {item.text}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for item in imports_of(path)
        if item.local and not item.comment
    ]
    assert silent == []


@pytest.mark.parametrize(
    ("where", "source", "upward"),
    [
        ("medallion/specs/bad.py", "from medallion.layers.silver import build\n", True),
        ("medallion/delta/bad.py", "def f():\n    from medallion.quality import checks  # lazy\n", True),
        (
            "medallion/specs/bad.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import medallion.cli\n",
            True,
        ),
        ("medallion/layers/fine.py", "from medallion.quality.checks import QualityRun\n", False),
    ],
)
def test_the_check_catches_a_new_upward_import(tmp_path: Path, where: str, source: str, upward: bool):
    """A copy of the package plus one offending module: the check must name it."""
    for folder in ("specs", "delta", "quality", "layers"):
        (tmp_path / "medallion" / folder).mkdir(parents=True)
        (tmp_path / "medallion" / folder / "__init__.py").write_text("")
    (tmp_path / "medallion" / "__init__.py").write_text("")
    for name in ("layers/silver.py", "quality/checks.py", "cli.py"):
        (tmp_path / "medallion" / name).write_text("")
    (tmp_path / where).write_text(source)
    problems = upward_imports(tmp_path)
    assert bool(problems) is upward, problems
    if upward:
        assert problems[0].startswith(module_name(tmp_path / where, tmp_path))
