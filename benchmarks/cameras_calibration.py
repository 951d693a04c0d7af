"""Calibration of the camera comparison on simulated, realistic watchers.

Watchers (``WatcherModel()``: 40 watchers, each seeing a voter with probability 0.82–0.99,
tiring by up to 10 points by closing time, counting up to 4 % of voters twice) cannot see the
mobile box (6 % of voters) or early voters (3 %); 10 % of windows are also counted by the video
counter (the reference). Stuffing adds U(a, b) × the in-station voters at 30 % of stations.
For each setting it prints, over the fraud-free stations, the false-flag rate of the FDR flags
(Benjamini–Hochberg 5 %) with its Wilson 95 % interval and of the hard flags; over the stuffed
stations the power (FDR flags, hard flags) per stuffing size; and the lower bound on added
ballots as a share of the ballots truly added.

Run: .venv/bin/python benchmarks/cameras_calibration.py [--stations 2000] [--seeds 2]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import polars as pl

from pollwatch.cameras import compare_official, estimate_turnout, simulate_cameras
from pollwatch.cameras.lines import OfficialBallots, stated_official
from pollwatch.cameras.simulate import WatcherModel

SIZES = ((0.05, 0.10), (0.10, 0.20), (0.20, 0.35), (0.35, 0.60))
SETTINGS = [
    # name, simulate kwargs, estimate kwargs, official lines
    ("video reference, expected", {}, {"reference_watcher": "video"}, "station"),
    (
        "video reference, realised",
        {},
        {"reference_watcher": "video", "target": "realised"},
        "station",
    ),
    ("double counts, no reference", {}, {}, "station"),
    ("no double counts (default)", {"double_share": 0.0}, {}, "station"),
    ("all ballots issued (old basis)", {}, {"reference_watcher": "video"}, "issued"),
    ("all issued, as like with like", {}, {"reference_watcher": "video"}, "naive"),
]


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson (1927) score interval for a proportion k/n."""
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(c - h, 0.0), min(c + h, 1.0)


def run(n: int, seed: int, sim_kw: dict, est_kw: dict, lines: str) -> dict:
    sim = simulate_cameras(
        n,
        seed=seed,
        watchers=WatcherModel(),
        mobile_share=0.06,
        early_share=0.03,
        inflation=(SIZES[0][0], SIZES[-1][1]),
        **sim_kw,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = estimate_turnout(sim.tallies, sim.status, strata=sim.strata, seed=seed, **est_kw)
    issued = {
        s: v + sim.protocol["ballots_issued_mobile"][s] + sim.protocol["ballots_issued_early"][s]
        for s, v in sim.official.items()
    }
    if lines == "station":
        off: object = OfficialBallots(
            sim.official, "ballots_issued_station", ("ballots_issued_station",), True
        )
    elif lines == "issued":
        off = stated_official(issued, "ballots_issued")
    else:
        off = issued  # a plain mapping: the caller's word that it is like with like
    cmp = compare_official(est, off)
    ok = est.status == "estimated"
    ids = est.station_id[ok]
    infl = np.array([s in sim.inflated for s in ids])
    size = np.array([sim.added[s] / max(sim.realised[s], 1) for s in ids])
    added = sum(sim.added[s] for s in ids[infl])
    out = {
        "clean": int((~infl).sum()),
        "false": int(cmp.flagged[ok][~infl].sum()),
        "false_hard": int(cmp.hard[ok][~infl].sum()),
        "bound": cmp.lower_bound_added / max(added, 1),
        "flags": cmp.n_flagged,
        "expected_false": cmp.expected_false_flags,
    }
    for a, b in SIZES:
        m = infl & (size >= a) & (size < b)
        out[f"n{a}"] = int(m.sum())
        out[f"p{a}"] = int(cmp.flagged[ok][m].sum())
        out[f"h{a}"] = int(cmp.hard[ok][m].sum())
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stations", type=int, default=2000)
    ap.add_argument("--seeds", type=int, default=2)
    args = ap.parse_args()
    print(f"{args.stations} stations × {args.seeds} seeds; stuffing at 30 % of stations")
    rows = []
    for name, sim_kw, est_kw, lines in SETTINGS:
        t = time.perf_counter()
        res = [run(args.stations, 100 + s, sim_kw, est_kw, lines) for s in range(args.seeds)]
        tot = {k: sum(r[k] for r in res) for k in res[0]}
        lo, hi = wilson(tot["false"], tot["clean"])
        row = {
            "setting": name,
            "false flags": f"{tot['false'] / tot['clean']:.3f} [{lo:.3f}, {hi:.3f}]",
            "false hard": f"{tot['false_hard'] / tot['clean']:.3f}",
        }
        for a, b in SIZES:
            k = tot[f"n{a}"]
            row[f"+{100 * a:.0f}–{100 * b:.0f} %"] = (
                f"{tot[f'p{a}'] / k:.2f} / {tot[f'h{a}'] / k:.2f}" if k else "n/a"
            )
        row["bound"] = f"{np.mean([r['bound'] for r in res]):.3f}" if lines != "issued" else "n/a"
        row["s"] = f"{time.perf_counter() - t:.0f}"
        rows.append(row)
        print(row, flush=True)
    with pl.Config(tbl_rows=-1, tbl_cols=-1, fmt_str_lengths=40, tbl_width_chars=250):
        print(pl.DataFrame(rows))


if __name__ == "__main__":
    main()
