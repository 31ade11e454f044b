"""The load patterns: the one list of words a silver table's `load_pattern` may take, and what each
needs from its spec row.

Validation reads these declarations (no Spark); the writers in `medallion.layers.writers` register
against the same words, and a test keeps both sides equal.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LOAD_PATTERNS", "LoadPattern", "history_patterns", "plain_patterns"]


@dataclass(frozen=True)
class LoadPattern:
    """What a writer needs: keys to match rows, a sequence to order versions, deletes it can apply."""

    word: str
    summary: str
    needs_keys: bool = False
    needs_sequence: bool = False
    takes_delete_when: bool = False
    history: bool = False  # declared in scd_mappings.csv (with its history settings), not per row

    @property
    def needs(self) -> tuple[tuple[str, str], ...]:
        """(header, why) for every cell the pattern cannot do without."""
        out = []
        if self.needs_keys:
            out.append(("keys", "name the column(s) that identify a row, e.g. id"))
        if self.needs_sequence:
            out.append(("sequence_by", "name the column that orders changes, e.g. updated_at"))
        return tuple(out)


LOAD_PATTERNS: dict[str, LoadPattern] = {
    p.word: p
    for p in (
        LoadPattern("append", "append every new row as it is"),
        LoadPattern("overwrite", "replace the table with the newest file (each drop is a full snapshot)"),
        LoadPattern(
            "merge",
            "upsert the newest row per key; an older sequence never overwrites a newer one",
            needs_keys=True,
            needs_sequence=True,
            takes_delete_when=True,
        ),
        LoadPattern(
            "scd1",
            "latest version per key, from change events or snapshots",
            needs_keys=True,
            needs_sequence=True,
            takes_delete_when=True,
            history=True,
        ),
        LoadPattern(
            "scd2",
            "one row per version with validity columns",
            needs_keys=True,
            needs_sequence=True,
            takes_delete_when=True,
            history=True,
        ),
    )
}


def plain_patterns() -> tuple[str, ...]:
    """The words `incremental_load_patterns.csv` takes."""
    return tuple(word for word, p in LOAD_PATTERNS.items() if not p.history)


def history_patterns() -> tuple[str, ...]:
    """The words declared through `scd_mappings.csv`."""
    return tuple(word for word, p in LOAD_PATTERNS.items() if p.history)
