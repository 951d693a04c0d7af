"""A table of protocol-arithmetic findings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

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
        notes = [f"not checked: {r} ({why})" for r, why in self.skipped.items()]
        return Summary("Protocol arithmetic", text, rows, notes)

    def _repr_html_(self) -> str:
        return self.summary().as_html()


def empty_table() -> pl.DataFrame:
    return pl.DataFrame(schema=COLUMNS)
