"""The DQX engine: DQX's full engine on Databricks, its core engine offline.

DQX asks for a `WorkspaceClient` only to verify the workspace and send usage telemetry; applying
checks to a DataFrame needs no workspace. Locally there is none, so the engine is DQX's
`DQEngineCore` (the same checks, without the workspace features) over an autospec'd client (the
approach DQX's documentation gives for running without a workspace): every call on it is a no-op,
no network request is ever attempted, and no query plan is rendered for telemetry that would never
be sent (DQEngine explains each checked DataFrame for it: 0.7 s a call in a cold local run).
"""

from __future__ import annotations

import logging
from unittest.mock import create_autospec

from databricks.labs.dqx.config import ExtraParams
from databricks.labs.dqx.engine import DQEngine, DQEngineCore
from databricks.sdk import WorkspaceClient
from pyspark.sql import SparkSession

from medallion.environment import on_databricks, wants_databricks_connect

__all__ = ["dq_engine", "offline_workspace_client"]

log = logging.getLogger(__name__)


def offline_workspace_client() -> WorkspaceClient:
    """A WorkspaceClient with the real API surface whose calls do nothing (no network)."""
    return create_autospec(WorkspaceClient, instance=True)


def dq_engine(spark: SparkSession, run_id: str) -> DQEngine | DQEngineCore:
    """A DQX engine stamping `run_id` on every result (on Databricks, the job run id)."""
    params = ExtraParams(run_id_overwrite=run_id)
    if on_databricks() or wants_databricks_connect():
        return DQEngine(WorkspaceClient(), spark, extra_params=params)
    return DQEngineCore(offline_workspace_client(), spark, extra_params=params)
