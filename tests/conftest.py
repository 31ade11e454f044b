"""Shared fixtures. One local Spark session for the whole test run (the JVM is the slow part)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """local[2], UI off, few shuffle partitions, warehouse and metastore in a temp folder."""
    from medallion.runtime.session import local_spark

    session = local_spark(
        tmp_path_factory.mktemp("lakehouse"),
        app_name="medallion-tests",
        conf={"spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2"},
    )
    yield session
    session.stop()


@pytest.fixture
def project_copy(tmp_path) -> Path:
    """A copy of the project's bundle, notebooks and specs to change freely in a test."""
    root = tmp_path / "project"
    root.mkdir()
    for name in ("databricks.yml", "local.yml"):
        shutil.copy(PROJECT_ROOT / name, root / name)
    for folder in ("resources", "notebooks", "specs"):
        shutil.copytree(PROJECT_ROOT / folder, root / folder)
    return root
