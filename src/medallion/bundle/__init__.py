"""The Databricks Asset Bundle config (databricks.yml, resources/*.yml, local.yml) for local runs."""

from medallion.bundle.config import BundleConfig, load_bundle

__all__ = ["BundleConfig", "load_bundle"]
