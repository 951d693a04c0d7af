"""Ingest + validate time and peak memory at 100,000 and 1,000,000 stations.

Generates Russian-layout CSV files with the simulator (with fraud, so validation has work),
then, in a fresh subprocess per size (so peak RSS is that run's alone), times
``read_election`` and ``validate``. Targets on a 2-core machine: 100k < 2 s, 1M < 15 s and
< 3 GB. Prints a table; pass sizes as arguments to override (e.g. ``python ingest.py 50000``).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from pollwatch.ingest import read_election
from pollwatch.validate import validate
t0 = time.perf_counter(); e = read_election(sys.argv[1]); t1 = time.perf_counter()
f = validate(e); t2 = time.perf_counter()
print(json.dumps({"stations": e.n_stations, "ingest": t1 - t0, "validate": t2 - t1, "findings": len(f),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

TARGETS = {100_000: (2.0, None), 1_000_000: (15.0, 3072.0)}


def make_file(n: int, directory: Path) -> tuple[Path, float]:
    from pollwatch.simulate import FraudConfig, Rounding, Stuffing, simulate_election

    t0 = time.perf_counter()
    sim = simulate_election(n, seed=1, layout="russia",
                            fraud=FraudConfig(stuffing=Stuffing(0.1), rounding=Rounding(0.02)))
    paths = sim.write(directory / f"n{n}")
    return paths["results.csv"], time.perf_counter() - t0


def main(sizes: list[int]) -> None:
    print(f"{'stations':>10} {'file MB':>8} {'ingest s':>9} {'validate s':>10} {'total s':>8} {'peak MB':>8}  target")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path, gen = make_file(n, Path(tmp))
            out = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True)
            r = json.loads(out.stdout)
            total = r["ingest"] + r["validate"]
            t_max, mem_max = TARGETS.get(n, (None, None))
            verdict = []
            if t_max is not None:
                verdict.append(f"time {'met' if total < t_max else 'MISSED'} (< {t_max:g} s)")
            if mem_max is not None:
                verdict.append(f"memory {'met' if r['peak_mb'] < mem_max else 'MISSED'} (< {mem_max:g} MB)")
            print(f"{n:>10,} {path.stat().st_size / 1e6:>8.1f} {r['ingest']:>9.2f} {r['validate']:>10.2f} "
                  f"{total:>8.2f} {r['peak_mb']:>8.0f}  {'; '.join(verdict)}  (simulated + written in {gen:.1f} s)")
    print(f"benchmark process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100_000, 1_000_000])
