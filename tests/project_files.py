"""Copies of the project's bundle for tests that change or run it in a folder of their own."""

from __future__ import annotations

import shutil
from pathlib import Path

BUNDLE_FILES = ("databricks.yml", "local.yml")
BUNDLE_FOLDERS = ("resources", "notebooks", "specs")


def copy_bundle(project_root: Path, project: Path) -> Path:
    """The bundle files, notebooks and specs of `project_root`, copied into `project` (created)."""
    project.mkdir(parents=True, exist_ok=True)
    for name in BUNDLE_FILES:
        shutil.copy(project_root / name, project / name)
    for folder in BUNDLE_FOLDERS:
        shutil.copytree(project_root / folder, project / folder)
    return project
