"""`medallion validate` exits 2 with readable problems (never a traceback) and 0 on good specs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "specs"


def _project(tmp_path: Path) -> Path:
    (tmp_path / "databricks.yml").write_text("bundle:\n  name: spec_test\n")
    shutil.copytree(FIXTURES / "valid", tmp_path / "specs")
    return tmp_path


def _validate(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "medallion.cli", "--project-dir", str(project), "validate"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_validate_ok(tmp_path: Path):
    result = _validate(_project(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "specs OK: 2 bronze, 2 silver, 2 gold tables" in result.stdout
    assert "security:" not in result.stdout  # no specs/security/ in this project


def test_validate_summarises_the_security_specs(project_root: Path):
    result = _validate(project_root)
    assert result.returncode == 0, result.stderr
    assert "security: 5 column masks, 2 protected tables, 8 tags, 16 grants" in result.stdout


@pytest.mark.parametrize(
    ("file", "content", "expected"),
    [
        (
            "columns.csv",
            "layer,table,column,data_type\nbronze,things,thing_id,strng\nsilver,dim_thing,thing_id,string,extra\n",
            "specs/columns.csv:2:data_type: unknown data type 'strng'",
        ),
        ("bronze_sources.csv", "", "specs/bronze_sources.csv: spec file is empty"),
        ("gold_tables.csv", b"table,sql_file\n\xff\xfe,x.sql\n", "specs/gold_tables.csv:2: not UTF-8 text"),
    ],
)
def test_validate_bad_specs_exit_2_without_traceback(tmp_path: Path, file: str, content, expected: str):
    project = _project(tmp_path)
    target = project / "specs" / file
    target.write_bytes(content) if isinstance(content, bytes) else target.write_text(content)
    result = _validate(project)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "problem" in result.stderr.splitlines()[0]
    assert expected in result.stderr


def test_validate_imports_neither_spark_nor_dqx(tmp_path: Path):
    """Spark means a JVM and DQX seconds of imports: a pre-commit check needs neither."""
    code = (
        "import sys; import medallion.cli; from medallion.specs import load_specs; "
        f"specs = load_specs({str(FIXTURES / 'valid')!r}); assert any(t.rules for t in specs.silver); "
        "print(sorted(m for m in ('pyspark', 'databricks.labs.dqx', 'databricks.sdk') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"
