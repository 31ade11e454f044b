"""medallion: spec-driven bronze/silver/gold tables for Databricks, runnable locally."""

__version__ = "0.1.0"

__all__ = ["__version__"]
