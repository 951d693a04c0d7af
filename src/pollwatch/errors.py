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

from pollwatch.i18n import N_, Note, note


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
        return str(self.as_note())

    def as_note(self) -> Note:
        """The issue as a :class:`pollwatch.i18n.Note`: its ``str`` is the English text (what
        ``str(issue)`` gives), said again in the report's language where it is shown."""
        where: str = self.source
        if self.line is not None:
            where = note(N_("{where}, line {line}"), where=where, line=self.line)
        if self.station_id is not None:
            where = note(N_("{where} (station {station})"), where=where, station=self.station_id)
        if self.column is not None:
            where = note(N_('{where}, column "{column}"'), where=where, column=self.column)
        text = note(N_("{where}: {message}"), where=where, message=self.message)
        if self.expected is not None and self.value is not None:
            text = note(
                N_("{text}: expected {expected}, got {value}"),
                text=text,
                expected=self.expected,
                value=repr(self.value),
            )
        elif self.expected is not None:
            text = note(N_("{text}: expected {expected}"), text=text, expected=self.expected)
        text = note(N_("{text}."), text=text)
        if self.hint:
            text = note(N_("{text}\n  Hint: {hint}"), text=text, hint=self.hint)
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


def _issue_key(issue: DataIssue) -> tuple:
    return (issue.source, issue.kind, issue.message, issue.hint)


def group_issues(issues: list[DataIssue]) -> list[list[DataIssue]]:
    """Issues of the same kind (same source, message and hint), in order of first appearance.

    A misread column gives one issue per row; grouping turns 100,000 identical lines into one.
    """
    groups: dict[tuple, list[DataIssue]] = {}
    for issue in issues:
        groups.setdefault(_issue_key(issue), []).append(issue)
    return list(groups.values())


def _example(issue: DataIssue, same_column: bool, same_expected: bool) -> str:
    parts = []
    if issue.line is not None:
        parts.append(f"line {issue.line}")
    if issue.station_id is not None:
        parts.append(f"station {issue.station_id}")
    if issue.column is not None and not same_column:
        parts.append(f'column "{issue.column}"')
    text = ", ".join(parts) or "(no line)"
    if issue.value is not None:
        text += f" got {issue.value!r}"
    if issue.expected is not None and not same_expected:
        text += f" (expected {issue.expected})"
    return text


def format_group(group: list[DataIssue], examples: int = 3) -> str:
    """One line for a kind of problem: where, what, how many, the first ``examples`` cases, the hint.

    A group of one is the issue's own ``str``.
    """
    first = group[0]
    if len(group) == 1:
        return str(first)
    n = len(group)
    same_column = all(i.column == first.column for i in group)
    same_expected = all(i.expected == first.expected for i in group)
    where = first.source + (
        f', column "{first.column}"' if same_column and first.column is not None else ""
    )
    text = f"{where}: {first.message} ({n:,} times)"
    if same_expected and first.expected is not None:
        text += f"; expected {first.expected}"
    text += "; e.g. " + "; ".join(_example(i, same_column, same_expected) for i in group[:examples])
    if n > examples:
        text += f"; … and {n - examples:,} more"
    text += "."
    if first.hint:
        text += f"\n  Hint: {first.hint}"
    return text


def format_issues(issues: list[DataIssue], max_kinds: int = 20) -> list[str]:
    """The grouped lines (one per kind, at most ``max_kinds``) that messages and the CLI print."""
    groups = group_issues(issues)
    lines = [format_group(g) for g in groups[:max_kinds]]
    if len(groups) > max_kinds:
        rest = sum(len(g) for g in groups[max_kinds:])
        lines.append(f"… and {len(groups) - max_kinds} more kinds of problem ({rest:,} problems)")
    return lines


class IngestError(InputDataError):
    """Reading a source found problems; ``issues`` lists every one of them.

    The message groups them: one line per kind of problem with its count and first three
    examples, so a column misread on every row gives one line, not one per station.
    """

    def __init__(self, source: str, issues: list[DataIssue], report=None) -> None:
        self.report = report
        n = len(issues)
        kinds = len(group_issues(issues))
        of_kinds = f" of {kinds} kinds" if kinds > 1 and kinds != n else ""
        shown = "\n".join(f"- {line}" for line in format_issues(issues))
        super().__init__(
            f"{source}: {n:,} problem{'s' if n != 1 else ''}{of_kinds} found while reading:\n{shown}",
            issues,
        )

    @property
    def groups(self) -> list[list[DataIssue]]:
        """The issues grouped by kind (see :func:`group_issues`)."""
        return group_issues(self.issues)


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
