"""The video counter on footage with a hand count (the benchmark format of docs/cameras.md,
section "Benchmark on your own footage"): counted against hand-counted per window, bias, mean
absolute error and run time, before and after the staff filter.

Run: .venv/bin/python benchmarks/video_footage.py DIR [DIR ...]
Without DIR it writes synthetic clips in the same format (voters alone; voters with a member
who stays 50 s and one who comes to the box four times; each with voters at regular and at
random times) to a temporary directory and runs on them, so the format and the numbers in docs/cameras.md can be reproduced:
  .venv/bin/python benchmarks/video_footage.py --seeds 3
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from pollwatch.cameras.video import Staff
from pollwatch.cameras.video._cv import cv2
from pollwatch.cameras.video.footage import benchmark_footage, write_synthetic_footage

STAFF = (
    Staff(((10.0, 60.0),), "left", (40, 40, 160)),  # stands by the box for 50 s
    Staff(((70.0, 72.0), (82.0, 84.0), (94.0, 96.0), (106.0, 108.0)), "left", (150, 60, 30)),
)


def report(directory: Path) -> tuple[int, int, int, int, int]:
    """Print one directory's comparison; return (hand, counted, counted before the filter,
    hand-counted staff visits, removed drops at one of them)."""
    res = benchmark_footage(directory)
    print(f"\n== {directory} ({res.camera}, station {res.station})")
    if res.view:
        print(f"   view: {res.view}")
    print(res.table())
    print(res.summary().as_text())
    return (
        sum(w[2] for w in res.windows),
        sum(w[3] for w in res.windows),
        sum(w[4] for w in res.windows),
        res.hand_staff or 0,
        res.removed_at_staff or 0,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dirs", nargs="*", type=Path, help="benchmark directories (meta.yaml ...)")
    ap.add_argument("--seeds", type=int, default=2, help="synthetic clips per scenario")
    ap.add_argument("--seconds", type=float, default=120.0, help="length of a synthetic clip")
    args = ap.parse_args()
    cv = cv2()
    print(f"OpenCV {cv.__version__}, {os.cpu_count()} CPU(s), load {os.getloadavg()[0]:.1f}")
    if args.dirs:
        for d in args.dirs:
            report(d)
        return
    with tempfile.TemporaryDirectory() as tmp:
        for name, kw in (
            ("voters only", dict(every=3.5)),
            ("voters only, random arrivals", dict(every=3.5, arrivals="random")),
            ("voters + staff", dict(every=5.0, sides="right", staff=STAFF)),
            (
                "voters + staff, random arrivals",
                dict(every=5.0, sides="right", staff=STAFF, arrivals="random"),
            ),
        ):
            totals = [0, 0, 0, 0, 0]
            for seed in range(args.seeds):
                d = write_synthetic_footage(
                    Path(tmp) / f"{name.replace(' ', '').replace(',', '')}-{seed}",
                    seconds=args.seconds,
                    seed=seed,
                    **kw,
                )
                for i, v in enumerate(report(d)):
                    totals[i] += v
            hand, after, before, staff, caught = totals
            print(
                f"\n## {name}, {args.seeds} clip(s): hand {hand}, counted {after} "
                f"({100 * (after / hand - 1):+.1f} %), before the staff filter {before} "
                f"({100 * (before / hand - 1):+.1f} %); removed {before - after}, "
                f"{caught} of them at one of the {staff} staff visits"
            )


if __name__ == "__main__":
    main()
