"""False-alarm rate and power of the quick count's pre-registered verdict, by simulation.

Acceptance (issue 19): on >= 300 simulated clean elections with non-response not at random and
copies equal to the official protocols, ``discrepancy`` in <= 5 %; with >= 2 pp of the leader's
share manufactured at non-sampled stations, ``discrepancy`` in >= 90 % at the sample size
``sample_size`` recommends (±1 pp at 95 %). Rates with Wilson 95 % intervals; the figures
are quoted in docs/quickcount.md §8.2.

Also printed: power at smaller manufactured shares, the false-alarm rate at the conventional
alpha = 5 % (why the rule uses 1 %), what the retired nine separate tests said on the same clean
elections, and the verdict on early arrivals (why ``too_early`` exists).

Run: .venv/bin/python benchmarks/quickcount_verdict.py [--runs 300] [--quick]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from pollwatch.errors import SmallSampleWarning
from pollwatch.quickcount.compare import compare
from pollwatch.quickcount.design import draw_sample, sample_size
from pollwatch.quickcount.simulation import (
    copies_from,
    report_arrivals,
    simulate_frame,
    verdict_acceptance,
    wilson_interval,
)
from pollwatch.quickcount.verdict import VerdictRule

STRATA = ["region", "urban"]


def line(label: str, r) -> None:
    c = r.counts
    print(
        f"{label:<58} {r.runs:>5} {100 * r.rate:>6.1f} % [{100 * r.rate_low:4.1f}, "
        f"{100 * r.rate_high:5.1f}]  consistent {c['consistent']:>4}  too_early {c['too_early']:>4}"
        f"  response {100 * r.mean_response:.1f} %  n {r.mean_sample:.0f}"
    )


def old_rule(runs: int, seed: int) -> tuple[int, int]:
    """The retired messaging: any of the nine official figures outside its 95 % interval, and
    any with |z| > 3, on the same clean elections."""
    outside = significant = 0
    for r in range(runs):
        s = seed + r
        e = simulate_frame(s)
        size = sample_size(0.01, past=e).stations_to_draw
        d = draw_sample(e, size, strata=STRATA, seed=s)
        ids, arr = report_arrivals(e, d.table["station_id"].to_list(), s)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SmallSampleWarning)
            c = compare(copies_from(e, ids, arrived=arr), e, frame=e, strata=STRATA, sampled=d)
        zs = np.array([abs(x.z) for x in c.official.rows])
        outside += bool((zs > 1.96).any())
        significant += bool((zs > 3).any())
    return outside, significant


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="acceptance rows only")
    args = ap.parse_args()
    n, seed = args.runs, args.seed
    print(
        "simulated elections: 4,000 stations, 10 regions, urban/rural; sample = sample_size(±1 pp, "
        "95 %, ρ from the geography), stratified by region × urban; non-response not at random"
    )
    print(f"{'scenario':<58} {'runs':>5} {'discrepancy [Wilson 95 %]':>24}")
    t0 = time.perf_counter()
    line("clean (acceptance: <= 5 %)", verdict_acceptance(n, seed=seed))
    line(
        "2 pp manufactured, transfer (acceptance: >= 90 %)",
        verdict_acceptance(n, seed=seed + 100_000, manufactured=0.02),
    )
    line(
        "2 pp manufactured, stuffed ballots",
        verdict_acceptance(n, seed=seed + 200_000, manufactured=0.02, mode="stuff"),
    )
    print(f"({(time.perf_counter() - t0) / (3 * n) * 1000:.0f} ms per simulated election)")
    if args.quick:
        return
    for pp in (0.005, 0.01, 0.015):
        line(
            f"{100 * pp:g} pp manufactured, transfer",
            verdict_acceptance(n, seed=seed + 300_000, manufactured=pp),
        )
    line(
        "clean, alpha = 5 % (not the rule)",
        verdict_acceptance(n, seed=seed, rule=VerdictRule(alpha=0.05)),
    )
    for share in (0.5, 0.7, 0.8):
        line(
            f"clean, first {100 * share:g} % of the sample arrived",
            verdict_acceptance(n, seed=seed, arrived_share=share),
        )
        line(
            f"clean, first {100 * share:g} % arrived, too_early rule off",
            verdict_acceptance(
                n,
                seed=seed,
                arrived_share=share,
                rule=VerdictRule(min_response=0.0, max_borrowed=1.0),
            ),
        )
    outside, significant = old_rule(n, seed)
    for label, k in (
        ("retired: 'some figures fall outside the margin'", outside),
        ("retired: 'differ significantly (|z| > 3)'", significant),
    ):
        lo, hi = wilson_interval(k, n)
        print(f"{label:<58} {n:>5} {100 * k / n:>6.1f} % [{100 * lo:4.1f}, {100 * hi:5.1f}]")


if __name__ == "__main__":
    main()
