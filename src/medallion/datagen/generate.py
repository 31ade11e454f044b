"""`generate_data`: settings + parameters in, landing files and an anomaly manifest out.

Same arguments give byte-identical files, and files whose bytes would not change are left alone.
Different `--rows`/`--batches` may give other file names: earlier files are then reported as
stale and left in place (delete them if the ingest must not see them).
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from medallion.datagen.entities import EntityRuntime
from medallion.datagen.settings import Settings, load_settings
from medallion.datagen.store import World
from medallion.datagen.timeline import split_range
from medallion.datagen.writer import TMP_DIR, publish_text
from medallion.errors import ParameterError

__all__ = ["MANIFEST", "GenerationReport", "generate_data"]

log = logging.getLogger(__name__)

MANIFEST = "_manifests/anomalies.json"  # outside every entity folder: never ingested
MAX_ROWS = 100_000_000


@dataclass
class EntityCounts:
    """Rows written for one entity over all drops."""

    inserts: int = 0
    updates: int = 0
    deletes: int = 0
    anomalies: int = 0
    files: int = 0
    reinserts: int = 0  # of the inserts: keys deleted in an earlier drop that came back
    late: int = 0  # of the updates: delivered one drop after the drop their time belongs to

    @property
    def rows(self) -> int:
        return self.inserts + self.updates + self.deletes


@dataclass
class GenerationReport:
    """What a run wrote: every file, which of them changed, rows per entity, the manifest."""

    landing_root: Path
    files: list[Path] = field(default_factory=list)
    changed: list[Path] = field(default_factory=list)
    entities: dict[str, EntityCounts] = field(default_factory=dict)
    manifest: Path | None = None
    anomalies: int = 0
    stale: list[Path] = field(default_factory=list)
    manifest_changed: bool = False

    @property
    def rows(self) -> dict[str, int]:
        """Valid rows (inserts + updates + deletes) per entity."""
        return {name: c.rows for name, c in self.entities.items()}

    def summary(self) -> str:
        untouched = len(self.files) - len(self.changed)
        lines = [
            f"landing root {self.landing_root}: {len(self.files)} files, {len(self.changed)} written, "
            f"{untouched} left untouched (same bytes)"
        ]
        for name, c in self.entities.items():
            feed = f", {c.reinserts:,} reinserted, {c.late:,} late" if c.reinserts or c.late else ""
            lines.append(
                f"  {name:<16} {c.files:>3} files {c.rows:>11,} rows ({c.inserts:,} new, "
                f"{c.updates:,} updated, {c.deletes:,} deleted{feed}, {c.anomalies:,} bad)"
            )
        if self.manifest is not None:
            state = "written" if self.manifest_changed else "unchanged"
            lines.append(f"anomaly manifest: {self.manifest} ({self.anomalies} bad rows, {state})")
        if self.stale:
            lines.append(
                f"{len(self.stale)} files from an earlier run with other arguments were left in place:"
            )
            lines += [f"  {p}" for p in self.stale]
        return "\n".join(lines)


def generate_data(
    settings_path: Path,
    landing_root: Path,
    *,
    rows: int,
    seed: int,
    start_date: date,
    end_date: date,
    batches: int,
    anomalies: bool,
) -> GenerationReport:
    """Write `batches` landing drops over [start_date, end_date]; `rows` driver rows in the first drop."""
    _check_parameters(settings_path, landing_root, rows, seed, start_date, end_date, batches)
    settings = load_settings(Path(settings_path))
    root = Path(landing_root)
    root.mkdir(parents=True, exist_ok=True)
    world = World(settings, seed, _kept(settings, batches))
    config = (settings.anomaly_rows_per_kind, end_date) if anomalies else None
    runtimes = {e.name: EntityRuntime(e, world, root, config) for e in settings.entities}
    for e in settings.entities:
        if e.rows.parent:
            runtimes[e.rows.parent].children.append(runtimes[e.name])
    for rt in runtimes.values():
        rt.lead = rt.earliest_child()
    try:
        for sl in split_range(start_date, end_date, batches):
            world.start_drop(sl.start)
            for e in settings.entities:
                if not e.is_child:
                    runtimes[e.name].run_drop(sl, rows, start_date, final=sl.number == batches)
            log.info("drop %d/%d (%s..%s) written", sl.number, batches, sl.first_day, sl.last_day)
    finally:
        shutil.rmtree(root / TMP_DIR, ignore_errors=True)
    report = _report(root, settings, runtimes)
    _manifest(report, runtimes, anomalies, dict(seed=seed, rows=rows, batches=batches,
              start_date=start_date.isoformat(), end_date=end_date.isoformat()))  # fmt: skip
    return report


def _check_parameters(settings_path, landing_root, rows, seed, start, end, batches) -> None:
    def whole(name: str, value, low: int, high: int | None = None) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParameterError(f"{name} must be a whole number, got {value!r}")
        if value < low or (high is not None and value > high):
            raise ParameterError(f"{name} must be between {low:,} and {high:,}, got {value:,}" if high
                                 else f"{name} must be >= {low}, got {value}")  # fmt: skip

    whole("--rows", rows, 1, MAX_ROWS)
    whole("--seed", seed, -(2**63), 2**63)
    whole("--batches", batches, 1, 10_000)
    if not isinstance(start, date) or not isinstance(end, date):
        raise ParameterError("--start-date and --end-date must be dates (YYYY-MM-DD)")
    if start > end:
        raise ParameterError(f"--start-date {start} is after --end-date {end}")
    days = (end - start).days + 1
    if batches > days:
        raise ParameterError(
            f"--batches {batches} is more than the {days} days from {start} to {end}; one drop needs one day"
        )
    if not Path(settings_path).is_file():
        raise ParameterError(f"settings file not found: {settings_path}")
    if Path(landing_root).exists() and not Path(landing_root).is_dir():
        raise ParameterError(f"landing root is not a folder: {landing_root}")


def _kept(settings: Settings, batches: int) -> set[str]:
    """Entities whose rows must stay in memory: referenced ones, and changing ones if there are later drops."""
    keep = set()
    for e in settings.entities:
        for c in e.columns:
            if c.kind == "reference":
                keep.add(c.options["entity"])
        if batches > 1 and (e.changes.update or e.changes.delete):
            keep.add(e.name)
    return keep


def _report(root: Path, settings: Settings, runtimes: dict[str, EntityRuntime]) -> GenerationReport:
    report = GenerationReport(root)
    written = set()
    for e in settings.entities:
        rt = runtimes[e.name]
        counts = EntityCounts(
            rt.counts["insert"], rt.counts["update"], rt.counts["delete"], len(rt.anomalies), len(rt.files),
            rt.counts["reinsert"], rt.counts["late"],
        )  # fmt: skip
        report.entities[e.name] = counts
        for path, changed, _ in rt.files:
            report.files.append(path)
            written.add(path)
            if changed:
                report.changed.append(path)
        pattern = re.compile(rf"{re.escape(e.name)}_\d{{4}}_\d{{8}}\.{e.format}")
        folder = root / e.landing_folder
        if folder.is_dir():
            report.stale += sorted(
                p for p in folder.iterdir() if pattern.fullmatch(p.name) and p not in written
            )
    for path in report.stale:
        log.warning("stale landing file from an earlier run left in place: %s", path)
    return report


def _manifest(
    report: GenerationReport, runtimes: dict[str, EntityRuntime], enabled: bool, params: dict
) -> None:
    path = report.landing_root / MANIFEST
    if not enabled:
        if path.exists():
            path.unlink()
            log.info("removed stale anomaly manifest %s", path)
        return
    found = sorted((a for rt in runtimes.values() for a in rt.anomalies), key=lambda a: (a.file, a.line))
    doc = {"generator": "medallion.datagen", "parameters": params, "anomalies": [a.to_json() for a in found]}
    text = json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    report.manifest_changed = publish_text(report.landing_root, MANIFEST, text)
    shutil.rmtree(report.landing_root / TMP_DIR, ignore_errors=True)
    report.manifest = path
    report.anomalies = len(found)
