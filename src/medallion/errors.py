"""One error tree for the whole package.

Everything a user can cause (a bad spec, a bad parameter, bad data) raises a subclass of
`MedallionError` whose message says what is wrong and how to fix it. The CLI prints those
messages without a traceback; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BundleConfigError",
    "DataError",
    "DataQualityError",
    "JobRunError",
    "MedallionError",
    "ParameterError",
    "SchemaDriftError",
    "SpecDriftError",
    "SpecError",
    "SpecProblem",
    "summary_line",
]


def summary_line(exc: BaseException, prefer: tuple[str, ...] = ()) -> str:
    """The line of an error worth showing a user: Spark's errors put the condition and message on the
    first line and the JVM stack after it. A line holding one of `prefer` wins over the first."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    preferred = [line for line in lines if any(marker in line for marker in prefer)]
    return (preferred or lines or [type(exc).__name__])[0]


class MedallionError(Exception):
    """Base of every error a user can cause and fix."""


@dataclass(frozen=True, order=True)
class SpecProblem:
    """One problem in one spec cell: `file:row:column: message (fix)`.

    `row` is the 1-based line number in the file as a spreadsheet shows it (the header is row 1);
    0 means the file as a whole. `column` is the header name, or "" for the whole row.
    """

    file: str
    row: int
    column: str
    message: str
    fix: str = ""

    def __str__(self) -> str:
        where = self.file
        if self.row:
            where += f":{self.row}"
        if self.column:
            where += f":{self.column}"
        return f"{where}: {self.message}" + (f" ({self.fix})" if self.fix else "")


class SpecError(MedallionError):
    """The specs hold one or more problems; all of them are listed."""

    def __init__(self, problems: list[SpecProblem]):
        self.problems = sorted(problems)
        count = len(self.problems)
        lines = [f"{count} problem{'s' if count != 1 else ''} in the specs:"]
        lines += [f"  {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class BundleConfigError(MedallionError):
    """databricks.yml, resources/*.yml or local.yml cannot be read or resolved."""


class ParameterError(MedallionError):
    """A widget, job parameter or CLI option has a value that cannot be used."""


class DataError(MedallionError):
    """The data itself breaks a rule the pipeline relies on (e.g. two versions of one key tie)."""


class DataQualityError(DataError):
    """A data-quality rule or alert with action `fail` was breached; the message names it."""


class SchemaDriftError(DataError):
    """A landing file has fields its source does not declare, and the source's policy is `fail`."""


class SpecDriftError(MedallionError):
    """A table was built from a spec whose shape (keys, sequence, tracked columns...) has changed."""


class JobRunError(MedallionError):
    """A task of the local job run failed; the message names the task and notebook."""
