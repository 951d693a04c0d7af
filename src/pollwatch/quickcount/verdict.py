"""The pre-registered verdict of a quick count against the official result.

One word, fixed before the results are seen, so that nobody can pick after the fact the
quantity that happens to disagree: ``consistent``, ``discrepancy`` or ``too_early``
(docs/quickcount.md §8.1).

* **Headline quantities (they vote)**: the quick-count leader's share of valid votes, turnout
  (ballots cast / registered) and the lead of the leader over the runner-up (both named by the
  quick count, the independent measurement). Each official figure is tested against the
  estimate with ``t = (official − estimate)/SE`` on ``df = k − H`` degrees of freedom (reporting
  stations minus estimation strata; Cochran 1977, §6.11 and §5A.14, the Satterthwaite-free
  conservative choice) and the three p-values are corrected for multiple testing with Holm's
  step-down procedure (Holm 1979, *Scand. J. Statist.* 6:65–70; Bonferroni on request), which
  keeps the family-wise false-alarm rate at ``alpha`` whatever the correlation between the
  three (the leader's share and the lead are strongly correlated).
* **Shown quantities (they do not vote)**: every other candidate's share and the invalid share,
  with their t intervals.
* **too_early**: too little of the drawn sample has reported for sampling error to be the only
  error worth stating (the rule and its justification are in docs/quickcount.md §8.1).

Measured false-alarm rate and power: docs/quickcount.md §8.2.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import stats

from pollwatch.i18n import N_, gettext, note
from pollwatch.i18n.text import Join, cap, say
from pollwatch.model import Election
from pollwatch.quickcount.design import SampleDesign
from pollwatch.quickcount.estimate import QUANTITY_LABELS, QuickCountResult
from pollwatch.results import ResultMixin, Summary, fmt_pct

__all__ = [
    "CONSISTENT",
    "DISCREPANCY",
    "TOO_EARLY",
    "HeadlineTest",
    "ShownQuantity",
    "Verdict",
    "VerdictRule",
    "decide",
    "holm",
    "official_figures",
]

VerdictWord = Literal["consistent", "discrepancy", "too_early"]
CONSISTENT: VerdictWord = "consistent"
DISCREPANCY: VerdictWord = "discrepancy"
TOO_EARLY: VerdictWord = "too_early"
#: the verdict words as the summary's title writes them (the English is the code, "_" a space)
VERDICT_WORDS = {
    CONSISTENT: N_("consistent"),
    DISCREPANCY: N_("discrepancy"),
    TOO_EARLY: N_("too early"),
}


@dataclass(frozen=True)
class VerdictRule:
    """The pre-registered rule (defaults justified in docs/quickcount.md §8.1).

    ``alpha``: family-wise false-alarm rate over the three headline tests from sampling error
    alone; 1 % (NDI's customary 99 % level) leaves room for the non-sampling errors a real quick
    count has: on 300 simulated clean elections with non-response not at random the measured
    false-alarm rate was 5.3 % at alpha = 5 % and 0.7 % at 1 % (docs/quickcount.md §8.2). ``correction``:
    ``holm`` (default) or ``bonferroni``. ``min_response``: least share of the drawn stations
    that must have reported (needs the sample). ``min_reports``: least reports in a stratum for
    it to be estimated from its own stations (below it the estimator borrows a neighbour).
    ``max_borrowed``: largest share of the frame's stations that may lie in strata below
    ``min_reports`` (or, with the sample, below half their drawn stations).
    """

    alpha: float = 0.01
    correction: Literal["holm", "bonferroni"] = "holm"
    min_response: float = 0.80
    min_reports: int = 2
    max_borrowed: float = 0.05

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha ({self.alpha}) must be in the interval (0, 1)")
        if self.correction not in ("holm", "bonferroni"):
            raise ValueError(
                f"correction ({self.correction!r}) not recognised; must be 'holm' or 'bonferroni'"
            )
        if not 0 <= self.min_response <= 1:
            raise ValueError(f"min_response ({self.min_response}) must be in the interval [0, 1]")
        if not 0 <= self.max_borrowed <= 1:
            raise ValueError(f"max_borrowed ({self.max_borrowed}) must be in the interval [0, 1]")
        if self.min_reports < 2:
            raise ValueError(f"min_reports ({self.min_reports}) must be in the interval [2, inf)")


def official_figures(official: Election) -> dict[str, float]:
    """Official shares of valid votes by candidate name, turnout and invalid share (all stations)."""
    t = official.totals()
    cast = t["valid"] + t["invalid"]
    out = {name: (v / t["valid"] if t["valid"] else math.nan) for name, v in t["votes"].items()}
    out["turnout"] = cast / t["registered"] if t["registered"] else math.nan
    out["invalid_share"] = t["invalid"] / cast if cast else math.nan
    return out


def holm(pvalues: np.ndarray | list[float], alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Holm's step-down procedure (Holm 1979, eq. on p. 67): rejections and adjusted p-values.

    Sort ``p_(1) ≤ … ≤ p_(m)``; reject ``H_(i)`` while ``p_(i) ≤ alpha/(m − i + 1)`` and stop at the
    first that fails. Adjusted ``p̃_(i) = max_{j ≤ i} min(1, (m − j + 1)·p_(j))``. NaN p-values
    (untestable) never reject and are left out of ``m``.

    >>> r, a = holm([0.01, 0.04, 0.03], 0.05)
    >>> r.tolist(), [round(x, 2) for x in a]
    ([True, False, False], [0.03, 0.06, 0.06])
    """
    p = np.asarray(pvalues, dtype=np.float64)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    reject = np.zeros(len(p), dtype=bool)
    adjusted = np.full(len(p), np.nan)
    idx = np.flatnonzero(ok)[np.argsort(p[ok], kind="stable")]
    running, stopped = 0.0, False
    for i, j in enumerate(idx):
        running = max(running, min(1.0, (m - i) * p[j]))
        adjusted[j] = running
        if not stopped and p[j] <= alpha / (m - i):
            reject[j] = True
        else:
            stopped = True
    return reject, adjusted


@dataclass(frozen=True)
class HeadlineTest:
    """One voting quantity: the official figure against the quick count.

    ``low``/``high``: the quick count's ``1 − alpha`` t interval; ``family_low``/``family_high``:
    its ``1 − alpha/3`` interval (the Bonferroni simultaneous interval: an official figure
    outside it always rejects, under Holm or Bonferroni).
    """

    quantity: str
    label: str
    official: float
    estimate: float
    se: float
    df: int
    t: float
    p: float
    p_adjusted: float
    low: float
    high: float
    family_low: float
    family_high: float
    rejects: bool


@dataclass(frozen=True)
class ShownQuantity:
    """A quantity shown with its t interval; it does not vote."""

    quantity: str
    official: float
    estimate: float
    low: float
    high: float

    @property
    def inside(self) -> bool:
        return self.low <= self.official <= self.high


@dataclass(frozen=True)
class Verdict(ResultMixin):
    """The pre-registered verdict (docs/quickcount.md §8.1).

    ``verdict``: ``consistent``, ``discrepancy`` or ``too_early``; ``reason``: one sentence;
    ``tests``: the three headline tests (empty when too early to test); ``shown``: the others.
    """

    verdict: VerdictWord
    reason: str
    tests: tuple[HeadlineTest, ...]
    shown: tuple[ShownQuantity, ...]
    leader: str | None
    runner_up: str | None
    n_reported: int
    n_sampled: int | None
    response_rate: float
    borrowed_share: float
    short_strata: tuple[str, ...]
    rule: VerdictRule = field(default_factory=VerdictRule)

    def parameters(self) -> dict:
        """The rule the verdict was decided with (plain values)."""
        return {
            "alpha": self.rule.alpha,
            "correction": self.rule.correction,
            "min_response": self.rule.min_response,
            "min_reports": self.rule.min_reports,
            "max_borrowed": self.rule.max_borrowed,
            "headline": ["leader_share", "turnout", "lead"],
        }

    def summary(self) -> Summary:
        a = f"{100 * (1 - self.rule.alpha):g} %"
        rows = [
            (
                gettext("{label} (voting)").format(label=say(x.label)),
                gettext(
                    "official {official} vs quick count {estimate} [{low}, {high}] ({level}, t, "
                    "df {df}); t = {t}, {correction}-adjusted p = {p}"
                ).format(
                    official=fmt_pct(x.official),
                    estimate=fmt_pct(x.estimate),
                    low=fmt_pct(x.low),
                    high=fmt_pct(x.high),
                    level=a,
                    df=x.df,
                    t=f"{x.t:+.2f}",
                    correction=self.rule.correction,
                    p=f"{x.p_adjusted:.3g}",
                )
                + (gettext(" — rejects") if x.rejects else ""),
            )
            for x in self.tests
        ]
        rows += [
            (
                gettext("{label} (shown, does not vote)").format(label=_quantity(s.quantity)),
                gettext("official {official} vs quick count {estimate} [{low}, {high}]").format(
                    official=fmt_pct(s.official),
                    estimate=fmt_pct(s.estimate),
                    low=fmt_pct(s.low),
                    high=fmt_pct(s.high),
                ),
            )
            for s in self.shown
        ]
        resp = (
            gettext("{n} of {sampled} drawn stations reported ({rate})").format(
                n=f"{self.n_reported:,}",
                sampled=f"{self.n_sampled:,}",
                rate=fmt_pct(self.response_rate, 1),
            )
            if self.n_sampled
            else gettext("{n} stations reported (sample not given: response unknown)").format(
                n=f"{self.n_reported:,}"
            )
        )
        rows.append((gettext("response"), resp))
        notes = [
            gettext(
                "Pre-registered rule: the official leader's share, turnout and lead are tested "
                "against the quick count with t intervals and {correction}'s correction at a "
                "family-wise {alpha} % false-alarm rate; other figures are shown and do not vote "
                "(docs/quickcount.md §8.1)."
            ).format(
                correction=self.rule.correction.capitalize(), alpha=f"{100 * self.rule.alpha:g}"
            )
        ]
        if self.short_strata:
            notes.append(
                gettext("Strata estimated from a neighbour (too few reports): {strata}").format(
                    strata=", ".join(self.short_strata[:10])
                )
                + (" …" if len(self.short_strata) > 10 else "")
            )
        word = VERDICT_WORDS.get(self.verdict)
        return Summary(
            gettext("Verdict: {word}").format(
                word=gettext(word) if word else self.verdict.replace("_", " ")
            ),
            f"{say(self.reason)} {cap(resp)}.",
            rows,
            notes,
        )


def _quantity(name: str) -> str:
    """A quantity's name in a row: a candidate's name as it is, the codes in words."""
    return gettext(QUANTITY_LABELS[name]) if name in QUANTITY_LABELS else name


def _sampled_by_stratum(
    sampled: SampleDesign | Mapping[str, int] | int | None,
) -> tuple[int | None, dict[str, int]]:
    if sampled is None:
        return None, {}
    if isinstance(sampled, SampleDesign):
        by = {s.name: s.sampled for s in sampled.strata}
        return sum(by.values()), by
    if isinstance(sampled, Mapping):
        by = {str(k): int(v) for k, v in sampled.items()}
        return sum(by.values()), by
    return int(sampled), {}


def _test(
    quantity: str, label: str, off: float, est: float, se: float, df: int, alpha: float, m: int
) -> tuple[str, str, float, float, float, int, float, float, float, float, float, float]:
    if df >= 1:
        q, qf = stats.t.ppf(1 - alpha / 2, df), stats.t.ppf(1 - alpha / (2 * m), df)
    else:
        q = qf = math.inf
    if se > 0 and df >= 1:
        t = (off - est) / se
        p = float(2 * stats.t.sf(abs(t), df))
    elif math.isnan(se) or math.isnan(est) or math.isnan(off) or df < 1:
        t, p = math.nan, math.nan
    else:  # zero variance: any difference is beyond sampling error
        t = math.copysign(math.inf, off - est) if off != est else 0.0
        p = 0.0 if off != est else 1.0
    return (
        quantity,
        label,
        off,
        est,
        se,
        df,
        t,
        p,
        est - q * se,
        est + q * se,
        est - qf * se,
        est + qf * se,
    )


def decide(
    result: QuickCountResult,
    official: Election | Mapping[str, float],
    *,
    sampled: SampleDesign | Mapping[str, int] | int | None = None,
    rule: VerdictRule | None = None,
) -> Verdict:
    """The pre-registered verdict of the quick count ``result`` on the ``official`` result.

    Rule (docs/quickcount.md §8.1): ``too_early`` when fewer than ``rule.min_response`` of
    the drawn stations reported, or more than ``rule.max_borrowed`` of the frame's stations lie
    in strata with fewer than ``rule.min_reports`` reports (or fewer than half their drawn
    stations), or no estimate is possible; else ``discrepancy`` when Holm's procedure (Holm
    1979) at family-wise ``rule.alpha`` rejects any of the three headline t-tests (leader's share,
    turnout, lead), else ``consistent``.

    Parameters
    ----------
    result : QuickCountResult
        The quick count (:func:`~pollwatch.quickcount.estimate.estimate`).
    official : Election or mapping
        The official result, or ``{quantity: fraction}`` (candidates' shares of valid votes by
        name, ``turnout``, ``invalid_share``).
    sampled : SampleDesign, mapping, int, optional
        The drawn sample: a design, ``{stratum: stations drawn}`` or the total drawn. Without it
        the response rate cannot be checked (said in the summary).
    rule : VerdictRule, optional
        The pre-registered rule (default: :class:`VerdictRule`).

    Returns
    -------
    Verdict
        The word, its reason, the three tests and the shown quantities.
    """
    rule = rule or VerdictRule()
    figs = official_figures(official) if isinstance(official, Election) else dict(official)
    n_sampled, by_stratum = _sampled_by_stratum(sampled)
    n = result.n_reported
    response = n / n_sampled if n_sampled else math.nan
    frame_n = sum(s.frame_stations for s in result.strata) or result.n_frame
    short = []
    for s in result.strata:
        need = rule.min_reports
        if s.name in by_stratum:
            need = min(max(need, math.ceil(by_stratum[s.name] / 2)), by_stratum[s.name])
        if s.reported < need:
            short.append(s)
    borrowed = sum(s.frame_stations for s in short) / frame_n if frame_n else math.nan
    short_names = tuple(s.name for s in short)
    lead = result.lead
    leader = lead.a if lead else None
    runner = lead.b if lead else None

    shown = tuple(
        ShownQuantity(q.name, float(figs[q.name]), q.estimate, q.t_low, q.t_high)
        for q in result.quantities
        if q.name in figs and q.name not in (leader, "turnout")
    )
    common = dict(
        shown=shown,
        leader=leader,
        runner_up=runner,
        n_reported=n,
        n_sampled=n_sampled,
        response_rate=response,
        borrowed_share=borrowed,
        short_strata=short_names,
        rule=rule,
    )
    early = []
    if n_sampled and response < rule.min_response:
        early.append(
            note(
                N_("only {rate} of the drawn stations reported (the rule needs {need})"),
                rate=fmt_pct(response, 1),
                need=fmt_pct(rule.min_response, 0),
            )
        )
    if borrowed > rule.max_borrowed:
        early.append(
            note(
                N_(
                    "strata holding {share} of the frame's stations have too few reports (the "
                    "rule allows {allowed})"
                ),
                share=fmt_pct(borrowed, 1),
                allowed=fmt_pct(rule.max_borrowed, 0),
            )
        )
    if lead is None or math.isnan(result[leader].se if leader else math.nan):
        early.append(note(N_("no estimate is possible yet")))
    if early:
        return Verdict(
            verdict=TOO_EARLY,
            reason=note(N_("Too early to judge: {reasons}."), reasons=Join("; ", early)),
            tests=(),
            **common,  # type: ignore[arg-type]
        )
    assert lead is not None and leader is not None and runner is not None
    missing = [k for k in (leader, runner, "turnout") if k not in figs]
    if missing:
        raise ValueError(
            f"the official figures have no {', '.join(map(repr, missing))}; have: {', '.join(figs)}"
        )
    m = 3
    raw = [
        _test(
            "leader_share",
            note(N_("{name}'s share"), name=leader),
            float(figs[leader]),
            result[leader].estimate,
            result[leader].se,
            result.df,
            rule.alpha,
            m,
        ),
        _test(
            "turnout",
            note(N_("turnout")),
            float(figs["turnout"]),
            result["turnout"].estimate,
            result["turnout"].se,
            result.df,
            rule.alpha,
            m,
        ),
        _test(
            "lead",
            note(N_("lead {a} − {b}"), a=leader, b=runner),
            float(figs[leader]) - float(figs[runner]),
            lead.estimate,
            lead.se,
            lead.df,
            rule.alpha,
            m,
        ),
    ]
    p = np.array([r[7] for r in raw])
    if rule.correction == "holm":
        reject, adj = holm(p, rule.alpha)
    else:
        adj = np.minimum(1.0, m * p)
        reject = ~np.isnan(p) & (p <= rule.alpha / m)
    tests = tuple(
        HeadlineTest(
            quantity=r[0],
            label=r[1],
            official=r[2],
            estimate=r[3],
            se=r[4],
            df=r[5],
            t=r[6],
            p=r[7],
            p_adjusted=float(a),
            low=r[8],
            high=r[9],
            family_low=r[10],
            family_high=r[11],
            rejects=bool(j),
        )
        for r, a, j in zip(raw, adj, reject, strict=True)
    )
    hit = [x for x in tests if x.rejects]
    if hit:
        word: VerdictWord = DISCREPANCY
        reason = note(
            N_(
                "Discrepancy: the official {figures} cannot be explained by sampling error "
                "(family-wise false-alarm rate {alpha} %)."
            ),
            figures=Join(note(N_(" and ")), [x.label for x in hit]),
            alpha=f"{100 * rule.alpha:g}",
        )
    else:
        word = CONSISTENT
        reason = note(
            N_(
                "Consistent: the official {name}'s share, turnout and lead lie within the quick "
                "count's sampling error ({correction}-corrected, family-wise {alpha} %)."
            ),
            name=leader,
            correction=rule.correction.capitalize(),
            alpha=f"{100 * rule.alpha:g}",
        )
    return Verdict(verdict=word, reason=reason, tests=tests, **common)  # type: ignore[arg-type]
