"""Timings of the digit tests and the Rozenas RKD on the Russian 2011/2012 files.

Run: ``.venv/bin/python benchmarks/forensics_digits_coarse.py [n_resamples]``. Prints wall
and CPU seconds per step (CPU time is the fairer figure on a shared machine).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from pollwatch.forensics.coarse import rozenas_rkd, small_denominator_test
from pollwatch.forensics.digits import digit_tests
from pollwatch.ingest import read_election

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "russia"


def timed(label: str, fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    print(
        f"  {label:<42} wall {time.perf_counter() - w:7.3f} s   cpu {time.process_time() - c:7.3f} s"
    )
    return out


def main(n_resamples: int = 1000) -> None:
    for name in ("duma-2011", "president-2012"):
        e = read_election(DATA / f"{name}.csv.zip")
        print(f"{name}: {e.n_stations:,} stations")
        digit_tests(e, seed=0, regions=False)  # warm caches (field arrays)
        timed("digits, national rows", lambda e=e: digit_tests(e, seed=0, regions=False))
        timed("digits, national + regional rows", lambda e=e: digit_tests(e, seed=0))
        r = timed(
            f"RKD fit + {n_resamples} resamples (serial seam)",
            lambda e=e: rozenas_rkd(e, n_resamples=n_resamples, seed=1),
        )
        print(
            f"    fraud {r.fraud_pct:.3f} % [{r.interval.low:.3f}, {r.interval.high:.3f}], "
            f"{r.n_flagged} flagged, p {r.pvalue:.4f}"
        )
        fit = (r.turnout_mixture, r.support_mixture)
        timed(
            f"RKD {n_resamples} resamples, fit reused",
            lambda e=e, fit=fit: rozenas_rkd(e, n_resamples=n_resamples, seed=1, mixtures=fit),
        )
        sd = timed(
            "exact small denominators, 200 resamples",
            lambda e=e, fit=fit: small_denominator_test(e, seed=1, mixtures=fit),
        )
        print(f"    excess {sd.excess:.1f} stations, z {sd.z:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
