"""Frames per second of the video counter on the CPU at 640×360 (synthetic station video).

Run: .venv/bin/python benchmarks/video.py [--seconds 60]
Prints decode-only fps and full-pipeline fps at analysis scales 0.5 (default) and 1.0, with
and without the HOG check, plus the count against the truth.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from pollwatch.cameras.video import (
    DetectorConfig,
    VideoCountConfig,
    count_video,
    make_synthetic_video,
)
from pollwatch.cameras.video._cv import cv2


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    cv = cv2()
    print(
        f"OpenCV {cv.__version__}, {os.cpu_count()} CPU(s), cv threads {cv.getNumThreads()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory() as d:
        v = make_synthetic_video(Path(d) / "bench.avi", seconds=args.seconds, fps=10)
        t = time.perf_counter()
        cap, n = cv.VideoCapture(str(v.path)), 0
        while cap.read()[0]:
            n += 1
        dec = n / (time.perf_counter() - t)
        print(
            f"640x360 MJPG, {v.n_frames} frames ({args.seconds:g} s at 10 fps); true drops {v.true_count()}"
        )
        print(f"{'pipeline':<28}{'fps':>8}{'x real time':>13}{'count':>7}")
        print(f"{'decode only':<28}{dec:8.0f}{dec / v.fps:13.1f}{'':>7}")
        for scale, hog in ((0.5, False), (1.0, False), (0.5, True)):
            if hog and not hasattr(cv, "HOGDescriptor"):
                print(f"{'+HOG':<28}  not available in OpenCV {cv.__version__} (moved to contrib)")
                continue
            t = time.perf_counter()
            cfg = VideoCountConfig(window_minutes=1, detector=DetectorConfig(scale=scale, hog=hog))
            r = count_video(v.path, v.roi, cfg)
            fps = v.n_frames / (time.perf_counter() - t)
            name = f"MOG2+tracker scale {scale:g}" + (" +HOG" if hog else "")
            print(f"{name:<28}{fps:8.0f}{fps / v.fps:13.1f}{r.total:7d}")


if __name__ == "__main__":
    main()
