"""Shpilkin's excess-vote estimate: leader votes above the clean low-turnout ratio.

Source: S. Shpilkin's analyses of Russian elections from 2011 (*Gazeta.ru*, *TrV-Nauka*, his
blog); no canonical code. Comparators: the Cedar-Russia ``electoral_statistics`` notebook and
EFToolkit ``NonparamElectionForensics``. Implementer's notes: ``docs/methods/forensics.md``
§2; reference figures: ``docs/methods/reference-numbers.md`` §4.

Assumptions: (a) other candidates' votes are not falsified; (b) fraud adds leader ballots,
raising turnout; (c) without fraud the leader's share does not depend on turnout. The
estimate misses switching and fraud inside the clean kernel, and overstates fraud where
genuine support rises with turnout. It is a model-based estimate, not a count.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal, NamedTuple

import numpy as np
from scipy.signal import find_peaks

from pollwatch.compute import Execution, run_tasks, spawn_seeds
from pollwatch.forensics._common import (
    TURNOUT_BASES,
    Notes,
    basic_mask,
    counts_exclusions,
    percent,
    turnout_numerator,
    validate_choice,
    validate_param,
)
from pollwatch.i18n import gettext, note
from pollwatch.model import Election
from pollwatch.results import (
    ConfidenceInterval,
    ResultMixin,
    StationSignal,
    Summary,
    fmt_int,
    fmt_pct,
    jsonable,
)

__all__ = ["ShpilkinParams", "ShpilkinResult", "shpilkin"]

_PEAK_RULES = ("natural", "smoothed_max", "raw_max")


@dataclass(frozen=True)
class ShpilkinParams:
    """Every choice of the method (defaults: the primary variant of docs/methods/forensics.md §2.1).

    ``peak``: ``natural`` (lowest-turnout major peak of the smoothed others' curve),
    ``smoothed_max`` (argmax of the smoothed curve) or ``raw_max`` (argmax of ``O_b``);
    ``mode`` (a turnout in %) overrides the peak rule. ``ratio``: ``cumulative``
    (``Σ_{b≤m} L_b / Σ_{b≤m} O_b``) or ``single`` (``L_m/O_m``). ``sum``: ``positive``
    (``Σ_{b>m} max(0, L_b − k·O_b)``) or ``signed`` (``Σ_all (L_b − k·O_b)``, Cedar).
    """

    bin_pp: float = 1.0
    basis: Literal["issued", "cast"] = "issued"
    peak: Literal["natural", "smoothed_max", "raw_max"] = "natural"
    mode: float | None = None
    smoothing: int = 3
    min_height: float = 0.5
    min_prominence: float = 0.02
    peak_range: tuple[float, float] = (5.0, 95.0)
    ratio: Literal["cumulative", "single"] = "cumulative"
    sum: Literal["positive", "signed"] = "positive"

    def validate(self) -> None:
        validate_param("bin_pp", self.bin_pp, 0, 50, inclusive=(False, True))
        validate_choice("basis", self.basis, TURNOUT_BASES)
        validate_choice("peak", self.peak, _PEAK_RULES)
        validate_choice("ratio", self.ratio, ("cumulative", "single"))
        validate_choice("sum", self.sum, ("positive", "signed"))
        if self.mode is not None:
            validate_param("mode", self.mode, 0, 100, inclusive=(True, False))
        validate_param("smoothing", self.smoothing, 1, 99)
        if self.smoothing % 2 == 0:
            raise ValueError(f"smoothing ({self.smoothing}) must be an odd number of bins")
        validate_param("min_height", self.min_height, 0, 1)
        validate_param("min_prominence", self.min_prominence, 0, 1)
        validate_param("peak_range[0]", self.peak_range[0], 0, self.peak_range[1])
        validate_param("peak_range[1]", self.peak_range[1], self.peak_range[0], 100)


class _Core(NamedTuple):
    """The estimate from per-bin sums (one national, regional or bootstrap run)."""

    mode_bin: int
    peak_found: bool
    k: float
    excess: float
    L_b: np.ndarray
    O_b: np.ndarray


def _bins(t_pct: np.ndarray, bin_pp: float) -> tuple[np.ndarray, int]:
    nb = int(round(100 / bin_pp))
    return np.clip(np.floor(t_pct / bin_pp).astype(np.int64), 0, nb - 1), nb


def _smooth(x: np.ndarray, width: int) -> np.ndarray:
    return x if width == 1 else np.convolve(x, np.ones(width) / width, mode="same")


def _mode_bin(O_b: np.ndarray, p: ShpilkinParams) -> tuple[int, bool]:
    """Bin index of the natural peak and whether the rule found one (else the fallback)."""
    if p.mode is not None:
        return min(int(p.mode // p.bin_pp), O_b.size - 1), True
    if p.peak == "raw_max":
        return int(np.argmax(O_b)), True
    sm = _smooth(O_b, p.smoothing)
    if p.peak == "smoothed_max":
        return int(np.argmax(sm)), True
    top = sm.max()
    if top <= 0:
        return int(np.argmax(sm)), False
    peaks, _ = find_peaks(sm, height=p.min_height * top, prominence=p.min_prominence * top)
    lo_edge = peaks * p.bin_pp
    peaks = peaks[(lo_edge >= p.peak_range[0]) & (lo_edge < p.peak_range[1])]
    return (int(peaks[0]), True) if peaks.size else (int(np.argmax(sm)), False)


def _core(L_b: np.ndarray, O_b: np.ndarray, p: ShpilkinParams) -> _Core:
    """Mode, ``k`` and ``E`` from per-bin leader and others' vote sums."""
    m, found = _mode_bin(O_b, p)
    if p.ratio == "cumulative":
        num, den = L_b[: m + 1].sum(), O_b[: m + 1].sum()
    else:
        num, den = L_b[m], O_b[m]
    k = float(num / den) if den > 0 else math.nan
    if p.sum == "positive":
        excess = float(np.maximum(0.0, L_b[m + 1 :] - k * O_b[m + 1 :]).sum())
    else:
        excess = float((L_b - k * O_b).sum())
    return _Core(m, found, k, excess, L_b, O_b)


def _binned(
    b: np.ndarray, nb: int, L: np.ndarray, oth: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    if weights is not None:
        L, oth = L * weights, oth * weights
    return (
        np.bincount(b, L, minlength=nb).astype(np.float64),
        np.bincount(b, oth, minlength=nb).astype(np.float64),
    )


def _boot_chunk(
    seed: Any,
    n_boot: int,
    b: np.ndarray,
    nb: int,
    L: np.ndarray,
    oth: np.ndarray,
    p: ShpilkinParams,
) -> np.ndarray:
    """Excess for ``n_boot`` station resamples (with replacement, as per-station counts)."""
    rng = np.random.default_rng(seed)
    n = b.size
    out = np.empty(n_boot)
    for i in range(n_boot):
        w = np.bincount(rng.integers(0, n, n), minlength=n)
        out[i] = _core(*_binned(b, nb, L, oth, w), p).excess
    return out


@dataclass(frozen=True)
class ShpilkinResult(ResultMixin):
    """Result of :func:`shpilkin`. Votes in counts; shares and turnouts as fractions.

    ``curves`` holds per-bin ``turnout_pct`` (bin centres), ``leader`` (``L_b``), ``others``
    (``O_b``) and ``clean_leader`` (``k·O_b``) for the plot; ``regions`` maps each region to
    its own estimate (its own kernel); ``station_excess`` is ``L_i − k·O_i`` for stations in
    bins counted in ``E`` (0 elsewhere) and sums to ``E`` exactly; ``above_peak`` marks the
    used stations in turnout bins above the natural peak.
    """

    params: ShpilkinParams
    n_stations: int
    n_used: int
    exclusions: dict[str, int]
    mode_pct: float
    peak_found: bool
    k: float
    kernel_share: float
    excess: float
    excess_pct_of_leader: float
    leader_votes: int
    clean_leader_share: float
    official_leader_share: float
    clean_turnout: float
    official_turnout: float
    interval: ConfidenceInterval | None
    confidence_level: float
    n_boot: int
    seed: int | None
    sensitivity: dict[str, float]
    regions: dict[str, float]
    regions_sum: float | None
    notes: tuple[str, ...]
    curves: dict[str, np.ndarray] = field(repr=False)
    station_excess: np.ndarray = field(repr=False)
    above_peak: np.ndarray = field(repr=False)
    bootstrap: np.ndarray | None = field(default=None, repr=False)

    _dict_exclude = ("station_excess", "above_peak", "bootstrap")

    @property
    def sensitivity_range(self) -> tuple[float, float]:
        vals = [self.excess, *self.sensitivity.values()]
        return min(vals), max(vals)

    # the station-signal contract (pollwatch.results.MethodResult)
    def station_signals(self, election: Election) -> dict[str, StationSignal]:
        return {
            "above_peak": StationSignal(
                name="above_peak",
                values=self.above_peak,
                kind="flag",
                unit="flag",
                description=f"turnout ({self.params.basis}) in a bin above the natural peak "
                f"({self.mode_pct:g} %), where the excess is counted",
            ),
            "shpilkin_excess": StationSignal(
                name="shpilkin_excess",
                values=self.station_excess,
                kind="score",
                unit="votes",
                description="leader votes above the clean ratio (L − k·O) at stations in the bins "
                "counted in the excess, 0 elsewhere; sums to the national excess",
            ),
        }

    def to_json(self) -> dict:
        lo, hi = (
            (self.interval.low, self.interval.high) if self.interval is not None else (None, None)
        )
        return jsonable(
            {
                "excess_votes": self.excess,
                "excess_votes_low": lo,
                "excess_votes_high": hi,
                "clean_share": self.clean_leader_share,
                "clean_turnout": self.clean_turnout,
                "official_share": self.official_leader_share,
                "official_turnout": self.official_turnout,
                "k": self.k,
                "kernel_share": self.kernel_share,
                "mode": self.mode_pct,
                "peak_found": self.peak_found,
                "excess_percent_of_leader": self.excess_pct_of_leader,
                "sensitivity": self.sensitivity,
                "regions": [
                    {"region": k, "excess_votes": v}
                    for k, v in sorted(self.regions.items(), key=lambda kv: -kv[1])
                ],
                "regions_sum": self.regions_sum,
                "basis": self.params.basis,
                "bin_pp": self.params.bin_pp,
            },
            keep_nan=True,
        )

    def parameters(self) -> dict:
        return jsonable(
            {
                **asdict(self.params),
                "n_boot": self.n_boot,
                "confidence_level": self.confidence_level,
                "seed": self.seed,
            },
            keep_nan=True,
        )

    def summary(self) -> Summary:
        text = gettext(
            "Taking the leader-to-others ratio at turnouts up to the natural peak ({mode} %) as "
            "the clean one, the leader received {excess} more votes than that ratio predicts at "
            "higher turnout ({excess_pct} % of the leader's votes). Without them the leader's "
            "share would be {clean_share} (official {official_share}) and turnout "
            "{clean_turnout} (official {official_turnout}). The estimate assumes the leader's "
            "share would not rise with turnout in a clean election; genuine turnout–support "
            "correlation also produces an excess."
        ).format(
            mode=f"{self.mode_pct:g}",
            excess=fmt_int(self.excess),
            excess_pct=f"{self.excess_pct_of_leader:.1f}",
            clean_share=fmt_pct(self.clean_leader_share, 1),
            official_share=fmt_pct(self.official_leader_share, 1),
            clean_turnout=fmt_pct(self.clean_turnout, 1),
            official_turnout=fmt_pct(self.official_turnout, 1),
        )
        lo, hi = self.sensitivity_range
        rows = [
            ("natural mode", f"{self.mode_pct:g} % turnout"),
            ("k (leader/others)", f"{self.k:.3f}"),
            ("kernel share", fmt_pct(self.kernel_share, 1)),
            ("excess votes", fmt_int(self.excess)),
            ("across variants", f"{fmt_int(lo)} – {fmt_int(hi)}"),
        ]
        if self.interval is not None:
            rows.append(
                (
                    f"bootstrap {self.confidence_level:.0%} interval",
                    f"{fmt_int(self.interval.low)} – {fmt_int(self.interval.high)}",
                )
            )
        if self.regions_sum is not None:
            rows.append(("sum of regional estimates", fmt_int(self.regions_sum)))
        rows += [
            ("stations used", f"{self.n_used:,} of {self.n_stations:,}"),
            (
                "bin width / turnout",
                gettext("{width} pp / {basis}").format(
                    width=format(self.params.bin_pp, "g"), basis=self.params.basis
                ),
            ),
        ]
        if self.seed is not None:
            rows.append(("seed", str(self.seed)))
        return Summary("Shpilkin excess-vote estimate", text, rows, self.notes)


_VARIANTS: dict[str, dict[str, Any]] = {
    "single_bin_k": {"ratio": "single"},
    "bins_0.5pp": {"bin_pp": 0.5},
    "turnout_cast": {"basis": "cast"},
    "mode_smoothed_max": {"peak": "smoothed_max"},
    "mode_raw_max": {"peak": "raw_max"},
    "signed_sum": {"sum": "signed"},
}


def _prepare(e: Election, p: ShpilkinParams, mask: np.ndarray):
    V = e.field("registered")[mask]
    G = turnout_numerator(e, p.basis)[mask]
    L = e.votes(None)[mask]
    oth = e.field("valid")[mask] - L
    b, nb = _bins(percent(G, V), p.bin_pp)
    return b, nb, L, oth


def shpilkin(
    e: Election,
    params: ShpilkinParams | None = None,
    *,
    candidate: str | None = None,
    exclude_evoting: bool = False,
    exclude_regions: tuple[str, ...] = (),
    min_registered: int = 0,
    by_region: str | None = "region",
    variants: bool = True,
    n_boot: int = 200,
    confidence_level: float = 0.95,
    seed: int | None = None,
    execution: Execution | str | None = None,
    **overrides: Any,
) -> ShpilkinResult:
    """Shpilkin's excess votes for the leader (docs/methods/forensics.md §2.1), every choice a parameter.

    Stations with ``V > 0`` and ``R > 0`` (optionally ``V > min_registered``, without
    e-voting rows, without the ``by_region`` units named in ``exclude_regions``) are binned by turnout ``100·G/V`` (or ``R/V``) in ``bin_pp`` bins; the
    clean ratio ``k`` of leader to other valid votes is read at or below the natural peak of
    the others' curve, and ``E`` = leader votes above ``k·O_b`` in higher-turnout bins.
    Options go in ``params`` or as keyword overrides of :class:`ShpilkinParams`.

    Uncertainty: a station bootstrap (``n_boot`` resamples, percentile interval, the peak
    re-found in each; run through :func:`pollwatch.compute.run_tasks` with one SeedSequence
    child per chunk) and the range of ``E`` across the variants of docs/methods/forensics.md §2.1
    (single-bin ``k``, 0.5-pp bins, ``R/V``, argmax modes, signed sum; ``variants=False``
    skips them). ``by_region`` names the hierarchy level of the regional breakdown (None to
    skip). The bootstrap shows
    sampling noise only; the model assumptions dominate the real uncertainty.
    """
    p = replace(params or ShpilkinParams(), **overrides)
    p.validate()
    validate_param("n_boot", n_boot, 0, math.inf)
    validate_param("confidence_level", confidence_level, 0, 1, inclusive=(False, False))
    validate_param("min_registered", min_registered, 0, math.inf)
    if candidate is not None:
        e = e.with_scrutiny(candidate)
    notes = Notes()
    mask = basic_mask(e, exclude_evoting=exclude_evoting)
    if min_registered:
        mask &= e.field("registered") > min_registered
    excl = counts_exclusions(e, exclude_evoting=exclude_evoting)
    if exclude_regions:
        if not by_region or by_region not in e.meta.hierarchy:
            raise ValueError(
                f"exclude_regions ({exclude_regions!r}) needs by_region to name a "
                f"hierarchy level; levels are {list(e.meta.hierarchy)}"
            )
        dropped = np.isin(e.level(by_region).astype(str), [str(x) for x in exclude_regions])
        excl["excluded_regions"] = int((mask & dropped).sum())
        mask &= ~dropped
        notes.add(
            note(
                "excluded {level}: {regions}",
                level=by_region,
                regions=", ".join(map(str, exclude_regions)),
            )
        )
    n_used = int(mask.sum())
    if n_used < 50:
        notes.small_sample(
            note(
                "only {n} stations: the turnout curves are too sparse for a stable natural peak",
                n=n_used,
            )
        )
    if n_used == 0:
        raise ValueError("no station has V > 0 and R > 0; nothing to estimate")

    b, nb, L, oth = _prepare(e, p, mask)
    core = _core(*_binned(b, nb, L, oth), p)
    if not core.peak_found:
        notes.degenerate(
            note(
                "no major peak of the others' votes in the allowed turnout range; "
                "the smoothed global maximum was used as the mode"
            )
        )
    if not math.isfinite(core.k):
        notes.degenerate(note("no other-candidate votes at or below the mode; k is undefined"))

    V = e.field("registered")[mask]
    G = turnout_numerator(e, p.basis)[mask]
    R = e.ballots_cast()[mask]
    E = core.excess
    sL, sR, sG, sV = int(L.sum()), int(R.sum()), int(G.sum()), int(V.sum())

    # station contributions: L_i − k·O_i in the bins that enter E (sums to E per bin)
    if p.sum == "positive":
        counted = np.zeros(nb, dtype=bool)
        counted[core.mode_bin + 1 :] = (
            core.L_b[core.mode_bin + 1 :] > core.k * core.O_b[core.mode_bin + 1 :]
        )
    else:
        counted = np.ones(nb, dtype=bool)
    contrib = np.where(counted[b], L - core.k * oth, 0.0)
    station_excess = np.zeros(e.n_stations)
    station_excess[mask] = contrib
    above_peak = np.zeros(e.n_stations, dtype=bool)
    above_peak[mask] = b > core.mode_bin

    sensitivity: dict[str, float] = {}
    if variants:
        binned = {(p.basis, p.bin_pp): (core.L_b, core.O_b)}
        for name, kw in _VARIANTS.items():
            q = replace(p, **kw)
            if q == p:
                continue
            key = (q.basis, q.bin_pp)
            if key not in binned:
                bq, nbq, Lq, oq = _prepare(e, q, mask)
                binned[key] = _binned(bq, nbq, Lq, oq)
            sensitivity[name] = _core(*binned[key], q).excess

    regions: dict[str, float] = {}
    regions_sum = None
    if by_region and by_region in e.meta.hierarchy:
        codes, labels = e.level_codes(by_region)
        flat = codes[mask] * nb + b
        size = labels.size * nb
        L_rb = np.bincount(flat, L, minlength=size).reshape(labels.size, nb)
        O_rb = np.bincount(flat, oth, minlength=size).reshape(labels.size, nb)
        for c in np.unique(codes[mask]):
            regions[str(labels[c])] = _core(L_rb[c], O_rb[c], p).excess
        regions_sum = float(np.nansum(list(regions.values())))
        notes.add(
            note(
                "regional estimates use each region's own kernel; their sum differs from the "
                "national estimate by construction"
            )
        )

    boot = None
    interval = None
    entropy = None
    if n_boot > 0:
        chunk = 25
        sizes = [min(chunk, n_boot - a) for a in range(0, n_boot, chunk)]
        entropy, children = spawn_seeds(seed, len(sizes))
        tasks = [(s, n, b, nb, L, oth, p) for s, n in zip(children, sizes, strict=True)]
        boot = np.concatenate(run_tasks(_boot_chunk, tasks, execution))
        a = (1 - confidence_level) / 2
        interval = ConfidenceInterval(
            float(np.nanquantile(boot, a)), float(np.nanquantile(boot, 1 - a))
        )
        notes.add(
            note(
                "bootstrap: {n} station resamples on {backend}",
                n=n_boot,
                backend=Execution.of(execution).describe(),
            )
        )

    centres = (np.arange(nb) + 0.5) * p.bin_pp
    return ShpilkinResult(
        params=p,
        n_stations=e.n_stations,
        n_used=n_used,
        exclusions=excl,
        mode_pct=float(centres[core.mode_bin]),
        peak_found=core.peak_found,
        k=core.k,
        kernel_share=core.k / (1 + core.k),
        excess=E,
        excess_pct_of_leader=100 * E / sL if sL else math.nan,
        leader_votes=sL,
        clean_leader_share=(sL - E) / (sR - E),
        official_leader_share=sL / sR,
        clean_turnout=(sG - E) / sV,
        official_turnout=sG / sV,
        interval=interval,
        confidence_level=confidence_level,
        n_boot=n_boot,
        seed=entropy,
        sensitivity=sensitivity,
        regions=regions,
        regions_sum=regions_sum,
        notes=notes.as_tuple(),
        curves={
            "turnout_pct": centres,
            "leader": core.L_b,
            "others": core.O_b,
            "clean_leader": core.k * core.O_b,
        },
        station_excess=station_excess,
        above_peak=above_peak,
        bootstrap=boot,
    )
