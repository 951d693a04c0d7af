"""A table of protocol-arithmetic findings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from pollwatch.i18n import N_, Note, note
from pollwatch.results import Summary

COLUMNS = {
    "rule": pl.Utf8,
    "station_id": pl.Utf8,
    "source_line": pl.Int64,
    "fields": pl.Utf8,
    "expected": pl.Utf8,
    "found": pl.Utf8,
    "difference": pl.Int64,
    "message": pl.Utf8,
}

#: a finding's message by the relation its rule checks (``rules._frame`` writes them; the
#: findings table keeps the English, :func:`message` says it again in a reader's language)
MESSAGES = {
    "=": N_("expected {expected}, found {found}"),
    "<=": N_("at most {expected}, found {found}"),
    ">=": N_("at least {expected}, found {found}"),
}


def message(row: Mapping[str, Any]) -> str:
    """A finding's message (a row of the findings table) as a :class:`~pollwatch.i18n.Note`
    when it is one of :data:`MESSAGES` filled with the row's ``expected`` and ``found`` (shown
    translated), else the stored text as it is (a table written by another version)."""
    stored = str(row.get("message") or "")
    for msgid in MESSAGES.values():
        said = note(msgid, expected=row.get("expected"), found=row.get("found"))
        if said == stored:
            return said
    return stored


def either(fields: Sequence[str]) -> str:
    """``a or b or c`` (any one of these lines), with "or" translatable where it is shown."""
    out: str = fields[0]
    for more in fields[1:]:
        out = note("{first} or {second}", first=out, second=more)
    return out


def missing_fields(missing: Sequence[str]) -> Note:
    """Why a rule was not checked: ``no registered, ballots_cast`` (the lines it lacks; each
    may be a Note, ``either`` or ``candidate votes``, said in words where it is shown)."""
    fields: str = missing[0]
    for more in missing[1:]:
        fields = note("{first}, {second}", first=fields, second=more)
    return note("no {fields}", fields=fields)


@dataclass(frozen=True)
class Findings:
    """Findings of :func:`pollwatch.validate.validate`, one row per (rule, station).

    ``checked`` maps each rule that could run to its description; ``skipped`` maps rules
    that could not run (fields absent) to the reason.
    """

    table: pl.DataFrame
    checked: dict[str, str]
    skipped: dict[str, str]
    profile: str

    def __len__(self) -> int:
        return self.table.height

    def counts(self) -> dict[str, int]:
        """Number of stations violating each rule that was checked (0 included)."""
        vc = self.table.group_by("rule").len()
        got = dict(zip(vc["rule"].to_list(), vc["len"].to_list(), strict=True))
        return {r: int(got.get(r, 0)) for r in self.checked}

    def for_rule(self, rule: str) -> pl.DataFrame:
        return self.table.filter(pl.col("rule") == rule)

    def stations(self) -> set[str]:
        return set(self.table["station_id"].to_list())

    def examples(self, n: int = 5) -> dict[str, list[dict]]:
        return {r: self.for_rule(r).head(n).to_dicts() for r in self.checked if self.counts()[r]}

    def write_csv(self, path: str | Path) -> None:
        self.table.write_csv(path)

    def to_dict(self) -> dict:
        return {
            "profile": self.profile,
            "counts": self.counts(),
            "checked": self.checked,
            "skipped": self.skipped,
            "examples": self.examples(3),
        }

    def summary(self) -> Summary:
        counts = self.counts()
        bad = {r: n for r, n in counts.items() if n}
        text = f"{len(self.checked)} protocol rules checked ({self.profile} profile); " + (
            f"{sum(bad.values()):,} violations at {len(self.stations()):,} stations."
            if bad
            else "no violations."
        )
        rows = [(r, f"{n:,}  — {self.checked[r]}") for r, n in counts.items()]
        notes = [
            note("not checked: {rule} ({why})", rule=r, why=why) for r, why in self.skipped.items()
        ]
        return Summary("Protocol arithmetic", text, rows, notes)

    def _repr_html_(self) -> str:
        return self.summary().as_html()


def empty_table() -> pl.DataFrame:
    return pl.DataFrame(schema=COLUMNS)
