"""Which Spark the session helper picks, decided without starting a JVM."""

from __future__ import annotations

import sys
import types

import pytest

from medallion.environment import wants_databricks_connect


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("MEDALLION_SPARK", "DATABRICKS_HOST", "DATABRICKS_CONFIG_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_no_workspace_configured_means_local(clean_env):
    assert wants_databricks_connect() is False


def test_configured_workspace_without_databricks_connect_installed_stays_local(clean_env):
    clean_env.setenv("DATABRICKS_CONFIG_PROFILE", "dev")
    clean_env.setitem(sys.modules, "databricks.connect", None)  # import fails
    assert wants_databricks_connect() is False


def test_configured_workspace_with_databricks_connect_uses_it(clean_env):
    clean_env.setenv("DATABRICKS_HOST", "https://example.invalid")
    clean_env.setitem(sys.modules, "databricks.connect", types.ModuleType("databricks.connect"))
    assert wants_databricks_connect() is True


def test_medallion_spark_local_overrides_a_configured_workspace(clean_env):
    clean_env.setenv("DATABRICKS_HOST", "https://example.invalid")
    clean_env.setenv("MEDALLION_SPARK", "local")
    clean_env.setitem(sys.modules, "databricks.connect", types.ModuleType("databricks.connect"))
    assert wants_databricks_connect() is False
