"""Exit polls: record one, and hold it against the official result and the quick count.

Sources: docs/methods/quickcount-and-cameras.md §1.5; Kish (1965), §5.4 (design effect of interviews
clustered in stations, ``Deff = 1 + (b − 1)ρ`` with ``b`` interviews per station).

An exit poll asks voters outside the station; refusals and false answers bias it, and it
**cannot detect ballot stuffing or turnout inflation** (stuffed ballots have no voter to ask).
Agreement with the official figure is not verification; a gap is a lead, not proof.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from pollwatch.i18n import N_, gettext, note
from pollwatch.i18n.text import say
from pollwatch.model import Election
from pollwatch.quickcount.compare import official_figures
from pollwatch.quickcount.design import design_effect, z_value
from pollwatch.quickcount.estimate import QuickCountResult
from pollwatch.results import ResultMixin, Summary, fmt_pct

__all__ = ["EXIT_POLL_LIMITS", "ExitPoll", "ExitPollComparison", "ExitPollRow", "compare_exit_poll"]

EXIT_POLL_LIMITS = N_(
    "An exit poll interviews voters outside the station: it cannot detect ballot stuffing, carousel "
    "voting or turnout inflation, and refusals or false answers bias it. Agreement with the official "
    "result is agreement, not verification; a gap is a lead to investigate, not proof."
)


@dataclass(frozen=True)
class ExitPoll:
    """One published exit poll. ``figures`` maps candidate name → share of respondents (fraction).

    ``design_effect`` None: derived from interviews per station with ``rho`` (default 0.05,
    noted in the comparison). ``accreditation``: who accredited the pollster (e.g. the CEC).
    """

    organisation: str
    figures: dict[str, float]
    sample_size: int | None = None
    stations: int | None = None
    design_effect: float | None = None
    method: str = ""
    sponsor: str = ""
    accreditation: str = ""
    date: str = ""
    source: str = ""
    rho: float = 0.05

    def __post_init__(self) -> None:
        for name, v in self.figures.items():
            if not 0 <= v <= 1:
                raise ValueError(
                    f"figures[{name!r}] ({v}) must be in the interval [0, 1] (a fraction)"
                )
        if self.sample_size is not None and self.sample_size < 1:
            raise ValueError(f"sample_size ({self.sample_size}) must be in the interval [1, inf)")

    @classmethod
    def from_claim(cls, claim, candidate: str) -> ExitPoll:
        """An exit poll from a :class:`pollwatch.claims.Claim` of kind ``exit_poll`` (value in %)."""
        if claim.kind != "exit_poll":
            raise ValueError(f"claim.kind ({claim.kind!r}) must be 'exit_poll'")
        return cls(
            claim.source,
            {candidate: claim.value / 100},
            claim.sample_size,
            claim.stations,
            source=claim.url or claim.source,
            date=claim.date,
            accreditation=claim.note,
        )

    def deff(self) -> tuple[float, str]:
        """The design effect used and where it came from."""
        if self.design_effect is not None:
            return float(self.design_effect), note(N_("stated"))
        if self.sample_size and self.stations:
            b = self.sample_size / self.stations
            return design_effect(self.rho, b), note(
                N_("assumed ρ = {rho} with {n} interviews per station"), rho=self.rho, n=f"{b:.0f}"
            )
        return math.nan, note(N_("unknown"))


@dataclass(frozen=True)
class ExitPollRow:
    candidate: str
    poll: float
    moe: float
    official: float
    z_official: float
    pvt: float
    z_pvt: float
    verdict: str


@dataclass(frozen=True)
class ExitPollComparison(ResultMixin):
    """Exit-poll figures with design-effect intervals against the official figures and the PVT."""

    organisation: str
    confidence: float
    design_effect: float
    design_effect_source: str
    effective_sample: float
    rows: tuple[ExitPollRow, ...]
    notes: tuple[str, ...] = field(default=())

    def summary(self) -> Summary:
        c = f"{100 * self.confidence:g} %"
        rows = [
            (
                r.candidate,
                gettext(
                    "poll {poll} ± {moe} pp ({level}); official {official} (z {z_official}); PVT "
                    "{pvt} (z {z_pvt}): {verdict}"
                ).format(
                    poll=fmt_pct(r.poll),
                    moe=f"{100 * r.moe:.2f}",
                    level=c,
                    official=fmt_pct(r.official),
                    z_official=f"{r.z_official:+.2f}",
                    pvt=fmt_pct(r.pvt),
                    z_pvt=f"{r.z_pvt:+.2f}",
                    verdict=say(r.verdict),
                ),
            )
            for r in self.rows
        ]
        rows.append(
            (
                gettext("design effect"),
                f"{self.design_effect:.2f} ({say(self.design_effect_source)})",
            )
        )
        text = (
            gettext("Exit poll by {organisation} against the official result and the quick count.")
            if any(not math.isnan(r.pvt) for r in self.rows)
            else gettext("Exit poll by {organisation} against the official result.")
        ).format(organisation=self.organisation)
        return Summary(
            gettext("Exit poll: {organisation}").format(organisation=self.organisation),
            text,
            rows,
            (*(say(n) for n in self.notes), gettext(EXIT_POLL_LIMITS)),
        )


def compare_exit_poll(
    poll: ExitPoll,
    official: Election | dict[str, float] | None = None,
    pvt: QuickCountResult | None = None,
    confidence: float = 0.95,
) -> ExitPollComparison:
    """Compare an exit poll with official shares and a PVT.

    Poll SE ``= √(Deff·p(1−p)/n)``; against the official figure ``z = (p_poll − p_off)/SE``;
    against the PVT ``z = (p_poll − p_pvt)/√(SE² + SE_pvt²)`` (independent samples).

    Parameters
    ----------
    poll : ExitPoll
        The published exit poll.
    official : Election or dict, optional
        Official result, or ``{candidate: share of valid votes}``.
    pvt : QuickCountResult, optional
        A quick count to compare with.
    confidence : float
        Level of the poll's margins.

    Returns
    -------
    ExitPollComparison
        Per candidate: the poll's figure and margin, ``z`` against the official figure and
        the PVT, and a verdict.
    """
    z = z_value(confidence)
    deff, src = poll.deff()
    n_eff = poll.sample_size / deff if poll.sample_size and not math.isnan(deff) else math.nan
    off = official_figures(official) if isinstance(official, Election) else dict(official or {})
    notes = []
    if math.isnan(n_eff):
        notes.append(
            note(N_("Sample size or design effect not published: no interval can be given."))
        )
    rows = []
    for name, p in poll.figures.items():
        se = math.sqrt(p * (1 - p) / n_eff) if not math.isnan(n_eff) else math.nan
        o = float(off.get(name, math.nan))
        zo = (p - o) / se if se and se > 0 else math.nan
        pv, zp = math.nan, math.nan
        if pvt is not None and name in pvt.candidates:
            q = pvt[name]
            pv = q.estimate
            zp = (p - pv) / math.hypot(se, q.se) if not math.isnan(se) else math.nan
        worst = max((abs(v) for v in (zo, zp) if not math.isnan(v)), default=math.nan)
        verdict = (
            note(N_("no interval"))
            if math.isnan(worst)
            else note(N_("within sampling error"))
            if worst <= z
            else note(N_("differs beyond sampling error (a lead, not proof)"))
        )
        rows.append(
            ExitPollRow(
                candidate=name,
                poll=p,
                moe=z * se,
                official=o,
                z_official=zo,
                pvt=pv,
                z_pvt=zp,
                verdict=verdict,
            )
        )
    return ExitPollComparison(
        organisation=poll.organisation,
        confidence=confidence,
        design_effect=deff,
        design_effect_source=src,
        effective_sample=n_eff,
        rows=tuple(rows),
        notes=tuple(notes),
    )
