"""Coverage of the quick count's nominal 95 % intervals over simulated elections and samples.

Acceptance (issue "Quick count, exit polls and claims"): over >= 500 simulated samples from
simulated elections (stratified, unequal station sizes) the intervals cover the true share of
valid votes in 93–97 % of draws. Prints a table for the linearised (z), t (k − H df) and Rao–Wu
bootstrap intervals, for the leader's share and turnout.

Run: .venv/bin/python benchmarks/quickcount_coverage.py [--elections 5] [--draws 200] [--size 200]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from pollwatch.quickcount.design import draw_sample
from pollwatch.quickcount.estimate import estimate
from pollwatch.quickcount.simulation import copies_from, simulate_frame


def coverage(elections: int, draws: int, size: int, boot: int, allocation: str) -> dict:
    hits = {k: np.zeros(3) for k in ("share", "turnout")}
    widths = []
    total = 0
    for s in range(elections):
        e = simulate_frame(1000 + s, stations=4000, regions=10)
        t = e.totals()
        truth = {"share": t["votes"]["Candidate A"] / t["valid"], "turnout": t["turnout"]}
        for d in range(draws):
            seed = 10_000 * s + d
            design = draw_sample(e, size, strata="region", allocation=allocation, seed=seed)
            r = estimate(
                copies_from(e, design.table["station_id"]),
                e,
                strata="region",
                bootstrap=boot,
                seed=seed,
            )
            for key, q in (("share", r["Candidate A"]), ("turnout", r["turnout"])):
                x = truth[key]
                hits[key] += [
                    q.low <= x <= q.high,
                    q.t_low <= x <= q.t_high,
                    q.boot_low <= x <= q.boot_high,
                ]
            widths.append(2 * r["Candidate A"].moe)
            total += 1
    return {"n": total, "hits": hits, "width": float(np.mean(widths))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--elections", type=int, default=5)
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--size", type=int, default=200)
    ap.add_argument("--bootstrap", type=int, default=400)
    args = ap.parse_args()
    print(
        f"{args.elections} simulated elections × {args.draws} samples of {args.size} stations "
        f"(4,000 stations, 10 regions, log-normal sizes); bootstrap {args.bootstrap} replicates"
    )
    print(
        f"{'allocation':<13}{'quantity':<10}{'draws':>6}{'linearised':>12}{'t (k-H)':>10}{'bootstrap':>11}"
    )
    for allocation in ("proportional", "neyman"):
        t0 = time.perf_counter()
        res = coverage(args.elections, args.draws, args.size, args.bootstrap, allocation)
        for key, h in res["hits"].items():
            z, t, b = 100 * h / res["n"]
            print(f"{allocation:<13}{key:<10}{res['n']:>6}{z:>11.1f}%{t:>9.1f}%{b:>10.1f}%")
        print(
            f"{'':<13}mean 95 % interval width (share): {100 * res['width']:.2f} pp; "
            f"{(time.perf_counter() - t0) / res['n'] * 1000:.1f} ms per sample"
        )


if __name__ == "__main__":
    main()
