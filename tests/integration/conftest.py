"""Lakehouses built once per test session and read by many asserting tests."""

from __future__ import annotations

import pytest
from demo_job import DemoJob, build_demo_job


@pytest.fixture(scope="session")
def demo_job(spark_session, project_root, tmp_path_factory) -> DemoJob:
    """The demo specs' job run once on two generated drops, hand-written rows and a table added
    through spec rows only (tests/integration/demo_job.py)."""
    return build_demo_job(spark_session, project_root, tmp_path_factory.mktemp("demo_job"))
