"""The RunContext of a test lakehouse: local catalog, one schema per layer, folders under a temp dir."""

from __future__ import annotations

from pathlib import Path

from medallion.context import RunContext


def local_context(root: Path, prefix: str, specs_dir: Path | None = None) -> RunContext:
    """Schemas `<prefix>_bronze/_silver/_gold`; landing, checkpoints (and specs) under `root`."""
    return RunContext(
        target="test",
        catalog="spark_catalog",
        bronze_schema=f"{prefix}_bronze",
        silver_schema=f"{prefix}_silver",
        gold_schema=f"{prefix}_gold",
        landing_root=str(root / "landing"),
        checkpoint_root=str(root / "checkpoints"),
        specs_dir=str(specs_dir or root / "specs"),
    )
