"""Injected fraud, each kind with its own per-station truth (votes added or moved)."""

from __future__ import annotations

import numpy as np

from pollwatch.simulate.config import FraudConfig


def _pick(
    rng: np.random.Generator,
    n: int,
    fraction: float,
    con: np.ndarray | None = None,
    share: float = 1.0,
) -> np.ndarray:
    """Stations chosen for a fraud: ``fraction`` of all, optionally within ``share`` of constituencies."""
    if fraction <= 0:
        return np.zeros(n, bool)
    if con is None or share >= 1.0:
        return rng.random(n) < fraction
    ucon = np.unique(con)
    chosen = rng.choice(ucon, size=max(1, int(round(share * len(ucon)))), replace=False)
    inside = np.isin(con, chosen)
    p = min(1.0, fraction * n / max(inside.sum(), 1))
    return inside & (rng.random(n) < p)


def _add_to_favoured(c: dict, idx: np.ndarray, extra: np.ndarray, fav: int) -> None:
    c["votes"][idx, fav] += extra
    c["ballots_issued_station"][idx] += extra


def _move_to_favoured(
    c: dict, idx: np.ndarray, frac: np.ndarray, fav: int, rng: np.random.Generator
) -> np.ndarray:
    moved_total = np.zeros(len(idx), np.int64)
    for j in range(c["votes"].shape[1]):
        if j == fav:
            continue
        moved = rng.binomial(c["votes"][idx, j], frac)
        c["votes"][idx, j] -= moved
        moved_total += moved
    c["votes"][idx, fav] += moved_total
    return moved_total


def _voters(c: dict) -> np.ndarray:
    return c["ballots_issued_early"] + c["ballots_issued_station"] + c["ballots_issued_mobile"]


def apply_fraud(c: dict, fraud: FraudConfig, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Modify the counts in place; return the truth columns (votes added/moved per kind)."""
    n = len(c["registered"])
    fav = fraud.favoured
    truth = {
        k: np.zeros(n, np.int64) for k in ("carousel", "switched", "stuffed", "extreme", "rounded")
    }
    con = c["constituency"]

    sel = np.flatnonzero(
        _pick(rng, n, fraud.carousel.fraction, con, fraud.carousel.constituency_share)
    )
    if len(sel):
        lo, hi = fraud.carousel.intensity
        extra = rng.binomial(c["registered_main"][sel], rng.uniform(lo, hi, len(sel)))
        half = rng.binomial(extra, 0.5)  # half on additional lists, half with absentee cards
        c["additional_list"][sel] += half
        c["absentee_voted"][sel] += extra - half
        c["registered"][sel] += extra
        c["ballots_received"][sel] = np.maximum(
            c["ballots_received"][sel], c["registered"][sel] + 50
        )
        _add_to_favoured(c, sel, extra, fav)
        truth["carousel"][sel] = extra

    sel = np.flatnonzero(_pick(rng, n, fraud.switching.fraction))
    if len(sel):
        truth["switched"][sel] = _move_to_favoured(
            c, sel, rng.uniform(*fraud.switching.intensity, len(sel)), fav, rng
        )

    sel = np.flatnonzero(
        _pick(rng, n, fraud.stuffing.fraction, con if fraud.stuffing.clustered else None, 1 / 3)
    )
    if len(sel):
        nonvoters = np.maximum(c["registered"][sel] - _voters(c)[sel], 0)
        extra = rng.binomial(nonvoters, rng.uniform(*fraud.stuffing.intensity, len(sel)))
        _add_to_favoured(c, sel, extra, fav)
        truth["stuffed"][sel] = extra

    sel = np.flatnonzero(_pick(rng, n, fraud.extreme.fraction))
    if len(sel):
        target_t = rng.uniform(fraud.extreme.low, 1.0, len(sel))
        extra = np.maximum(
            np.floor(target_t * c["registered"][sel]).astype(np.int64) - _voters(c)[sel], 0
        )
        _add_to_favoured(c, sel, extra, fav)
        target_s = rng.uniform(fraud.extreme.low, 1.0, len(sel))
        moved = _move_to_favoured(
            c, sel, target_s, fav, rng
        )  # others keep only 0–5 % of their votes
        truth["extreme"][sel] = extra + moved

    sel = np.flatnonzero(_pick(rng, n, fraud.rounding.fraction))
    if len(sel):
        truth["rounded"][sel] = _round_protocols(c, sel, fraud, rng)
    return truth


def _round_protocols(
    c: dict, sel: np.ndarray, fraud: FraudConfig, rng: np.random.Generator
) -> np.ndarray:
    """Rewrite counts so turnout and/or the favoured share land exactly on a round percent."""
    fav, step = fraud.favoured, fraud.rounding.round_to
    change = np.zeros(len(sel), np.int64)
    if fraud.rounding.target in ("turnout", "both"):
        reg = c["registered"][sel]
        issued = _voters(c)[sel]
        pct = np.ceil(100.0 * issued / reg / step) * step  # round up: fraud adds, never removes
        target = np.minimum(np.round(pct * reg / 100.0).astype(np.int64), reg)
        extra = np.maximum(target - issued, 0)
        _add_to_favoured(c, sel, extra, fav)
        change += extra
    if fraud.rounding.target in ("share", "both"):
        cast = c["votes"][sel].sum(axis=1) + c["invalid"][sel]
        lead = c["votes"][sel, fav]
        pct = np.minimum(np.ceil(100.0 * lead / np.maximum(cast, 1) / step) * step, 100)
        target = np.round(pct * cast / 100.0).astype(np.int64)
        need = np.maximum(target - lead, 0)
        for j in range(c["votes"].shape[1]):  # take from the others, largest first
            if j == fav:
                continue
            take = np.minimum(need, c["votes"][sel, j])
            c["votes"][sel, j] -= take
            c["votes"][sel, fav] += take
            need -= take
            change += take
    return change
