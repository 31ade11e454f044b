"""Data quality: spec'd rules run through DQX on every silver batch, with quarantine, run records,
metrics history, alerts, replay and a report. See docs/data-quality.md.

Modules: `engine` (the DQX engine, offline when there is no workspace), `checks` (rules of a
table -> checked rows), `records` (`dq_metrics`, `dq_alerts`), `alerts`, `report`. Builds on the
Delta plumbing (`medallion.delta`); the silver layer calls it for every batch, and the replay of
quarantined rows (`medallion.layers.requeue`) goes through the same path.
"""
