"""The package as Databricks installs it: Python 3.12 (DBR 17.3 LTS / 18, serverless 4), ranges not pins."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser

import pytest
from bundle_harness import PROJECT
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """Built from a copy, so the build leaves nothing in the project folder."""
    src = tmp_path_factory.mktemp("wheel-src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(PROJECT / name, src / name)
    shutil.copytree(PROJECT / "src", src / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(src),
        ],
        check=True,
        timeout=300,
    )
    (built,) = out.glob("medallion-*.whl")
    return built


def metadata(wheel):
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return Parser().parsestr(archive.read(name).decode())


def test_wheel_accepts_the_python_of_databricks_runtime(wheel):
    requires = SpecifierSet(metadata(wheel)["Requires-Python"])
    assert requires.contains("3.12.3")  # DBR 17.3 LTS and serverless environment 4
    assert sys.version_info[:2] == (3, 12), "the venv runs the Python of Databricks Runtime"


def test_runtime_dependencies_are_ranges_that_leave_the_runtime_its_own_versions(wheel):
    runtime = [Requirement(r) for r in metadata(wheel).get_all("Requires-Dist") if "extra ==" not in r]
    # sqlglot: `medallion validate` follows gold SQL lineage to masked columns (pure Python).
    assert {r.name for r in runtime} == {
        "databricks-sdk",
        "databricks-labs-dqx",
        "faker",
        "pyyaml",
        "sqlglot",
    }
    for requirement in runtime:
        assert not [s for s in requirement.specifier if s.operator in ("==", "===")], requirement
    assert "pyspark" not in {r.name for r in runtime}, "Databricks brings its own Spark"


def test_wheel_installs_under_python_312(wheel, tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--no-deps",
            "--no-index",
            "--target",
            str(tmp_path / "site"),
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Would install medallion-" in proc.stdout
