"""Settings-driven sample data: landing files a source system would drop, optionally with bad rows.

The engine knows no business words; entities, columns and distributions come from a JSON
settings file (the demo's is specs/sample_data.json).
"""

from medallion.datagen.generate import MANIFEST, GenerationReport, generate_data
from medallion.datagen.problems import SettingsError
from medallion.datagen.settings import Settings, load_settings, parse_settings

__all__ = [
    "MANIFEST",
    "GenerationReport",
    "Settings",
    "SettingsError",
    "generate_data",
    "load_settings",
    "parse_settings",
]
