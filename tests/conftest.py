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
def spark_session(tmp_path_factory):
    """One local Spark for the whole run (tuned for tiny data: spark_settings.py), warehouse and
    metastore in a temp folder."""
    from spark_settings import TEST_JAVA_OPTIONS, TEST_SPARK_CONF

    from medallion.runtime.session import local_spark

    session = local_spark(
        tmp_path_factory.mktemp("lakehouse"),
        app_name="medallion-tests",
        conf=TEST_SPARK_CONF,
        java_options=TEST_JAVA_OPTIONS,
    )
    yield session
    session.stop()


@pytest.fixture
def spark(request, spark_session):
    """The session's Spark, for tests marked `spark` only: `make test-unit` runs `-m "not spark"`
    and must never start a JVM."""
    if request.node.get_closest_marker("spark") is None:
        pytest.fail(f"{request.node.nodeid} uses Spark: mark it (pytestmark = pytest.mark.spark)")
    return spark_session


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
