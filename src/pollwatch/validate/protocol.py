"""The control relations of :mod:`pollwatch.validate.rules`, checked on observers' protocol copies.

One rule set for every path that receives a copy (docs/quickcount.md §5): the observation service
(``service.rules.protocol_flags``, one copy at a time), the quick count's CSV and database paths
(``quickcount.checks``) and the official results (:func:`pollwatch.validate.validate`). The
relations themselves, and their sources, are those of :data:`~pollwatch.validate.rules.RULES`;
this module only changes what a missing value means. In an official results file a protocol
line the file lacks is skipped and a null cell reads as 0; on a copy, a **blank cell is
missing**: a rule that reads it is not checked for that copy (and says so), it is never
evaluated with a 0 in its place.

A line absent from the copy altogether (no such key or column) is a line this protocol does not
have, as in ``validate``: sums such as ballots issued (early + in station + mobile) add the lines
present.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from pollwatch.errors import MissingFieldError
from pollwatch.i18n import note
from pollwatch.model import Candidate, Election, ElectionMeta
from pollwatch.model.fields import FIELD_BY_NAME
from pollwatch.validate.findings import either, missing_fields
from pollwatch.validate.rules import CANDIDATES, PROFILES, RULES

__all__ = ["COPY_EXTRA", "CopyChecks", "CopyFlag", "check_copy", "check_copies", "copy_rules"]

#: checked on copies besides the profile's rules (a copy may lack one of the lines that imply it)
COPY_EXTRA = ("votes_le_registered",)


def copy_rules(profile: str = "generic") -> tuple[str, ...]:
    """The rules checked on a copy: the profile's control relations and :data:`COPY_EXTRA`."""
    if profile not in PROFILES:
        raise ValueError(f"profile ({profile!r}) not recognised; must be one of {sorted(PROFILES)}")
    return PROFILES[profile] + COPY_EXTRA


@dataclass(frozen=True)
class CopyFlag:
    """A control relation a copy violates: row (0-based in the table), rule, expected, found."""

    row: int
    rule: str
    description: str
    relation: str  # "=" or "<="
    expected: int
    found: int

    @property
    def message(self) -> str:
        word = "expected" if self.relation == "=" else "at most"
        return f"{self.description}: {word} {self.expected:,}, found {self.found:,}"


@dataclass(frozen=True)
class CopyChecks:
    """Outcome of :func:`check_copies`.

    ``flags``: violations; ``checked``/``skipped``: rules run, and rules not run because the
    copies lack their lines (with the reason); ``blank``: ``(row, rule, columns)`` for each copy
    a rule could not check because a cell it reads is blank.
    """

    flags: tuple[CopyFlag, ...]
    checked: dict[str, str]
    skipped: dict[str, str]
    blank: tuple[tuple[int, str, tuple[str, ...]], ...] = field(default=())

    def rows(self) -> dict[int, list[CopyFlag]]:
        """Violations grouped by row."""
        out: dict[int, list[CopyFlag]] = {}
        for f in self.flags:
            out.setdefault(f.row, []).append(f)
        return out


def _as_election(table: pl.DataFrame, candidates: Sequence[str], profile: str) -> Election:
    """The copies as an Election (blank cells as 0: the rows with blanks are masked afterwards)."""
    cols: dict[str, pl.Series] = {
        "station_id": pl.Series("station_id", [str(i) for i in range(table.height)])
    }
    for c in table.columns:
        if c in FIELD_BY_NAME:
            cols[c] = table[c].cast(pl.Int64).fill_null(0).alias(c)
    cands = []
    for i, name in enumerate(candidates):
        cid = f"__cand_{i:03d}"
        cands.append(Candidate(cid, name))
        cols[cid] = table[name].cast(pl.Int64).fill_null(0).alias(cid)
    return Election(pl.DataFrame(cols), ElectionMeta(candidates=tuple(cands), profile=profile))


def check_copies(
    table: pl.DataFrame,
    candidates: Sequence[str],
    *,
    profile: str = "generic",
    rules: Sequence[str] | None = None,
) -> CopyChecks:
    """Check the protocol arithmetic of every copy in ``table``.

    Parameters
    ----------
    table : polars.DataFrame
        One row per copy; protocol lines under their model names (``valid``, ``invalid``,
        ``ballots_stationary_box`` …, nullable integers: null is a blank cell) and the columns
        named in ``candidates``. Other columns are ignored.
    candidates : sequence of str
        The candidate vote columns (all of the ballot's candidates, in any order).
    profile : {"generic", "RU", "AZ"}
        The country profile whose control relations apply (:data:`PROFILES`).
    rules : sequence of str, optional
        Exactly these rules instead of :func:`copy_rules` of the profile.

    Returns
    -------
    CopyChecks
        Violations per row and rule, the rules checked and skipped, and the copies a rule could
        not check because of a blank cell.
    """
    names = tuple(rules) if rules is not None else copy_rules(profile)
    unknown = [r for r in names if r not in RULES]
    if unknown:
        raise ValueError(f"rules {unknown} not recognised; known rules: {sorted(RULES)}")
    e = _as_election(table, candidates, profile)
    flags: list[CopyFlag] = []
    checked: dict[str, str] = {}
    skipped: dict[str, str] = {}
    blank: list[tuple[int, str, tuple[str, ...]]] = []
    for name in names:
        rule = RULES[name]
        missing = [f for f in rule.fields if not e.has(f)]
        if rule.any_fields and not any(e.has(f) for f in rule.any_fields):
            missing.append(either(rule.any_fields))
        if CANDIDATES in rule.reads and not candidates:
            missing.append(note("candidate votes"))
        if missing:
            skipped[name] = missing_fields(missing)
            continue
        try:
            mask, expected, found = rule.check(e)
        except MissingFieldError as exc:  # a line the rule needs beyond its declared fields
            skipped[name] = str(exc)
            continue
        checked[name] = rule.description
        read = [
            c
            for r in rule.reads
            for c in (candidates if r == CANDIDATES else [r])
            if c in table.columns
        ]
        nulls = (
            np.column_stack([table[c].is_null().to_numpy() for c in read])
            if read
            else np.zeros((table.height, 0), dtype=bool)
        )
        is_blank = nulls.any(axis=1)
        for i in np.flatnonzero(is_blank):
            blank.append((int(i), name, tuple(c for c, b in zip(read, nulls[i], strict=True) if b)))
        for i in np.flatnonzero(mask & ~is_blank):
            flags.append(
                CopyFlag(
                    int(i), name, rule.description, rule.relation, int(expected[i]), int(found[i])
                )
            )
    flags.sort(key=lambda f: (f.row, names.index(f.rule)))
    return CopyChecks(tuple(flags), checked, skipped, tuple(blank))


def check_copy(
    numbers: Mapping[str, int | None],
    votes: Mapping[str, int | None],
    *,
    profile: str = "generic",
    rules: Sequence[str] | None = None,
) -> list[CopyFlag]:
    """Check one copy: ``numbers`` by model line name, ``votes`` by candidate (None = blank).

    Keys that are not protocol lines are ignored; a line that is not a key is one the protocol
    does not have. The control relations are those of :func:`check_copies`.
    """
    row: dict[str, pl.Series] = {
        k: pl.Series(k, [v], dtype=pl.Int64) for k, v in numbers.items() if k in FIELD_BY_NAME
    }
    cands = [f"__vote_{i:03d}" for i in range(len(votes))]
    for cid, v in zip(cands, votes.values(), strict=True):
        row[cid] = pl.Series(cid, [v], dtype=pl.Int64)
    table = pl.DataFrame(row) if row else pl.DataFrame({"__empty": [0]})
    return list(check_copies(table, cands, profile=profile, rules=rules).flags)
