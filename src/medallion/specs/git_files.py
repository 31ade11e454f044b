"""The specs folder as it was at a git ref, for `medallion specs diff --base <ref>`."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

from medallion.errors import ParameterError

__all__ = ["specs_at"]


def specs_at(root: Path, ref: str, into: Path, folder: str = "specs") -> Path | None:
    """Extract `folder` as of `ref` under `into`; None when the ref has no such folder."""
    known = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        capture_output=True,
        text=True,
    )
    if known.returncode != 0:
        raise ParameterError(
            f"--base {ref!r} is not a commit of {root} (fetch it first, e.g. git fetch origin main)"
        )
    listed = subprocess.run(
        ["git", "-C", str(root), "ls-tree", "-d", "--name-only", ref, folder], capture_output=True, text=True
    )
    if folder not in listed.stdout.split():
        return None
    archive = subprocess.run(
        ["git", "-C", str(root), "archive", "--format=tar", ref, folder], capture_output=True, check=True
    )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into / folder
