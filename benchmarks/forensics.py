"""Seconds per forensic method and peak memory on the 2012 Russian file (95,415 stations).

Targets on a 2-core machine: integer test ≤ 1 s, Klimek fit ≤ 5 s, coarse shares ≤ 10 s,
mixture ≤ 60 s, the whole ``pollwatch analyze`` (report included) ≤ 30 s. Each method runs
in this process after a warm-up on a small simulated election (numba compilation is
reported separately). Usage: python benchmarks/forensics.py [FILE]
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "russia" / "president-2012.csv.zip"
TARGETS = {"integer_percentages": 1.0, "klimek": 5.0, "coarse_shares": 10.0, "mixture": 60.0}


def main(path: Path) -> None:
    if not path.exists():
        print(f"skipped: {path} is absent (needs ../shared/data beside the project)")
        return
    from pollwatch.forensics.run import METHODS, analyze
    from pollwatch.ingest import read_election
    from pollwatch.simulate import simulate_election

    t0 = time.perf_counter()
    analyze(simulate_election(3000, seed=1).election)  # compile numba kernels once
    warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    e = read_election(path)
    load = time.perf_counter() - t0
    a = analyze(e, seed=0)
    print(f"file {path.name}: {e.n_stations:,} stations; ingest {load:.2f} s; warm-up (numba compile) {warm:.1f} s")
    print(f"{'step':<22} {'seconds':>8}  target")
    for name, secs in a.timings.items():
        tgt = TARGETS.get(name)
        verdict = "" if tgt is None else f"≤ {tgt:g} s {'met' if secs <= tgt else 'MISSED'}"
        print(f"{name:<22} {secs:>8.2f}  {verdict}")
    for name, err in a.errors.items():
        print(f"{name}: ERROR {err}")
    print(f"methods total {sum(a.timings.values()):.1f} s; peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; methods run: {', '.join(METHODS)}")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pollwatch.cli", "analyze", str(path), "--out", tmp, "--quiet"],
                       check=True, capture_output=True)
        whole = time.perf_counter() - t0
        size = (Path(tmp) / "report.html").stat().st_size / 1e6
    print(f"whole `pollwatch analyze` (fresh process, report included) {whole:.1f} s  ≤ 30 s "
          f"{'met' if whole <= 30 else 'MISSED'}; report.html {size:.1f} MB (≤ 10 MB)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT)
