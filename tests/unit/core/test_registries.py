"""The spec vocabulary that validate accepts matches what the runtime can execute."""

from medallion.layers.writers import WRITERS
from medallion.specs.load_patterns import LOAD_PATTERNS


def test_every_load_pattern_word_has_a_writer_and_every_writer_a_word():
    assert set(LOAD_PATTERNS) == set(WRITERS)
