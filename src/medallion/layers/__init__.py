"""The medallion layers and their orchestration: bronze ingestion, the silver build (batch step,
writers per load pattern, SCD history, replay of quarantine), gold SQL, and the plan task.

Builds on data quality (`medallion.quality`) and the Delta plumbing (`medallion.delta`).
"""
