"""Regenerate src/medallion/specs/dqx_checks.json from the installed DQX.

`medallion validate` checks data-quality rules without importing DQX (its import costs seconds: it
brings the Databricks SDK, pandas and SQLAlchemy), so it reads this snapshot of DQX's check functions
and their parameters. The job still validates every check with DQX itself when a quality run starts.
A unit test fails when the snapshot differs from the installed DQX; run this after upgrading it:

    .venv/bin/python scripts/refresh_dqx_checks.py
"""

from __future__ import annotations

import sys

from medallion.quality.dqx_snapshot import snapshot_text
from medallion.specs.dqx_checks import SNAPSHOT


def main() -> int:
    SNAPSHOT.write_text(snapshot_text(), encoding="utf-8")
    print(f"wrote {SNAPSHOT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
