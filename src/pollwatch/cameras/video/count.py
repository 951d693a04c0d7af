"""Count ballot-casting events at a ballot-box ROI in recorded video; mark bad stretches.

Event rule (``docs/methods/quickcount-and-cameras.md`` §2.1 step 1, §2.2): a tracked blob that enters the
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

Stages, each usable and testable alone: :class:`OutageDetector` (frame by frame: black,
frozen, turned away), :class:`ForegroundDetector` (MOG2 and blobs), :class:`CentroidTracker`
(blobs → tracks) and :class:`DropCounter` (the dwell rule at the :class:`BoxRegion`);
:func:`count_video` runs them over the frames and writes the tallies. Settings come in
:class:`DetectorConfig`, :class:`TrackerConfig` and :class:`OutageConfig`, bundled with the
tally window in :class:`VideoCountConfig`.

Staff filter (stage 5, :func:`staff_visits`): commission members, police and observers are
not voters. Each counted drop is a *visit*, from the moment its track entered the box region to
the moment the person left it (a track lost inside the region, e.g. absorbed into the
background while standing still, stays open until a track born near that spot walks out, or
the spot matches the empty room again: :class:`EmptyRoom`). A
visit that lasted ``stay_seconds`` or more, or whose person came back to the box ``returns``
times or more within ``return_minutes`` (a blob of the same mean colour within
``colour_distance``), is staff and is not counted. Counts before and after the filter are both
reported (:attr:`VideoCount.tallies_unfiltered`, :attr:`VideoCount.staff`); method, defaults
and their reasons: ``docs/cameras.md``, section "Staff at the box".

Assumptions: fixed camera; the box is visible at the start (or a reference image is given);
appearance is a blob's mean colour, which tells a figure in a red coat from one in a grey coat
but not two people in similar dark coats (the return rule then merges them: see the docs).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl
from scipy.optimize import linear_sum_assignment

from pollwatch.cameras.data import parse_time, tallies_frame
from pollwatch.cameras.video._cv import cv2
from pollwatch.results import ResultMixin, Summary

__all__ = [
    "BoxRegion",
    "CentroidTracker",
    "DetectorConfig",
    "DropCounter",
    "ForegroundDetector",
    "FrameCheck",
    "OutageConfig",
    "OutageDetector",
    "StaffConfig",
    "Track",
    "Visit",
    "TrackerConfig",
    "VideoCount",
    "VideoCountConfig",
    "count_video",
    "parse_roi",
    "parse_start",
    "sha256_file",
    "staff_visits",
]

Roi = tuple[int, int, int, int]
Point = tuple[float, float]

FROZEN_VARIANCE = 0.05  # variance of the frame difference below which a frame is a repeat
MISMATCH_LEVEL = 40  # grey-level difference from the reference that counts as a changed pixel
DEFAULT_FPS = 10.0  # when neither the file nor the configuration gives a frame rate


def parse_roi(text: str) -> Roi:
    """Parse a region of interest written ``"x,y,w,h"``.

    Parameters
    ----------
    text : str
        Four integers separated by commas, in pixels of the original frame.

    Returns
    -------
    tuple of int
        ``(x, y, w, h)`` with ``x, y >= 0`` and ``w, h > 0``.

    Examples
    --------
    >>> parse_roi("290,200,60,70")
    (290, 200, 60, 70)
    """
    try:
        x, y, w, h = (int(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"roi ({text!r}) must be four integers x,y,w,h.") from None
    if min(x, y) < 0 or min(w, h) <= 0:
        raise ValueError(f"roi ({text!r}) needs x, y >= 0 and w, h > 0.")
    return x, y, w, h


def parse_start(text: str) -> float:
    """Parse the wall-clock time of a video's first frame.

    Parameters
    ----------
    text : str
        ``HH:MM``, ``HH:MM:SS``, an ISO date-time or minutes after midnight.

    Returns
    -------
    float
        Minutes after midnight.

    Examples
    --------
    >>> parse_start("08:30")
    510.0
    """
    try:
        return parse_time(text)
    except ValueError:
        raise ValueError(f"start ({text!r}) must be a time of day such as 08:00.") from None


def _check_roi(roi: Sequence[int] | str) -> Roi:
    if isinstance(roi, str):
        return parse_roi(roi)
    if len(roi) != 4:
        raise ValueError(f"roi ({roi!r}) must be four integers x,y,w,h.")
    return parse_roi(",".join(str(int(v)) for v in roi))


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB chunks (hex digest)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------
# configuration
# ---------------------------------------------------------------------------------------------
def _require(name: str, value: Any, ok: bool, rule: str) -> None:
    if not ok:
        raise ValueError(f"{name} ({value!r}) must be {rule}.")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class DetectorConfig:
    """Foreground detection: which moving blobs may be a person at the box.

    Parameters
    ----------
    scale : float
        Frames are analysed at this scale, in (0, 1] (0.5 = a quarter of the pixels, about
        three times faster). Pixel settings are in pixels of the original frame.
    min_area : float
        Least blob area (pixels of the original frame), ``>= 0``.
    warmup_seconds : float
        Seconds after the start and after every outage during which the background model
        learns and nothing is tracked, ``>= 0``.
    hog : bool
        Also require OpenCV's HOG people detector to find a person near the box before an
        event counts (needs ``cv2.HOGDescriptor``).

    Examples
    --------
    >>> DetectorConfig(scale=1.0).min_area
    400.0
    """

    scale: float = 0.5
    min_area: float = 400.0
    warmup_seconds: float = 1.5
    hog: bool = False

    def __post_init__(self) -> None:
        _require("scale", self.scale, _is_number(self.scale), "a number")
        if not 0 < self.scale <= 1:
            raise ValueError(f"scale ({self.scale}) must be in the interval (0, 1].")
        _require("min_area", self.min_area, _is_number(self.min_area), "a number")
        _require("min_area", self.min_area, self.min_area >= 0, ">= 0")
        _require("warmup_seconds", self.warmup_seconds, _is_number(self.warmup_seconds), "a number")
        _require("warmup_seconds", self.warmup_seconds, self.warmup_seconds >= 0, ">= 0")
        _require("hog", self.hog, isinstance(self.hog, bool), "True or False")


@dataclass(frozen=True)
class TrackerConfig:
    """Tracking blobs and the counting rule at the box.

    Parameters
    ----------
    radius : float
        The box region is the ROI grown by this many pixels (original frame), ``>= 0``.
    dwell_seconds : float
        A track that enters the box region from outside and stays this long is one ballot
        drop, ``> 0``.
    max_distance : float
        Furthest a blob moves between frames and stays the same track (pixels of the original
        frame), ``> 0``.
    max_missed_seconds : float
        A track not seen for longer than this is dropped, ``>= 0``.

    Examples
    --------
    >>> TrackerConfig(dwell_seconds=0.5).radius
    80
    """

    radius: float = 80
    dwell_seconds: float = 1.0
    max_distance: float = 60.0
    max_missed_seconds: float = 0.5

    def __post_init__(self) -> None:
        for name in ("radius", "dwell_seconds", "max_distance", "max_missed_seconds"):
            _require(name, getattr(self, name), _is_number(getattr(self, name)), "a number")
        _require("radius", self.radius, self.radius >= 0, ">= 0")
        if self.dwell_seconds <= 0:
            raise ValueError(f"dwell_seconds ({self.dwell_seconds}) must be > 0.")
        _require("max_distance", self.max_distance, self.max_distance > 0, "> 0")
        _require(
            "max_missed_seconds", self.max_missed_seconds, self.max_missed_seconds >= 0, ">= 0"
        )


@dataclass(frozen=True)
class OutageConfig:
    """When video is missing data: black, frozen or turned-away stretches.

    Parameters
    ----------
    black_level : float
        A frame whose mean grey level is below this is black, in [0, 255].
    frozen_seconds : float
        Repeated frames for at least this long are a frozen stretch, ``> 0``.
    away_seconds : float
        The ROI differing from its reference for at least this long is a turned-away
        stretch, ``> 0``.
    mismatch_share : float
        Share of ROI pixels that must differ from the reference for a frame to count as
        turned away, in [0, 1].
    reference_seconds : float
        The reference image of the ROI is the median of the first frames over this long,
        ``>= 0`` (at least one frame is used).

    Examples
    --------
    >>> OutageConfig(away_seconds=4).frozen_seconds
    2.0
    """

    black_level: float = 12.0
    frozen_seconds: float = 2.0
    away_seconds: float = 8.0
    mismatch_share: float = 0.5
    reference_seconds: float = 2.0

    def __post_init__(self) -> None:
        for name in (
            "black_level",
            "frozen_seconds",
            "away_seconds",
            "mismatch_share",
            "reference_seconds",
        ):
            _require(name, getattr(self, name), _is_number(getattr(self, name)), "a number")
        _require("black_level", self.black_level, 0 <= self.black_level <= 255, "in [0, 255]")
        _require("frozen_seconds", self.frozen_seconds, self.frozen_seconds > 0, "> 0")
        _require("away_seconds", self.away_seconds, self.away_seconds > 0, "> 0")
        _require("mismatch_share", self.mismatch_share, 0 <= self.mismatch_share <= 1, "in [0, 1]")
        _require("reference_seconds", self.reference_seconds, self.reference_seconds >= 0, ">= 0")


@dataclass(frozen=True)
class StaffConfig:
    """Which counted visits to the box are staff, not voters (see the module docstring).

    Parameters
    ----------
    enabled : bool
        Apply the filter (the count before it is reported either way).
    stay_seconds : float
        A visit to the box region this long or longer is staff, ``> 0``. Default 30 s: a voter
        drops a ballot in a few seconds (2 s in the synthetic video; 3-10 s in station
        footage), and a short queue at the box rarely holds one for half a minute, while a
        member guarding the box stands there for minutes.
    returns : int
        A person who comes back to the box this many times (``returns + 1`` visits) within
        ``return_minutes`` is staff, ``>= 1``. Default 3: a voter visits once (twice for two
        ballot papers at most, usually in one visit); a family in similar coats arriving
        together makes 2-3 visits, four is rare; a member tending the box returns often.
    return_minutes : float
        The time span for counting returns, ``> 0``. Default 30 min.
    colour_distance : float
        Two visits are by the same person when their blobs' mean colours (BGR, 0-255) are
        closer than this (Euclidean), ``>= 0`` (0: link only visits of the same track).
        Default 12: twice the spread of one figure's mean colour between visits in the
        synthetic video (compression and noise, about 5); people in similar dark clothes
        are closer than that in real footage (see the docs' limits).

    Examples
    --------
    >>> StaffConfig(stay_seconds=60).returns
    3
    """

    enabled: bool = True
    stay_seconds: float = 30.0
    returns: int = 3
    return_minutes: float = 30.0
    colour_distance: float = 12.0

    def __post_init__(self) -> None:
        _require("enabled", self.enabled, isinstance(self.enabled, bool), "True or False")
        for name in ("stay_seconds", "return_minutes", "colour_distance"):
            _require(name, getattr(self, name), _is_number(getattr(self, name)), "a number")
        _require("stay_seconds", self.stay_seconds, self.stay_seconds > 0, "> 0")
        _require("return_minutes", self.return_minutes, self.return_minutes > 0, "> 0")
        _require("colour_distance", self.colour_distance, self.colour_distance >= 0, ">= 0")
        _require(
            "returns",
            self.returns,
            isinstance(self.returns, int)
            and not isinstance(self.returns, bool)
            and self.returns >= 1,
            "a whole number >= 1",
        )


@dataclass(frozen=True)
class VideoCountConfig:
    """Everything :func:`count_video` needs besides the video, the ROI and the station.

    Parameters
    ----------
    detector : DetectorConfig
        Foreground detection (scale, blob area, warm-up, HOG check).
    tracker : TrackerConfig
        Tracking and the dwell rule at the box.
    outage : OutageConfig
        Black, frozen and turned-away detection.
    staff : StaffConfig
        Which counted visits are staff (long stays, frequent returns).
    window_minutes : float
        Length of a tally window, ``> 0``.
    watcher : str
        Watcher id written to the tallies.
    fps : float or None
        Frame rate to assume instead of the file's (None: the file's, or 10 if it has none).

    Examples
    --------
    >>> cfg = VideoCountConfig(window_minutes=15, detector=DetectorConfig(hog=True))
    >>> cfg.detector.hog, cfg.tracker.dwell_seconds
    (True, 1.0)
    """

    detector: DetectorConfig = field(default_factory=DetectorConfig)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    outage: OutageConfig = field(default_factory=OutageConfig)
    staff: StaffConfig = field(default_factory=StaffConfig)
    window_minutes: float = 10.0
    watcher: str = "video"
    fps: float | None = None

    def __post_init__(self) -> None:
        for name, kind in (
            ("detector", DetectorConfig),
            ("tracker", TrackerConfig),
            ("outage", OutageConfig),
            ("staff", StaffConfig),
        ):
            if not isinstance(getattr(self, name), kind):
                raise TypeError(
                    f"{name} must be a {kind.__name__}, not {type(getattr(self, name)).__name__}"
                )
        _require("window_minutes", self.window_minutes, _is_number(self.window_minutes), "a number")
        if self.window_minutes <= 0:
            raise ValueError(f"window_minutes ({self.window_minutes}) must be > 0.")
        _require(
            "watcher", self.watcher, isinstance(self.watcher, str) and bool(self.watcher), "a name"
        )
        if self.fps is not None:
            _require("fps", self.fps, _is_number(self.fps) and self.fps > 0, "None or > 0")

    def parameters(self, start: str) -> dict[str, Any]:
        """The settings recorded on :class:`VideoCount` (provenance of the counts)."""
        d, t, o, st = self.detector, self.tracker, self.outage, self.staff
        return dict(
            window_minutes=self.window_minutes,
            start=start,
            radius=t.radius,
            dwell_seconds=t.dwell_seconds,
            min_area=d.min_area,
            hog=d.hog,
            frozen_seconds=o.frozen_seconds,
            black_level=o.black_level,
            away_seconds=o.away_seconds,
            mismatch_share=o.mismatch_share,
            scale=d.scale,
            staff_filter=st.enabled,
            staff_stay_seconds=st.stay_seconds,
            staff_returns=st.returns,
            staff_return_minutes=st.return_minutes,
            staff_colour_distance=st.colour_distance,
        )


# ---------------------------------------------------------------------------------------------
# the result
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VideoCount(ResultMixin):
    """Counts per window from video, in the tallies format, with provenance.

    ``tallies`` and ``events`` are after the staff filter (voters); ``tallies_unfiltered``
    counts every drop, and ``staff`` lists the removed ones as ``(seconds, reason)``.
    """

    tallies: pl.DataFrame
    events: tuple[float, ...]  # seconds from the start of the video
    bad: tuple[tuple[float, float, str], ...]  # (start s, end s, kind)
    segments: tuple[tuple[str, str, int], ...]  # (path, sha256, frames)
    fps: float
    n_frames: int
    roi: Roi
    parameters: dict
    tallies_unfiltered: pl.DataFrame | None = None
    staff: tuple[tuple[float, str], ...] = ()
    _dict_exclude = ("tallies", "tallies_unfiltered")

    @property
    def total(self) -> int:
        return int(self.tallies.filter(pl.col("usable"))["count"].sum() or 0)

    @property
    def total_unfiltered(self) -> int:
        """Drops on usable windows before the staff filter."""
        t = self.tallies if self.tallies_unfiltered is None else self.tallies_unfiltered
        return int(t.filter(pl.col("usable"))["count"].sum() or 0)

    def summary(self) -> Summary:
        n_bad = self.tallies.filter(~pl.col("usable")).height
        rows = [
            ("frames", f"{self.n_frames:,} at {self.fps:g} fps"),
            ("ballot-casting events (usable windows)", f"{self.total:,}"),
            ("before the staff filter", f"{self.total_unfiltered:,}"),
            ("windows usable / all", f"{self.tallies.height - n_bad} / {self.tallies.height}"),
        ]
        rows += [(f"{k.replace('_', ' ')} stretch", f"{a:.1f}–{b:.1f} s") for a, b, k in self.bad]
        rows += [(f"segment {Path(p).name}", f"SHA-256 {h}") for p, h, _ in self.segments]
        removed = self.total_unfiltered - self.total
        text = (
            f"Counted {self.total:,} ballot drops at the box on usable windows "
            f"({removed:,} more visits to the box were staff: long stays or frequent returns); "
            f"{n_bad} window(s) overlap frozen, black or turned-away video and are missing."
        )
        return Summary("Video count", text, rows, ())


# ---------------------------------------------------------------------------------------------
# geometry
# ---------------------------------------------------------------------------------------------
class BoxRegion:
    """The ballot box at analysis scale: the ROI itself and the region grown around it.

    Parameters
    ----------
    roi : tuple of int
        ``(x, y, w, h)`` in pixels of the original frame.
    scale : float
        Analysis scale (see :class:`DetectorConfig`).
    radius : float
        Growth of the region around the ROI, in pixels of the original frame.

    Examples
    --------
    >>> box = BoxRegion((290, 200, 60, 70), scale=0.5, radius=80)
    >>> box.contains((160.0, 110.0)), box.contains((10.0, 10.0))
    (True, False)
    """

    def __init__(self, roi: Roi, scale: float, radius: float) -> None:
        self.x, self.y, self.w, self.h = (max(1, round(v * scale)) for v in roi)
        r_px = radius * scale
        self.grown = (self.x - r_px, self.y - r_px, self.x + self.w + r_px, self.y + self.h + r_px)

    def contains(self, p: Point) -> bool:
        """Is the point (analysis pixels) inside the grown box region?"""
        g = self.grown
        return g[0] <= p[0] <= g[2] and g[1] <= p[1] <= g[3]

    def crop(self, image: np.ndarray) -> np.ndarray:
        """The ROI itself cut out of an analysis-scale image."""
        return image[self.y : self.y + self.h, self.x : self.x + self.w]


# ---------------------------------------------------------------------------------------------
# stage 1: outages
# ---------------------------------------------------------------------------------------------
FrameState = Literal["ok", "black", "frozen", "turned_away"]


@dataclass(frozen=True)
class FrameCheck:
    """What :class:`OutageDetector` says about one frame.

    ``analyse``: pass the frame on to detection and tracking (False for black and repeated
    frames). ``restart_at``: the frame from which the background model and the tracks must be
    rebuilt (after an outage), or None.
    """

    state: FrameState
    analyse: bool
    restart_at: int | None = None


class OutageDetector:
    """Stage 1: classify each frame as black, frozen (a repeat), turned away or fine.

    Frames are the grayscale, analysis-scale images, numbered from 0 in the order given.
    Stretches long enough to be outages are logged in :attr:`stretches` as ``[first frame,
    last frame, kind]`` (adjacent stretches of the same kind merged).

    Parameters
    ----------
    config : OutageConfig
        Thresholds.
    box : BoxRegion
        Where the ballot box is (turned-away detection compares its ROI with a reference).
    rate : float
        Frames per second.

    Examples
    --------
    >>> det = OutageDetector(OutageConfig(), BoxRegion((0, 0, 8, 8), 1.0, 0), rate=10)
    >>> det.check(0, np.zeros((16, 16), np.uint8)).state
    'black'
    """

    def __init__(self, config: OutageConfig, box: BoxRegion, rate: float) -> None:
        self.config, self.box, self.rate = config, box, rate
        self.stretches: list[list] = []
        self.reference: np.ndarray | None = None
        self._ref_stack: list[np.ndarray] = []
        self._prev: np.ndarray | None = None
        self._frozen_run = 0
        self._away_run = 0
        self._cv = cv2()

    def _mark(self, kind: str, a: int, b: int) -> None:
        bad = self.stretches
        if bad and bad[-1][2] == kind and bad[-1][1] >= a - 1:
            bad[-1][1] = max(bad[-1][1], b)
        else:
            bad.append([a, b, kind])

    def check(self, f: int, gray: np.ndarray) -> FrameCheck:
        """Classify frame ``f`` (grayscale, analysis scale) and log any outage it belongs to.

        Parameters
        ----------
        f : int
            Frame number (consecutive calls must number frames in order).
        gray : numpy.ndarray
            The frame as a 2-d ``uint8`` array.

        Returns
        -------
        FrameCheck
            The frame's state, whether to analyse it, and where to restart after an outage.
        """
        cv, cfg, rate = self._cv, self.config, self.rate
        if gray.mean() < cfg.black_level:
            self._mark("black", f, f)
            self._prev = None
            return FrameCheck("black", analyse=False, restart_at=f + 1)
        prev = self._prev
        if prev is not None and float(np.var(cv.subtract(gray, prev, dtype=cv.CV_16S))) < (
            FROZEN_VARIANCE
        ):
            self._frozen_run += 1
            if self._frozen_run + 1 >= cfg.frozen_seconds * rate:
                self._mark("frozen", f - self._frozen_run, f)
            return FrameCheck("frozen", analyse=False)  # a repeat carries no new information
        restart = None
        if self._frozen_run + 1 >= cfg.frozen_seconds * rate:
            restart = f
        self._frozen_run = 0
        self._prev = gray
        state: FrameState = "ok"
        roi_img = cv.GaussianBlur(self.box.crop(gray), (5, 5), 0)
        if self.reference is None:
            self._ref_stack.append(roi_img)
            if len(self._ref_stack) >= max(1, int(cfg.reference_seconds * rate)):
                self.reference = np.median(np.stack(self._ref_stack), axis=0).astype(np.uint8)
        else:
            share = float(np.mean(cv.absdiff(roi_img, self.reference) > MISMATCH_LEVEL))
            if share > cfg.mismatch_share:
                state = "turned_away"
                self._away_run += 1
                if self._away_run >= cfg.away_seconds * rate:
                    self._mark("turned_away", f - self._away_run + 1, f)
            else:
                if self._away_run >= cfg.away_seconds * rate:
                    restart = f
                self._away_run = 0
        return FrameCheck(state, analyse=True, restart_at=restart)


# ---------------------------------------------------------------------------------------------
# stage 2: foreground blobs
# ---------------------------------------------------------------------------------------------
class ForegroundDetector:
    """Stage 2: MOG2 background subtraction → opening/closing → blob centroids.

    Parameters
    ----------
    config : DetectorConfig
        Scale, least blob area and warm-up.
    rate : float
        Frames per second (for the warm-up).
    """

    def __init__(self, config: DetectorConfig, rate: float) -> None:
        cv = self._cv = cv2()
        self.config, self.rate = config, rate
        s = config.scale
        self.min_px = config.min_area * s * s
        self._open = cv.getStructuringElement(cv.MORPH_ELLIPSE, (3, 3))
        k = max(3, int(9 * s) | 1)
        self._close = cv.getStructuringElement(cv.MORPH_ELLIPSE, (k, k))
        self.mask: np.ndarray | None = None
        self.frame: np.ndarray | None = None
        self.restart(0)

    def colour(self, c: Point) -> tuple[float, float, float] | None:
        """Mean BGR colour of the foreground pixels of the last frame's blob around ``c``
        (a patch the size of a person's torso); None if fewer than 20 foreground pixels."""
        if self.mask is None or self.frame is None:
            return None
        s = self.config.scale
        hw, hh = max(2, int(18 * s)), max(2, int(40 * s))
        x, y = int(c[0]), int(c[1])
        y0, x0 = max(0, y - hh), max(0, x - hw)
        sel = self.mask[y0 : y + hh, x0 : x + hw] > 0
        if int(sel.sum()) < 20:
            return None
        b, g, r = self.frame[y0 : y + hh, x0 : x + hw][sel].mean(axis=0)
        return float(b), float(g), float(r)

    def restart(self, at: int) -> None:
        """Rebuild the background model; frames before ``at`` + warm-up give no blobs."""
        self._sub = self._cv.createBackgroundSubtractorMOG2(
            history=500, varThreshold=16, detectShadows=True
        )
        self.skip_until = at + int(self.config.warmup_seconds * self.rate)

    def blobs(self, f: int, frame: np.ndarray) -> list[Point] | None:
        """Centroids of the foreground blobs in frame ``f`` (analysis-scale BGR image).

        The background model learns from every frame; during the warm-up the result is None.
        """
        cv = self._cv
        fg = self._sub.apply(frame)
        if f < self.skip_until:
            return None
        mask = cv.morphologyEx((fg > 200).astype(np.uint8) * 255, cv.MORPH_OPEN, self._open)
        mask = cv.morphologyEx(mask, cv.MORPH_CLOSE, self._close)
        self.mask, self.frame = mask, frame  # for the appearance of a blob (staff filter)
        contours, _ = cv.findContours(mask, cv.RETR_EXTERNAL, cv.CHAIN_APPROX_SIMPLE)
        out = []
        for c in contours:
            if cv.contourArea(c) >= self.min_px:
                m = cv.moments(c)
                out.append((m["m10"] / m["m00"], m["m01"] / m["m00"]))
        return out


# ---------------------------------------------------------------------------------------------
# stage 3: tracking
# ---------------------------------------------------------------------------------------------
@dataclass
class Track:
    """One tracked blob: where it is, frames missed, frames dwelt in the box region, and
    whether it was counted or may be (a track born inside the region never is).

    ``tid`` numbers tracks; ``born`` is where the track appeared and ``born_inside`` whether
    that was inside the box region (a person who stood still there and now walks away).
    ``arrived`` is the frame the track last entered the box region.
    """

    c: Point
    missed: int = 0
    dwell: int = 0
    counted: bool = False
    eligible: bool = True
    tid: int = -1
    born: Point | None = None
    born_inside: bool = False
    arrived: int = -1


class CentroidTracker:
    """Stage 3: centroid tracker with Hungarian assignment on distances.

    Parameters
    ----------
    max_dist : float
        Furthest a blob moves between frames and stays the same track (analysis pixels).
    max_missed : int
        Frames a track may go unseen before it is dropped.
    inside : callable
        ``inside(point) -> bool``: is the point in the box region? A track born inside it is
        a ghost or a re-entry and is never counted.

    Examples
    --------
    >>> t = CentroidTracker(10.0, 2, inside=lambda p: False)
    >>> t.update([(0.0, 0.0)]), len(t.update([(3.0, 4.0)]))
    ([], 1)
    """

    def __init__(self, max_dist: float, max_missed: int, inside: Callable[[Point], bool]) -> None:
        self.max_dist, self.max_missed, self.inside = max_dist, max_missed, inside
        self.tracks: dict[int, Track] = {}
        self.next_id = 0
        self.lost: list[Track] = []  # the tracks dropped by the last update

    def update(self, points: list[Point]) -> list[Track]:
        """Assign this frame's blobs to tracks; return the tracks that were matched."""
        self.lost = []
        ids = list(self.tracks)
        matched_t, matched_p = set(), set()
        if ids and points:
            cost = np.array([[math.dist(self.tracks[i].c, p) for p in points] for i in ids])
            for r, c in zip(*linear_sum_assignment(cost), strict=True):
                if cost[r, c] <= self.max_dist:
                    tr = self.tracks[ids[r]]
                    tr.c, tr.missed = points[c], 0
                    matched_t.add(ids[r])
                    matched_p.add(c)
        for i in ids:
            if i not in matched_t:
                self.tracks[i].missed += 1
                if self.tracks[i].missed > self.max_missed:
                    self.lost.append(self.tracks.pop(i))
        for j, p in enumerate(points):
            if j not in matched_p:
                inside = self.inside(p)
                self.tracks[self.next_id] = Track(
                    c=p, eligible=not inside, tid=self.next_id, born=p, born_inside=inside
                )
                self.next_id += 1
        return [self.tracks[i] for i in matched_t if i in self.tracks]


# ---------------------------------------------------------------------------------------------
# stage 4: counting
# ---------------------------------------------------------------------------------------------
class EmptyRoom:
    """The room without people, to tell whether somebody still stands at a spot (staff filter).

    A person standing still fades into the MOG2 background within seconds, so the foreground
    cannot say whether they are still there; a difference from the empty room can. The
    reference is the median of the first ``reference_seconds`` of frames (the assumption the
    turned-away check makes: the view is right at the start); every ``refresh_seconds`` the
    pixels that are not foreground and not at a watched spot take the current frame's value,
    so the reference follows the day's light.

    Parameters
    ----------
    scale : float
        Analysis scale (the spot is a torso-sized patch, 36 × 80 pixels of the original frame).
    reference_frames : int
        Frames in the first median, ``>= 1``.
    refresh_frames : int
        Frames between refreshes, ``>= 1``.

    Examples
    --------
    >>> room = EmptyRoom(1.0, reference_frames=1, refresh_frames=100)
    >>> room.add(0, np.full((100, 100), 200, np.uint8), None, [])
    >>> dark = np.full((100, 100), 200, np.uint8); dark[20:80, 35:65] = 30  # a person
    >>> room.add(1, dark, None, [])
    >>> room.present((50.0, 50.0)), room.present((5.0, 5.0))
    (True, False)
    """

    CHANGED = 25  # grey levels: a pixel this far from the empty room has something on it
    SHARE = 0.3  # share of changed pixels in the patch that means somebody is there

    def __init__(self, scale: float, reference_frames: int, refresh_frames: int) -> None:
        self.hw, self.hh = max(2, int(18 * scale)), max(2, int(40 * scale))
        self.n_ref, self.refresh = max(1, reference_frames), max(1, refresh_frames)
        self._stack: list[np.ndarray] = []
        self.reference: np.ndarray | None = None
        self.gray: np.ndarray | None = None
        self._last = 0

    def _patch(self, img: np.ndarray, p: Point) -> np.ndarray:
        x, y = int(p[0]), int(p[1])
        return img[max(0, y - self.hh) : y + self.hh, max(0, x - self.hw) : x + self.hw]

    def add(self, f: int, gray: np.ndarray, mask: np.ndarray | None, watched: list[Point]) -> None:
        """Frame ``f`` (grayscale, analysis scale), its foreground mask, the spots watched."""
        self.gray = gray
        if self.reference is None:
            self._stack.append(gray)
            if len(self._stack) >= self.n_ref:
                self.reference = np.median(np.stack(self._stack), axis=0).astype(np.uint8)
                self._stack, self._last = [], f
            return
        if f - self._last >= self.refresh and mask is not None:
            keep = mask > 0
            for p in watched:  # a still person there must not become the empty room
                x, y = int(p[0]), int(p[1])
                keep[max(0, y - self.hh) : y + self.hh, max(0, x - self.hw) : x + self.hw] = True
            self.reference = np.where(keep, self.reference, gray)
            self._last = f

    def present(self, p: Point) -> bool:
        """Does the spot differ from the empty room (somebody there)? True until it is known."""
        if self.reference is None or self.gray is None:
            return True
        now, ref = self._patch(self.gray, p), self._patch(self.reference, p)
        if now.size == 0:
            return False
        diff = np.abs(now.astype(np.int16) - ref.astype(np.int16)) > self.CHANGED
        return float(diff.mean()) > self.SHARE


@dataclass
class Visit:
    """One counted drop and the stay around it (frame numbers).

    ``arrived``: the track entered the box region; ``frame``: the drop was counted; ``left``:
    the person left the region (None: not seen leaving before the end); ``lost_at``: where the
    track vanished inside the region, if it did; ``colour``: the blob's mean BGR colour at the
    drop (None if too few foreground pixels).
    """

    frame: int
    track: int
    arrived: int
    colour: tuple[float, float, float] | None = None
    left: int | None = None
    lost_at: Point | None = None


class DropCounter:
    """Stage 4: the dwell rule. A track that entered the box region from outside and stays
    ``dwell_frames`` frames is one ballot drop; leaving the region re-arms it. Every drop opens
    a :class:`Visit`, closed when the person leaves the region (for the staff filter).

    Parameters
    ----------
    box : BoxRegion
        The box region.
    dwell_frames : float
        Frames of dwell needed (``dwell_seconds × fps``).
    confirm : callable, optional
        ``confirm(frame) -> bool``, a last check before an event counts (the HOG detector).
    colour : callable, optional
        ``colour(point) -> (b, g, r) or None``: the appearance of the blob at ``point`` at the
        drop.
    near : float
        A track born inside the region within this distance (analysis pixels) of where a
        visit's track vanished closes that visit when it walks out.
    present : callable, optional
        ``present(point) -> bool``: is somebody still at this spot? A visit whose track
        vanished there ends in the first frame where nobody is (:class:`EmptyRoom`).

    Examples
    --------
    >>> box = BoxRegion((10, 10, 10, 10), scale=1.0, radius=0)
    >>> counter = DropCounter(box, dwell_frames=2)
    >>> tr = Track(c=(15.0, 15.0))
    >>> counter.update(0, [tr]), counter.update(1, [tr])
    ([], [1])
    """

    def __init__(
        self,
        box: BoxRegion,
        dwell_frames: float,
        confirm: Callable[[np.ndarray], bool] | None = None,
        colour: Callable[[Point], tuple[float, float, float] | None] | None = None,
        near: float = 60.0,
        present: Callable[[Point], bool] | None = None,
    ) -> None:
        self.box, self.dwell_frames, self.confirm = box, dwell_frames, confirm
        self.colour, self.near, self.present = colour, near, present
        self.events: list[int] = []  # frame numbers
        self.visits: list[Visit] = []  # one per event, in order
        self._open: dict[int, Visit] = {}  # track id -> its open visit
        self._waiting: list[Visit] = []  # visits whose track vanished inside the region

    @property
    def waiting(self) -> list[Visit]:
        """Visits whose track vanished inside the region and whose person has not left yet."""
        return list(self._waiting)

    def update(self, f: int, tracks: list[Track], frame: np.ndarray | None = None) -> list[int]:
        """Apply the rule to the tracks matched in frame ``f``; return the frames of new events."""
        if self.present is not None:
            for v in [v for v in self._waiting if v.lost_at and not self.present(v.lost_at)]:
                v.left = f
                self._waiting.remove(v)
        new = []
        for tr in tracks:
            if not self.box.contains(tr.c):
                self._left(f, tr)
                # leaving the box region re-arms the track: the next visit is a new drop
                tr.dwell, tr.counted, tr.eligible = 0, False, True
                continue
            if tr.dwell == 0:
                tr.arrived = f
            tr.dwell += 1
            if tr.eligible and not tr.counted and tr.dwell >= self.dwell_frames:
                if self.confirm is not None:
                    if frame is None:
                        raise ValueError(
                            "update needs the frame when the counter has a confirm check"
                        )
                    if not self.confirm(frame):
                        continue
                tr.counted = True
                new.append(f)
                visit = Visit(f, tr.tid, tr.arrived, self.colour(tr.c) if self.colour else None)
                self.visits.append(visit)
                self._open[tr.tid] = visit
        self.events += new
        return new

    def _left(self, f: int, tr: Track) -> None:
        visit = self._open.pop(tr.tid, None)
        if visit is not None:
            visit.left = f
        if tr.born_inside and tr.born is not None:
            # someone who stood still in the region (and vanished into the background) leaves
            tr.born_inside = False
            born = tr.born
            cands = [
                v for v in self._waiting if v.lost_at and math.dist(v.lost_at, born) <= self.near
            ]
            if cands:
                v = min(cands, key=lambda v: math.dist(v.lost_at or born, born))
                v.left = f
                self._waiting.remove(v)

    def reset(self, f: int) -> None:
        """An outage: every open visit ends at frame ``f`` (who left when is not seen)."""
        for v in [*self._open.values(), *self._waiting]:
            v.left = f
        self._open, self._waiting = {}, []

    def lost(self, f: int, tracks: Sequence[Track]) -> None:
        """Tracks dropped by the tracker at frame ``f``: a visit whose track vanished outside the
        region ended there; inside, it waits for a track born near that spot to walk out."""
        for tr in tracks:
            visit = self._open.pop(tr.tid, None)
            if visit is None:
                continue
            if self.box.contains(tr.c):
                visit.lost_at = tr.c
                self._waiting.append(visit)
            else:
                visit.left = f


def staff_visits(
    visits: Sequence[Visit], n_frames: int, rate: float, config: StaffConfig
) -> dict[int, str]:
    """Which visits are staff: index into ``visits`` → the reason (stage 5).

    A visit is staff when it lasted ``config.stay_seconds`` or more (from entering the region
    to leaving it; a visit never seen leaving lasts to the end of the video), or when
    ``config.returns`` or more other visits within ``config.return_minutes`` of it are by the
    same person (blobs of mean colours closer than ``config.colour_distance``; track identity
    is not used, since tracks swap people where paths cross).
    A rule of thumb, not a published method: its error is measured on the synthetic video and
    on footage a user supplies (``benchmarks/video_footage.py``; ``docs/cameras.md``, section
    "Staff at the box").

    Examples
    --------
    >>> v = [Visit(frame=10, track=1, arrived=0, left=900)]
    >>> staff_visits(v, n_frames=1000, rate=10.0, config=StaffConfig())
    {0: 'stayed 90 s at the box'}
    """
    if not config.enabled:
        return {}
    out: dict[int, str] = {}
    stay = config.stay_seconds * rate
    span = config.return_minutes * 60 * rate
    for i, v in enumerate(visits):
        end = n_frames if v.left is None else v.left
        if end - v.arrived >= stay:
            out[i] = f"stayed {(end - v.arrived) / rate:.0f} s at the box"
    for i, v in enumerate(visits):
        same = 0
        if v.colour is not None and config.colour_distance > 0:
            for j, u in enumerate(visits):
                if i == j or u.colour is None or abs(u.frame - v.frame) > span:
                    continue
                same += math.dist(u.colour, v.colour) < config.colour_distance
        if same >= config.returns and i not in out:
            out[i] = f"came to the box {same + 1} times within {config.return_minutes:g} min"
    return out


def _hog_confirmer(box: BoxRegion) -> Callable[[np.ndarray], bool]:
    cv = cv2()
    if not hasattr(cv, "HOGDescriptor"):
        # OpenCV 5 moved HOG (and the Haar cascades) out of the main package
        raise ImportError(
            f"hog=True needs OpenCV's HOGDescriptor, which OpenCV {cv.__version__} "
            "does not include; install opencv-contrib-python-headless (or "
            "opencv-python-headless<5), or count without the HOG check."
        )
    det = cv.HOGDescriptor()
    det.setSVMDetector(cv.HOGDescriptor_getDefaultPeopleDetector())
    grown = box.grown

    def confirm(frame: np.ndarray) -> bool:
        x0, y0 = int(max(grown[0], 0)), int(max(grown[1] - 60, 0))  # box corners are floats
        crop = frame[y0 : int(grown[3]), x0 : int(grown[2])]
        if crop.shape[0] < 128 or crop.shape[1] < 64:
            return False
        rects, _ = det.detectMultiScale(crop, winStride=(8, 8), padding=(8, 8), scale=1.05)
        return len(rects) > 0

    return confirm


# ---------------------------------------------------------------------------------------------
# the pipeline
# ---------------------------------------------------------------------------------------------
def _frames(paths: list[Path]) -> Iterator[tuple[int, float, np.ndarray]]:
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


@dataclass(frozen=True)
class _Pass:
    """What one pass over the frames found (frame numbers; ``rate`` frames per second)."""

    events: list[int]
    stretches: list[list]
    n_frames: int
    seg_frames: list[int]
    rate: float
    visits: list[Visit] = field(default_factory=list)


def _analyse(
    frames: Iterator[tuple[int, float, np.ndarray]],
    n_segments: int,
    box: BoxRegion,
    config: VideoCountConfig,
    confirm: Callable[[np.ndarray], bool] | None,
) -> _Pass:
    """Run the four stages over the frames; restart detection and tracking after outages."""
    cv = cv2()
    det_cfg, trk_cfg = config.detector, config.tracker
    scale = det_cfg.scale
    seg_frames = [0] * n_segments
    rate: float | None = config.fps
    outage = detector = tracker = counter = None
    room = EmptyRoom(
        scale,
        int(config.outage.reference_seconds * (rate or DEFAULT_FPS)),
        int(60 * (rate or DEFAULT_FPS)),
    )
    f = -1
    for seg, seg_fps, frame in frames:
        f += 1
        seg_frames[seg] += 1
        if rate is None:
            rate = seg_fps if seg_fps > 0 else DEFAULT_FPS
        if outage is None or detector is None or counter is None:
            # the first frame (all three are made together): now the frame rate is known
            outage = OutageDetector(config.outage, box, rate)
            detector = ForegroundDetector(det_cfg, rate)
            counter = DropCounter(
                box,
                trk_cfg.dwell_seconds * rate,
                confirm,
                colour=detector.colour,
                near=2 * trk_cfg.max_distance * scale,
                present=room.present,
            )
        if scale != 1:
            frame = cv.resize(frame, None, fx=scale, fy=scale, interpolation=cv.INTER_AREA)
        gray = cv.cvtColor(frame, cv.COLOR_BGR2GRAY)
        check = outage.check(f, gray)
        if check.restart_at is not None:
            detector.restart(check.restart_at)
            counter.reset(f)  # an outage hides who left when
            tracker = None
        if not check.analyse:
            continue
        points = detector.blobs(f, frame)
        if check.state == "ok":  # not while turned away: that view is not the room
            room.add(f, gray, detector.mask, [v.lost_at for v in counter.waiting if v.lost_at])
        if points is None:
            continue
        if tracker is None:  # a fresh tracker at the start and after every restart
            tracker = CentroidTracker(
                trk_cfg.max_distance * scale,
                int(trk_cfg.max_missed_seconds * rate) + 1,
                box.contains,
            )
        matched = tracker.update(points)
        counter.lost(f, tracker.lost)
        counter.update(f, matched, frame)
    return _Pass(
        events=counter.events if counter else [],
        stretches=outage.stretches if outage else [],
        n_frames=f + 1,
        seg_frames=seg_frames,
        rate=rate or DEFAULT_FPS,
        visits=counter.visits if counter else [],
    )


def count_video(
    video: str | Path | Sequence[str | Path],
    roi: Roi | str,
    config: VideoCountConfig | None = None,
    *,
    start: str = "08:00",
    station_id: str = "video",
) -> VideoCount:
    """Count ballot drops in one video (or consecutive segments) and return tallies per window.

    Parameters
    ----------
    video : path or sequence of paths
        One video file, or several that are consecutive segments of one recording.
    roi : tuple of int or str
        The ballot box ``(x, y, w, h)`` (or ``"x,y,w,h"``) in pixels of the original frame.
    config : VideoCountConfig, optional
        Detection, tracking, outage and tally settings (default: :class:`VideoCountConfig`).
    start : str
        Wall-clock time of the first frame (``HH:MM`` or ``HH:MM:SS``).
    station_id : str
        Station id written to the tallies.

    Returns
    -------
    VideoCount
        Tallies per window (windows overlapping an outage are unusable), the event times, the
        outage stretches and the SHA-256 of every segment.

    Examples
    --------
    >>> cfg = VideoCountConfig(window_minutes=15, detector=DetectorConfig(scale=1.0))
    >>> res = count_video("pec-0412.mp4", "290,200,60,70", cfg, station_id="0412")  # doctest: +SKIP
    >>> res.tallies.columns[:3]  # doctest: +SKIP
    ['station_id', 'window_start', 'window_end']
    """
    cfg = VideoCountConfig() if config is None else config
    if not isinstance(cfg, VideoCountConfig):
        raise TypeError(f"config must be a VideoCountConfig, not {type(cfg).__name__}")
    roi = _check_roi(roi)
    start_min = parse_start(start)
    cv2()  # fail early, with the install hint, when OpenCV is missing
    if isinstance(video, Sequence) and not isinstance(video, str):
        paths = [Path(p) for p in video]
    else:
        paths = [Path(video)]
    hashes = [sha256_file(p) for p in paths]
    box = BoxRegion(roi, cfg.detector.scale, cfg.tracker.radius)
    confirm = _hog_confirmer(box) if cfg.detector.hog else None
    found = _analyse(_frames(paths), len(paths), box, cfg, confirm)
    rate = found.rate
    bad = tuple((a / rate, (b + 1) / rate, k) for a, b, k in found.stretches)

    def ok(t: float) -> bool:
        return not any(a <= t < b for a, b, _ in bad)

    staff = staff_visits(found.visits, found.n_frames, rate, cfg.staff)
    removed = tuple((v.frame / rate, staff[i]) for i, v in enumerate(found.visits) if i in staff)
    all_events = [t for t in (f / rate for f in found.events) if ok(t)]
    # events and visits are made together, one visit per event, in the same order
    events = [f / rate for i, f in enumerate(found.events) if ok(f / rate) and i not in staff]
    tally = partial(
        _windows,
        bad=bad,
        seconds=found.n_frames / rate,
        window_minutes=cfg.window_minutes,
        start_min=start_min,
        station_id=station_id,
        watcher=cfg.watcher,
        bounds=np.cumsum([0, *found.seg_frames]) / rate,
        hashes=hashes,
    )
    tallies, unfiltered = tally(events=events), tally(events=all_events)
    segs = tuple((str(p), h, n) for p, h, n in zip(paths, hashes, found.seg_frames, strict=True))
    return VideoCount(
        tallies=tallies,
        events=tuple(events),
        bad=bad,
        segments=segs,
        fps=rate,
        n_frames=found.n_frames,
        roi=roi,
        parameters=cfg.parameters(start),
        tallies_unfiltered=unfiltered,
        staff=tuple((t, why) for t, why in removed if ok(t)),
    )


def _windows(
    *,
    events: list[float],
    bad: tuple[tuple[float, float, str], ...],
    seconds: float,
    window_minutes: float,
    start_min: float,
    station_id: str,
    watcher: str,
    bounds: np.ndarray,
    hashes: list[str],
) -> pl.DataFrame:
    """Tallies per window; ``bounds``: start and end times of the segments (seconds)."""
    win = window_minutes * 60
    rows = []
    for i in range(max(1, math.ceil(seconds / win - 1e-9))):
        a, b = i * win, min((i + 1) * win, seconds)
        why = next((k for x, y, k in bad if x < b and y > a), None)
        segs = [hashes[k] for k in range(len(hashes)) if bounds[k] < b and bounds[k + 1] > a]
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
