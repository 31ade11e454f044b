"""`medallion backup -t <target>`: the silver tables (with their change logs and quarantines) and the
gold tables copied to the target's backup schema, and `--restore` to put them back.

Each backup is one commit of `<backup schema>.<layer>__<table>`, so every earlier backup stays
readable by Delta time travel (`--restore --version N`). On Databricks the copy is a DEEP CLONE
(incremental: only new files are copied); locally it is a full copy. A backup also keeps the silver
streams' checkpoints (`<checkpoint_root>/_backup/<backup id>/`), named in the commit's metadata.

A restore writes the backed-up rows back into the existing tables (INSERT OVERWRITE: their
properties, masks and grants stay) and the silver streams back to where they were, each as a new
incarnation (medallion.layers.rollback explains why): the next run processes the bronze rows that
arrived since the backup, once. Gold is rebuilt by its next run.
"""

from __future__ import annotations

import json
import logging
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from delta.tables import DeltaTable
from pyspark.sql import SparkSession

from medallion.context import RunContext
from medallion.delta.silver_tables import SilverTarget
from medallion.delta.tables import current_version, table_exists
from medallion.environment import on_databricks
from medallion.errors import ParameterError
from medallion.names import INCARNATION_PROPERTY
from medallion.specs.model import Specs

__all__ = ["Copy", "backup_tables", "restore_tables"]

log = logging.getLogger(__name__)

BACKUPS = "_backup"  # under the checkpoint root: the silver checkpoints of each backup
BACKUP_KEY = "medallion_backup"  # in a backup commit's userMetadata: {"id", "source", "version"}


@dataclass(frozen=True)
class Copy:
    layer: str
    table: str
    source: str  # full name of the lakehouse table
    backup: str  # full name of its copy
    version: int  # source version copied (backup), or backup version restored (restore)

    def __str__(self) -> str:
        return f"{self.layer} {self.table}: {self.source} v{self.version} <-> {self.backup}"


def _pairs(ctx: RunContext, specs: Specs, schema: str) -> list[tuple[str, str, str, str]]:
    """(layer, table, source, backup) for every silver table, its side tables and every gold table."""
    pairs = []
    for spec in specs.silver:
        target = SilverTarget(ctx.table("silver", spec.table))
        for name in (target.name, target.changes, target.quarantine, target.warnings):
            table = name.rsplit(".", 1)[1].strip("`")
            pairs.append(("silver", table, name, f"`{ctx.catalog}`.`{schema}`.`silver__{table}`"))
    for spec in specs.gold:
        pairs.append(
            (
                "gold",
                spec.table,
                ctx.table("gold", spec.table),
                f"`{ctx.catalog}`.`{schema}`.`gold__{spec.table}`",
            )
        )
    return pairs


def backup_tables(spark: SparkSession, ctx: RunContext, specs: Specs, schema: str) -> list[Copy]:
    """Copy every existing silver and gold table into `schema`; returns what was copied."""
    backup_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    spark.sql(f"CREATE SCHEMA IF NOT EXISTS `{ctx.catalog}`.`{schema}`")
    copies = []
    for layer, table, source, backup in _pairs(ctx, specs, schema):
        if not table_exists(spark, source):
            continue
        version = current_version(spark, source)
        metadata = json.dumps({BACKUP_KEY: {"id": backup_id, "source": source, "version": version}})
        spark.conf.set("spark.databricks.delta.commitInfo.userMetadata", metadata)
        try:
            if on_databricks():
                spark.sql(f"CREATE OR REPLACE TABLE {backup} DEEP CLONE {source} VERSION AS OF {version}")
            else:
                spark.sql(
                    f"CREATE OR REPLACE TABLE {backup} USING DELTA AS SELECT * FROM {source} VERSION AS OF {version}"
                )
        finally:
            spark.conf.unset("spark.databricks.delta.commitInfo.userMetadata")
        copies.append(Copy(layer, table, source, backup, version))
    for spec in specs.silver:
        checkpoint = Path(ctx.checkpoint("silver", spec.table))
        if checkpoint.exists():
            shutil.copytree(
                checkpoint, Path(ctx.checkpoint_root) / BACKUPS / backup_id / "silver" / spec.table
            )
    log.info("backup %s: %d tables copied to %s", backup_id, len(copies), schema)
    return copies


def _backup_commit(spark: SparkSession, backup: str, version: int | None) -> dict:
    history = [r.asDict() for r in DeltaTable.forName(spark, backup).history(100).collect()]
    for commit in history:
        if version is None or commit["version"] == version:
            try:
                found = json.loads(commit.get("userMetadata") or "{}").get(BACKUP_KEY)
            except ValueError:
                found = None
            if found:
                return {**found, "backup_version": commit["version"]}
            if version is not None:
                break
    raise ParameterError(
        f"{backup} has no backup commit{'' if version is None else f' at version {version}'}"
    )


def restore_tables(
    spark: SparkSession, ctx: RunContext, specs: Specs, schema: str, *, version: int | None = None
) -> list[Copy]:
    """Write the backup (its latest commit, or `version` of each backup table) back into the tables."""
    restored, backup_ids = [], set()
    for layer, table, source, backup in _pairs(ctx, specs, schema):
        if not table_exists(spark, backup):
            continue
        commit = _backup_commit(spark, backup, version)
        backup_ids.add(commit["id"])
        if not table_exists(spark, source):
            spark.sql(
                f"CREATE TABLE {source} USING DELTA AS SELECT * FROM {backup} VERSION AS OF {commit['backup_version']}"
            )
        else:
            spark.sql(
                f"INSERT OVERWRITE {source} SELECT * FROM {backup} VERSION AS OF {commit['backup_version']}"
            )
        restored.append(Copy(layer, table, source, backup, commit["backup_version"]))
    if not restored:
        raise ParameterError(f"no backup tables in schema {schema} (run `medallion backup` first)")
    if len(backup_ids) > 1:
        log.warning("the restored tables come from different backups: %s", ", ".join(sorted(backup_ids)))
    for spec in specs.silver:
        _restart_silver(spark, ctx, spec.table, [i for i in backup_ids])
    return restored


def _restart_silver(spark: SparkSession, ctx: RunContext, table: str, backup_ids: list[str]) -> None:
    """The stream position kept with the backup, as a new incarnation of the restored table."""
    name = ctx.table("silver", table)
    if not table_exists(spark, name):
        return
    properties = {r["key"]: r["value"] for r in spark.sql(f"SHOW TBLPROPERTIES {name}").collect()}
    old, new = properties.get(INCARNATION_PROPERTY, ""), uuid.uuid4().hex
    spark.sql(f"ALTER TABLE {name} SET TBLPROPERTIES ('{INCARNATION_PROPERTY}' = '{new}')")
    for backup_id in backup_ids:
        kept = Path(ctx.checkpoint_root) / BACKUPS / backup_id / "silver" / table / old
        if old and kept.exists():
            shutil.copytree(kept, f"{ctx.checkpoint('silver', table)}/{new}")
            return
    log.warning("silver %s: no checkpoint kept with the backup; its next run reads all of bronze", table)
