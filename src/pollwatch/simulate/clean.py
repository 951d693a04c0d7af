"""The clean electorate: heavy-tailed sizes, regional and station variation, binomial counts."""

from __future__ import annotations

import numpy as np

from pollwatch.simulate.config import ElectorateConfig


def _logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def multinomial_rows(rng: np.random.Generator, n: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """One multinomial draw per row (``n[i]`` trials, ``probs[i]``) by conditional binomials."""
    out = np.zeros(probs.shape, dtype=np.int64)
    left = n.astype(np.int64).copy()
    rest = np.ones(len(n))
    for j in range(probs.shape[1] - 1):
        p = np.clip(probs[:, j] / np.maximum(rest, 1e-12), 0.0, 1.0)
        out[:, j] = rng.binomial(left, p)
        left -= out[:, j]
        rest -= probs[:, j]
    out[:, -1] = left
    return out


def geography(cfg: ElectorateConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Region and constituency index of every station (constituencies nest in regions)."""
    con_region = np.sort(
        np.concatenate(
            [
                np.arange(cfg.n_regions),
                rng.integers(0, cfg.n_regions, cfg.n_constituencies - cfg.n_regions),
            ]
        )
    )
    weights = rng.dirichlet(np.full(cfg.n_constituencies, 5.0))
    con = np.sort(rng.choice(cfg.n_constituencies, size=cfg.n_stations, p=weights))
    return con_region[con], con


def clean_counts(cfg: ElectorateConfig, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Every protocol line of a clean election, consistent with all arithmetic rules."""
    n = cfg.n_stations
    region, con = geography(cfg, rng)
    reg = np.exp(rng.normal(cfg.size_log_mean, cfg.size_log_sd, n))
    tiny = rng.random(n) < cfg.tiny_share
    reg[tiny] = rng.integers(10, 100, tiny.sum())
    registered_main = np.clip(np.round(reg), 10, cfg.max_size).astype(np.int64)

    reg_eff = rng.normal(0, cfg.turnout_region_sd, cfg.n_regions)
    st_eff = rng.normal(0, cfg.turnout_station_sd, n)
    t = 1 / (1 + np.exp(-(_logit(cfg.turnout_mean) + reg_eff[region] + st_eff)))
    k = len(cfg.candidates)
    share_reg = rng.normal(0, cfg.share_region_sd, (cfg.n_regions, k))
    if cfg.region_correlation and cfg.turnout_region_sd > 0:
        # no extra draws, so every other configuration keeps its random stream
        rho = cfg.region_correlation
        share_reg[:, 0] = (
            rho * cfg.share_region_sd * reg_eff / cfg.turnout_region_sd
            + np.sqrt(1 - rho * rho) * share_reg[:, 0]
        )
    share_st = rng.normal(0, cfg.share_station_sd, (n, k))
    if cfg.station_correlation and cfg.turnout_station_sd > 0:
        rho = cfg.station_correlation
        share_st[:, 0] = (
            rho * cfg.share_station_sd * st_eff / cfg.turnout_station_sd
            + np.sqrt(1 - rho * rho) * share_st[:, 0]
        )
    logs = np.log(np.asarray(cfg.base_shares))[None, :] + share_reg[region] + share_st
    prefs = np.exp(logs - logs.max(axis=1, keepdims=True))
    prefs /= prefs.sum(axis=1, keepdims=True)

    additional = rng.binomial(registered_main, cfg.additional_rate)
    absentee_voted = rng.binomial(registered_main, cfg.absentee_rate)
    absentee_taken = rng.binomial(registered_main, cfg.absentee_rate / 2)
    registered = registered_main + additional + absentee_voted - absentee_taken
    voters = rng.binomial(registered, t)
    invalid = rng.binomial(voters, cfg.invalid_rate)
    votes = multinomial_rows(rng, voters - invalid, prefs)
    early = rng.binomial(voters, cfg.early_rate)
    mobile = rng.binomial(voters - early, cfg.mobile_rate)
    received = (np.ceil(registered * 1.02 / 50) * 50).astype(np.int64)
    mobile_requests = mobile + rng.binomial(np.maximum(registered - voters, 0), 0.005)
    return {
        "region": region,
        "constituency": con,
        "registered": registered,
        "registered_main": registered_main,
        "additional_list": additional,
        "absentee_voted": absentee_voted,
        "absentee_taken": absentee_taken,
        "ballots_received": received,
        "ballots_issued_early": early,
        "ballots_issued_mobile": mobile,
        "ballots_issued_station": voters - early - mobile,
        "invalid": invalid,
        "votes": votes,
        "mobile_requests": mobile_requests,
        "turnout_propensity": t,
    }
