"""Every name the runtime adds to the lakehouse, in one place.

Technical columns start with `_` so they never clash with spec'd columns (`columns.csv` names may not
start with it). Spec parsing, Delta plumbing, data quality and the layers all import from here, so a
rename is one edit.
"""

from __future__ import annotations

__all__ = [
    "ALERTS_TABLE",
    "BATCH_ID",
    "CHANGES_SUFFIX",
    "DQX_ERRORS",
    "DQX_WARNINGS",
    "FRESHNESS_RULE",
    "HIDDEN_FILE_PREFIXES",
    "INCARNATION_PROPERTY",
    "INGESTED_AT",
    "IS_DELETE",
    "LINEAGE_COLUMNS",
    "LINEAGE_TABLE",
    "LINEAGE_VIEW",
    "METRICS_TABLE",
    "OPERATIONS_TABLE",
    "OPS",
    "QUARANTINED_AT",
    "QUARANTINE_REASON",
    "QUARANTINE_SUFFIX",
    "RECORD_TABLES",
    "REQUEUE_ID",
    "RESCUED_DATA",
    "RUN_ID",
    "SECURITY_PROPERTY",
    "SNAPSHOT_PROPERTY",
    "SOURCE_FILE",
    "SOURCE_ROW",
    "STREAM_START_PROPERTY",
    "TABLE_PROPERTY_PREFIX",
    "TECHNICAL_PREFIX",
    "WARNED_AT",
    "WARNINGS_SUFFIX",
]

TECHNICAL_PREFIX = "_"  # spec expressions may read any column with this prefix
# Landing files and folders starting with these are not data (Spark's file sources skip them too).
HIDDEN_FILE_PREFIXES = (".", "_")

# Bronze: where and when a row arrived, and what of it did not fit the declared schema.
SOURCE_FILE = "_source_file"
INGESTED_AT = "_ingested_at"
RESCUED_DATA = "_rescued_data"
LINEAGE_COLUMNS = (SOURCE_FILE, INGESTED_AT)  # carried from bronze into silver and its side tables

# Silver: the delete flag of `delete_when`, and the bronze row as read (kept until the rules ran).
IS_DELETE = "_is_delete"
SOURCE_ROW = "_source_row"

# Data quality: DQX's result columns and what the quarantine and warnings tables add.
DQX_ERRORS = "_errors"
DQX_WARNINGS = "_warnings"
QUARANTINE_REASON = "_quarantine_reason"
RUN_ID = "_run_id"
BATCH_ID = "_batch_id"
QUARANTINED_AT = "_quarantined_at"
WARNED_AT = "_warned_at"
REQUEUE_ID = "_requeue_id"  # marks quarantined rows a replay has taken

# Side tables of a silver table `<name>`: `<name>_quarantine`, `<name>_changes`, `<name>_dq_warnings`.
QUARANTINE_SUFFIX = "_quarantine"
CHANGES_SUFFIX = "_changes"
WARNINGS_SUFFIX = "_dq_warnings"

# Run records and lineage, in the ops schema of the target (the `ops_schema` bundle variable);
# `${ops}` in dashboard SQL, `ctx.table(OPS, name)` in code.
OPS = "ops"
OPERATIONS_TABLE = "run_log"  # one row per table per task run, every layer and maintenance
METRICS_TABLE = "dq_metrics"
ALERTS_TABLE = "dq_alerts"
LINEAGE_TABLE = "lineage"
FRESHNESS_RULE = "freshness"  # the `rule` of a freshness SLA's breach in ALERTS_TABLE
# Their columns (Spark DDL): the writers create them so; dashboards over them are checked against them.
RECORD_TABLES = {
    OPERATIONS_TABLE: (
        "run_id string, table string, kind string, status string, rows_read long, rows_written long, "
        "rows_quarantined long, rows_duplicates long, rows_warned long, seconds double, message string, "
        "recorded_at timestamp, lineage array<struct<table: string, version: long, upstream: string, "
        "upstream_from: long, upstream_to: long>>"
    ),
    METRICS_TABLE: (
        "run_id string, table string, rule string, function string, criticality string, on_error string, "
        "rows_checked long, rows_failed long, rows_warned long, pass_rate double, recorded_at timestamp"
    ),
    ALERTS_TABLE: (
        "run_id string, table string, rule string, metric string, value double, threshold double, "
        "action string, spec_row int, description string, recorded_at timestamp"
    ),
    # A view of run_log's `lineage` column, one row per input of a version written: which landing files
    # fed a bronze version, which bronze versions a silver version, which silver versions a gold version
    # (`upstream` is a file path or `layer.table`; versions inclusive, null for a file).
    LINEAGE_TABLE: (
        "run_id string, table string, version long, upstream string, upstream_from long, "
        "upstream_to long, recorded_at timestamp"
    ),
}
LINEAGE_VIEW = (  # the SELECT of LINEAGE_TABLE over OPERATIONS_TABLE ({run_log}: its quoted name)
    "SELECT run_id, item.table, item.version, item.upstream, item.upstream_from, item.upstream_to, recorded_at "
    "FROM {run_log} LATERAL VIEW explode(lineage) AS item"
)

# Delta table properties the framework sets.
TABLE_PROPERTY_PREFIX = "medallion."
SNAPSHOT_PROPERTY = f"{TABLE_PROPERTY_PREFIX}snapshot.latest_sequence"
INCARNATION_PROPERTY = f"{TABLE_PROPERTY_PREFIX}incarnation"  # a silver table's id, new on every create
# "<incarnation>:<version>": where a new checkpoint of that incarnation starts reading bronze (rollback)
STREAM_START_PROPERTY = f"{TABLE_PROPERTY_PREFIX}stream_start"
SECURITY_PROPERTY = f"{TABLE_PROPERTY_PREFIX}security"  # fingerprint of the protection put on a new table
