"""What the report adds to ``pollwatch analyze`` for a 100,000-station election, and its size.

Targets: report generation (figures, HTML, exports) ≤ 10 s; report.html ≤ 10 MB. The
analysis runs the fast methods only (the report's cost does not depend on which ran).
Usage: python benchmarks/report.py [N_STATIONS]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from pollwatch.forensics.run import analyze
from pollwatch.report import build_report, write_exports, write_html
from pollwatch.simulate import FraudConfig, Rounding, Stuffing, simulate_election


def main(n: int) -> None:
    sim = simulate_election(
        n,
        seed=1,
        layout="russia",
        fraud=FraudConfig(stuffing=Stuffing(0.1), rounding=Rounding(0.02)),
    )
    a = analyze(
        sim.election,
        methods=[
            "fingerprint",
            "regression",
            "integer_percentages",
            "shpilkin",
            "digits",
            "carousel",
        ],
    )
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        report = build_report(a)
        t1 = time.perf_counter()
        path = write_html(report, Path(tmp) / "report.html")
        t2 = time.perf_counter()
        write_exports(a, tmp)
        t3 = time.perf_counter()
        size = path.stat().st_size / 1e6
    total = t3 - t0
    print(
        f"{n:,} stations: figures+sections {t1 - t0:.2f} s, HTML {t2 - t1:.2f} s, exports {t3 - t2:.2f} s; "
        f"total {total:.2f} s (≤ 10 s {'met' if total <= 10 else 'MISSED'}); "
        f"report.html {size:.2f} MB (≤ 10 MB {'met' if size <= 10 else 'MISSED'})"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
