"""Integer-percentage test of Kobak, Shpilkin & Pshenichnikov (2016).

Falsified protocols are often written to hit a round target ("62 % turnout"), so whole
percentages of turnout or leader share are over-represented. The test counts stations whose
turnout or leader percentage lies within ±0.05 pp of a whole number and compares the count
with what binomial noise around each station's own turnout and result would give.

Source: D. Kobak, S. Shpilkin, M. S. Pshenichnikov (2016), "Integer percentages as electoral
falsification fingerprints", *Ann. Appl. Stat.* 10(1):54–73, doi:10.1214/16-AOAS904, §3
(statistic and binomial null), and the notebooks in ``dkobak/elections``. Implementer's
notes: ``docs/methods/forensics.md`` §3; reference figures: ``docs/methods/reference-numbers.md`` §3.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from scipy import special, stats

from pollwatch.compute import Execution, run_tasks, spawn_seeds
from pollwatch.forensics._common import (
    TURNOUT_BASES,
    Notes,
    basic_mask,
    counts_exclusions,
    turnout_numerator,
    validate_choice,
    validate_param,
)
from pollwatch.forensics._integer_windows import LOGFACT_MAX, window_null
from pollwatch.forensics._poisson_binomial import poisson_binomial_sf
from pollwatch.i18n import N_, gettext, note
from pollwatch.model import Election
from pollwatch.results import ResultMixin, StationSignal, Summary, fmt_int, jsonable

__all__ = [
    "IntegerStat",
    "IntegerTestResult",
    "expected_by_percent",
    "integer_flags",
    "integer_probability",
    "observed_by_percent",
    "integer_test",
]

#: the statistics (integer turnout, integer leader share, either); names translated where shown
_STATS = (N_("either"), N_("leader"), N_("turnout"))
#: below this many included stations the exact mode gives no (normal-approximation) p-value
MIN_STATIONS_NORMAL = 30


def integer_flags(x: np.ndarray, n: np.ndarray, window: float = 0.05) -> np.ndarray:
    """True where ``p = (100·x)/n`` is within ``window`` pp of a whole percent (boundary in)."""
    p = (100.0 * np.asarray(x, dtype=np.float64)) / np.asarray(n, dtype=np.float64)
    return np.abs(p - np.round(p)) <= window


def integer_probability(
    x: np.ndarray, n: np.ndarray, window: float = 0.05, n_sd: float = 6.0
) -> np.ndarray:
    """Exact ``P(Binomial(n, x/n) lands in an integer window)`` per station (see
    :func:`_null_summaries` for how the windows are enumerated)."""
    return _null_summaries(x, n, window, n_sd)[0]


def expected_by_percent(
    x: np.ndarray, n: np.ndarray, window: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Expected number of stations (and its variance) landing within ``window`` of each whole
    percent 0…100 under the binomial null — for the observed-against-expected panel."""
    _, exp, var = _null_summaries(x, n, window)
    return exp, var


def _null_summaries(
    x: np.ndarray, n: np.ndarray, window: float = 0.05, n_sd: float = 6.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact binomial window masses: per-station probability of landing within ``window`` of a
    whole percent, and the expected count of stations at each whole percent with its variance.

    For each whole percent ``j`` the window holds the counts ``k`` with
    ``|(100·k)/n − j| ≤ window``; its ends ``ceil(n(j − w)/100)`` and ``floor(n(j + w)/100)``
    are corrected by one step where float rounding puts ``(100·k)/n`` on the other side, so
    the set is exactly the one :func:`integer_flags` would flag. Binomial probabilities are
    summed over windows within ``mean ± (n_sd·sd + 12)`` counts (the mass outside is below
    1e-9 per station), from a log-factorial table.
    """
    x = np.asarray(x, dtype=np.int64)
    n = np.asarray(n, dtype=np.int64)
    if x.size == 0:
        return np.zeros(0), np.zeros(101), np.zeros(101)
    # never sized by an absurd count: stations above LOGFACT_MAX use lgamma (see window_null)
    logfact = special.gammaln(np.arange(min(int(n.max()), LOGFACT_MAX) + 1) + 1.0)
    return window_null(x, n, float(window), float(n_sd), logfact)


def observed_by_percent(x: np.ndarray, n: np.ndarray, window: float = 0.05) -> np.ndarray:
    """Number of stations whose ``(100·x)/n`` lies within ``window`` of each whole percent."""
    p = (100.0 * np.asarray(x, dtype=np.float64)) / np.asarray(n, dtype=np.float64)
    hit = np.abs(p - np.round(p)) <= window
    return np.bincount(np.round(p[hit]).astype(np.int64), minlength=101)[:101]


@dataclass(frozen=True)
class IntegerStat:
    """One statistic (``either``, ``leader`` or ``turnout``) against its binomial null.

    ``expected``/``sd`` are the null mean and standard deviation (exact, or of the Monte
    Carlo replicates with ``ddof = 0``); ``pvalue`` is one-sided (normal approximation in
    exact mode, NaN below :data:`MIN_STATIONS_NORMAL` included stations or when ``sd = 0``;
    ``(1 + #{S* ≥ S})/(n_rep + 1)`` in Monte Carlo mode); ``pvalue_refined`` is
    the saddlepoint Poisson-binomial tail in exact mode (None in Monte Carlo mode); ``band`` is
    ``q99.9(S*) − mean(S*)`` (Monte Carlo) or its normal-theory analogue ``3.09·sd``.
    """

    name: str
    observed: int
    expected: float
    sd: float
    excess: float
    z: float
    pvalue: float
    pvalue_refined: float | None
    band: float


@dataclass(frozen=True)
class IntegerTestResult(ResultMixin):
    """Result of :func:`integer_test`. Per-station arrays are full length (file order)."""

    method: str
    basis: str
    window: float
    min_registered: int
    cap: float | None
    n_stations: int
    n_included: int
    exclusions: dict[str, int]
    statistics: tuple[IntegerStat, ...]
    registered_flagged: int
    registered_expected: float
    excess_registered: float
    n_rep: int | None
    seed: int | None
    legacy: bool
    backend: str
    notes: tuple[str, ...]
    included: np.ndarray = field(repr=False)
    flag_turnout: np.ndarray = field(repr=False)
    flag_leader: np.ndarray = field(repr=False)
    prob_turnout: np.ndarray = field(repr=False)
    prob_leader: np.ndarray = field(repr=False)
    replicates: np.ndarray | None = field(default=None, repr=False)
    #: rows: observed, expected and variance of the number of station results (turnout and
    #: leader share counted separately) within the window of each whole percent 0…100
    by_percent: np.ndarray | None = field(default=None, repr=False)

    _dict_exclude = (
        "included",
        "flag_turnout",
        "flag_leader",
        "prob_turnout",
        "prob_leader",
        "replicates",
        "by_percent",
    )

    def stat(self, name: str) -> IntegerStat:
        validate_choice("name", name, _STATS)
        return self.statistics[_STATS.index(name)]

    @property
    def either(self) -> IntegerStat:
        return self.statistics[0]

    @property
    def leader(self) -> IntegerStat:
        return self.statistics[1]

    @property
    def turnout(self) -> IntegerStat:
        return self.statistics[2]

    @property
    def excess(self) -> float:
        """Excess integer stations (turnout or leader), observed minus null mean."""
        return self.either.excess

    @property
    def flag_either(self) -> np.ndarray:
        return self.flag_turnout | self.flag_leader

    # the station-signal contract (pollwatch.results.MethodResult)
    def station_signals(self, election: Election) -> dict[str, StationSignal]:
        return {
            "integer": StationSignal(
                name="integer",
                values=self.flag_either,
                kind="flag",
                unit="flag",
                description=f"turnout or leader percentage within {self.window:g} pp of a whole "
                "number (included stations only)",
            )
        }

    def to_json(self) -> dict:
        s = self.either
        return jsonable(
            {
                "excess": s.excess,
                "p_value": s.pvalue,
                "z": s.z,
                "observed": s.observed,
                "expected": s.expected,
                "sd": s.sd,
                "excess_leader": self.leader.excess,
                "excess_turnout": self.turnout.excess,
                "excess_registered": self.excess_registered,
                "included": self.n_included,
                "basis": self.basis,
                "method": self.method,
            },
            keep_nan=True,
        )

    def parameters(self) -> dict:
        return {
            "method": self.method,
            "basis": self.basis,
            "window": self.window,
            "min_registered": self.min_registered,
            "cap": self.cap,
            "n_rep": self.n_rep,
            "seed": self.seed,
            "legacy": self.legacy,
        }

    def summary(self) -> Summary:
        s = self.either
        text = gettext(
            "{observed} of {n} included stations report a whole-number turnout or leader "
            "percentage (±{window} pp); binomial noise alone would give {expected} ± {sd}. The "
            "excess of {excess} stations is {z} standard deviations (one-sided p = {p}). An "
            "excess means round numbers are more common than chance allows, consistent with "
            "figures written to a target; it is not proof of fraud at any single station."
        ).format(
            observed=f"{s.observed:,}",
            n=f"{self.n_included:,}",
            window=self.window,
            expected=f"{s.expected:,.1f}",
            sd=f"{s.sd:.1f}",
            excess=f"{s.excess:,.1f}",
            z=f"{s.z:.1f}",
            p=f"{s.pvalue:.3g}",
        )
        rows = [
            (
                "method",
                gettext("{method} (legacy RandomState(42) stream)").format(method=self.method)
                if self.legacy
                else self.method,
            ),
            ("turnout basis", self.basis),
            ("included", f"{self.n_included:,} of {self.n_stations:,}"),
        ]
        for st in self.statistics:
            rows.append(
                (
                    gettext("{statistic}: observed / null").format(statistic=gettext(st.name)),
                    f"{st.observed:,} / {st.expected:,.1f}",
                )
            )
            rows.append(
                (
                    gettext("{statistic}: excess, z").format(statistic=gettext(st.name)),
                    f"{st.excess:,.1f}, z = {st.z:.2f}",
                )
            )
        rows.append(("excess registered voters", fmt_int(self.excess_registered)))
        if self.seed is not None:
            rows.append(("seed", str(self.seed)))
        return Summary(
            "Integer-percentage test (Kobak, Shpilkin & Pshenichnikov 2016)", text, rows, self.notes
        )


def _mc_chunk(
    seed: Any, n_rep: int, V: np.ndarray, G: np.ndarray, R: np.ndarray, L: np.ndarray, window: float
) -> np.ndarray:
    """``n_rep`` binomial replicates → rows (S*, S_L*, S_T*, Σ V over either-flagged)."""
    rng = np.random.default_rng(seed)
    pT, pL = G / V, L / R
    out = np.empty((n_rep, 4))
    for r in range(n_rep):
        fT = integer_flags(rng.binomial(V, pT), V, window)
        fL = integer_flags(rng.binomial(R, pL), R, window)
        either = fT | fL
        out[r] = either.sum(), fL.sum(), fT.sum(), V[either].sum()
    return out


def _legacy_replicates(
    n_rep: int,
    V: np.ndarray,
    G: np.ndarray,
    R: np.ndarray,
    L: np.ndarray,
    window: float,
    chunk: int = 2000,
) -> np.ndarray:
    """The notebooks' stream: ``RandomState(42).binomial(N, P, size=(n, 2, n_rep))``.

    ``N[:, 0] = R, P[:, 0] = L/R`` (leader first), ``N[:, 1] = V, P[:, 1] = G/V``; drawing
    consecutive station chunks consumes the generator in the same order.
    """
    rs = np.random.RandomState(42)
    out = np.zeros((n_rep, 4))
    for a in range(0, V.size, chunk):
        b = min(a + chunk, V.size)
        N = np.stack([R[a:b], V[a:b]], axis=1)[:, :, None]
        P = np.stack([L[a:b] / R[a:b], G[a:b] / V[a:b]], axis=1)[:, :, None]
        draws = rs.binomial(N, P, size=(b - a, 2, n_rep))
        fL = integer_flags(draws[:, 0, :], N[:, 0, :], window)
        fT = integer_flags(draws[:, 1, :], N[:, 1, :], window)
        either = fL | fT
        out[:, 0] += either.sum(0)
        out[:, 1] += fL.sum(0)
        out[:, 2] += fT.sum(0)
        out[:, 3] += (either * V[a:b, None]).sum(0)
    return out


def _exact_stats(
    obs: tuple[int, int, int], probs: tuple[np.ndarray, ...]
) -> tuple[IntegerStat, ...]:
    out = []
    for name, o, p in zip(_STATS, obs, probs, strict=True):
        mean = float(p.sum())
        sd = float(math.sqrt((p * (1 - p)).sum()))
        z = (o - mean) / sd if sd > 0 else math.nan
        out.append(
            IntegerStat(
                name=name,
                observed=int(o),
                expected=mean,
                sd=sd,
                excess=o - mean,
                z=z,
                pvalue=float(stats.norm.sf(z)) if sd > 0 else math.nan,
                pvalue_refined=poisson_binomial_sf(int(o), p),
                band=float(stats.norm.ppf(0.999) * sd),
            )
        )
    return tuple(out)


def _mc_stats(obs: tuple[int, int, int], reps: np.ndarray) -> tuple[IntegerStat, ...]:
    out = []
    n_rep = reps.shape[0]
    for i, (name, o) in enumerate(zip(_STATS, obs, strict=True)):
        col = reps[:, i]
        mean, sd = float(col.mean()), float(col.std())
        z = (o - mean) / sd if sd > 0 else math.nan
        p = (1 + int((col >= o).sum())) / (n_rep + 1)
        out.append(
            IntegerStat(
                name=name,
                observed=int(o),
                expected=mean,
                sd=sd,
                excess=o - mean,
                z=z,
                pvalue=p,
                pvalue_refined=None,
                band=float(np.percentile(col, 99.9) - mean),
            )
        )
    return tuple(out)


def integer_test(
    e: Election,
    *,
    candidate: str | None = None,
    basis: Literal["issued", "cast"] = "issued",
    min_registered: int = 100,
    cap: float | None = 0.99,
    window: float = 0.05,
    method: Literal["exact", "montecarlo"] = "exact",
    n_rep: int = 1000,
    seed: int | None = None,
    legacy: bool = False,
    chunk_reps: int = 50,
    execution: Execution | str | None = None,
) -> IntegerTestResult:
    """Kobak–Shpilkin–Pshenichnikov integer-percentage test.

    Inclusion: stations not excluded by the model (e-voting rows kept), ``R > 0``,
    ``V ≥ min_registered``, ``G/V ≤ cap`` and ``L/R ≤ cap`` (the caps drop trivially whole
    100 % values; ``cap=None`` disables them). A station is flagged when ``p_T = (100·G)/V``
    or ``p_L = (100·L)/R`` lies within ``window`` pp of a whole number. Null (paper §3):
    independently ``G* ~ Bin(V, G/V)`` and ``L* ~ Bin(R, L/R)`` with ``V``, ``R`` fixed — it
    keeps each station's expected turnout and result and removes any preference for round
    numbers.

    Parameters
    ----------
    basis : ``"issued"`` (``G``, the published convention) or ``"cast"`` (``R``) numerator.
    method : ``"exact"`` sums the binomial window probabilities per station (no Monte Carlo
        noise; ``P(T or L) = P_T + P_L − P_T·P_L`` under independence); ``"montecarlo"``
        draws ``n_rep`` replicates in chunks of ``chunk_reps`` through
        :func:`pollwatch.compute.run_tasks` (one SeedSequence child per chunk, so results
        do not depend on ``execution``).
    legacy : with ``method="montecarlo"``, reproduce the published stream exactly
        (``RandomState(42)``, leader then turnout per station, file order); ``seed`` ignored.

    Assumptions: stations independent; binomial sampling of ballots around each station's
    own rates is the only source of chance. Excess registered voters = ``Σ V`` over flagged
    stations minus its null expectation.
    """
    validate_choice("basis", basis, TURNOUT_BASES)
    validate_choice("method", method, ("exact", "montecarlo"))
    validate_param("min_registered", min_registered, 0, math.inf)
    validate_param("window", window, 0, 0.5, inclusive=(False, False))
    if cap is not None:
        validate_param("cap", cap, 0, 1, inclusive=(False, True))
    validate_param("n_rep", n_rep, 1, math.inf)
    validate_param("chunk_reps", chunk_reps, 1, math.inf)
    if legacy and method != "montecarlo":
        raise ValueError(f"legacy ({legacy!r}) needs method='montecarlo', got method={method!r}")
    notes = Notes()

    V = e.field("registered")
    G = turnout_numerator(e, basis)
    R = e.ballots_cast()
    L = e.votes(candidate)
    inc = basic_mask(e) & (V >= min_registered)  # not excluded, R > 0, V > 0
    if cap is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            inc &= (G / np.where(V > 0, V, 1) <= cap) & (L / np.where(R > 0, R, 1) <= cap)
    n_inc = int(inc.sum())
    excl = counts_exclusions(e)
    excl["filtered_out"] = int(excl["kept"] - n_inc)
    if basis == "cast":
        notes.add(note("turnout numerator is ballots cast (R/V); the published convention is G/V"))
    if n_inc < MIN_STATIONS_NORMAL:
        notes.small_sample(
            note(
                "only {n} stations pass the inclusion filter; the test has "
                "little power and the normal approximation is poor",
                n=n_inc,
            )
        )

    Vi, Gi, Ri, Li = V[inc], G[inc], R[inc], L[inc]
    fT, fL = integer_flags(Gi, Vi, window), integer_flags(Li, Ri, window)
    either = fT | fL
    obs = (int(either.sum()), int(fL.sum()), int(fT.sum()))
    # one enumeration of the binomial window masses per pair gives both the per-station
    # probabilities and the expected count at each whole percent (the report's panel)
    by_percent = np.zeros((3, 101))
    probs = []
    for x, n in ((Gi, Vi), (Li, Ri)):
        prob, exp, var = _null_summaries(x, n, window)
        probs.append(prob)
        by_percent += (observed_by_percent(x, n, window), exp, var)
    pT, pL = probs
    pE = pT + pL - pT * pL
    reg_flagged = int(Vi[either].sum())

    reps = None
    entropy = None
    be_name = "none"
    if method == "exact":
        statistics = _exact_stats(obs, (pE, pL, pT))
        if n_inc < MIN_STATIONS_NORMAL:  # too few stations for the normal p: none, not a poor one
            statistics = tuple(replace(st, pvalue=math.nan) for st in statistics)
            notes.add(
                note(
                    "p-value not given below {n} stations; pvalue_refined "
                    "(saddlepoint) still holds",
                    n=MIN_STATIONS_NORMAL,
                )
            )
        reg_expected = float((Vi * pE).sum())
    else:
        if legacy:
            reps = _legacy_replicates(n_rep, Vi, Gi, Ri, Li, window)
            be_name = "serial (legacy stream)"
            notes.add(note("legacy RandomState(42) stream, stations in file order; seed ignored"))
        else:
            sizes = [min(chunk_reps, n_rep - a) for a in range(0, n_rep, chunk_reps)]
            entropy, children = spawn_seeds(seed, len(sizes))
            tasks = [(c, s, Vi, Gi, Ri, Li, window) for c, s in zip(children, sizes, strict=True)]
            reps = np.concatenate(run_tasks(_mc_chunk, tasks, execution))
            be_name = Execution.of(execution).describe()
        statistics = _mc_stats(obs, reps)
        reg_expected = float(reps[:, 3].mean())
        if n_rep < 1000:
            floor = f"{1 / (n_rep + 1):.2g}"
            notes.add(
                note(
                    "{n} replicates: the empirical p-value cannot go below "
                    "{floor}; rank by z instead",
                    n=n_rep,
                    floor=floor,
                )
            )

    def full(a: np.ndarray, fill: Any) -> np.ndarray:
        out = np.full(V.size, fill, dtype=np.asarray(a).dtype)
        out[inc] = a
        return out

    return IntegerTestResult(
        method=method,
        basis=basis,
        window=window,
        min_registered=int(min_registered),
        cap=cap,
        n_stations=int(V.size),
        n_included=n_inc,
        exclusions=excl,
        statistics=statistics,
        registered_flagged=reg_flagged,
        registered_expected=reg_expected,
        excess_registered=reg_flagged - reg_expected,
        n_rep=n_rep if method == "montecarlo" else None,
        seed=entropy,
        legacy=legacy,
        backend=be_name,
        notes=notes.as_tuple(),
        included=inc,
        flag_turnout=full(fT, False),
        flag_leader=full(fL, False),
        prob_turnout=full(pT, np.nan),
        prob_leader=full(pL, np.nan),
        replicates=reps,
        by_percent=by_percent,
    )
