"""Synthetic polling-station video with known ballot-casting events (tests, benchmarks).

A static room (gradient, tables, a ballot box) with sensor noise; figures (filled ellipse
and head) walk from the left or right edge to the box, dwell, and walk back. Stretches of
frozen frames (the last frame repeated), black frames and a turned-away view can be added.
Staff (:class:`Staff`: people who are not voters) walk to the box like voters but stay there
long (police by the box) or come back often (a commission member), always in the same colour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from pollwatch.cameras.video._cv import cv2

WIDTH, HEIGHT = 640, 360
BOX = (290, 200, 60, 70)  # x, y, w, h of the ballot box (the ROI)


@dataclass(frozen=True)
class Staff:
    """A person at the box who is not a voter, always in the same ``colour`` (BGR).

    ``visits``: ``(arrives at the box, leaves it)`` in seconds; one long visit is somebody who
    stays (police, an observer by the box), several short ones somebody who returns (a member
    of the commission). They walk in from ``side`` and stand where voters from that side do.
    """

    visits: tuple[tuple[float, float], ...]
    side: Literal["left", "right"] = "left"
    colour: tuple[int, int, int] = (40, 40, 160)


@dataclass(frozen=True)
class SyntheticVideo:
    """Where the video is and what truly happened in it (times in seconds)."""

    path: Path
    fps: float
    n_frames: int
    roi: tuple[int, int, int, int]
    visits: tuple[tuple[float, float], ...]  # voters: (arrives at the box, leaves the box)
    bad: tuple[tuple[float, float, str], ...] = field(default_factory=tuple)
    staff_visits: tuple[tuple[float, float], ...] = ()  # staff: (arrives, leaves)

    def _count(self, visits: tuple[tuple[float, float], ...], start: float, end: float) -> int:
        n = 0
        for a, b in visits:
            if start <= a + 0.5 < end and not any(x - 1 < b and a < y + 1 for x, y, _ in self.bad):
                n += 1
        return n

    def true_count(self, start: float = 0.0, end: float = float("inf")) -> int:
        """Voters whose ballot drop (0.5 s after reaching the box) falls in [start, end) and
        whose dwell touches no bad stretch (staff are not voters)."""
        return self._count(self.visits, start, end)

    def staff_count(self, start: float = 0.0, end: float = float("inf")) -> int:
        """Staff visits to the box arriving (+0.5 s) in [start, end), away from bad stretches:
        what a counter without the staff filter adds to the voters."""
        return self._count(self.staff_visits, start, end)


def _background(rng: np.random.Generator) -> np.ndarray:
    cv = cv2()
    grad = np.linspace(150, 200, WIDTH, dtype=np.float32)[None, :, None]
    img = np.broadcast_to(grad, (HEIGHT, WIDTH, 3)).astype(np.uint8).copy()
    cv.rectangle(img, (0, 280), (WIDTH, HEIGHT), (120, 130, 140), -1)  # floor
    cv.rectangle(img, (40, 150), (200, 230), (60, 90, 140), -1)  # issuing table
    cv.rectangle(img, (450, 140), (600, 220), (70, 100, 90), -1)  # booth
    x, y, w, h = BOX
    cv.rectangle(img, (x, y), (x + w, y + h), (230, 230, 235), -1)  # ballot box
    cv.rectangle(img, (x, y), (x + w, y + h), (40, 40, 40), 2)
    cv.line(img, (x + 15, y + 8), (x + w - 15, y + 8), (20, 20, 20), 3)  # slot
    for _ in range(30):  # texture, so a turned-away view differs from it
        cx, cy = int(rng.integers(0, WIDTH)), int(rng.integers(0, 140))
        cv.circle(
            img,
            (cx, cy),
            int(rng.integers(5, 20)),
            tuple(int(v) for v in rng.integers(80, 220, 3)),
            -1,
        )
    return img


def _place(
    t: float, t0: float, walk: float, dwell: float, edge: float, stop: float
) -> float | None:
    """Where a figure that starts walking at ``t0`` is at ``t`` (None: out of view)."""
    s = t - t0
    if 0 <= s < walk:
        return edge + (stop - edge) * s / walk
    if walk <= s < walk + dwell:
        return stop
    if walk + dwell <= s < 2 * walk + dwell:
        return stop + (edge - stop) * (s - walk - dwell) / walk
    return None


def _figure(img: np.ndarray, cx: float, colour: tuple[int, int, int]) -> None:
    cv = cv2()
    cy = 215
    cv.ellipse(img, (int(cx), cy), (22, 50), 0, 0, 360, colour, -1)
    cv.circle(img, (int(cx), cy - 65), 16, (60, 80, 120), -1)


def make_synthetic_video(
    path: str | Path,
    *,
    seconds: float = 90.0,
    fps: float = 10.0,
    every: float = 3.5,
    walk: float = 2.5,
    dwell: float = 2.0,
    frozen: tuple[float, float] | None = None,
    black: tuple[float, float] | None = None,
    turned_away: tuple[float, float] | None = None,
    seed: int = 0,
    fourcc: str = "MJPG",
    sides: Literal["both", "left", "right"] = "both",
    staff: Sequence[Staff] = (),
    arrivals: Literal["regular", "random"] = "regular",
) -> SyntheticVideo:
    """Write a synthetic video and return its ground truth.

    Voters start every ``every`` seconds (``arrivals="random"``: at exponential gaps of mean
    ``every``, at least 1 s apart, so figures meet and merge in the walkway as in a busy
    station), alternating sides (or all from one of ``sides``); each walks ``walk`` s to the
    box, dwells ``dwell`` s, and walks back.
    ``frozen``/``black``/``turned_away`` are ``(start, end)`` seconds. ``staff`` walk in and
    out the same way around each of their visits (keep them on a side voters do not use, or
    their figures merge with voters').
    """
    cv = cv2()
    rng = np.random.default_rng(seed)
    bg = _background(rng)
    away = np.roll(_background(np.random.default_rng(seed + 1)), 200, axis=1)
    # sensor noise as saturating add/subtract pairs (fast uint8 arithmetic)
    draws = [rng.normal(0, 3, bg.shape).round() for _ in range(16)]
    noise = [
        (np.clip(n, 0, 255).astype(np.uint8), np.clip(-n, 0, 255).astype(np.uint8)) for n in draws
    ]
    n = int(round(seconds * fps))
    x, _, w, _ = BOX
    latest = seconds - (2 * walk + dwell)  # the last voter is back out by the end
    if arrivals == "random":  # its own generator: the regular clips stay as they were
        gaps = np.random.default_rng(seed + 7919).exponential(max(every - 1.0, 1e-9), 10_000)
        starts = 1.0 + np.cumsum(np.concatenate([[0.0], gaps + 1.0]))
        starts = starts[starts < latest]
    elif arrivals == "regular":
        starts = np.arange(1.0, latest, every)
    else:
        raise ValueError(f"arrivals ({arrivals!r}) must be 'regular' or 'random'.")
    people = []
    for i, t0 in enumerate(starts):
        left = i % 2 == 0 if sides == "both" else sides == "left"
        edge, stop = (-30.0, x - 45.0) if left else (WIDTH + 30.0, x + w + 45.0)
        red, green, blue = (int(v) for v in rng.integers(0, 90, 3))
        colour = (red, green, blue)
        people.append((t0, edge, stop, colour))
    sides_at = {"left": (-30.0, x - 45.0), "right": (WIDTH + 30.0, x + w + 45.0)}
    # staff: (start walking, dwell, edge, stop, colour), drawn like voters
    extra = [(a - walk, b - a, *sides_at[p.side], p.colour) for p in staff for a, b in p.visits]
    writer = cv.VideoWriter(str(path), cv.VideoWriter_fourcc(*fourcc), fps, (WIDTH, HEIGHT))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {path} with codec {fourcc}")
    bad = [
        (a, b, k)
        for k, ab in (("frozen", frozen), ("black", black), ("turned_away", turned_away))
        if ab
        for a, b in [ab]
    ]
    last = bg
    for f in range(n):
        t = f / fps
        kind = next((k for a, b, k in bad if a <= t < b), None)
        if kind == "frozen":
            writer.write(last)
            continue
        if kind == "black":
            writer.write(np.zeros_like(bg))
            continue
        img = (away if kind == "turned_away" else bg).copy()
        for t0, edge, stop, colour in people if kind is None else ():
            cx = _place(t, t0, walk, dwell, edge, stop)
            if cx is not None:
                _figure(img, cx, colour)
        for t0, stay, edge, stop, colour in extra if kind is None else ():
            cx = _place(t, t0, walk, stay, edge, stop)
            if cx is not None:
                _figure(img, cx, colour)
        pos, neg = noise[f % len(noise)]
        last = cv.subtract(cv.add(img, pos), neg)
        writer.write(last)
    writer.release()
    visits = tuple((float(t0 + walk), float(t0 + walk + dwell)) for t0, *_ in people)
    staff_visits = tuple(sorted((float(a), float(b)) for p in staff for a, b in p.visits))
    return SyntheticVideo(Path(path), fps, n, BOX, visits, tuple(bad), staff_visits)
