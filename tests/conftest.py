"""Shared fixtures. One local Spark session for the whole test run (the JVM is the slow part)."""

from __future__ import annotations

from pathlib import Path

import pytest
from project_files import copy_bundle

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# `make test` runs two pytest-xdist workers (`-n 2`): each test file is one unit of work, so its module
# fixtures are built once. Files that share a session-scoped lakehouse or deployment form one unit,
# so that is built once too.
SHARED_FIXTURE_GROUPS = {
    "tests/integration/test_job_end_to_end.py": "built_lakehouses",
    "tests/integration/test_point_in_time.py": "built_lakehouses",
    "tests/integration/test_security_personas.py": "built_lakehouses",
    "tests/integration/test_dashboard_preview.py": "built_lakehouses",
    "tests/integration/test_history.py": "built_lakehouses",
    "tests/bundle/test_deploy.py": "deployment",
    "tests/bundle/test_deploy_check.py": "deployment",
    "tests/bundle/test_deploy_dashboards.py": "deployment",
}
# The slowest units start first (`--no-loadscope-reorder` keeps this order), so the long ones run
# beside many short ones instead of last and alone. Seconds are from `--durations` on a 2-core machine.
SLOWEST_FIRST = (
    "tests/integration/test_scd_crash.py",  # ~190 s, mostly in its own Spark subprocesses
    "built_lakehouses",  # ~200 s: the demo_job fixture and its tests
    "tests/scd/test_properties.py",  # ~110 s
    "tests/integration/test_scd_cases.py",  # ~80 s
    "tests/integration/test_quality_end_to_end.py",  # ~65 s
    "tests/integration/test_rollback_backup.py",  # ~45 s
    "tests/integration/test_schema_evolution.py",  # ~35 s
    "deployment",  # ~35 s
)


def work_unit(nodeid: str) -> str:
    """The unit of work a test belongs to: its shared fixture's group, else its file."""
    path = nodeid.split("::", 1)[0]
    return SHARED_FIXTURE_GROUPS.get(path, path)


def pytest_xdist_make_scheduler(config, log):
    """Schedule by `work_unit` (xdist's own `loadgroup` marks do not reach pytest 9's node ids)."""
    from xdist.scheduler import LoadScopeScheduling

    class WorkUnitScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return WorkUnitScheduling(config, log)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Slowest units first; a stable sort keeps the order within a unit and among the others."""
    rank = {unit: n for n, unit in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(work_unit(item.nodeid), len(rank)))


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
    return copy_bundle(PROJECT_ROOT, tmp_path / "project")
