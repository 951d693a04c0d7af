"""How `analyze()` grows with the number of stations, up to a million.

Simulates elections of the given sizes (default 100,000 and 1,000,000 stations, 12 % of stations
stuffed and 2 % rounded, Russian layout, 80 regions), then runs every forensic method as
`pollwatch analyze` does (the RKD resampling and the national mixture in a worker process) and
prints each method's seconds, the total wall and CPU seconds (this process and its children)
and the peak resident memory of both. The machine may be shared: the load average is printed.
Usage: python benchmarks/forensics_scale.py [N ...]
"""

from __future__ import annotations

import os
import resource
import sys
import time


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _peak_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, kids


def _load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(sizes: list[int]) -> None:
    from pollwatch.forensics.run import analyze
    from pollwatch.simulate import (
        ElectorateConfig,
        FraudConfig,
        Rounding,
        Stuffing,
        simulate_election,
    )

    print(f"{os.cpu_count()} CPUs; {_load()} at start")
    t0 = time.perf_counter()
    analyze(simulate_election(3000, seed=1).election)  # compile numba kernels once
    print(f"warm-up (numba compile) {time.perf_counter() - t0:.1f} s")
    for n in sizes:
        t0 = time.perf_counter()
        cfg = ElectorateConfig(n_stations=n, n_regions=80, n_constituencies=max(80, n // 100))
        sim = simulate_election(
            n,
            seed=7,
            electorate=cfg,
            fraud=FraudConfig(stuffing=Stuffing(0.12), rounding=Rounding(0.02)),
        )
        e = sim.election
        made = time.perf_counter() - t0
        w, c = time.perf_counter(), _cpu()
        a = analyze(e, seed=0)
        w, c = time.perf_counter() - w, _cpu() - c
        own, kids = _peak_mb()
        print(
            f"\n{n:,} stations (simulated in {made:.1f} s): analyze() {w:.1f} s wall, {c:.1f} s CPU; "
            f"peak RSS {own:,.0f} MB here, {kids:,.0f} MB in the largest child; {_load()}"
        )
        print("  " + ", ".join(f"{k} {v:.1f}" for k, v in a.timings.items()))
        if a.errors:
            print("  errors: " + "; ".join(f"{k}: {v}" for k, v in a.errors.items()))
        added = int(sim.truth["ballots_added"].sum())
        mix = (
            a.results["mixture_by_region"].manufactured_votes
            if "mixture_by_region" in a.results
            else float("nan")
        )
        print(
            f"  injected ballots {added:,}; regional mixture {mix:,.0f} ({mix / added:.3f} of injected)"
        )


if __name__ == "__main__":
    main([int(x) for x in sys.argv[1:]] or [100_000, 1_000_000])
