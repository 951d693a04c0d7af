"""Stations drawn from the Klimek et al. (2012) fraud model, with per-station truth.

Source: Klimek, Yegorov, Hanel & Thurner (2012), "Statistical detection of systematic election
irregularities", *PNAS* 109(41):16469–16473, model as specified in ``docs/methods/forensics.md`` §1.2
(realisation steps 1–4). Written independently of ``pollwatch.forensics.klimek`` so that a
fit there can be calibrated against draws from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from pollwatch.model import Election, ElectionMeta

SIGMA_EXTREME = 0.075  # §1.2 step 3: extreme intensity 1 − |N(0, σ_e)|
KINDS = ("clean", "incremental", "extreme")


@dataclass(frozen=True)
class KlimekSimulation:
    """A Klimek-model election: ``election`` (two candidates, Leader and Other; counts
    rounded from the continuous model), ``truth`` (one row per station: ``kind`` clean /
    incremental / extreme, intensity ``x``, clean turnout ``a`` and share ``nu_i``, model
    turnout and share, clean and official ballots and leader votes, ``stuffed`` ballots
    and ``switched`` votes), the parameters and the seed."""

    election: Election
    truth: pl.DataFrame
    params: dict = field(default_factory=dict)
    seed: int = 0

    @property
    def fraud_share(self) -> dict[str, float]:
        """Realised share of stations of each kind (compare with ``f_i``, ``f_e``)."""
        k = self.truth["kind"]
        out: dict[str, float] = {}
        for kind in KINDS:
            share = (k == kind).mean()  # a float, None when there are no stations
            if not isinstance(share, float):
                raise ValueError("the simulation has no stations")
            out[kind] = share
        return out


def _truncated_normal(
    rng: np.random.Generator,
    mean: float,
    sd: float,
    n: int,
    lo: float = 0.0,
    hi: float = 1.0,
    open_lo: bool = False,
) -> np.ndarray:
    """N(mean, sd) truncated to [lo, hi] by redrawing (not clipping, which piles mass on the edges)."""
    x = rng.normal(mean, sd, n)
    for _ in range(1000):
        bad = ((x <= lo) if open_lo else (x < lo)) | (x > hi)
        if not bad.any():
            return x
        x[bad] = rng.normal(mean, sd, int(bad.sum()))
    return np.clip(x, lo, hi)  # mean far outside [lo, hi]; only reachable with absurd parameters


def _check(name: str, value: float, lo: float, hi: float, open_lo: bool = False) -> None:
    ok = (lo < value if open_lo else lo <= value) and value <= hi
    if not ok:
        left = "(" if open_lo else "["
        raise ValueError(f"{name} ({value}) must be in the interval {left}{lo:g}, {hi:g}].")


def simulate_klimek(
    n_stations: int,
    f_i: float,
    f_e: float,
    alpha: float,
    *,
    seed: int = 0,
    tau: float = 0.55,
    nu: float = 0.45,
    sigma_tau: float = 0.08,
    sigma_nu: float = 0.07,
    theta: float = 0.5,
    sigma_e: float = SIGMA_EXTREME,
    size_log_mean: float = 7.0,
    size_log_sd: float = 0.6,
    min_size: int = 100,
) -> KlimekSimulation:
    """Draw ``n_stations`` stations from the Klimek et al. (2012) model (``docs/methods/forensics.md`` §1.2).

    Per station: electorate ``N ~ lognormal(size_log_mean, size_log_sd)`` (at least
    ``min_size``, so every station enters the fingerprint fit); ``a ~ N(τ, σ_τ)`` and
    ``ν_i ~ N(ν, σ_ν)`` truncated to [0, 1]; ``u ~ U(0, 1)``: incremental fraud if
    ``u < f_i``, extreme if ``u < f_i + f_e``; intensity ``x = |N(0, θ)|`` truncated to
    (0, 1] (incremental) or ``1 − |N(0, σ_e)|`` (extreme), 0 if clean. Turnout
    ``T = a + x(1 − a)``, leader fraction of the electorate
    ``W = aν_i + x(1 − a) + x^α(1 − ν_i)a`` (non-voters stuffed for the leader, a share
    ``x^α`` of opposition votes switched). Counts are the model fractions rounded:
    ballots ``round(T·N)`` (at least 1), leader ``round(W·N)`` capped at ballots; no invalid
    ballots. Assumptions: the model's, i.e. one Gaussian clean blob, fraud only for the leader.

    :returns: :class:`KlimekSimulation`; ``truth.stuffed`` = official − clean ballots,
        ``truth.switched`` = leader votes gained beyond the stuffed ballots.
    """
    if int(n_stations) < 1:
        raise ValueError(f"n_stations ({n_stations}) must be at least 1.")
    _check("f_i", f_i, 0.0, 1.0)
    _check("f_e", f_e, 0.0, 1.0)
    if f_i + f_e > 1.0:
        raise ValueError(f"f_i + f_e ({f_i + f_e}) must be at most 1.")
    _check("alpha", alpha, 0.0, 100.0, open_lo=True)
    _check("tau", tau, 0.0, 1.0)
    _check("nu", nu, 0.0, 1.0)
    for name, v in (
        ("sigma_tau", sigma_tau),
        ("sigma_nu", sigma_nu),
        ("theta", theta),
        ("sigma_e", sigma_e),
    ):
        _check(name, v, 0.0, 10.0, open_lo=True)
    if min_size < 1:
        raise ValueError(f"min_size ({min_size}) must be at least 1.")
    n = int(n_stations)
    rng = np.random.default_rng(seed)
    size = np.maximum(np.rint(rng.lognormal(size_log_mean, size_log_sd, n)), min_size).astype(
        np.int64
    )
    a = _truncated_normal(rng, tau, sigma_tau, n)
    nu_i = _truncated_normal(rng, nu, sigma_nu, n)
    u = rng.random(n)
    x_inc = _truncated_normal(rng, 0.0, theta, n, open_lo=True)  # = |N(0, θ)| truncated to (0, 1]
    x_ext = 1.0 - _truncated_normal(rng, 0.0, sigma_e, n)  # 1 − |N(0, σ_e)| truncated to [0, 1]
    kind = np.where(u < f_i, 1, np.where(u < f_i + f_e, 2, 0))
    x = np.choose(kind, [np.zeros(n), x_inc, x_ext])
    turnout = a + x * (1 - a)
    w = a * nu_i + x * (1 - a) + x**alpha * (1 - nu_i) * a
    ballots = np.maximum(np.rint(turnout * size), 1).astype(np.int64)
    lead = np.minimum(np.rint(w * size).astype(np.int64), ballots)
    clean_ballots = np.maximum(np.rint(a * size), 1).astype(np.int64)
    clean_lead = np.minimum(np.rint(a * nu_i * size).astype(np.int64), clean_ballots)

    sid = np.char.add("K", np.arange(1, n + 1).astype(str))
    meta = ElectionMeta(
        country="XX",
        date="2012-03-04",
        type="simulated",
        profile="generic",
        name=f"Klimek-model simulation (f_i={f_i}, f_e={f_e}, alpha={alpha}, seed {seed})",
    )
    zeros = np.zeros(n, np.int64)
    election = Election.from_arrays(
        registered=size,
        valid=ballots,
        invalid=zeros,
        votes={"Leader": lead, "Other": ballots - lead},
        station_ids=sid,
        fields={"ballots_issued_station": ballots, "ballots_stationary_box": ballots},
        meta=meta,
    )
    stuffed = ballots - clean_ballots
    truth = pl.DataFrame(
        {
            "station_id": sid,
            "kind": np.array(KINDS)[kind],
            "x": x,
            "a": a,
            "nu_i": nu_i,
            "turnout": turnout,
            "share": np.where(turnout > 0, w / np.maximum(turnout, 1e-300), 0.0),
            "clean_ballots": clean_ballots,
            "clean_leader_votes": clean_lead,
            "ballots": ballots,
            "leader_votes": lead,
            "stuffed": stuffed,
            "switched": lead - clean_lead - stuffed,
        }
    )
    params = {
        "n_stations": n,
        "f_i": f_i,
        "f_e": f_e,
        "alpha": alpha,
        "tau": tau,
        "nu": nu,
        "sigma_tau": sigma_tau,
        "sigma_nu": sigma_nu,
        "theta": theta,
        "sigma_e": sigma_e,
        "size_log_mean": size_log_mean,
        "size_log_sd": size_log_sd,
        "min_size": min_size,
        "seed": seed,
    }
    return KlimekSimulation(election, truth, params, seed)
