"""`medallion dashboards build [--check]`: write (or compare) the generated dashboard files, so they
are committed and reviewed like code and CI fails when a spec changed without them."""

from __future__ import annotations

import json
from pathlib import Path

from medallion.dashboards.lvdash import lvdash
from medallion.dashboards.resources import HEADER, LVDASH_FOLDER, resources, to_yaml
from medallion.specs.dashboard_model import DashboardSpec

__all__ = ["RESOURCES_FILE", "generated_files", "stale_files", "write_files"]

RESOURCES_FILE = "resources/dashboards.yml"


def generated_files(specs: tuple[DashboardSpec, ...]) -> dict[str, str]:
    """Relative path -> content of every generated file."""
    files = {
        f"{LVDASH_FOLDER}/{spec.name}.lvdash.json": json.dumps(lvdash(spec), indent=2, ensure_ascii=False)
        + "\n"
        for spec in specs
    }
    files[RESOURCES_FILE] = HEADER + to_yaml(resources(specs)) + "\n"
    return files


def stale_files(root: Path, specs: tuple[DashboardSpec, ...]) -> list[str]:
    """Generated files that are missing or differ, and generated dashboards with no spec any more."""
    files = generated_files(specs)
    stale = [
        name
        for name, text in files.items()
        if not (root / name).is_file() or (root / name).read_text() != text
    ]
    folder = root / LVDASH_FOLDER
    stale += [
        f"{LVDASH_FOLDER}/{p.name}"
        for p in sorted(folder.glob("*.lvdash.json"))
        if f"{LVDASH_FOLDER}/{p.name}" not in files
    ]
    return stale


def write_files(root: Path, specs: tuple[DashboardSpec, ...]) -> list[str]:
    """Write what is stale (and remove dashboards whose spec is gone); returns what changed."""
    files = generated_files(specs)
    changed = stale_files(root, specs)
    for name in changed:
        path = root / name
        if name in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(files[name])
        else:
            path.unlink()
    return changed
