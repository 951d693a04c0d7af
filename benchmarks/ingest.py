"""Ingest + validate time and peak memory at 100,000 and 1,000,000 stations.

Generates Russian-layout CSV files with the simulator (with fraud, so validation has work),
then, in a fresh subprocess per run (so peak RSS is that run's alone), times
``read_election`` and ``validate``. Targets on a 2-core machine: 100k < 2 s, 1M < 15 s and
< 3 GB. The machine is shared, so each size runs ``--repeat`` times and the best wall time is
kept; CPU seconds (user + system of the run) and the load average are printed to judge
contention. Usage: ``python benchmarks/ingest.py [SIZES ...] [--repeat K]``.
"""

from __future__ import annotations

import json
import os
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
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"stations": e.n_stations, "ingest": t1 - t0, "validate": t2 - t1, "findings": len(f),
                  "cpu": ru.ru_utime + ru.ru_stime, "peak_mb": ru.ru_maxrss / 1024}))
"""

TARGETS = {100_000: (2.0, None), 1_000_000: (15.0, 3072.0)}


def make_file(n: int, directory: Path) -> tuple[Path, float]:
    from pollwatch.simulate import FraudConfig, Rounding, Stuffing, simulate_election

    t0 = time.perf_counter()
    sim = simulate_election(
        n,
        seed=1,
        country_layout="russia",
        fraud=FraudConfig(stuffing=Stuffing(0.1), rounding=Rounding(0.02)),
    )
    paths = sim.write(directory / f"n{n}")
    return paths["results.csv"], time.perf_counter() - t0


def run_once(path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def main(sizes: list[int], repeat: int) -> None:
    print(
        f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs; "
        f"best of {repeat} run(s) per size"
    )
    print(
        f"{'stations':>10} {'file MB':>8} {'ingest s':>9} {'validate s':>10} {'total s':>8} {'cpu s':>6} "
        f"{'peak MB':>8}  target"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path, gen = make_file(n, Path(tmp))
            runs = [run_once(path) for _ in range(repeat)]
            r = min(runs, key=lambda x: x["ingest"] + x["validate"])
            total = r["ingest"] + r["validate"]
            peak = max(x["peak_mb"] for x in runs)
            all_totals = ", ".join(f"{x['ingest'] + x['validate']:.2f}" for x in runs)
            t_max, mem_max = TARGETS.get(n, (None, None))
            verdict = []
            if t_max is not None:
                verdict.append(f"time {'met' if total < t_max else 'MISSED'} (< {t_max:g} s)")
            if mem_max is not None:
                verdict.append(f"memory {'met' if peak < mem_max else 'MISSED'} (< {mem_max:g} MB)")
            print(
                f"{n:>10,} {path.stat().st_size / 1e6:>8.1f} {r['ingest']:>9.2f} {r['validate']:>10.2f} "
                f"{total:>8.2f} {r['cpu']:>6.1f} {peak:>8.0f}  {'; '.join(verdict)}  "
                f"(simulated + written in {gen:.1f} s; all totals: {all_totals})",
                flush=True,
            )
    print(
        f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}; "
        f"benchmark process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )


if __name__ == "__main__":
    args = sys.argv[1:]
    k = 2
    if "--repeat" in args:
        i = args.index("--repeat")
        k = int(args[i + 1])
        del args[i : i + 2]
    main([int(a) for a in args] or [100_000, 1_000_000], k)
