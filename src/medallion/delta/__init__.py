"""Delta plumbing under the layers: table existence and history (`tables`), a silver table and its
side tables with their stored shape (`silver_tables`), idempotent quarantine and warnings appends
(`side_tables`), run records (`run_records`), and reading tables for people (`query`).

Imports only `medallion.specs` and the base modules; data quality and the layers build on it.
"""
