"""Count ballot-casting events at a ballot-box ROI in recorded video; mark bad stretches.

Event rule (``quickcount-and-cameras.md`` §2.1 step 1, §2.2): a tracked blob that enters the
box region (the ROI grown by ``radius`` pixels) from outside and stays there at least
``dwell_seconds`` is one ballot drop. Pipeline: MOG2 background subtraction (Zivkovic 2004;
shadow pixels, value 127, dropped) → opening/closing → external contours with an area filter
→ centroid tracker with Hungarian assignment (``scipy.optimize.linear_sum_assignment``) →
dwell rule; with ``hog=True`` the HOG people detector (Dalal & Triggs 2005) must also find a
person in the region before the event counts.

Outages (§2.1 step 7) are missing data: frozen (variance of the frame difference ≈ 0 for at
least ``frozen_seconds``), black (mean intensity below ``black_level``), turned away (the
ROI differs from its reference, the median of the first ``reference_seconds``, in more than
``mismatch_share`` of its pixels for at least ``away_seconds``). Every window that overlaps
one is unusable. After an outage the background model is rebuilt.

Assumptions: fixed camera; the box is visible at the start (or a reference image is given);
staff re-identification is not done (staff at the box inflate the count; log them as events).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from scipy.optimize import linear_sum_assignment

from pollwatch.cameras.data import parse_time, tallies_frame
from pollwatch.cameras.video._cv import cv2
from pollwatch.results import ResultMixin, Summary


def parse_roi(text: str) -> tuple[int, int, int, int]:
    """``"x,y,w,h"`` → a tuple of four non-negative ints (w, h > 0)."""
    try:
        x, y, w, h = (int(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"roi ({text!r}) must be four integers x,y,w,h.") from None
    if min(x, y) < 0 or min(w, h) <= 0:
        raise ValueError(f"roi ({text!r}) needs x, y >= 0 and w, h > 0.")
    return x, y, w, h


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class VideoCount(ResultMixin):
    """Counts per window from video, in the tallies format, with provenance."""

    tallies: pl.DataFrame
    events: tuple[float, ...]  # seconds from the start of the video
    bad: tuple[tuple[float, float, str], ...]  # (start s, end s, kind)
    segments: tuple[tuple[str, str, int], ...]  # (path, sha256, frames)
    fps: float
    n_frames: int
    roi: tuple[int, int, int, int]
    parameters: dict
    _dict_exclude = ("tallies",)

    @property
    def total(self) -> int:
        return int(self.tallies.filter(pl.col("usable"))["count"].sum() or 0)

    def summary(self) -> Summary:
        n_bad = self.tallies.filter(~pl.col("usable")).height
        rows = [
            ("frames", f"{self.n_frames:,} at {self.fps:g} fps"),
            ("ballot-casting events (usable windows)", f"{self.total:,}"),
            ("windows usable / all", f"{self.tallies.height - n_bad} / {self.tallies.height}"),
        ]
        rows += [(f"{k.replace('_', ' ')} stretch", f"{a:.1f}–{b:.1f} s") for a, b, k in self.bad]
        rows += [(f"segment {Path(p).name}", f"SHA-256 {h}") for p, h, _ in self.segments]
        text = (
            f"Counted {self.total:,} ballot drops at the box on usable windows; "
            f"{n_bad} window(s) overlap frozen, black or turned-away video and are missing."
        )
        return Summary("Video count", text, rows, ())


class _Tracker:
    """Centroid tracker: Hungarian assignment on distances, tracks expire after misses."""

    def __init__(self, max_dist: float, max_missed: int) -> None:
        self.max_dist, self.max_missed = max_dist, max_missed
        self.tracks: dict[int, dict] = {}
        self.next_id = 0

    def update(self, points: list[tuple[float, float]], inside) -> list[dict]:
        ids = list(self.tracks)
        matched_t, matched_p = set(), set()
        if ids and points:
            cost = np.array([[math.dist(self.tracks[i]["c"], p) for p in points] for i in ids])
            for r, c in zip(*linear_sum_assignment(cost), strict=True):
                if cost[r, c] <= self.max_dist:
                    tr = self.tracks[ids[r]]
                    tr["c"], tr["missed"] = points[c], 0
                    matched_t.add(ids[r])
                    matched_p.add(c)
        for i in ids:
            if i not in matched_t:
                self.tracks[i]["missed"] += 1
                if self.tracks[i]["missed"] > self.max_missed:
                    del self.tracks[i]
        for j, p in enumerate(points):
            if j not in matched_p:
                # born inside the box region = a ghost or a re-entry: never counted
                self.tracks[self.next_id] = {
                    "c": p,
                    "missed": 0,
                    "dwell": 0,
                    "counted": False,
                    "eligible": not inside(p),
                }
                self.next_id += 1
        return [self.tracks[i] for i in matched_t if i in self.tracks]


def _blobs(cv, mask, min_area: float) -> list[tuple[float, float]]:
    contours, _ = cv.findContours(mask, cv.RETR_EXTERNAL, cv.CHAIN_APPROX_SIMPLE)
    out = []
    for c in contours:
        if cv.contourArea(c) >= min_area:
            m = cv.moments(c)
            out.append((m["m10"] / m["m00"], m["m01"] / m["m00"]))
    return out


def _frames(paths: list[Path]):
    cv = cv2()
    for k, p in enumerate(paths):
        cap = cv.VideoCapture(str(p))
        if not cap.isOpened():
            raise ValueError(f"cannot open video {p} (missing file or unsupported codec)")
        fps = cap.get(cv.CAP_PROP_FPS) or 0.0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            yield k, fps, frame
        cap.release()


def count_video(
    video: str | Path | list[str | Path],
    roi: tuple[int, int, int, int] | str,
    *,
    window_minutes: float = 10.0,
    start: str = "08:00",
    station_id: str = "video",
    watcher: str = "video",
    fps: float | None = None,
    radius: int = 80,
    dwell_seconds: float = 1.0,
    min_area: float = 400.0,
    hog: bool = False,
    frozen_seconds: float = 2.0,
    black_level: float = 12.0,
    away_seconds: float = 8.0,
    mismatch_share: float = 0.5,
    reference_seconds: float = 2.0,
    warmup_seconds: float = 1.5,
    scale: float = 0.5,
) -> VideoCount:
    """Count ballot drops in one video (or consecutive segments) and return tallies per window.

    ``start`` is the wall-clock time of the first frame; ``window_minutes`` the tally window.
    ``roi``, ``radius`` and ``min_area`` are in pixels of the original frame; frames are
    analysed at ``scale`` (0.5 = a quarter of the pixels, about three times faster).
    See the module docstring for the rules and their parameters.
    """
    cv = cv2()
    if isinstance(roi, str):
        roi = parse_roi(roi)
    if window_minutes <= 0:
        raise ValueError(f"window_minutes ({window_minutes}) must be > 0.")
    if dwell_seconds <= 0:
        raise ValueError(f"dwell_seconds ({dwell_seconds}) must be > 0.")
    if not 0 < scale <= 1:
        raise ValueError(f"scale ({scale}) must be in the interval (0, 1].")
    paths = [Path(p) for p in (video if isinstance(video, list) else [video])]
    hashes = [sha256_file(p) for p in paths]
    x, y, w, h = (max(1, round(v * scale)) for v in roi)
    r_px = radius * scale
    grown = (x - r_px, y - r_px, x + w + r_px, y + h + r_px)
    min_px = min_area * scale * scale

    def inside(p):
        return grown[0] <= p[0] <= grown[2] and grown[1] <= p[1] <= grown[3]

    kernel_open = cv.getStructuringElement(cv.MORPH_ELLIPSE, (3, 3))
    k = max(3, int(9 * scale) | 1)
    kernel_close = cv.getStructuringElement(cv.MORPH_ELLIPSE, (k, k))
    hog_det = None
    if hog:
        if not hasattr(cv, "HOGDescriptor"):
            # OpenCV 5 moved HOG (and the Haar cascades) out of the main package
            raise ImportError(
                f"hog=True needs OpenCV's HOGDescriptor, which OpenCV {cv.__version__} "
                "does not include; install opencv-contrib-python-headless (or "
                "opencv-python-headless<5), or count without the HOG check."
            )
        hog_det = cv.HOGDescriptor()
        hog_det.setSVMDetector(cv.HOGDescriptor_getDefaultPeopleDetector())

    state: dict = {"fps": fps}
    events: list[float] = []
    bad: list[list] = []  # [start_frame, end_frame, kind]
    seg_frames = [0] * len(paths)
    ref_stack: list[np.ndarray] = []
    reference = None
    prev = None
    frozen_run, away_run, skip_until = 0, 0, 0
    sub = tracker = None
    f = -1

    def reset(at: int) -> None:
        nonlocal sub, tracker, skip_until
        sub = cv.createBackgroundSubtractorMOG2(history=500, varThreshold=16, detectShadows=True)
        tracker = _Tracker(max_dist=60.0 * scale, max_missed=int(0.5 * (state["fps"] or 10)) + 1)
        skip_until = at + int(warmup_seconds * (state["fps"] or 10))

    def mark(kind: str, a: int, b: int) -> None:
        if bad and bad[-1][2] == kind and bad[-1][1] >= a - 1:
            bad[-1][1] = max(bad[-1][1], b)
        else:
            bad.append([a, b, kind])

    for seg, seg_fps, frame in _frames(paths):
        f += 1
        seg_frames[seg] += 1
        if state["fps"] is None:
            state["fps"] = seg_fps if seg_fps > 0 else 10.0
        rate = state["fps"]
        if sub is None:
            reset(0)
        if scale != 1:
            frame = cv.resize(frame, None, fx=scale, fy=scale, interpolation=cv.INTER_AREA)
        gray = cv.cvtColor(frame, cv.COLOR_BGR2GRAY)
        if gray.mean() < black_level:
            mark("black", f, f)
            prev = None
            reset(f + 1)
            continue
        if prev is not None and float(np.var(cv.subtract(gray, prev, dtype=cv.CV_16S))) < 0.05:
            frozen_run += 1
            if frozen_run + 1 >= frozen_seconds * rate:
                mark("frozen", f - frozen_run, f)
            continue  # a repeated frame carries no new information
        if frozen_run + 1 >= frozen_seconds * rate:
            reset(f)
        frozen_run = 0
        prev = gray
        roi_img = cv.GaussianBlur(gray[y : y + h, x : x + w], (5, 5), 0)
        if reference is None:
            ref_stack.append(roi_img)
            if len(ref_stack) >= max(1, int(reference_seconds * rate)):
                reference = np.median(np.stack(ref_stack), axis=0).astype(np.uint8)
        else:
            share = float(np.mean(cv.absdiff(roi_img, reference) > 40))
            if share > mismatch_share:
                away_run += 1
                if away_run >= away_seconds * rate:
                    mark("turned_away", f - away_run + 1, f)
            else:
                if away_run >= away_seconds * rate:
                    reset(f)
                away_run = 0
        assert sub is not None and tracker is not None  # reset() ran on the first frame
        fg = sub.apply(frame)
        if f < skip_until:
            continue
        mask = cv.morphologyEx((fg > 200).astype(np.uint8) * 255, cv.MORPH_OPEN, kernel_open)
        mask = cv.morphologyEx(mask, cv.MORPH_CLOSE, kernel_close)
        for tr in tracker.update(_blobs(cv, mask, min_px), inside):
            if not inside(tr["c"]):
                # leaving the box region re-arms the track: the next visit is a new drop
                tr.update(dwell=0, counted=False, eligible=True)
                continue
            tr["dwell"] += 1
            if tr["eligible"] and not tr["counted"] and tr["dwell"] >= dwell_seconds * rate:
                if hog_det is not None and not _hog_confirms(hog_det, frame, grown):
                    continue
                tr["counted"] = True
                events.append(f / rate)
    rate = state["fps"] or 10.0
    n_frames = f + 1
    bad_s = tuple((a / rate, (b + 1) / rate, k) for a, b, k in bad)
    events = [e for e in events if not any(a <= e < b for a, b, _ in bad_s)]
    tallies = _windows(
        events,
        bad_s,
        n_frames / rate,
        window_minutes,
        parse_time(start),
        station_id,
        watcher,
        paths,
        hashes,
        seg_frames,
        rate,
    )
    params = dict(
        window_minutes=window_minutes,
        start=start,
        radius=radius,
        dwell_seconds=dwell_seconds,
        min_area=min_area,
        hog=hog,
        frozen_seconds=frozen_seconds,
        black_level=black_level,
        away_seconds=away_seconds,
        mismatch_share=mismatch_share,
        scale=scale,
    )
    segs = tuple((str(p), hsh, n) for p, hsh, n in zip(paths, hashes, seg_frames, strict=True))
    return VideoCount(tallies, tuple(events), bad_s, segs, rate, n_frames, tuple(roi), params)


def _hog_confirms(hog_det, frame, grown) -> bool:
    x0, y0 = int(max(grown[0], 0)), int(max(grown[1] - 60, 0))  # box corners arrive as floats
    crop = frame[y0 : int(grown[3]), x0 : int(grown[2])]
    if crop.shape[0] < 128 or crop.shape[1] < 64:
        return False
    rects, _ = hog_det.detectMultiScale(crop, winStride=(8, 8), padding=(8, 8), scale=1.05)
    return len(rects) > 0


def _windows(
    events,
    bad,
    seconds,
    window_minutes,
    start_min,
    station_id,
    watcher,
    paths,
    hashes,
    seg_frames,
    rate,
) -> pl.DataFrame:
    win = window_minutes * 60
    bounds = np.cumsum([0] + seg_frames) / rate
    rows = []
    for i in range(max(1, math.ceil(seconds / win - 1e-9))):
        a, b = i * win, min((i + 1) * win, seconds)
        why = next((k for x, y, k in bad if x < b and y > a), None)
        segs = [hashes[k] for k in range(len(paths)) if bounds[k] < b and bounds[k + 1] > a]
        rows.append(
            dict(
                station_id=station_id,
                window_start=start_min + a / 60,
                window_end=start_min + b / 60,
                watcher=watcher,
                count=sum(a <= e < b for e in events),
                usable=why is None and b - a >= 0.5 * win,
                reason=why or (None if b - a >= 0.5 * win else "partial window"),
                source_sha256=";".join(segs),
            )
        )
    return tallies_frame(rows)
