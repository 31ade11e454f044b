"""Readers shared by the datagen tests: landing files back into rows, the demo settings, the spec columns."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

from medallion.datagen import generate_data

ROOT = Path(__file__).resolve().parents[3]
SETTINGS = ROOT / "specs" / "sample_data.json"
START, END = date(2024, 1, 1), date(2024, 3, 31)


def run(landing: Path, *, rows: int = 60, seed: int = 7, batches: int = 3, anomalies: bool = False, **kw):
    settings = kw.pop("settings", SETTINGS)
    args = dict(rows=rows, seed=seed, start_date=START, end_date=END, batches=batches, anomalies=anomalies)
    args.update(kw)
    return generate_data(settings, landing, **args)


def settings_raw() -> dict:
    return json.loads(SETTINGS.read_text())


def bronze_columns() -> dict[str, list[str]]:
    """Bronze columns per table from specs/columns.csv, in file order."""
    out: dict[str, list[str]] = {}
    with open(ROOT / "specs" / "columns.csv", newline="") as fh:
        for rec in csv.DictReader(fh):
            if rec["layer"] == "bronze":
                out.setdefault(rec["table"], []).append(rec["column"])
    return out


def all_bytes(landing: Path) -> dict[str, bytes]:
    return {str(p.relative_to(landing)): p.read_bytes() for p in sorted(landing.rglob("*")) if p.is_file()}


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")[:-1]


def parse_line(path: Path, text: str, header: list[str] | None) -> dict:
    """One landing line as a dict (CSV empty field -> None, like a null)."""
    if path.suffix == ".json":
        return json.loads(text)
    values = next(csv.reader([text]))
    return {k: (v if v != "" else None) for k, v in zip(header, values, strict=True)}


def read_entity(
    landing: Path, entity: str, skip: set[tuple[str, int]] = frozenset()
) -> list[tuple[str, int, dict]]:
    """(file, line, row) of every row of an entity in drop order, except the (file, line) pairs in `skip`."""
    out = []
    for path in sorted((landing / entity).glob(f"{entity}_*")):
        rel = str(path.relative_to(landing))
        text = lines(path)
        header = next(csv.reader([text[0]])) if path.suffix == ".csv" else None
        start = 2 if header else 1
        for n, line in enumerate(text[start - 1 :], start):
            if (rel, n) not in skip:
                out.append((rel, n, parse_line(path, line, header)))
    return out


def drop_of(file: str) -> int:
    """The drop number in a landing file name (`<entity>_<drop:04d>_<yyyymmdd>.<ext>`)."""
    return int(Path(file).name.rsplit("_", 2)[1])


def timelines(landing: Path, entity: str, key: str, skip=frozenset()) -> dict[str, list[dict]]:
    """Every event of each key sorted by `updated_at` (its business time), whichever drop delivered it."""
    out: dict[str, list[dict]] = {}
    for file, line, row in read_entity(landing, entity, skip):
        out.setdefault(row[key], []).append({**row, "_drop": drop_of(file), "_line": line})
    for events in out.values():
        events.sort(key=lambda r: r["updated_at"])
    return out


def valid_at(events: list[dict], ts: str) -> dict | None:
    """The version of a key valid at `ts` (its latest event at or before `ts`), None if not live then."""
    current = None
    for event in events:
        if event["updated_at"] > ts:
            break
        current = event
    return None if current is None or current["operation"] == "D" else current
