"""Regional excess votes with a permutation test and two one-sided bounds.

Source of the estimator: Shpilkin's excess votes (Shpilkin 2011–2012; Kobak, Shpilkin &
Pshenichnikov 2016, *Significance* 13(4), eq. 1: ``E = Σ_b max(0, L_b − k·O_b)`` over the
turnout bins above the natural peak of the others' votes, ``k`` the leader-to-others ratio at
the peak), computed **in each analysis unit with its own k and peak** and summed
(``docs/headline.md`` §1). The test is a Fisher randomisation test (Good 2005, *Permutation,
Parametric and Bootstrap Tests of Hypotheses*, ch. 3): the leader's share of valid votes is
permuted among the stations of each unit, keeping each station's turnout and valid votes.

Why both bounds (measured on simulated elections, ``docs/calibration.md``, "Headline"):

* the observed regional excess ``S`` is an **upper** reading: each unit's own noise adds a
  positive excess (the sum keeps only bins above the line), 0.4–1.2 % of ballots cast on clean
  elections of 5,000–20,000 stations;
* the excess beyond the permutation null, ``D = S − median(S*)``, is centred on 0 for clean
  elections but a **lower** reading under stuffing: shuffling moves stuffed stations' high
  shares to ordinary turnouts, where part of the fraud re-appears as null excess (0.7–0.9 of
  the injected ballots).

Assumptions: inside a unit, honest turnout and support are not associated (the null); fraud
raises the leader's votes together with turnout (stuffing, carousels). Honest within-unit
differences (town and country) would show as excess. The station bootstrap is stratified by
unit and resamples stations only: it does not know the model's error, which the two bounds
carry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import norm

from pollwatch.compute.seam import check_seed
from pollwatch.forensics._common import basic_mask
from pollwatch.forensics.shpilkin import ShpilkinParams, _core, _prepare
from pollwatch.forensics.shpilkin_permutation import _shuffle_within
from pollwatch.forensics.units import Units, analysis_units
from pollwatch.model import Election
from pollwatch.results import ResultMixin, Summary, fmt_int

__all__ = ["ExcessBounds", "regional_excess_bounds"]


@dataclass(frozen=True)
class ExcessBounds(ResultMixin):
    """Result of :func:`regional_excess_bounds`.

    ``excess``: the observed regional excess S (votes); ``beyond_null``: D = S − median of
    the permutation null; ``pvalue``: ``(1 + #{S* ≥ S}) / (n_perm + 1)``; ``sd_boot``: the
    stratified station bootstrap's sd of S; ``sd_null``: the permutation null's sd.
    ``lower`` = D − t·√(sd_boot² + sd_null²) (a lower confidence bound), ``upper`` = S + t·sd_boot.
    """

    excess: float
    beyond_null: float
    pvalue: float
    sd_boot: float
    sd_null: float
    lower: float
    upper: float
    n_perm: int
    n_boot: int
    confidence_level: float
    units: str
    n_units: int
    n_stations: int
    ballots_cast: float
    seed: int | None
    null: np.ndarray = field(repr=False, default_factory=lambda: np.empty(0))
    boot: np.ndarray = field(repr=False, default_factory=lambda: np.empty(0))

    _dict_exclude = ("null", "boot")

    def summary(self) -> Summary:
        text = (f"Summed over {self.units}, each with its own clean ratio and turnout peak, the leader has "
                f"{fmt_int(self.excess)} votes above the clean line. Shuffling the leader's share among the "
                f"stations of each unit ({self.n_perm} times) gives {fmt_int(self.excess - self.beyond_null)} as "
                f"the median of what no within-unit association would give: p = {self.pvalue:.3g}. "
                f"The falsified votes lie between a lower bound of {fmt_int(max(self.lower, 0.0))} and an upper "
                f"bound of {fmt_int(self.upper)} ({self.confidence_level:.1%} each side, station bootstrap and "
                "permutation spread included).")
        rows = [("regional excess S (upper reading)", fmt_int(self.excess)),
                ("beyond the permutation null D (lower reading)", fmt_int(self.beyond_null)),
                ("permutation p-value", f"{self.pvalue:.3g} ({self.n_perm} permutations)"),
                ("bounds", f"{fmt_int(max(self.lower, 0.0))} – {fmt_int(self.upper)}"),
                ("units", self.units)]
        return Summary("Regional excess votes: bounds and permutation test", text, rows)


def _unit_excess(codes: np.ndarray, n_units: int, b: np.ndarray, nb: int, L: np.ndarray, oth: np.ndarray,
                 p: ShpilkinParams, w: np.ndarray | None = None) -> float:
    flat = codes * nb + b
    if w is not None:
        L, oth = L * w, oth * w
    L_ub = np.bincount(flat, L, minlength=n_units * nb).reshape(n_units, nb)
    O_ub = np.bincount(flat, oth, minlength=n_units * nb).reshape(n_units, nb)
    total = 0.0
    for u in range(n_units):
        if O_ub[u].any():
            ex = _core(L_ub[u], O_ub[u], p).excess
            total += ex if math.isfinite(ex) else 0.0
    return total


def regional_excess_bounds(e: Election, *, units: Units | None = None, n_perm: int = 199, n_boot: int = 199,
                           confidence_level: float = 0.975, seed: int | None = 0) -> ExcessBounds:
    """Regional Shpilkin excess, its within-unit permutation p-value and one-sided bounds.

    :param units: analysis units (default :func:`~pollwatch.forensics.units.analysis_units`:
        the top level, small units merged with their neighbours).
    :param n_perm: permutations for the null (p-value resolution 1 / (n_perm + 1)).
    :param n_boot: stratified station-bootstrap replicates for the sd of S.
    :param confidence_level: one-sided level of each bound (0.975 each makes a 95 % interval).
    :raises ValueError: no station with registered voters and ballots, or bad parameters.
    """
    for name, v in (("n_perm", n_perm), ("n_boot", n_boot)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or not 1 <= v <= 100_000:
            raise ValueError(f"{name} ({v!r}) must be an integer in the interval [1, 100000].")
    if not 0.5 < confidence_level < 1:
        raise ValueError(f"confidence_level ({confidence_level}) must be in the interval (0.5, 1).")
    check_seed(seed)
    mask = basic_mask(e) & e.analysable()
    if not mask.any():
        raise ValueError("no analysable station has registered voters and ballots; nothing to estimate")
    units = units if units is not None else analysis_units(e)
    if units is None:
        codes, n_units, desc = np.zeros(int(mask.sum()), np.int64), 1, "the whole election (no hierarchy)"
    else:
        codes, desc = units.codes[mask], units.description
        codes = np.unique(codes, return_inverse=True)[1].astype(np.int64)
        n_units = int(codes.max()) + 1
    p = ShpilkinParams()
    b, nb, L, oth = _prepare(e, p, mask)
    L, oth = L.astype(np.float64), oth.astype(np.float64)
    observed = _unit_excess(codes, n_units, b, nb, L, oth, p)

    valid = L + oth
    share = np.divide(L, valid, out=np.zeros_like(L), where=valid > 0)
    slots = np.argsort(codes, kind="stable")
    starts = np.flatnonzero(np.r_[True, codes[slots][1:] != codes[slots][:-1]])
    ends = np.r_[starts[1:], slots.size]
    rng = np.random.default_rng(seed)
    null = np.empty(n_perm)
    for r in range(n_perm):
        Ls = share[_shuffle_within(slots, starts, ends, rng.random(slots.size))] * valid
        null[r] = _unit_excess(codes, n_units, b, nb, Ls, valid - Ls, p)
    # stratified bootstrap: each unit's stations resampled within the unit (unit sizes kept)
    size = np.repeat(ends - starts, ends - starts)
    first = np.repeat(starts, ends - starts)
    boot = np.empty(n_boot)
    for r in range(n_boot):
        pos = first + np.minimum((rng.random(slots.size) * size).astype(np.int64), size - 1)
        w = np.bincount(slots[pos], minlength=L.size).astype(np.float64)
        boot[r] = _unit_excess(codes, n_units, b, nb, L, oth, p, w)
    z = float(norm.ppf(confidence_level))
    sd_boot, sd_null = float(boot.std(ddof=1)), float(null.std(ddof=1))
    beyond = observed - float(np.median(null))
    pvalue = (1 + int(np.sum(null >= observed))) / (n_perm + 1)
    return ExcessBounds(
        excess=float(observed), beyond_null=beyond, pvalue=float(pvalue), sd_boot=sd_boot, sd_null=sd_null,
        lower=beyond - z * math.hypot(sd_boot, sd_null), upper=float(observed) + z * sd_boot,
        n_perm=n_perm, n_boot=n_boot, confidence_level=confidence_level, units=desc, n_units=n_units,
        n_stations=int(mask.sum()), ballots_cast=float(e.ballots_cast()[mask].sum()), seed=seed,
        null=null, boot=boot)
