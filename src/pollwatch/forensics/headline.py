"""The headline: how many votes were falsified, how sure, in one sentence a reader can quote.

Journalists quote the first number of a report, and a regime's fact-checkers quote its false
alarms. So the headline shows a falsified-votes figure only when two calibrated, region-by-
region rules agree (``docs/headline.md``):

1. the within-unit permutation test of the regional excess, in its ``trend`` reading (the clean
   ratio may follow turnout as it does below each unit's peak, so honest town/country
   differences inside a region are not read as fraud;
   :func:`~pollwatch.forensics.excess_bounds.regional_excess_bounds`) has p < 0.05, and
2. the finite mixture fitted unit by unit (Mebane et al.'s eforensics class,
   :func:`~pollwatch.forensics.mixture.fraud_mixture` with ``strata``) puts manufactured votes
   above its calibrated critical share of ballots cast
   (:data:`~pollwatch.forensics.critical.CRITICAL_VALUES`).

Both judge each unit against its own clean pattern, so honest regional differences in turnout
and support do not count. The national mixture and the plain national Shpilkin excess do count
them (on clean simulated elections with strongly different regions they read 3–25 % of the
ballots as "fraud"); they are diagnostics, never the headline.

The estimate is the smaller of the unit-by-unit mixture's manufactured votes and the trend
reading of the regional excess; the interval runs from the lowest to the highest of the
readings' bounds (:func:`combine`), so it carries the disagreement between methods and not
only one fit's sampling noise.
Its coverage and the headline's false-alarm rate are measured in ``docs/calibration.md``
("Headline"), on clean elections whose regions differ strongly in both turnout and support.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from scipy.stats import norm

from pollwatch.forensics.critical import CRITICAL_VALUES
from pollwatch.i18n import N_, Note, note
from pollwatch.results import ResultMixin, Summary, fmt_int

__all__ = ["ALPHA", "Headline", "combine", "headline", "restate"]

ALPHA = 0.05
METHOD = "regional excess bounds + unit-by-unit finite mixture"
#: the two calibrated rules, as results.json names them (translated where a sentence names them)
PERMUTATION_RULE = N_("regional excess: permutation test")
MIXTURE_RULE = N_("unit-by-unit mixture: manufactured share")


@dataclass(frozen=True)
class Headline(ResultMixin):
    """The calibrated headline (the ``headline`` block of ``results.json``).

    ``estimate``/``low``/``high`` are falsified (manufactured) votes for the leader, or None
    when no calibrated rule pair fires. ``rules`` records each rule's statistic, threshold and
    whether it fired or was not computed; ``readings`` the three estimates it combines.
    """

    estimate: float | None
    low: float | None
    high: float | None
    method: str
    statement: str
    fired: bool
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    readings: dict[str, float | None] = field(default_factory=dict)
    ballots_cast: float = math.nan
    leader: str = ""
    units: str = ""

    def block(self, strength: dict[str, Any]) -> dict[str, Any]:
        """The ``results.json`` block: falsified votes, the strength of evidence, the statement."""
        return {
            "falsified_votes": {
                "estimate": self.estimate,
                "low": self.low,
                "high": self.high,
                "method": self.method,
                "share_of_ballots_cast": (
                    self.estimate / self.ballots_cast
                    if self.estimate is not None and self.ballots_cast
                    else None
                ),
            },
            "strength": strength,
            "statement": self.statement,
            "rules": self.rules,
            "readings": self.readings,
            "units": self.units,
        }

    def summary(self) -> Summary:
        rows = [
            (
                name,
                ("not computed: " + r["why"])
                if r.get("why")
                else f"{r['statistic']:.4g} vs {r['threshold']:.4g}: {'fires' if r['fired'] else 'does not fire'}",
            )
            for name, r in self.rules.items()
        ]
        if self.estimate is not None:
            rows.insert(
                0,
                (
                    "falsified votes",
                    f"{fmt_int(self.estimate)} ({fmt_int(self.low)} – {fmt_int(self.high)})",
                ),
            )
        return Summary("Headline", self.statement, rows)


def _pct(x: float, cast: float) -> str:
    return f"{100 * x / cast:.1f} %" if cast else "n/a"


def _statement(
    rules: dict[str, dict[str, Any]],
    leader: str,
    estimate: float | None,
    low: float | None,
    high: float | None,
    share: str,
) -> Note:
    """The headline's statement (English as a ``str``, translatable where it is shown) from the
    rules' outcome and, when both fire, the estimate, its interval and its share of ballots."""
    if estimate is not None:
        return note(
            "Statistical evidence of falsified votes for {leader}: about {estimate} votes "
            "({share} of ballots cast), between {low} and {high} (95 %). "
            "Two calibrated tests agree, each judging every region against its own clean pattern, "
            "so honest regional differences are not counted; for the same reason, fraud spread "
            "over whole regions is not in this figure either.",
            leader=leader,
            estimate=fmt_int(estimate),
            share=share,
            low=fmt_int(low),
            high=fmt_int(high),
        )
    # a rule name is a catalogue message (PERMUTATION_RULE, MIXTURE_RULE): said in words
    names = {k: note(k) for k in rules}
    missing = [names[k] for k, r in rules.items() if "why" in r]
    if missing:
        tests = missing[0]
        for more in missing[1:]:
            tests = note("{first} and {second}", first=tests, second=more)
        return note(
            "No falsified-votes figure: the calibrated test {tests} could not be computed on "
            "these data, so they give no statistical evidence either way.",
            tests=tests,
        )
    if any(r["fired"] for r in rules.values()):
        one = next(names[k] for k, r in rules.items() if r["fired"])
        other = next(names[k] for k, r in rules.items() if not r["fired"])
        return note(
            "No falsified-votes figure: one calibrated test signals ({one}) but the other does "
            "not ({other}). A single signal occurs in about one clean election in ten, so these "
            "figures alone are not statistical evidence of how many votes were falsified.",
            one=one,
            other=other,
        )
    p = f"{rules[PERMUTATION_RULE]['statistic']:.2g}"  # formatted apart: the extractor reads literals
    return note(
        "These official figures give no statistical evidence of falsified votes: judged region "
        "by region against its own pattern, {leader}'s vote does not rise with turnout more than "
        "chance allows (permutation p = {p}), and the unit-by-unit mixture finds no manufactured "
        "votes beyond what clean elections produce. This does not prove the count honest: fraud "
        "spread evenly over whole regions, or that leaves turnout unchanged, is not measured here.",
        leader=leader,
        p=p,
    )


def restate(block: dict[str, Any], leader: str) -> Note | str:
    """The statement of a ``results.json`` headline block, translatable where it is shown: the
    :class:`~pollwatch.i18n.Note` it holds while the block is in memory, else (a file read back)
    said again from the block's rules and figures when that gives the same English; otherwise
    (an older file, other wording) the stored English as it is."""
    stored = block.get("statement") or ""
    if isinstance(stored, Note):
        return stored
    rules = block.get("rules") or {}
    fv = block.get("falsified_votes") or {}
    try:
        share = fv.get("share_of_ballots_cast")
        again = _statement(
            rules,
            leader,
            fv.get("estimate"),
            fv.get("low"),
            fv.get("high"),
            f"{100 * share:.1f} %" if share is not None else "n/a",
        )
    except (KeyError, TypeError, ValueError, StopIteration):
        return stored
    return again if again == stored else stored


def headline(
    bounds: Any,
    mixture_by_region: Any,
    *,
    ballots_cast: float,
    leader: str = "the leader",
    errors: dict[str, str] | None = None,
) -> Headline:
    """Combine the regional excess bounds and the unit-by-unit mixture into the headline.

    :param bounds: an :class:`~pollwatch.forensics.excess_bounds.ExcessBounds`, or None if it
        failed or was not run.
    :param mixture_by_region: a stratified :class:`~pollwatch.forensics.mixture.MixtureResult`
        (fitted in at least two units), or None.
    :param ballots_cast: ballots cast at the analysed stations (the share's denominator).
    :param errors: why a method failed, by method name, quoted when it is "not computed".
    """
    errors = errors or {}
    crit = CRITICAL_VALUES["mixture_manufactured_share"]
    rules: dict[str, dict[str, Any]] = {}
    cast = float(ballots_cast)
    test_name = PERMUTATION_RULE
    if bounds is not None and math.isfinite(bounds.trend.pvalue):
        p = bounds.trend.pvalue
        rules[test_name] = {
            "statistic": p,
            "threshold": ALPHA,
            "fired": p < ALPHA,
            "kind": "p-value below",
        }
    else:
        rules[test_name] = {"why": errors.get("excess_bounds", note("no result"))}
    mix_ok = (
        mixture_by_region is not None
        and len(getattr(mixture_by_region, "strata_results", ()) or ()) >= 2
        and math.isfinite(mixture_by_region.manufactured_votes)
    )
    if mix_ok:
        share = mixture_by_region.manufactured_votes / cast if cast > 0 else math.nan
        rules[MIXTURE_RULE] = {
            "statistic": share,
            "threshold": crit,
            "fired": bool(math.isfinite(share) and share > crit),
            "kind": "share of ballots cast above",
        }
    else:
        why = errors.get("mixture_by_region") or (
            note("fitted in fewer than two units")
            if mixture_by_region is not None
            else note("no result")
        )
        rules[MIXTURE_RULE] = {"why": why}
    computed = all("why" not in r for r in rules.values())
    fired = computed and all(r["fired"] for r in rules.values())
    M = mixture_by_region.manufactured_votes if mix_ok else None
    readings: dict[str, float | None] = {"unit_by_unit_mixture": M}
    if bounds is not None:
        for name, r in (("flat", bounds.flat), ("trend", bounds.trend)):
            readings[f"regional_excess_{name}"] = r.excess
            readings[f"beyond_permutation_null_{name}"] = r.beyond_null
    units = bounds.units if bounds is not None else ""
    if not fired:
        statement = _statement(rules, leader, None, None, None, "")
        return Headline(
            estimate=None,
            low=None,
            high=None,
            method=METHOD,
            statement=statement,
            fired=False,
            rules=rules,
            readings=readings,
            ballots_cast=cast,
            leader=leader,
            units=units,
        )
    assert M is not None  # fired: both calibrated tests were computed, the mixture among them
    estimate, low, high = combine(bounds.flat, bounds.trend, float(M), bounds.confidence_level)
    statement = _statement(rules, leader, estimate, low, high, _pct(estimate, cast))
    return Headline(
        estimate=float(estimate),
        low=float(low),
        high=float(high),
        method=METHOD,
        statement=statement,
        fired=True,
        rules=rules,
        readings=readings,
        ballots_cast=cast,
        leader=leader,
        units=units,
    )


def combine(
    flat: Any, trend: Any, mixture: float, confidence_level: float = 0.975
) -> tuple[float, float, float]:
    """Estimate and interval from the readings (``docs/headline.md`` §4).

    * estimate: the smaller of the unit-by-unit mixture and the trend reading ``S`` of the
      regional excess. The mixture is accurate when honest turnout and support are unrelated
      inside a region but reads any honest within-region association as fraud (×1.9 at a
      station correlation of 0.2); the trend reading is robust to that but under-reads heavy
      stuffing by ~10 %. The smaller one is the conservative choice;
    * low: the lowest of the estimate minus z·(trend bootstrap sd) and the two readings of the
      excess beyond the permutation null ``D`` (which under-read), not below 0;
    * high: the highest of the two readings' upper bounds and the mixture + z·(bootstrap sd).

    Each bound is one-sided at ``confidence_level``. Coverage, measured: ``docs/calibration.md``.
    """
    z = float(norm.ppf(confidence_level))
    estimate = min(mixture, trend.excess)
    low = max(min(estimate - z * trend.sd_boot, flat.beyond_null, trend.beyond_null), 0.0)
    high = max(flat.upper, trend.upper, mixture + z * flat.sd_boot)
    return max(estimate, low), low, high
