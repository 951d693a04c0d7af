"""Census calibration (docs/census.md §4): coverage of the corrected interval and the bound's
verdicts on simulated nights with altered official results and an urban-first collection.

    python benchmarks/census_calibration.py [RUNS]

Prints, per post-stratification (the default, which finds the urban/rural column, and region
only), the share of runs whose 95 % interval covers the truth, with Wilson 95 % intervals, how
often intervals were widened by the selection check, and the bound's verdicts on the official
winner's claim.
"""

from __future__ import annotations

import sys
import time

from scipy.stats import binomtest

from pollwatch.census import census_check
from pollwatch.census.simulation import simulate_census
from pollwatch.claims.model import Claim


def wilson(k: int, n: int) -> str:
    ci = binomtest(k, n).proportion_ci(method="wilson")
    return f"{k / n:6.1%} [{ci.low:.1%}, {ci.high:.1%}]"


def main(runs: int = 300) -> None:
    t0 = time.perf_counter()
    keys = ("share:Candidate A", "share:Candidate B", "turnout")
    for label, by in (
        ("default (region × urban/rural × size)", None),
        ("region × size only", ["region"]),
    ):
        hits = dict.fromkeys(keys, 0)
        widened = dict.fromkeys(keys, 0)
        proven = impossible = 0
        for seed in range(runs):
            night = simulate_census(10_000 + seed)
            claim = Claim(source="CEC", speaker="", quantity="winner_share", value=50.0)
            r = census_check(night.sheets, night.official, [claim], by=by)
            t = night.truth
            truth = {
                "share:Candidate A": night.true_share("Candidate A"),
                "share:Candidate B": night.true_share("Candidate B"),
                "turnout": t.ballots_cast().sum() / t.field("registered").sum(),
            }
            for k in keys:
                iv = r.estimate[k].interval
                hits[k] += iv.low <= truth[k] <= iv.high
                widened[k] += r.diagnostics["selection_check"][k]["widened"]
            tot, u, win = (
                r.bound.collected_votes,
                r.bound.uncollected_max,
                night.official.winner.name,
            )
            proven += any(v > tot[win] + u for c, v in tot.items() if c != win)
            impossible += r.claims[0].verdict == "impossible"
        print(f"post-strata: {label}; {runs} runs, coverage 60-85 % urban first")
        for k in keys:
            print(f"  {k:20s} covered {wilson(hits[k], runs)}   widened {widened[k] / runs:.1%}")
        print(
            f"  official winner provably trailing on the sheets: {proven}; the claim '50 % for "
            f"the official winner' called impossible: {impossible}"
        )
    print(f"time: {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
