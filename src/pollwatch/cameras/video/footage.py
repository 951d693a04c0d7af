"""Measure the video counter on footage a user supplies, against a hand count.

The benchmark format (``docs/cameras.md``, section "Benchmark on your own footage") is a
directory holding

* ``meta.yaml``: ``camera``, ``station``, ``video`` (file name, or a list of consecutive
  segments), ``roi`` (the ballot box ``x,y,w,h`` in pixels), ``start`` (wall-clock time of the
  first frame, default ``00:00``), ``fps`` (optional: overrides the file's rate),
  ``window_minutes`` (default 10), ``view`` (what the camera sees, free text);
* the video file(s);
* ``handcount.csv``: either one row per ballot drop, ``time[,who]`` (``time`` in seconds from
  the start of the video, or a wall-clock ``HH:MM:SS``; ``who`` ``voter`` (default) or
  ``staff``: a member, police or observer at the box), or one row per window,
  ``window_start,window_end,count`` (wall-clock times; ``count`` the voters; empty = not
  counted).

:func:`benchmark_footage` runs :func:`~pollwatch.cameras.video.count.count_video` on it and
compares with the hand count window by window: bias (mean of counted − hand), mean absolute
error and the ratio of totals, before and after the staff filter, plus the run time.
:func:`write_synthetic_footage` writes a synthetic clip in the same format (tests and the
benchmark's default run).
"""

from __future__ import annotations

import csv
import io
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pollwatch.cameras.data import format_time, parse_time
from pollwatch.cameras.video.count import VideoCount, VideoCountConfig, count_video, parse_roi
from pollwatch.cameras.video.synthetic import Staff, make_synthetic_video
from pollwatch.errors import DataIssue, IngestError
from pollwatch.results import ResultMixin, Summary

__all__ = [
    "FootageBenchmark",
    "FootageMeta",
    "benchmark_footage",
    "read_footage",
    "write_synthetic_footage",
]

STAFF_TOLERANCE = 3.0  # seconds between a removed drop and a hand-counted staff visit
META = "meta.yaml"
HANDCOUNT = "handcount.csv"


@dataclass(frozen=True)
class FootageMeta:
    """What ``meta.yaml`` says about the footage."""

    camera: str
    station: str
    videos: tuple[Path, ...]
    roi: tuple[int, int, int, int]
    start: float  # minutes after midnight
    fps: float | None
    window_minutes: float
    view: str


@dataclass(frozen=True)
class HandCount:
    """The hand count: drop times (seconds from the start; voters and staff apart) or windows."""

    voter_times: tuple[float, ...] | None = None
    staff_times: tuple[float, ...] = ()
    windows: tuple[tuple[float, float, int | None], ...] | None = None  # minutes, voters


def _issue(path: Path, message: str, **kw: Any) -> IngestError:
    return IngestError(str(path), [DataIssue(str(path), message, **kw)])


def _read_meta(directory: Path) -> FootageMeta:
    path = directory / META
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _issue(path, f"cannot read the file ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise _issue(path, f"not valid YAML ({exc})") from None
    if not isinstance(raw, dict):
        raise _issue(path, "expected a mapping of keys to values", expected="camera: ...")
    issues = []
    for key in ("camera", "station", "video", "roi"):
        if raw.get(key) in (None, ""):
            issues.append(DataIssue(str(path), f'missing key "{key}"', column=key))
    if issues:
        raise IngestError(str(path), issues)
    names = raw["video"] if isinstance(raw["video"], list) else [raw["video"]]
    videos = tuple(directory / str(n) for n in names)
    for v in videos:
        if not v.is_file():
            issues.append(
                DataIssue(str(path), "video file not found", column="video", value=str(v.name))
            )

    def number(key: str, default: float | None, positive: bool = True) -> float | None:
        value = raw.get(key, default)
        if value is None:
            return None
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        if not ok or (positive and value <= 0):
            issues.append(
                DataIssue(
                    str(path),
                    "cannot read the value",
                    column=key,
                    value=str(value),
                    expected="a number > 0",
                )
            )
            return default
        return float(value)

    fps = number("fps", None)
    window = number("window_minutes", 10.0) or 10.0
    roi: tuple[int, int, int, int] = (0, 0, 1, 1)
    try:
        roi = parse_roi(str(raw["roi"]).replace(" ", ""))
    except ValueError as exc:
        issues.append(
            DataIssue(
                str(path),
                "cannot read the value",
                column="roi",
                value=str(raw["roi"]),
                expected="x,y,w,h in pixels",
                hint=str(exc),
            )
        )
    start = 0.0
    try:
        start = parse_time(str(raw.get("start", "00:00")))
    except ValueError:
        issues.append(
            DataIssue(
                str(path),
                "cannot read the value",
                column="start",
                value=str(raw.get("start")),
                expected="a time of day HH:MM[:SS]",
            )
        )
    if issues:
        raise IngestError(str(path), issues)
    return FootageMeta(
        camera=str(raw["camera"]),
        station=str(raw["station"]),
        videos=videos,
        roi=roi,
        start=start,
        fps=fps,
        window_minutes=window,
        view=str(raw.get("view", "")),
    )


def _seconds(text: str, start: float) -> float:
    """Seconds from the start of the video: a bare number, or a wall-clock time."""
    s = text.strip()
    if ":" in s:
        return (parse_time(s) - start) * 60
    v = float(s)
    if not math.isfinite(v) or v < 0:
        raise ValueError(s)
    return v


def _read_handcount(path: Path, meta: FootageMeta) -> HandCount:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise _issue(path, f"cannot read the file ({exc.strerror})") from None
    rows = list(csv.reader(io.StringIO(text)))
    header = [h.strip().lower() for h in (rows[0] if rows else [])]
    body = [(i, r) for i, r in enumerate(rows[1:], start=2) if any(c.strip() for c in r)]
    issues: list[DataIssue] = []

    def cell(r: list[str], col: str) -> str:
        j = header.index(col)
        return r[j] if j < len(r) else ""

    def bad(line: int, col: str, value: str, expected: str) -> None:
        issues.append(
            DataIssue(
                str(path),
                "cannot read the value",
                line=line,
                column=col,
                value=value,
                expected=expected,
            )
        )

    if "time" in header:
        voters: list[float] = []
        staff: list[float] = []
        for line, r in body:
            try:
                t = _seconds(cell(r, "time"), meta.start)
            except ValueError:
                bad(line, "time", cell(r, "time"), "seconds from the start or HH:MM:SS")
                continue
            who = cell(r, "who").strip().lower() if "who" in header else ""
            if who not in ("", "voter", "staff"):
                bad(line, "who", who, "voter or staff")
                continue
            (staff if who == "staff" else voters).append(t)
        if issues:
            raise IngestError(str(path), issues)
        return HandCount(voter_times=tuple(sorted(voters)), staff_times=tuple(sorted(staff)))
    if {"window_start", "window_end", "count"} <= set(header):
        windows = []
        for line, r in body:
            try:
                a, b = parse_time(cell(r, "window_start")), parse_time(cell(r, "window_end"))
            except ValueError:
                bad(line, "window_start", cell(r, "window_start"), "HH:MM[:SS] (both ends)")
                continue
            c = cell(r, "count").strip()
            if c and not (c.isdigit()):
                bad(line, "count", c, "a non-negative whole number, or empty")
                continue
            windows.append((a, b, int(c) if c else None))
        if issues:
            raise IngestError(str(path), issues)
        return HandCount(windows=tuple(windows))
    raise _issue(
        path,
        "unknown hand-count layout",
        line=1,
        expected="columns time[,who] or window_start,window_end,count",
        value=",".join(header),
    )


def read_footage(directory: str | Path) -> tuple[FootageMeta, HandCount]:
    """Read a benchmark directory (``meta.yaml`` and ``handcount.csv``); IngestError names the
    file, line, column, expected and found value of every problem."""
    d = Path(directory)
    meta = _read_meta(d)
    return meta, _read_handcount(d / HANDCOUNT, meta)


@dataclass(frozen=True)
class FootageBenchmark(ResultMixin):
    """Counted against hand-counted, per usable window, before and after the staff filter.

    ``windows``: ``(start, end, hand, counted, counted_before_filter)`` (minutes after
    midnight; windows the counter marked unusable or the hand count left empty are left out
    of the scores and listed in ``skipped``). ``bias``: mean of counted − hand; ``mae``: mean
    absolute error; ``ratio``: Σ counted / Σ hand (the κ of ``cameras.agreement`` with the
    hand count as reference).
    """

    camera: str
    station: str
    view: str
    windows: tuple[tuple[float, float, int, int, int], ...]
    skipped: tuple[tuple[float, float, str], ...]
    bias: float
    mae: float
    ratio: float
    bias_before: float
    mae_before: float
    ratio_before: float
    hand_staff: int | None
    removed: int  # drops the staff filter removed (scored windows)
    removed_at_staff: int | None  # of them, within 3 s of a hand-counted staff visit
    seconds_of_video: float
    run_seconds: float
    parameters: dict

    def summary(self) -> Summary:
        rows = [
            ("camera / station", f"{self.camera} / {self.station}"),
            ("windows scored", f"{len(self.windows)} ({len(self.skipped)} skipped)"),
            ("hand count (voters)", f"{sum(w[2] for w in self.windows):,}"),
            (
                "counted after / before the staff filter",
                f"{sum(w[3] for w in self.windows):,} / {sum(w[4] for w in self.windows):,}",
            ),
            ("bias per window after / before", f"{self.bias:+.2f} / {self.bias_before:+.2f}"),
            ("mean absolute error after / before", f"{self.mae:.2f} / {self.mae_before:.2f}"),
            ("counted / hand after / before", f"{self.ratio:.3f} / {self.ratio_before:.3f}"),
            ("run time", f"{self.run_seconds:.1f} s for {self.seconds_of_video:.0f} s of video"),
        ]
        rows.append(("removed as staff", f"{self.removed:,}"))
        if self.hand_staff is not None:
            rows.append(("staff visits in the hand count", f"{self.hand_staff:,}"))
            rows.append(("removed within 3 s of one of them", f"{self.removed_at_staff:,}"))
        text = (
            f"On {len(self.windows)} hand-counted windows the counter's bias is "
            f"{self.bias:+.2f} drops per window (mean absolute error {self.mae:.2f}; "
            f"{self.bias_before:+.2f} and {self.mae_before:.2f} without the staff filter)."
        )
        notes = (self.view,) if self.view else ()
        return Summary("Video counter on footage", text, rows, notes)

    def table(self) -> str:
        """The per-window comparison as fixed-width text."""
        lines = [f"{'window':<19}{'hand':>6}{'counted':>9}{'before filter':>15}"]
        for a, b, h, c, u in self.windows:
            lines.append(f"{format_time(a)}–{format_time(b):<13}{h:>6}{c:>9}{u:>15}")
        for a, b, why in self.skipped:
            lines.append(f"{format_time(a)}–{format_time(b):<13}{'':>6}{'skipped: ' + why:>24}")
        return "\n".join(lines)


def _scores(pairs: Sequence[tuple[int, int]]) -> tuple[float, float, float]:
    if not pairs:
        return math.nan, math.nan, math.nan
    d = [c - h for h, c in pairs]
    hand = sum(h for h, _ in pairs)
    ratio = sum(c for _, c in pairs) / hand if hand else math.nan
    return sum(d) / len(d), sum(abs(x) for x in d) / len(d), ratio


def benchmark_footage(
    directory: str | Path, config: VideoCountConfig | None = None
) -> FootageBenchmark:
    """Count the footage in ``directory`` and score it against its hand count.

    The windows are the counter's (``window_minutes`` of ``meta.yaml`` unless ``config`` sets
    them); a per-window hand count must use the same windows (a window of the hand count that
    matches none of the counter's is an error, never silently dropped).
    """
    meta, hand = read_footage(directory)
    cfg = config or VideoCountConfig(window_minutes=meta.window_minutes, fps=meta.fps)
    t0 = time.perf_counter()
    res: VideoCount = count_video(
        list(meta.videos), meta.roi, cfg, start=format_time(meta.start), station_id=meta.station
    )
    run = time.perf_counter() - t0
    after = res.tallies.rows(named=True)
    before = (
        res.tallies_unfiltered.rows(named=True) if res.tallies_unfiltered is not None else after
    )
    if hand.windows is not None:
        by_window = {(round(a, 6), round(b, 6)): c for a, b, c in hand.windows}
        ours = {(round(r["window_start"], 6), round(r["window_end"], 6)) for r in after}
        unknown = [k for k in by_window if k not in ours]
        if unknown:
            a, b = unknown[0]
            raise _issue(
                Path(directory) / HANDCOUNT,
                "a hand-counted window is not one of the counter's windows",
                value=f"{format_time(a)}–{format_time(b)}",
                expected=f"windows of {cfg.window_minutes:g} minutes from {format_time(meta.start)}",
            )
    windows, skipped = [], []
    for r, u in zip(after, before, strict=True):
        a, b = r["window_start"], r["window_end"]
        if hand.windows is not None:
            h = by_window.get((round(a, 6), round(b, 6)))
        else:
            lo, hi = (a - meta.start) * 60, (b - meta.start) * 60
            h = sum(lo <= t < hi for t in hand.voter_times or ())
        if not r["usable"]:
            skipped.append((a, b, r["reason"] or "unusable"))
        elif h is None:
            skipped.append((a, b, "not hand-counted"))
        else:
            windows.append((a, b, int(h), int(r["count"]), int(u["count"])))
    scored = [(a - meta.start) * 60 for a, _, *_ in windows]
    ends = [(b - meta.start) * 60 for _, b, *_ in windows]
    removed = [
        t for t, _ in res.staff if any(lo <= t < hi for lo, hi in zip(scored, ends, strict=True))
    ]
    at_staff = None
    if hand.voter_times is not None:  # one removed drop per hand-counted staff visit
        free = list(hand.staff_times)
        at_staff = 0
        for t in removed:
            near = [x for x in free if abs(x - t) <= STAFF_TOLERANCE]
            if near:
                free.remove(min(near, key=lambda x: abs(x - t)))
                at_staff += 1
    bias, mae, ratio = _scores([(w[2], w[3]) for w in windows])
    bias_b, mae_b, ratio_b = _scores([(w[2], w[4]) for w in windows])
    return FootageBenchmark(
        camera=meta.camera,
        station=meta.station,
        view=meta.view,
        windows=tuple(windows),
        skipped=tuple(skipped),
        bias=bias,
        mae=mae,
        ratio=ratio,
        bias_before=bias_b,
        mae_before=mae_b,
        ratio_before=ratio_b,
        hand_staff=len(hand.staff_times) if hand.voter_times is not None else None,
        removed=len(removed),
        removed_at_staff=at_staff,
        seconds_of_video=res.n_frames / res.fps,
        run_seconds=run,
        parameters=res.parameters,
    )


def write_synthetic_footage(
    directory: str | Path,
    *,
    seconds: float = 120.0,
    staff: Sequence[Staff] = (),
    window_minutes: float = 0.5,
    seed: int = 0,
    **video: Any,
) -> Path:
    """Write a synthetic clip in the benchmark format (``meta.yaml``, ``station.avi``,
    ``handcount.csv`` with one row per drop, voters and staff) and return the directory.

    ``video``: further keyword arguments of :func:`make_synthetic_video` (``every``,
    ``sides``, ``frozen``...).
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    clip = make_synthetic_video(d / "station.avi", seconds=seconds, staff=staff, seed=seed, **video)
    meta = {
        "camera": "synthetic",
        "station": f"synthetic-{seed}",
        "video": "station.avi",
        "roi": ",".join(str(v) for v in clip.roi),
        "start": "08:00",
        "fps": clip.fps,
        "window_minutes": window_minutes,
        "view": "synthetic room: the ballot box, people walking to it from the sides",
    }
    (d / META).write_text(yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")
    # the drop is 0.5 s after reaching the box, as SyntheticVideo.true_count counts it
    rows = [(a + 0.5, "voter") for a, _ in clip.visits]
    rows += [(a + 0.5, "staff") for a, _ in clip.staff_visits]
    with open(d / HANDCOUNT, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["time", "who"])
        w.writerows((f"{t:.1f}", who) for t, who in sorted(rows))
    return d
