"""Seconds per forensic method and peak memory on the 2012 Russian file (95,415 stations).

Targets on a 2-core machine: integer test ≤ 1 s, Klimek fit ≤ 5 s, coarse shares ≤ 10 s,
mixture ≤ 60 s, the whole ``pollwatch analyze`` (report included) ≤ 30 s. After a warm-up on
a small simulated election (numba compilation, reported separately) each method runs alone
in this process (wall and CPU seconds; CPU counts every thread), then :func:`analyze` runs
them all as the CLI does (the national mixture and the RKD resampling in a worker process), then the CLI itself in a
fresh process. The machine may be shared: the load average is printed with the figures, and
CPU seconds are the figure to compare across runs. Usage: python benchmarks/forensics.py [FILE]
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "data"
    / "russia"
    / "president-2012.csv.zip"
)
TARGETS = {"integer_percentages": 1.0, "klimek": 5.0, "coarse_shares": 10.0, "mixture": 60.0}


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(path: Path) -> None:
    if not path.exists():
        print(f"skipped: {path} is absent (needs ../shared/data beside the project)")
        return
    from pollwatch.forensics.run import METHODS, Context, analyze
    from pollwatch.ingest import read_election
    from pollwatch.simulate import simulate_election

    print(f"{os.cpu_count()} CPUs; {_load()} at start")
    t0 = time.perf_counter()
    analyze(simulate_election(3000, seed=1).election)  # compile numba kernels once
    warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    e = read_election(path)
    load = time.perf_counter() - t0
    print(
        f"file {path.name}: {e.n_stations:,} stations; ingest {load:.2f} s; warm-up (numba compile) {warm:.1f} s"
    )
    print(f"{'method (alone)':<22} {'wall s':>7} {'CPU s':>7}  target (wall)")
    for name, spec in METHODS.items():
        ctx = Context(seed=0)
        w, c = time.perf_counter(), time.process_time()
        spec.run(e, ctx)
        w, c = time.perf_counter() - w, time.process_time() - c
        tgt = TARGETS.get(name)
        verdict = "" if tgt is None else f"≤ {tgt:g} s {'met' if w <= tgt else 'MISSED'}"
        print(f"{name:<22} {w:>7.2f} {c:>7.2f}  {verdict}")
    print(_load())
    w, c, k = time.perf_counter(), time.process_time(), _children_cpu()
    a = analyze(e, seed=0)
    w, c, k = time.perf_counter() - w, time.process_time() - c, _children_cpu() - k
    for name, err in a.errors.items():
        print(f"{name}: ERROR {err}")
    print(
        f"analyze(), all methods + scores: {w:.1f} s wall, {c + k:.1f} s CPU ({k:.1f} s of it in the "
        f"worker process); per method (overlapping): "
        + ", ".join(f"{n} {s:.1f}" for n, s in a.timings.items())
    )
    print(
        f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB (this process); {_load()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        t0, k = time.perf_counter(), _children_cpu()
        subprocess.run(
            [sys.executable, "-m", "pollwatch.cli", "analyze", str(path), "--out", tmp, "--quiet"],
            check=True,
            capture_output=True,
        )
        whole, k = time.perf_counter() - t0, _children_cpu() - k
        size = (Path(tmp) / "report.html").stat().st_size / 1e6
    print(
        f"whole `pollwatch analyze` (fresh process, report included) {whole:.1f} s wall, {k:.1f} s CPU  ≤ 30 s "
        f"{'met' if whole <= 30 else 'MISSED'}; report.html {size:.1f} MB (≤ 10 MB); {_load()}"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT)
