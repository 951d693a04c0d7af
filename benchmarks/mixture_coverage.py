"""Do the finite-mixture model's 95 % intervals cover the injected ballots?

For each scenario, simulates elections of 5,000–20,000 stations (8 regions; seeds 900000 + i),
fits the mixture nationally and region by region, each with 10 bootstrap replicates (as
`pollwatch analyze --regional-boot 10`), and prints how often the interval on manufactured votes
covers the ballots actually added, the median estimate / injected and the median half-width.
Usage: python benchmarks/mixture_coverage.py [N_ELECTIONS] [SCENARIO ...]
(default 40 elections, "stuffing 15 %" and "stuffing 30 %"; scenarios of pollwatch.calibration).
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np


def _one(scenario: str, i: int) -> list[float]:
    from pollwatch.calibration import SCENARIOS
    from pollwatch.forensics.mixture import fraud_mixture
    from pollwatch.simulate import ElectorateConfig, simulate_election

    n = int(np.random.default_rng([77, i]).integers(5_000, 20_001))
    cfg = ElectorateConfig(n_stations=n, n_regions=8, n_constituencies=max(8, n // 100))
    sim = simulate_election(n, seed=900_000 + i, fraud=SCENARIOS[scenario], electorate=cfg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        national = fraud_mixture(sim.election, seed=i, n_boot=10, execution="serial")
        regional = fraud_mixture(
            sim.election, seed=i, n_boot=10, strata="region", execution="serial"
        )
    row = [float(sim.truth["ballots_added"].sum())]
    for r in (national, regional):
        row += [r.manufactured_votes, r.manufactured_ci.low, r.manufactured_ci.high]
    return row


def main(n_elections: int, scenarios: list[str]) -> None:
    from pollwatch.compute import run_tasks

    print(
        "| scenario | fit | covers the injected ballots | median estimate / injected | median half-width |"
    )
    print("|---|---|---:|---:|---:|")
    for sc in scenarios:
        t0 = time.perf_counter()
        res = np.array(
            run_tasks(_one, [(sc, i) for i in range(n_elections)], execution="processes")
        )
        added = res[:, 0]
        for name, j in (("national", 1), ("region by region", 4)):
            est, low, high = res[:, j], res[:, j + 1], res[:, j + 2]
            inside = int(((low <= added) & (added <= high)).sum())
            print(
                f"| {sc} | {name} | {inside} / {len(added)} | {np.median(est / added):.3f} | "
                f"{np.median((high - low) / 2 / est) * 100:.1f} % |"
            )
        print(f"({sc}: {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    args = sys.argv[1:]
    n = int(args.pop(0)) if args and args[0].isdigit() else 40
    main(n, args or ["stuffing 15 %", "stuffing 30 %"])
