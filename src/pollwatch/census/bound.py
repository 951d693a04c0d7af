"""Worst-case bounds for published claims, from the collected sheets alone.

Method (``docs/census.md`` §3): the votes on usable sheets are facts; every vote that could lie
outside them (at most the registered voters of stations without a usable sheet, or, where the
station list is unknown, the claim's own total minus the collected votes) is given to whichever
side would make the claim true. If the claim is false even then, it is *impossible*, with no
sampling assumption: the argument the Venezuelan opposition's 2024 tally-sheet collection and
Belarusian observers' 2020 protocol photos rested on. The same logic for two candidates is
:func:`pollwatch.quickcount.tally_sheet_bound` (``docs/methods/quickcount-and-cameras.md``
§1.2 h); here it is applied to every claim in a claims file.

Verdicts: ``impossible`` (excluded by the worst case), ``consistent`` (inside the
coverage-corrected interval of :mod:`pollwatch.census.estimate`), ``unverifiable`` (possible in
the worst case, but the collection cannot confirm it: outside the corrected interval, which rests
on an assumption, or no estimate for that quantity, or not a final figure).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pollwatch.census.estimate import CensusEstimate
from pollwatch.claims.model import Claim
from pollwatch.i18n import N_, gettext, note, translated
from pollwatch.results import ResultMixin, Summary, fmt_int

__all__ = ["ClaimVerdict", "WorstCase", "judge_claims", "worst_case"]

VERDICTS = ("impossible", "consistent", "unverifiable")


@dataclass(frozen=True)
class WorstCase(ResultMixin):
    """What the usable sheets prove, and how many votes could lie outside them."""

    collected_votes: Mapping[str, int]
    collected_total: int
    collected_ballots: int | None
    collected_stations: int
    uncollected_max: int | None
    uncollected_basis: str
    registered_total: int | None

    def range_of(self, candidate: str, u: int) -> tuple[int, int]:
        v = self.collected_votes[candidate]
        return v, v + u

    def summary(self) -> Summary:
        lead = sorted(self.collected_votes.items(), key=lambda kv: -kv[1])
        n, total = f"{self.collected_stations:,}", f"{self.collected_total:,}"
        text = (
            gettext(
                "The {n} usable sheets show {total} votes; at most {more} more could exist "
                "({basis})."
            ).format(
                n=n,
                total=total,
                more=f"{self.uncollected_max:,}",
                basis=translated(self.uncollected_basis),
            )
            if self.uncollected_max is not None
            else gettext(
                "The {n} usable sheets show {total} votes; without a station list, what lies "
                "outside them is bounded per claim."
            ).format(n=n, total=total)
        )
        rows = [(f"votes {k}", fmt_int(v)) for k, v in lead]
        if self.uncollected_max is not None:
            rows.append(("votes outside the sheets, at most", fmt_int(self.uncollected_max)))
        return Summary("What the collected sheets prove", text, rows)


def worst_case(
    collected_votes: Mapping[str, int],
    *,
    collected_stations: int,
    collected_ballots: int | None = None,
    uncollected_registered: int | None = None,
    registered_total: int | None = None,
) -> WorstCase:
    """Collect the facts a bound needs (see :func:`judge_claims`)."""
    return WorstCase(
        collected_votes=dict(collected_votes),
        collected_total=int(sum(collected_votes.values())),
        collected_ballots=collected_ballots,
        collected_stations=collected_stations,
        uncollected_max=uncollected_registered,
        uncollected_basis=(
            note("registered voters at stations without a usable sheet")
            if uncollected_registered is not None
            else note("unknown")
        ),
        registered_total=registered_total,
    )


@dataclass(frozen=True)
class ClaimVerdict:
    """One claim's verdict, with the arithmetic in ``reason``."""

    source: str
    quantity: str
    value: float
    unit: str
    verdict: str
    reason: str
    possible: tuple[float, float] | None = None
    interval: tuple[float, float] | None = None

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "quantity": self.quantity,
            "value": self.value,
            "unit": self.unit,
            "verdict": self.verdict,
            "reason": self.reason,
            "possible": list(self.possible) if self.possible else None,
            "interval": list(self.interval) if self.interval else None,
        }


#: the verdicts, as words where a summary shows them (results.json keeps the codes)
VERDICT_WORDS = (N_("impossible"), N_("consistent"), N_("unverifiable"))


def _pct(x: float) -> str:
    return f"{100 * x:.2f} %"


def _own_total(claim: Claim, claims: list[Claim]) -> int | None:
    """The claim's own published total of valid votes (same source, final)."""
    for c in claims:
        if c.source == claim.source and c.quantity == "valid_votes" and c.stage == "final":
            return int(c.value)
    return None


def judge_claims(
    claims: Iterable[Claim],
    worst: WorstCase,
    estimate: CensusEstimate | None = None,
    *,
    winner: str | None = None,
) -> list[ClaimVerdict]:
    """A verdict for every claim (``docs/census.md`` §3).

    ``winner`` is the candidate a ``winner_share`` claim is about (the official winner); without
    it such claims are unverifiable. Candidate names in ``candidate_share:<name>`` must match the
    sheets' candidate columns.
    """
    claims = list(claims)
    out: list[ClaimVerdict] = []
    for cl in claims:
        out.append(_judge(cl, claims, worst, estimate, winner))
    return out


def _judge(
    cl: Claim,
    claims: list[Claim],
    w: WorstCase,
    est: CensusEstimate | None,
    winner: str | None,
) -> ClaimVerdict:
    def verdict(v: str, reason: str, possible=None, interval=None) -> ClaimVerdict:
        return ClaimVerdict(
            cl.source, cl.quantity, cl.value, cl.unit, v, reason, possible, interval
        )

    if cl.stage != "final":
        return verdict(
            "unverifiable",
            note("a {stage} figure: only final figures are judged", stage=note(cl.stage)),
        )
    q = cl.quantity
    cand = (
        winner
        if q == "winner_share"
        else q.split(":", 1)[1]
        if q.startswith(("candidate_share:", "candidate_votes:"))
        else None
    )
    if q == "winner_share" and winner is None:
        return verdict(
            "unverifiable",
            note("the claim does not name the winner and no official file gives one"),
        )
    if cand is not None and cand not in w.collected_votes:
        return verdict(
            "unverifiable",
            note(
                "{candidate} is not a candidate column of the sheets ({columns})",
                candidate=repr(cand),
                columns=", ".join(w.collected_votes),
            ),
        )
    u, basis = w.uncollected_max, w.uncollected_basis
    if u is None:
        own = _own_total(cl, claims)
        if own is not None:
            u, basis = (
                max(own - w.collected_total, 0),
                note(
                    "the same source's own total of {own} valid votes minus the votes on the sheets",
                    own=format(own, ","),
                ),
            )
    tol = cl.tolerance / 100 if cl.unit == "%" else cl.tolerance
    value = cl.value / 100 if cl.unit == "%" else cl.value
    shown = cl.shown()
    T = w.collected_total

    if q == "stations":
        if value + tol < w.collected_stations:
            return verdict(
                "impossible",
                note(
                    "{n} distinct stations have usable sheets, more than the {shown} claimed",
                    n=format(w.collected_stations, ","),
                    shown=shown,
                ),
                (w.collected_stations, float("inf")),
            )
        return verdict(
            "unverifiable",
            note(
                "at least {n} stations exist (usable sheets); the claim of {shown} is possible",
                n=format(w.collected_stations, ","),
                shown=shown,
            ),
        )
    if u is None:
        return verdict(
            "unverifiable",
            note(
                "no station list with registered voters and no total from the same source: what "
                "lies outside the sheets is unbounded"
            ),
        )

    lo: float
    hi: float
    if q == "winner_share" or q.startswith("candidate_share:"):
        assert cand is not None
        v = w.collected_votes[cand]
        lo, hi = v / (T + u) if T + u else 0.0, (v + u) / (T + u) if T + u else 1.0
        what = note("{candidate}'s share", candidate=cand)
        arith = note(
            "{candidate} has {v} of {total} votes on the sheets; with at most {u} votes elsewhere "
            "({basis}), the share lies in [{lo}, {hi}]",
            candidate=cand,
            v=format(v, ","),
            total=format(T, ","),
            u=format(u, ","),
            basis=basis,
            lo=_pct(lo),
            hi=_pct(hi),
        )
        if q == "winner_share":
            ahead = [(k, x) for k, x in w.collected_votes.items() if k != cand and x > v + u]
            if ahead:
                k, x = ahead[0]
                return verdict(
                    "impossible",
                    note(
                        "{candidate} cannot have won: {other} has {x} votes on the sheets, {more} "
                        "more than {candidate}, and at most {u} votes lie outside them ({basis})",
                        candidate=cand,
                        other=k,
                        x=format(x, ","),
                        more=format(x - v, ","),
                        u=format(u, ","),
                        basis=basis,
                    ),
                    (lo, hi),
                )
        key = f"share:{cand}"
    elif q.startswith("candidate_votes:"):
        assert cand is not None
        v = w.collected_votes[cand]
        lo, hi = v, v + u
        what, key = note("{candidate}'s votes", candidate=cand), f"votes:{cand}"
        arith = note(
            "{candidate} has {v} votes on the sheets and at most {u} more elsewhere ({basis}): "
            "[{v}, {top}]",
            candidate=cand,
            v=format(v, ","),
            u=format(u, ","),
            basis=basis,
            top=format(v + u, ","),
        )
    elif q == "valid_votes":
        lo, hi = T, T + u
        what, key = note("valid votes"), "valid_votes"
        arith = note(
            "the sheets show {total} valid votes and at most {u} more can exist ({basis}): "
            "[{total}, {top}]",
            total=format(T, ","),
            u=format(u, ","),
            basis=basis,
            top=format(T + u, ","),
        )
    elif q in ("ballots_cast", "turnout"):
        b = w.collected_ballots if w.collected_ballots is not None else T
        lo, hi = b, b + u
        what, key = note("ballots cast"), "ballots_cast"
        arith = note(
            "the sheets show {b} ballots and at most {u} more can exist ({basis})",
            b=format(b, ","),
            u=format(u, ","),
            basis=basis,
        )
        if q == "turnout":
            if not w.registered_total:
                return verdict(
                    "unverifiable",
                    note("turnout needs the registered voters of every station (give --official)"),
                )
            R = w.registered_total
            lo, hi = b / R, (b + u) / R
            what, key = note("turnout"), "turnout"
            arith = note(
                "{arith}; of {registered} registered voters: [{lo}, {hi}]",
                arith=arith,
                registered=format(R, ","),
                lo=_pct(lo),
                hi=_pct(hi),
            )
    else:
        return verdict(
            "unverifiable", note("the sheets say nothing about {quantity}", quantity=repr(q))
        )

    if value + tol < lo or value - tol > hi:
        return verdict(
            "impossible", note("{shown} is impossible: {arith}", shown=shown, arith=arith), (lo, hi)
        )
    iv = None
    if est is not None and key in est.names:
        e = est[key]
        iv = (e.interval.low, e.interval.high)
        inside = iv[0] - tol <= value <= iv[1] + tol
        fmt = _pct if e.unit == "share" else (lambda z: f"{z:,.0f}")
        band = note(
            "the coverage-corrected {level} interval for {what} is [{low}, {high}]",
            level=format(est.confidence, ".0%"),
            what=what,
            low=fmt(iv[0]),
            high=fmt(iv[1]),
        )
        if inside:
            return verdict(
                "consistent",
                note(
                    "{shown} is possible ({arith}) and inside {band}",
                    shown=shown,
                    arith=arith,
                    band=band,
                ),
                (lo, hi),
                iv,
            )
        return verdict(
            "unverifiable",
            note(
                "{shown} is possible in the worst case ({arith}) but outside {band}, which "
                "assumes {assumption}",
                shown=shown,
                arith=arith,
                band=band,
                assumption=est.assumption,
            ),
            (lo, hi),
            iv,
        )
    return verdict(
        "unverifiable",
        note(
            "{shown} is possible in the worst case ({arith}); no estimate to confirm it",
            shown=shown,
            arith=arith,
        ),
        (lo, hi),
    )
