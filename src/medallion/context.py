"""Where a run reads and writes: catalog, schemas and folders of one target.

Built once per notebook from its widgets (see `params`) and passed to every layer function,
so framework code never hard-codes a catalog, schema or path.
"""

from __future__ import annotations

from dataclasses import dataclass

from medallion.names import OPS
from medallion.specs.model import LAYERS

__all__ = ["OPS", "RunContext"]


@dataclass(frozen=True)
class RunContext:
    target: str
    catalog: str
    bronze_schema: str
    silver_schema: str
    gold_schema: str
    landing_root: str
    checkpoint_root: str
    specs_dir: str
    security_schema: str = ""  # the mask and row-filter functions' schema ("" = each table's own)
    security_mode: str = "masks"  # policies.csv as column masks, or as ABAC policies ("policies")
    ops_schema: str = ""  # run log, quality records and lineage ("" = the silver schema)

    def schema(self, layer: str) -> str:
        """`catalog`.`schema` of a layer, or of the run records (`ops`)."""
        if layer == OPS:
            return f"`{self.catalog}`.`{self.ops_schema or self.silver_schema}`"
        if layer not in LAYERS:
            raise ValueError(f"unknown layer {layer!r}; expected one of {', '.join(LAYERS)}, {OPS}")
        return f"`{self.catalog}`.`{getattr(self, f'{layer}_schema')}`"

    def table(self, layer: str, name: str) -> str:
        """Three-part name of a table, quoted for SQL."""
        return f"{self.schema(layer)}.`{name}`"

    def placeholders(self) -> dict[str, str]:
        """Values for `${...}` in SQL specs: ${bronze}, ${silver}, ${gold}, ${ops}, ${catalog}."""
        values = {layer: self.schema(layer) for layer in (*LAYERS, OPS)}
        values["catalog"] = f"`{self.catalog}`"
        return values

    def checkpoint(self, layer: str, name: str) -> str:
        return f"{self.checkpoint_root.rstrip('/')}/{layer}/{name}"

    def landing(self, folder: str) -> str:
        return f"{self.landing_root.rstrip('/')}/{folder.strip('/')}"
