"""The rules and the country profiles that select them.

Sources: Russian federal law 67-FZ control relations as used in docs/methods/reference-numbers.md §9;
Azerbaijani Election Code Art. 100.2 / 106 (docs/methods/quickcount-and-cameras.md §3.2).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from pollwatch.errors import MissingFieldError
from pollwatch.model import Election
from pollwatch.model.election import SOURCE_LINE
from pollwatch.model.fields import FIELD_BY_NAME
from pollwatch.validate.findings import (
    COLUMNS,
    MESSAGES,
    Findings,
    either,
    empty_table,
    missing_fields,
)

# A check returns (violation mask, expected values, found values) over all stations.
Check = Callable[[Election], tuple[np.ndarray, np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    fields: tuple[str, ...]  # all must be present for the rule to run
    check: Check
    relation: str = "="  # how expected and found should relate: "=" or "<="
    any_fields: tuple[str, ...] = ()  # at least one must be present
    #: every line the check reads (CANDIDATES: the vote columns). A copy with a blank cell in
    #: one of them cannot be checked by this rule (validate.protocol: blank is missing, not 0)
    reads: tuple[str, ...] = ()


def _f(e: Election, *names: str) -> np.ndarray:
    out = np.zeros(e.n_stations, dtype=np.int64)
    for n in names:
        if e.has(n):
            out += e.field(n)
    return out


def _eq(expected: np.ndarray, found: np.ndarray):
    return expected != found, expected, found


def _le(bound: np.ndarray, found: np.ndarray):
    return found > bound, bound, found


ISSUED = ("ballots_issued_early", "ballots_issued_station", "ballots_issued_mobile")
BOXES = ("ballots_mobile_box", "ballots_stationary_box")
CANDIDATES = "<candidates>"

RULES: dict[str, Rule] = {
    r.name: r
    for r in (
        Rule(
            "cast_equals_boxes",
            "valid + invalid = ballots in boxes",
            ("valid", "invalid"),
            lambda e: _eq(_f(e, *BOXES), e.ballots_cast()),
            "=",
            BOXES,
            reads=("valid", "invalid", *BOXES),
        ),
        Rule(
            "candidates_sum_valid",
            "sum of candidate votes = valid ballots",
            ("valid",),
            lambda e: _eq(e.field("valid"), e.votes_matrix().sum(axis=1)),
            reads=("valid", CANDIDATES),
        ),
        Rule(
            "boxes_le_issued",
            "ballots in boxes ≤ ballots issued (an excess means stuffing)",
            (),
            lambda e: _le(e.ballots_issued(), e.ballots_in_boxes()),
            "<=",
            ISSUED,
            reads=(*BOXES, *ISSUED),
        ),
        Rule(
            "issued_le_received",
            "ballots issued ≤ ballots received",
            ("ballots_received",),
            lambda e: _le(e.field("ballots_received"), e.ballots_issued()),
            "<=",
            ISSUED,
            reads=("ballots_received", *ISSUED),
        ),
        Rule(
            "turnout_le_100",
            "ballots issued and cast ≤ registered voters (turnout ≤ 100 %)",
            ("registered",),
            lambda e: _le(e.field("registered"), np.maximum(e.ballots_cast(), _f(e, *ISSUED))),
            reads=("registered", "valid", "invalid", *ISSUED),
        ),
        Rule(
            "ballots_balance_ru",
            "received = issued + cancelled + lost − not accounted on receipt",
            ("ballots_received", "ballots_cancelled"),
            lambda e: _eq(
                e.field("ballots_received"),
                e.ballots_issued()
                + _f(e, "ballots_cancelled", "ballots_lost")
                - _f(e, "ballots_unaccounted"),
            ),
            reads=(
                "ballots_received",
                *ISSUED,
                "ballots_cancelled",
                "ballots_lost",
                "ballots_unaccounted",
            ),
        ),
        Rule(
            "absentee_balance_ru",
            "absentee certificates received = issued here + cancelled + lost",
            ("absentee_received", "absentee_issued"),
            lambda e: _eq(
                e.field("absentee_received"),
                _f(e, "absentee_issued", "absentee_cancelled", "absentee_lost"),
            ),
            reads=("absentee_received", "absentee_issued", "absentee_cancelled", "absentee_lost"),
        ),
        Rule(
            "ballots_balance_az",
            "received = issued (station + mobile) + cancelled + spoilt (Art. 100.2)",
            ("ballots_received", "ballots_cancelled"),
            lambda e: _eq(
                e.field("ballots_received"),
                e.ballots_issued() + _f(e, "ballots_cancelled", "ballots_spoilt"),
            ),
            reads=("ballots_received", *ISSUED, "ballots_cancelled", "ballots_spoilt"),
        ),
        Rule(
            "mobile_box_le_requests",
            "ballots in the mobile box ≤ mobile requests (Art. 106.2 voids the box)",
            ("ballots_mobile_box", "mobile_requests"),
            lambda e: _le(e.field("mobile_requests"), e.field("ballots_mobile_box")),
            "<=",
            reads=("ballots_mobile_box", "mobile_requests"),
        ),
        Rule(
            "item1_identity_az",
            "item 1 = 1a + 1b + 1c − 1d (main + additional + cards used − cards taken)",
            ("registered", "registered_main", "additional_list"),
            lambda e: _eq(
                _f(e, "registered_main", "additional_list", "absentee_voted")
                - _f(e, "absentee_taken"),
                e.field("registered"),
            ),
            reads=(
                "registered",
                "registered_main",
                "additional_list",
                "absentee_voted",
                "absentee_taken",
            ),
        ),
    )
}

#: not in any profile (implied by candidates_sum_valid and turnout_le_100 together), but checked
#: on observers' copies, where either line may be blank
RULES["votes_le_registered"] = Rule(
    "votes_le_registered",
    "sum of candidate votes ≤ registered voters",
    ("registered",),
    lambda e: _le(e.field("registered"), e.votes_matrix().sum(axis=1)),
    "<=",
    reads=("registered", CANDIDATES),
)

GENERIC = (
    "cast_equals_boxes",
    "candidates_sum_valid",
    "boxes_le_issued",
    "issued_le_received",
    "turnout_le_100",
)
PROFILES: dict[str, tuple[str, ...]] = {
    "generic": GENERIC,
    "RU": GENERIC + ("ballots_balance_ru", "absentee_balance_ru"),
    "AZ": GENERIC + ("ballots_balance_az", "mobile_box_le_requests", "item1_identity_az"),
}


def _negative_findings(e: Election) -> pl.DataFrame:
    frames = []
    ids = e.table["station_id"]
    for col in [c for c in e.table.columns if c in FIELD_BY_NAME] + [c.id for c in e.candidates]:
        v = e.field(col)
        idx = np.flatnonzero(v < 0)
        if len(idx):
            name = (
                col if col in FIELD_BY_NAME else next(c.name for c in e.candidates if c.id == col)
            )
            frames.append(
                _frame(e, "nonnegative", idx, name, np.zeros(len(idx), np.int64), v[idx], ids, ">=")
            )
    return pl.concat(frames) if frames else empty_table()


def _frame(
    e: Election,
    rule: str,
    idx: np.ndarray,
    fields: str,
    expected: np.ndarray,
    found: np.ndarray,
    ids: pl.Series,
    relation: str,
) -> pl.DataFrame:
    lines = (
        e.table[SOURCE_LINE].gather(idx)
        if SOURCE_LINE in e.table.columns
        else pl.Series([None] * len(idx), dtype=pl.Int64)
    )
    exp_s = pl.Series(expected.astype(np.int64)).cast(pl.Utf8)
    found_s = pl.Series(found.astype(np.int64)).cast(pl.Utf8)
    return pl.DataFrame(
        {
            "rule": pl.Series([rule] * len(idx), dtype=pl.Utf8),
            "station_id": ids.gather(idx),
            "source_line": lines,
            "fields": pl.Series([fields] * len(idx), dtype=pl.Utf8),
            "expected": exp_s,
            "found": found_s,
            "difference": pl.Series((found - expected).astype(np.int64)),
            "message": pl.Series(
                [
                    MESSAGES[relation].format(expected=x, found=y)
                    for x, y in zip(exp_s.to_list(), found_s.to_list(), strict=True)
                ],
                dtype=pl.Utf8,
            ),
        },
        schema=COLUMNS,
    )


def validate(
    election: Election, profile: str | None = None, rules: tuple[str, ...] | None = None
) -> Findings:
    """Check the protocol arithmetic of every station.

    Each country profile lists the control relations its protocol must satisfy (valid +
    invalid = ballots in boxes, ballots in boxes <= ballots issued, …). A violation is a
    finding (rule, station, fields, expected, found), never a crash. Negative counts are
    always checked (rule ``nonnegative``); a rule whose fields the election lacks is listed
    as skipped with the reason.

    Parameters
    ----------
    election : Election
        The official results, from :func:`read_election`.
    profile : {"generic", "RU", "AZ"}, optional
        The country profile (default: the election's ``meta.profile``).
    rules : tuple of str, optional
        Run exactly these rules (names in ``RULES``) instead of the profile's.

    Returns
    -------
    Findings
        A columnar table of violations with per-rule counts, examples and the lists of
        rules checked and skipped.

    Raises
    ------
    ValueError
        If the profile or a rule name is unknown.

    Examples
    --------
    >>> from pollwatch import simulate_election, validate
    >>> findings = validate(simulate_election(1000, seed=1).election)
    >>> findings.counts()["boxes_le_issued"]
    0
    """
    profile = profile or election.meta.profile or "generic"
    if profile not in PROFILES and rules is None:
        raise ValueError(f"profile ({profile!r}) not recognised; must be one of {sorted(PROFILES)}")
    names = rules if rules is not None else PROFILES[profile]
    unknown = [r for r in names if r not in RULES]
    if unknown:
        raise ValueError(f"rules {unknown} not recognised; known rules: {sorted(RULES)}")
    ids = election.table["station_id"]
    frames = [_negative_findings(election)]
    checked = {"nonnegative": "no negative counts"}
    skipped: dict[str, str] = {}
    for name in names:
        rule = RULES[name]
        missing = [f for f in rule.fields if not election.has(f)]
        if rule.any_fields and not any(election.has(f) for f in rule.any_fields):
            missing.append(either(rule.any_fields))
        if missing:
            skipped[name] = missing_fields(missing)
            continue
        try:
            mask, expected, found = rule.check(election)
        except (
            MissingFieldError
        ) as exc:  # a line the rule needs beyond its declared fields (e.g. boxes)
            skipped[name] = str(exc)
            continue
        checked[name] = rule.description
        idx = np.flatnonzero(mask)
        if len(idx):
            frames.append(
                _frame(
                    election,
                    name,
                    idx,
                    rule.description,
                    expected[idx],
                    found[idx],
                    ids,
                    rule.relation,
                )
            )
    return Findings(pl.concat(frames), checked, skipped, profile)
