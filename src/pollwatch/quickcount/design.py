"""Quick-count sample design: sample size, allocation to strata, and the seeded draw.

Sources: Estok, Nevitte & Cowan (2002), *The Quick Count and Election Observation* (NDI), ch. 5
(p. 73: voters needed with a finite-population correction, stations = voters / voters per
station, the ``0.5·z/√n`` rule of thumb); Kish (1965), *Survey Sampling*, §5.4 (design effect
``Deff = 1 + (v̄ − 1)ρ``); Cochran (1977), *Sampling Techniques*, §5.5 and §5.9 (proportional and
Neyman allocation); Donner (1986), *Int. Stat. Review* 54:67–82 (one-way ANOVA estimator of the
intra-class correlation with unequal cluster sizes).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl
from scipy import stats

from pollwatch.errors import DataIssue, DegenerateDataWarning, IngestError
from pollwatch.i18n import N_, gettext, note, pgettext
from pollwatch.i18n.text import say
from pollwatch.model import Election
from pollwatch.quickcount._frame import build_frame
from pollwatch.quickcount.sample import (
    RegisteredSample,
    SampledStation,
    file_sha256,
    write_sample,
)
from pollwatch.results import ResultMixin, Summary, fmt_int, fmt_pct

__all__ = [
    "SampleDesign",
    "SampleSize",
    "StratumAllocation",
    "allocate",
    "default_reserves",
    "derive_strata",
    "design_effect",
    "draw_sample",
    "expected_ballots",
    "intraclass_correlation",
    "rule_of_thumb_moe",
    "sample_size",
    "stations_needed",
    "voters_needed",
    "z_value",
]


def _allocation_words(code: str) -> str:
    """An allocation in words (the English is the code; "registered" needs its own context)."""
    if code == "proportional":
        return pgettext("allocation", "proportional")
    if code == "registered":
        return pgettext("allocation", "registered")
    if code == "neyman":
        return pgettext("allocation", "neyman")
    return code


def z_value(confidence: float) -> float:
    """Two-sided normal quantile for a confidence level (0.95 → 1.959964)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence ({confidence}) must be in the interval (0, 1)")
    return float(stats.norm.ppf(0.5 + confidence / 2))


def _check_pos(name: str, value: float, upper: float | None = None) -> None:
    if not (value > 0) or (upper is not None and value >= upper):
        rng = f"(0, {upper})" if upper is not None else "(0, inf)"
        raise ValueError(f"{name} ({value}) must be in the interval {rng}")


def voters_needed(
    population: float,
    margin: float,
    *,
    z: float | None = None,
    confidence: float = 0.95,
    p: float = 0.5,
    term_decimals: int | None = None,
) -> float:
    """Voters needed for a margin of error ``margin`` (a fraction), NDI p. 73.

    ``n = p(1−p) / (E²/z² + p(1−p)/N)``, i.e. ``n0 = z²p(1−p)/E²`` then ``n0/(1 + n0/N)``.
    Assumes simple random sampling of voters (no clustering: see :func:`sample_size`).
    ``z`` overrides ``confidence`` (NDI uses 2.58 for 99 %). ``term_decimals`` rounds the two
    denominator terms as a hand calculation does: the handbook's printed Peru 2001 figure
    (163,185) is ``z = 2.6`` with both terms rounded to 9 decimals; the exact figure at
    ``z = 2.58`` is 160,717.3 (see docs/quickcount.md).
    """
    _check_pos("population", population)
    _check_pos("margin", margin, 1)
    _check_pos("p", p, 1)
    z = z_value(confidence) if z is None else z
    a, b = margin**2 / z**2, p * (1 - p) / population
    if term_decimals is not None:
        a, b = round(a, term_decimals), round(b, term_decimals)
    return p * (1 - p) / (a + b)


def stations_needed(voters: float, voters_per_station: float) -> float:
    """Stations to reach ``voters`` when each contributes ``voters_per_station`` (NDI p. 73)."""
    _check_pos("voters_per_station", voters_per_station)
    return voters / voters_per_station


def expected_ballots(stations: float, registered_per_station: float, turnout: float) -> float:
    """Ballots a sample will actually hold: stations × registered × turnout.

    Size on ballots cast, not registered voters (NDI's own 1,020 stations × 160 registered give
    only 114,240 ballots at 70 % turnout).
    """
    _check_pos("turnout", turnout, 1.000001)
    return stations * registered_per_station * turnout


def rule_of_thumb_moe(n: float, *, z: float | None = None, confidence: float = 0.95) -> float:
    """NDI's ``0.5·z/√n``: an upper bound with ``n`` = stations, a lower one with ``n`` = voters."""
    _check_pos("n", n)
    z = z_value(confidence) if z is None else z
    return 0.5 * z / math.sqrt(n)


def design_effect(rho: float, voters_per_station: float) -> float:
    """Kish's design effect of cluster sampling, ``Deff = 1 + (v̄ − 1)ρ`` (Kish 1965, §5.4)."""
    if not -1 < rho < 1:
        raise ValueError(f"rho ({rho}) must be in the interval (-1, 1)")
    _check_pos("voters_per_station", voters_per_station)
    return 1 + (voters_per_station - 1) * rho


def intraclass_correlation(election: Election, candidate: str | None = None) -> float:
    """Intra-station correlation of the vote for ``candidate`` (default: the leader).

    One-way ANOVA estimator with unequal cluster sizes (Donner 1986, eq. 2.1): each valid vote
    is a 0/1 outcome clustered in its station; ``ρ = (MSB − MSW) / (MSB + (m0 − 1)·MSW)`` with
    ``m0 = (M − Σm²/M)/(k − 1)``. Stations without valid votes are skipped.
    """
    m = election.field("valid").astype(np.float64)
    y = election.votes(candidate).astype(np.float64)
    keep = m > 0
    m, y = m[keep], y[keep]
    k, total = len(m), m.sum()
    if k < 2 or total <= k:
        warnings.warn(
            "fewer than 2 stations with votes: the intra-station correlation is undefined",
            DegenerateDataWarning,
            stacklevel=2,
        )
        return float("nan")
    p_i, p = y / m, y.sum() / total
    msb = float((m * (p_i - p) ** 2).sum() / (k - 1))
    msw = float((m * p_i * (1 - p_i)).sum() / (total - k))
    m0 = (total - (m**2).sum() / total) / (k - 1)
    return (msb - msw) / (msb + (m0 - 1) * msw)


@dataclass(frozen=True)
class SampleSize(ResultMixin):
    """Result of :func:`sample_size`: voters and stations needed for a margin of error."""

    margin: float
    confidence: float
    z: float
    p: float
    population_voters: float | None
    voters_srs: float  # n0, no finite-population correction
    voters: float  # n with the FPC in voters (NDI p. 73)
    voters_per_station: float
    rho: float
    rho_source: str
    design_effect: float
    stations_srs: float  # n / v̄ (NDI, ignores clustering)
    stations: float  # Deff·n0/v̄
    frame_stations: int | None
    stations_fpc: float  # m/(1 + m/M), rounded up for deployment below
    stations_to_draw: int
    notes: tuple[str, ...] = ()

    def summary(self) -> Summary:
        rows = [
            (
                gettext("margin of error"),
                gettext("±{margin} pp at {level} % (z = {z})").format(
                    margin=f"{100 * self.margin:.2f}",
                    level=f"{100 * self.confidence:g}",
                    z=f"{self.z:.4g}",
                ),
            ),
            (gettext("voters needed (SRS, FPC)"), f"{self.voters:,.1f}"),
            (gettext("voters per station (v̄)"), f"{self.voters_per_station:,.1f}"),
            (gettext("intra-station correlation ρ"), f"{self.rho:.4f} ({say(self.rho_source)})"),
            (gettext("design effect"), f"{self.design_effect:.3f}"),
            (gettext("stations, ignoring clustering"), f"{self.stations_srs:,.1f}"),
            (gettext("stations, with design effect"), f"{self.stations:,.1f}"),
            (gettext("stations, with FPC in stations"), f"{self.stations_fpc:,.1f}"),
            (gettext("stations to draw"), fmt_int(self.stations_to_draw)),
        ]
        text = gettext(
            "To estimate a share within ±{margin} percentage points at {level} % confidence, "
            "draw {n} stations."
        ).format(
            margin=f"{100 * self.margin:.2f}",
            level=f"{100 * self.confidence:g}",
            n=f"{self.stations_to_draw:,}",
        )
        return Summary(gettext("Quick-count sample size"), text, rows, [say(n) for n in self.notes])


def sample_size(
    margin: float,
    *,
    confidence: float = 0.95,
    z: float | None = None,
    p: float = 0.5,
    population_voters: float | None = None,
    voters_per_station: float | None = None,
    registered_per_station: float | None = None,
    turnout: float | None = None,
    rho: float | None = None,
    past: Election | None = None,
    frame_stations: int | None = None,
) -> SampleSize:
    """Stations to sample for a margin of error, with a design effect and an FPC in stations.

    Steps (docs/methods/quickcount-and-cameras.md §1.2 a, b, d): ``n0 = z²p(1−p)/E²``; ``n = n0/(1 + n0/N)``
    (NDI p. 73); ``v̄`` = expected ballots per station (registered × turnout: size on ballots
    cast); ``Deff = 1 + (v̄ − 1)ρ`` (Kish); stations ``m = Deff·n0/v̄``, then
    ``m' = m/(1 + m/M)`` with ``M`` stations in the frame (Cochran eq. 4.1 in stations).

    Parameters
    ----------
    margin : float
        Margin of error wanted, as a fraction (0.01 = ±1 pp).
    confidence : float
        Level of the margin (ignored when ``z`` is given).
    z : float, optional
        The normal quantile itself (NDI and Apollo use 2.58 at 99 %).
    p : float
        Expected share (0.5 is the most conservative).
    population_voters : float, optional
        ``N``, voters in the population (default: from ``past``; None: no FPC in voters).
    voters_per_station, registered_per_station, turnout : float, optional
        ``v̄`` directly, or registered voters per station times the expected turnout.
    rho : float, optional
        Intra-station correlation; defaults to that of the leader's vote in ``past`` results
        (:func:`intraclass_correlation`), else 0 (no clustering: an optimistic lower bound,
        noted).
    past : Election, optional
        Past results; also supply ``N``, ``M`` and ``v̄`` when they are not given.
    frame_stations : int, optional
        ``M``, stations in the frame.

    Returns
    -------
    SampleSize
        Every step of the calculation and ``stations_to_draw``.

    Examples
    --------
    >>> sample_size(0.01, voters_per_station=500, rho=0.02, frame_stations=5000).stations_to_draw
    203
    """
    z = z_value(confidence) if z is None else float(z)
    notes: list[str] = []
    if past is not None:
        if population_voters is None:
            population_voters = float(past.field("registered").sum())
        if frame_stations is None:
            frame_stations = past.n_stations
        if voters_per_station is None and registered_per_station is None:
            voters_per_station = float((past.field("valid") + past.field("invalid")).mean())
    if voters_per_station is None:
        if registered_per_station is None:
            raise ValueError(
                "voters_per_station (None): give voters_per_station, "
                "registered_per_station (with turnout) or past results"
            )
        if turnout is None:
            notes.append(
                note(
                    N_(
                        "Sized on registered voters, not ballots cast: with turnout below 100 % "
                        "the sample will hold fewer ballots than needed; pass turnout=."
                    )
                )
            )
            turnout = 1.0
        voters_per_station = registered_per_station * turnout
    n0 = voters_needed(math.inf, margin, z=z, p=p)
    n = voters_needed(population_voters, margin, z=z, p=p) if population_voters else n0
    if rho is not None:
        rho_source: str = note(N_("given"))
    elif past is not None:
        rho, rho_source = intraclass_correlation(past), note(N_("past station results (ANOVA)"))
    else:
        rho, rho_source = 0.0, note(N_("assumed 0"))
        notes.append(
            note(
                N_(
                    "No intra-station correlation given: ρ = 0 ignores clustering and understates "
                    "the stations needed; pass rho= or past results."
                )
            )
        )
    deff = design_effect(rho, voters_per_station)
    m = deff * n0 / voters_per_station
    m_fpc = m / (1 + m / frame_stations) if frame_stations else m
    return SampleSize(
        margin=margin,
        confidence=confidence,
        z=z,
        p=p,
        population_voters=population_voters,
        voters_srs=n0,
        voters=n,
        voters_per_station=voters_per_station,
        rho=float(rho),
        rho_source=rho_source,
        design_effect=deff,
        stations_srs=n / voters_per_station,
        stations=m,
        frame_stations=frame_stations,
        stations_fpc=m_fpc,
        stations_to_draw=int(math.ceil(m_fpc - 1e-9)),
        notes=tuple(notes),
    )


def allocate(
    sizes: Sequence[int] | np.ndarray,
    total: int,
    scores: Sequence[float] | np.ndarray | None = None,
    minimum: int = 2,
) -> np.ndarray:
    """Allocate ``total`` stations to strata of ``sizes`` stations in proportion to ``scores``.

    ``scores`` = sizes (proportional) or ``N_h·S_h`` (Neyman, Cochran eq. 5.26). Each stratum gets
    at least ``minimum`` (or all its stations if it has fewer) and at most ``N_h``; the rest is
    shared by largest remainders, so the result sums to ``total`` exactly.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    scores = sizes.astype(np.float64) if scores is None else np.asarray(scores, dtype=np.float64)
    floor = np.minimum(sizes, minimum)
    if total < floor.sum() or total > sizes.sum():
        raise ValueError(
            f"size ({total}) must be in the interval [{floor.sum()}, {sizes.sum()}] "
            f"for {len(sizes)} strata with a minimum of {minimum} per stratum"
        )
    scores = np.where(scores > 0, scores, 1e-12)
    fixed = np.zeros(len(sizes), dtype=bool)
    alloc = floor.astype(np.float64)
    for _ in range(len(sizes) + 1):
        free = ~fixed
        left = total - alloc[fixed].sum()
        share = left * scores[free] / scores[free].sum()
        alloc[free] = share
        low = free & (alloc < floor)
        high = free & (alloc > sizes)
        if not low.any() and not high.any():
            break
        alloc[low], alloc[high] = floor[low], sizes[high]
        fixed |= low | high
    out = np.floor(alloc).astype(np.int64)
    rest = total - out.sum()
    room = out < sizes
    order = np.argsort(-(alloc - out) + 2.0 * ~room, kind="stable")
    out[order[:rest]] += 1
    return out


@dataclass(frozen=True)
class StratumAllocation:
    """One stratum: ``N`` stations in the frame, ``n`` drawn, weight ``N/n``."""

    name: str
    frame_stations: int
    sampled: int
    weight: float


@dataclass(frozen=True)
class SampleDesign(ResultMixin):
    """Result of :func:`draw_sample`: the drawn stations with stratum, weight and inclusion probability.

    ``table`` columns: ``station_id``, the hierarchy levels, ``stratum``, ``weight`` (N_h/n_h),
    ``inclusion_probability`` (n_h/N_h). Write it with :meth:`write` for deployment.
    """

    table: pl.DataFrame
    strata_by: tuple[str, ...]
    allocation: str
    strata: tuple[StratumAllocation, ...]
    size: int
    frame_stations: int
    excluded_stations: int
    seed: int
    notes: tuple[str, ...] = field(default=())
    #: reserve stations: ``station_id``, the hierarchy levels, ``stratum``, ``reserve_rank``
    reserves: pl.DataFrame | None = None
    #: ``{"file", "sha256", "from", "to"}`` when strata were derived through a lookup file
    lookup: dict | None = None

    _dict_exclude = ("table", "reserves")

    def registered_stations(self) -> list[SampledStation]:
        """Primaries then reserves as rows of the registered-sample file (docs/quickcount.md §3)."""
        by = {s.name: s for s in self.strata}
        reg = "registered" in self.table.columns
        rows = []
        for t, role in ((self.table, "primary"), (self.reserves, "reserve")):
            if t is None:
                continue
            ranks = t["reserve_rank"].to_list() if role == "reserve" else [None] * t.height
            regs = t["registered"].to_list() if reg else [None] * t.height
            for sid, name, rank, r in zip(
                t["station_id"].to_list(), t["stratum"].to_list(), ranks, regs, strict=True
            ):
                a = by[name]
                rows.append(
                    SampledStation(
                        str(sid),
                        name,
                        role,  # type: ignore[arg-type]  # "primary" or "reserve" from the loop
                        rank,
                        a.frame_stations,
                        a.sampled,
                        a.frame_stations / a.sampled,
                        None if r is None else int(r),
                    )
                )
        return rows

    def write_registered(
        self,
        path: str | Path,
        *,
        target_moe: float | None = None,
        confidence: float | None = None,
        deff: float | None = None,
        created_at: str | None = None,
    ) -> RegisteredSample:
        """Write the registered sample (CSV + JSON sidecar, docs/quickcount.md §3) and read it back."""
        return write_sample(
            path,
            self.registered_stations(),
            seed=self.seed,
            strata_by=self.strata_by,
            design={
                "target_moe": target_moe,
                "confidence": confidence,
                "deff": deff,
                "n": self.size,
                "allocation": self.allocation,
            },
            lookup=self.lookup,
            created_at=created_at,
        )

    def write(self, path: str | Path) -> Path:
        """Write the sample as CSV or Parquet (by extension) for assignment to observers."""
        path = Path(path)
        if path.suffix.lower() == ".parquet":
            self.table.write_parquet(path)
        else:
            self.table.write_csv(path)
        return path

    def summary(self) -> Summary:
        by = ", ".join(self.strata_by) or gettext("none (simple random sample)")
        allocation = _allocation_words(self.allocation)
        text = gettext(
            "{n} of {frame} stations drawn at random in {strata} strata (by {by}; {allocation} "
            "allocation), seed {seed}."
        ).format(
            n=f"{self.size:,}",
            frame=f"{self.frame_stations:,}",
            strata=f"{len(self.strata):,}",
            by=by,
            allocation=allocation,
            seed=self.seed,
        )
        rows = [
            (gettext("stations drawn"), fmt_int(self.size)),
            (gettext("frame stations"), fmt_int(self.frame_stations)),
            (gettext("strata"), fmt_int(len(self.strata))),
            (gettext("allocation"), allocation),
            (gettext("seed"), str(self.seed)),
        ]
        if self.reserves is not None:
            rows.append((gettext("reserve stations"), fmt_int(self.reserves.height)))
        if self.lookup is not None:
            rows.append(
                (
                    gettext("strata through lookup"),
                    f"{self.lookup['file']} ({self.lookup['from']} → "
                    f"{', '.join(self.lookup['to'])}; SHA-256 {self.lookup['sha256'][:12]}…)",
                )
            )
        rows += [
            (
                gettext("stratum {name}").format(name=s.name),
                gettext("{n} of {frame} (π = {rate})").format(
                    n=s.sampled,
                    frame=s.frame_stations,
                    rate=fmt_pct(s.sampled / s.frame_stations),
                ),
            )
            for s in self.strata[:30]
        ]
        notes = [say(n) for n in self.notes]
        if self.excluded_stations:
            notes.append(
                gettext("{n} stations that cannot be analysed are not in the frame.").format(
                    n=f"{self.excluded_stations:,}"
                )
            )
        return Summary(gettext("Quick-count sample"), text, rows, notes)


def _neyman_scores(frame, candidate: str | None) -> np.ndarray:
    """``N_h·S_h`` with ``S_h`` the SD of ratio residuals ``y − R·x`` of past results (Cochran §6.9)."""
    e = frame.election
    y = e.votes(candidate)[frame.mask].astype(np.float64)
    x = e.field("valid")[frame.mask].astype(np.float64)
    r = y.sum() / x.sum() if x.sum() else 0.0
    res = y - r * x
    n = frame.sizes.astype(np.float64)
    mean = np.bincount(frame.codes, res, len(n)) / n
    var = np.bincount(frame.codes, (res - mean[frame.codes]) ** 2, len(n)) / np.maximum(n - 1, 1)
    return n * np.sqrt(var)


def draw_sample(
    election: Election,
    size: int,
    *,
    strata: str | Sequence[str] | None = None,
    allocation: Literal["proportional", "registered", "neyman"] = "proportional",
    seed: int | None = None,
    minimum_per_stratum: int = 2,
    candidate: str | None = None,
    reserves: int | None = None,
) -> SampleDesign:
    """Draw a stratified random sample of ``size`` stations (simple random within each stratum).

    Stations that cannot be analysed (``election.analysable()``) are not in the frame.
    Reproducible for a given seed.

    Parameters
    ----------
    election : Election
        The frame: its station table (and, for ``neyman``, its results).
    size : int
        Stations to draw.
    strata : str or sequence of str, optional
        Column(s) of the station table: hierarchy levels (nested, e.g. TIKs within regions),
        an urban–rural column or any other.
    allocation : {"proportional", "registered", "neyman"}
        Proportional to stations (Cochran §5.5), to registered voters, or Neyman (Cochran
        eq. 5.26, using the spread of the leader's vote in the election's own results, which
        should be a *past* election's).
    seed : int, optional
        Seed of the draw (its entropy is recorded on the result).
    minimum_per_stratum : int
        Least stations per stratum, so that its variance can be estimated.
    candidate : str, optional
        Whose vote Neyman allocation uses (default: the candidate under scrutiny).
    reserves : int, optional
        Reserve stations per stratum, drawn after all primaries from the stations left (so the
        primaries do not depend on it) and ranked in the order drawn; None:
        :func:`default_reserves`. Capped at the stations left in the stratum.

    Returns
    -------
    SampleDesign
        The drawn stations with stratum, weight and inclusion probability, the reserves and the
        allocation.

    Examples
    --------
    >>> from pollwatch.quickcount.simulation import simulate_frame
    >>> d = draw_sample(simulate_frame(11, stations=2000, regions=8), 240, strata="region", seed=4)
    >>> d.size, len(d.strata)
    (240, 8)
    """
    if allocation not in ("proportional", "registered", "neyman"):
        raise ValueError(
            f"allocation ({allocation!r}) not recognised; must be 'proportional', 'registered' or 'neyman'"
        )
    if reserves is not None and reserves < 0:
        raise ValueError(f"reserves ({reserves}) must be in the interval [0, inf)")
    if minimum_per_stratum < 1:
        raise ValueError(
            f"minimum_per_stratum ({minimum_per_stratum}) must be in the interval [1, inf)"
        )
    frame = build_frame(election, strata)
    if allocation == "proportional":
        scores = frame.sizes
    elif allocation == "registered":
        scores = np.bincount(
            frame.codes, election.field("registered")[frame.mask], len(frame.sizes)
        )
    else:
        scores = _neyman_scores(frame, candidate)
    n_h = allocate(frame.sizes, int(size), scores, minimum_per_stratum)
    # an int (or None) seed gives an int entropy; NumPy's stubs also allow a sequence of ints
    entropy = int(np.random.SeedSequence(seed).entropy)  # type: ignore[arg-type]
    rng = np.random.default_rng(np.random.SeedSequence(entropy))
    order = np.argsort(frame.codes, kind="stable")
    starts = np.concatenate([[0], np.cumsum(frame.sizes)])
    picked = np.concatenate(
        [
            rng.choice(order[starts[h] : starts[h + 1]], n_h[h], replace=False)
            for h in range(len(n_h))
        ]
    ).astype(np.int64)
    # reserves after every primary, from the same stream: the primaries stay those of a draw
    # without reserves, and each stratum's reserves come in the order drawn (rank 1 first)
    chosen = np.zeros(frame.n, dtype=bool)
    chosen[picked] = True
    k_h = [
        min(default_reserves(int(n_h[h])) if reserves is None else reserves, int(left))
        for h, left in enumerate(frame.sizes - n_h)
    ]
    spare = [
        rng.choice(
            [i for i in order[starts[h] : starts[h + 1]] if not chosen[i]], k_h[h], replace=False
        ).astype(np.int64)
        if k_h[h]
        else np.zeros(0, dtype=np.int64)
        for h in range(len(n_h))
    ]
    picked.sort()
    names = np.asarray(frame.names, dtype=object)
    frame_rows = np.flatnonzero(frame.mask)
    cols = ["station_id", *election.meta.hierarchy]
    if "registered" in election.table.columns and "registered" not in cols:
        cols.append("registered")
    codes = frame.codes[picked]
    weight = frame.sizes[codes] / n_h[codes]
    table = (
        election.table[frame_rows[picked]]
        .select(cols)
        .with_columns(
            pl.Series("stratum", names[codes].astype(str)),
            pl.Series("weight", weight.astype(np.float64)),
            pl.Series("inclusion_probability", 1.0 / weight),
        )
    )
    res = np.concatenate(spare) if spare else np.zeros(0, dtype=np.int64)
    reserve_table = (
        election.table[frame_rows[res]]
        .select(cols)
        .with_columns(
            pl.Series("stratum", names[frame.codes[res]].astype(str), dtype=pl.Utf8),
            pl.Series(
                "reserve_rank",
                np.concatenate([np.arange(1, k + 1, dtype=np.int64) for k in k_h]),
                dtype=pl.Int64,
            ),
        )
    )
    allocs = tuple(
        StratumAllocation(name=name, frame_stations=int(N), sampled=int(n), weight=float(N / n))
        for name, N, n in zip(frame.names, frame.sizes, n_h, strict=True)
    )
    notes = []
    if (n_h == frame.sizes).any():
        notes.append(
            note(
                N_("{n} strata are sampled completely (no sampling error there)."),
                n=int((n_h == frame.sizes).sum()),
            )
        )
    return SampleDesign(
        table=table,
        strata_by=frame.by,
        allocation=allocation,
        strata=allocs,
        size=int(size),
        frame_stations=frame.n,
        excluded_stations=election.n_stations - frame.n,
        seed=entropy,
        notes=tuple(notes),
        reserves=reserve_table,
    )


def default_reserves(sampled: int) -> int:
    """Reserves per stratum when none are asked for: one for every five primaries, at least one.

    NDI's handbook draws reserve stations with the sample so that a replacement is random too;
    it gives no fixed share. A fifth covers the unreachable stations of a typical deployment
    (5–10 %) several times over without inviting replacements of convenience.
    """
    return max(1, math.ceil(sampled / 5))


def derive_strata(
    election: Election, lookup: str | Path, source: str, columns: Sequence[str] | None = None
) -> tuple[Election, dict]:
    """Add stratifying columns to the election's stations through a lookup file.

    ``lookup`` is a CSV (UTF-8, header) with a column named ``source`` (e.g. ``conec``, the
    constituency: the Azerbaijani layout has no region) and the derived columns (e.g.
    ``region``); each value of ``source`` among the stations must appear exactly once.

    Returns the election with the derived columns and the lookup record for the sample's
    sidecar (``{"file", "sha256", "from", "to"}``). Raises
    :class:`~pollwatch.errors.IngestError` listing every station value missing from the lookup,
    duplicated keys with different values, and missing columns.
    """
    path = Path(lookup)
    src = str(path)
    if not path.exists():
        raise IngestError(src, [DataIssue(src, "file not found")])
    if source not in election.table.columns:
        raise ValueError(
            f"strata_from ({source!r}) is not a column of the election; "
            f"columns are: {', '.join(election.table.columns)}"
        )
    df = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    df = df.rename({c: c.strip().lstrip("\ufeff") for c in df.columns})
    to = [c for c in df.columns if c != source] if columns is None else list(columns)
    issues = [
        DataIssue(
            src,
            f'missing column "{c}"',
            1,
            c,
            value=", ".join(df.columns),
            expected=f"columns {source} and {', '.join(to) or 'a derived column'}",
        )
        for c in [source, *to]
        if c not in df.columns
    ]
    if not to:
        issues.append(DataIssue(src, "no derived column", 1, expected=f"a column besides {source}"))
    if issues:
        raise IngestError(src, issues)
    clash = [c for c in to if c in election.table.columns]
    if clash:
        raise ValueError(f"strata ({clash}) are already columns of the election: no lookup needed")
    df = df.select([pl.col(c).str.strip_chars() for c in [source, *to]])
    seen: dict[str, tuple[int, tuple]] = {}
    for line, row in enumerate(df.iter_rows(), start=2):
        key, vals = row[0], row[1:]
        if key is None or key == "":
            issues.append(
                DataIssue(src, "empty key", line, source, expected="a value of " + source)
            )
        elif key in seen and seen[key][1] != vals:
            issues.append(
                DataIssue(
                    src,
                    "key listed twice with different values",
                    line,
                    source,
                    value=key,
                    expected=f"one row per key (first on line {seen[key][0]})",
                )
            )
        else:
            seen.setdefault(key, (line, vals))
        for c, v in zip(to, vals, strict=True):
            if v is None or v == "":
                issues.append(
                    DataIssue(src, "empty value", line, c, value="", expected=f"the {c} of {key}")
                )
    keys = election.table[source].cast(pl.Utf8).str.strip_chars()
    missing = sorted(set(keys.drop_nulls().to_list()) - set(seen), key=str)
    issues += [
        DataIssue(
            src,
            f"{source} of the stations missing from the lookup",
            None,
            source,
            value=k,
            expected=f"a row for {source} {k!r}",
        )
        for k in missing
    ]
    if keys.null_count():
        issues.append(
            DataIssue(
                src,
                f"stations without a {source}",
                None,
                source,
                value=str(keys.null_count()),
                expected=f"every station has a {source}",
            )
        )
    if issues:
        raise IngestError(src, issues)
    mapping = {k: v for k, (_, v) in seen.items()}
    table = election.table.with_columns(
        [
            pl.Series(c, [mapping[k][j] for k in keys.to_list()], dtype=pl.Utf8)
            for j, c in enumerate(to)
        ]
    )
    record = {"file": path.name, "sha256": file_sha256(path), "from": source, "to": to}
    return Election(table, election.meta, election.ingest_report), record
