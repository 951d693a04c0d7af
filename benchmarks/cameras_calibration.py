"""Calibration of the camera estimator on simulated monitoring: coverage, recall, false flags.

For several settings (burstiness, outage rate, inflation size, dispersion model) it simulates
stations with ``pollwatch.cameras.simulate_cameras`` and prints:
coverage of the 95 % interval for the expected full-day count (the quantity the default
``target="expected"`` interval is for) and for the realised count (``target="realised"``), recall of inflated stations, false-flag rate,
share of stations with insufficient coverage, and the lower bound on added ballots as a share
of the ballots truly added.

Run: .venv/bin/python benchmarks/cameras_calibration.py [--stations 2000] [--seeds 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from pollwatch.cameras import compare_official, estimate_turnout, simulate_cameras

SETTINGS = [
    ("default (15 % in groups of ~6)", {}, "pearson"),
    ("default, target realised", {}, "pearson/realised"),
    ("small inflation, target realised", {"inflation": (0.05, 0.15)}, "pearson/realised"),
    ("default, negative binomial", {}, "negbin"),
    ("default, plain Poisson", {}, "poisson"),
    ("bursty (35 % in groups of ~10)", {"group_share": 0.35, "mean_group": 10.0}, "pearson"),
    ("bursty, negative binomial", {"group_share": 0.35, "mean_group": 10.0}, "negbin"),
    ("many outages (90 % of cameras)", {"outage_rate": 0.9}, "pearson"),
    ("noisy watchers (φ_w = 0.3)", {"watcher_noise": 0.3}, "pearson"),
    ("small inflation (+5–15 %)", {"inflation": (0.05, 0.15)}, "pearson"),
    ("station profiles vary more", {"profile_jitter": 500.0}, "pearson"),
]


def run(n: int, seed: int, kw: dict, dispersion: str) -> dict:
    sim = simulate_cameras(n, seed=seed, **kw)
    dispersion, _, target = dispersion.partition("/")
    est = estimate_turnout(
        sim.tallies,
        sim.status,
        strata=sim.strata,
        seed=seed,
        dispersion=dispersion,
        target=target or "expected",
    )
    cmp = compare_official(est, sim.official)
    ok = est.status == "estimated"
    ids = est.station_id[ok]
    exp = np.array([sim.expected[s] for s in ids])
    real = np.array([sim.realised[s] for s in ids])
    lo, hi = est.low[ok], est.high[ok]
    infl = np.array([s in sim.inflated for s in ids])
    added = sum(sim.official[s] - sim.realised[s] for s in ids[infl])
    return {
        "cov_exp": np.mean((lo <= exp) & (exp <= hi)),
        "cov_real": np.mean((lo <= real) & (real <= hi)),
        "recall": cmp.flagged[ok][infl].mean(),
        "false": cmp.flagged[ok][~infl].mean(),
        "insufficient": 1 - ok.mean(),
        "bound": cmp.lower_bound_added / max(added, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stations", type=int, default=2000)
    ap.add_argument("--seeds", type=int, default=2)
    args = ap.parse_args()
    cols = ("cov_exp", "cov_real", "recall", "false", "insufficient", "bound")
    print(
        f"{args.stations} stations × {args.seeds} seeds; inflation +30–100 % at 30 % of stations "
        "unless stated; 15-minute windows 08:00–20:00"
    )
    print(f"{'setting':<34}{'disp':>17}" + "".join(f"{c:>13}" for c in cols) + f"{'s':>6}")
    for name, kw, disp in SETTINGS:
        t = time.perf_counter()
        res = [run(args.stations, 100 + s, kw, disp) for s in range(args.seeds)]
        avg = {c: float(np.mean([r[c] for r in res])) for c in cols}
        print(
            f"{name:<34}{disp:>17}"
            + "".join(f"{avg[c]:13.3f}" for c in cols)
            + f"{time.perf_counter() - t:6.1f}"
        )


if __name__ == "__main__":
    main()
