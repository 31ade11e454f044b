"""Data quality: spec'd rules run through DQX on every silver batch, with quarantine, run records,
metrics history, alerts, replay and a report. See docs/data-quality.md.

Modules: `engine` (the DQX engine, offline when there is no workspace), `checks` (rules of a
table -> checked rows), `ledger` (operations and metrics tables), `alerts`, `requeue`, `report`.
"""
