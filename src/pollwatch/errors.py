"""Errors and warnings raised by pollwatch.

The tree::

    PollwatchError
    ├── InputDataError          bad input data; carries DataIssue objects
    │   ├── IngestError         one or more problems found while reading a source
    │   └── MissingFieldError   a method needs a protocol line the election lacks
    ├── ConfigError             a mapping file or setting is wrong
    └── CandidateError          a candidate name does not resolve to exactly one candidate

    SmallSampleWarning          legal but weak data: too few stations for the method
    DegenerateDataWarning       legal but degenerate data: e.g. constant turnout

Programmer misuse (a parameter out of range) raises ``ValueError`` naming the
parameter, its value and the allowed range, in the scipy style.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class DataIssue:
    """One problem in an input source: where, what was expected, what was found, how to fix it.

    ``line`` is 1-based as a spreadsheet shows it (the header is line 1).
    """

    source: str
    message: str
    line: int | None = None
    column: str | None = None
    station_id: str | None = None
    value: str | None = None
    expected: str | None = None
    hint: str | None = None
    kind: str = "error"

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where += f", line {self.line}"
        if self.station_id is not None:
            where += f" (station {self.station_id})"
        if self.column is not None:
            where += f', column "{self.column}"'
        text = f"{where}: {self.message}"
        if self.expected is not None and self.value is not None:
            text += f": expected {self.expected}, got {self.value!r}"
        elif self.expected is not None:
            text += f": expected {self.expected}"
        text += "."
        if self.hint:
            text += f"\n  Hint: {self.hint}"
        return text

    def to_dict(self) -> dict:
        return asdict(self)


class PollwatchError(Exception):
    """Base class of every error pollwatch raises on purpose."""


class InputDataError(PollwatchError):
    """The input data cannot be used as it is."""

    def __init__(self, message: str, issues: list[DataIssue] | None = None) -> None:
        super().__init__(message)
        self.issues = list(issues or [])


class IngestError(InputDataError):
    """Reading a source found problems; ``issues`` lists every one of them."""

    def __init__(self, source: str, issues: list[DataIssue], report=None) -> None:
        self.report = report
        shown = "\n".join(f"- {i}" for i in issues[:20])
        more = f"\n… and {len(issues) - 20} more" if len(issues) > 20 else ""
        n = len(issues)
        super().__init__(
            f"{source}: {n} problem{'s' if n != 1 else ''} found while reading:\n{shown}{more}",
            issues,
        )


class MissingFieldError(InputDataError):
    """A method needs a protocol line (field) that this election does not have."""


class ConfigError(PollwatchError):
    """A mapping file, preset or setting is wrong."""


class CandidateError(PollwatchError, KeyError):
    """A candidate reference does not match exactly one candidate."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class SmallSampleWarning(UserWarning):
    """Too few stations for the method to say much; the result carries a note."""


class DegenerateDataWarning(UserWarning):
    """The data are degenerate for the method (e.g. constant turnout); the result carries a note."""
