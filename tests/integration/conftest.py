"""Lakehouses built once per test session and read by many asserting tests."""

from __future__ import annotations

import pytest
from demo_job import DemoJob, build_demo_job
from small_job import SmallJob, build_small_job


@pytest.fixture(scope="session")
def small_job(spark_session, project_root, tmp_path_factory) -> SmallJob:
    """The bundle's job run once on hand-written rows plus a table added through spec rows only."""
    return build_small_job(spark_session, project_root, tmp_path_factory.mktemp("small_job"))


@pytest.fixture(scope="session")
def demo_job(spark_session, project_root, tmp_path_factory) -> DemoJob:
    """The demo specs' job run once on two generated drops (tests/integration/demo_job.py)."""
    return build_demo_job(spark_session, project_root, tmp_path_factory.mktemp("demo_job"))
