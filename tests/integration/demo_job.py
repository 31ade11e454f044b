"""The demo specs' job, run once per test session on generated data, for the tests that read it
(end to end, gold refreshed by key, point in time, lineage, security personas, dashboards). The
project also holds a table added through spec rows only and hand-written point-in-time rows
(`hand_rows.py`). The schemas are the fixture's own (BUNDLE_VAR_*), so a test running the job again
must set the same variables."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from hand_rows import add_kiosk_specs, write_hand_rows
from project_files import copy_bundle

from medallion.bundle import load_bundle
from medallion.datagen import generate_data
from medallion.runtime.runner import run_job


@dataclass
class DemoJob:
    bundle: object
    project: Path
    landing: Path
    schemas: dict[str, str]
    result: object


def build_demo_job(spark_session, project_root: Path, folder: Path) -> DemoJob:
    """The demo specs' job run once on two generated drops and the hand-written rows, in schemas of
    its own (BUNDLE_VAR_*)."""
    project = copy_bundle(project_root, folder / "project")
    add_kiosk_specs(project / "specs")
    schemas = {layer: f"demo_job_{layer}" for layer in ("bronze", "silver", "gold", "ops")}
    with pytest.MonkeyPatch.context() as patch:
        for layer, name in schemas.items():
            patch.setenv(f"BUNDLE_VAR_{layer}_schema", name)
        bundle = load_bundle(project)
        landing = Path(bundle.resolve_variables("dev", local=True)["landing_root"])
        generate_drops(project, landing, rows=300, seed=7, batches=2)
        write_hand_rows(landing)
        result = run_job(spark_session, bundle, "dev", echo=lambda *_: None)
        return DemoJob(bundle, project, landing, schemas, result)


def generate_drops(
    project: Path, landing: Path, *, rows: int, seed: int, batches: int, suffix: str = ""
) -> None:
    """Landing drops of the demo's sample data; with `suffix`, one more drop under new file names."""
    target = project / "later_drop" if suffix else landing
    generate_data(
        project / "specs" / "sample_data.json",
        target,
        rows=rows,
        seed=seed,
        start_date=date(2024, 1, 1),
        end_date=date(2024, 2, 29),
        batches=batches,
        anomalies=False,
    )
    if suffix:  # moved in as a later delivery would arrive: new files beside the earlier ones
        for file in sorted(target.rglob("*.csv")) + sorted(target.rglob("*.json")):
            if "_manifests" in file.parts:
                continue
            dest = landing / file.relative_to(target)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(file, dest.with_name(f"{dest.stem}{suffix}{dest.suffix}"))
        shutil.rmtree(target)
