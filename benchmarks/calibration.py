"""Calibration of every forensic method on simulated elections with known fraud.

Prints, per method, the signal rate on clean elections (false-positive rate at α = 0.05, the
acceptance band is 2–8 %) and on stuffing and rounding at three intensities (power), with
Wilson 95 % intervals, plus the Shpilkin and mixture estimates divided by the injected ballots.

Usage: python benchmarks/calibration.py [N_ELECTIONS] [--methods a,b] [--workers K]
Default 200 elections of 5,000–20,000 stations per scenario (hours on 2 cores for the slow
methods; pass --methods integer_percentages,digits,shpilkin for a fast run).
"""

from __future__ import annotations

import argparse
import time

from pollwatch.calibration import DETECTORS, SCENARIOS, accuracy_table, calibrate, format_table
from pollwatch.compute import Backend


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n_elections", nargs="?", type=int, default=200)
    ap.add_argument("--methods", default=",".join(DETECTORS))
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--min-stations", type=int, default=5_000)
    ap.add_argument("--max-stations", type=int, default=20_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    t0 = time.perf_counter()
    table = calibrate(n_elections=a.n_elections, n_stations=(a.min_stations, a.max_stations),
                      methods=a.methods.split(","), scenarios=a.scenarios.split(","), seed=a.seed,
                      backend=Backend("processes", workers=a.workers) if a.workers > 1 else None,
                      progress=lambda d, n: print(f"  {d}/{n} elections", flush=True))
    print(f"\n{a.n_elections} simulated elections per scenario, {a.min_stations:,}–{a.max_stations:,} stations, "
          f"seed {a.seed}, {time.perf_counter() - t0:.0f} s\n")
    print("Signal rate (clean = false-positive rate at α = 0.05; otherwise power), Wilson 95 % interval:\n")
    print(format_table(table))
    print("\nEstimated / injected added ballots:\n")
    print(accuracy_table(table))
    print("\nMean seconds per election and method:")
    for (sc, m), c in table.items():
        if sc == "clean":
            print(f"  {m:<22} {c.seconds / max(c.runs, 1):.2f} s")


if __name__ == "__main__":
    main()
