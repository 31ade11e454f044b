"""The one line of an error that the CLI and the run records show (medallion.errors.summary_line)."""

from medallion.errors import summary_line

SPARK_ERROR = """
  [DELTA_CHANGE_DATA_FEED_NOT_ENABLED] ... SQLSTATE: 42807

JVM stacktrace:
org.apache.spark.sql.delta.DeltaAnalysisException: [FAILED_READ_FILE.FILE_NOT_EXIST] gone
\tat org.apache.spark.sql.delta...
"""


def test_the_first_line_with_text_is_the_summary():
    assert summary_line(ValueError(SPARK_ERROR)) == "[DELTA_CHANGE_DATA_FEED_NOT_ENABLED] ... SQLSTATE: 42807"


def test_a_preferred_marker_picks_its_line():
    line = summary_line(ValueError(SPARK_ERROR), prefer=("FAILED_READ_FILE",))
    assert line == "org.apache.spark.sql.delta.DeltaAnalysisException: [FAILED_READ_FILE.FILE_NOT_EXIST] gone"


def test_an_error_without_text_is_named_by_its_class():
    assert summary_line(KeyError()) == "KeyError"
    assert summary_line(RuntimeError("  \n ")) == "RuntimeError"
