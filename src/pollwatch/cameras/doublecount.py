"""Which watch windows are counted a second time, and by whom (the double-counting design).

Watcher error can only be measured on windows counted twice, independently
(:mod:`pollwatch.cameras.agreement` pairs them by station and window). This module decides,
reproducibly from a seed, which windows get a second count and who makes it; the observation
service calls :func:`plan_double_counts` on every watch page and shows each watcher the blind
re-counts assigned to them. Method and reasons: ``docs/cameras.md``, section "Double counting
(measured watcher error)".

The rule
--------
* **Which windows: systematic sampling with a random start per station** (Cochran 1977,
  *Sampling Techniques*, 3rd ed., §8.1–8.2: every k-th unit after a random start; here
  k = 1/share, which need not be a whole number). A window of length L minutes starting at t
  minutes is the x-th window of the day, x = t / L; the station's random start is
  o_s ∈ [0, 1), and the window is selected when frac(o_s + x·share) < share. Over any n
  consecutive windows of a station, ⌊n·share⌋ or ⌈n·share⌉ are selected (every station gets
  its share, spread evenly over the day); because o_s is uniform, every window of every
  station has inclusion probability exactly ``share``, so each hour of the day is covered at
  that rate across stations.
* **Selection never looks at a count.** It depends on the seed, the station and the window's
  times only, so windows where the first watcher counted many or few, or marked the camera
  unusable, are re-counted at the same rate (a re-count chosen by its count would bias the
  error estimate).
* **Who re-counts**: the video counter when the station has footage (``footage``), otherwise a
  watcher drawn uniformly (by a hash of seed, station and window) from the pool minus everyone
  who already counted that window, so no watcher ever checks themself and the load spreads
  evenly over the pool in expectation.
* **Blind**: the plan names the window, never the first count; the service shows a watcher
  only their own filings.
* **Stable**: a window's selection and its re-counter depend only on that window (and the
  pool), so the plan does not change as other windows are filed, and recomputing it on every
  page view gives the same assignments. Once a second count is filed the window is ``done``.

The seed decides everything; keep it secret until the counts are in (a watcher who knows it
can compute which of their windows will be checked) and publish it afterwards, so anyone can
recompute the sample.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from pollwatch.i18n import note
from pollwatch.results import ResultMixin, Summary

__all__ = [
    "DEFAULT_SHARE",
    "VIDEO",
    "DoubleCountPlan",
    "Recount",
    "WatchedWindow",
    "plan_double_counts",
    "selected",
    "station_offset",
]

DEFAULT_SHARE = 0.10  # a tenth of windows: ~100 pairs from 1,000 windows, cheap for watchers
VIDEO = "video"  # the second counter's id when the video counter re-counts


def _uniform(*parts: object) -> float:
    """A number in [0, 1) from SHA-256 of the parts (deterministic, no global state)."""
    text = "\x1f".join(str(p) for p in parts)
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def station_offset(seed: str, station_id: str) -> float:
    """The station's random start o_s in [0, 1) of the systematic sample."""
    return _uniform(seed, "start", station_id)


def _check_share(share: float) -> None:
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1:
        raise ValueError(f"share ({share!r}) must be a number in the interval (0, 1].")


def selected(seed: str, station_id: str, start: float, end: float, share: float) -> bool:
    """Is the window ``[start, end)`` (minutes after midnight) of ``station_id`` re-counted?

    Systematic sampling with a random start per station (see the module docstring).

    Examples
    --------
    >>> picks = [selected("s", "0412", 480 + 15 * i, 495 + 15 * i, 0.1) for i in range(40)]
    >>> sum(picks)
    4
    """
    _check_share(share)
    if not end > start:
        raise ValueError(f"window ({start}, {end}) must end after it starts.")
    return _picked(station_offset(seed, station_id), start, end, share)


def _picked(offset: float, start: float, end: float, share: float) -> bool:
    frac = (offset + start / (end - start) * share) % 1.0
    return frac < share - 1e-12


@dataclass(frozen=True)
class WatchedWindow:
    """A window somebody filed: ``counters`` are the watcher ids that filed it, first first."""

    station_id: str
    start: float  # minutes after midnight
    end: float
    counters: tuple[str, ...]


@dataclass(frozen=True)
class Recount:
    """One selected window: who counted it first, who re-counts it (None: nobody eligible).

    ``done``: a second count is already filed (by ``second``).
    """

    station_id: str
    start: float
    end: float
    first: str
    second: str | None
    done: bool


@dataclass(frozen=True)
class DoubleCountPlan(ResultMixin):
    """The re-counts the design asks for, over the windows filed so far."""

    recounts: tuple[Recount, ...]
    n_windows: int
    share: float
    seed_sha256: str  # the seed itself stays secret until published
    n_pool: int
    video_stations: int

    def for_counter(self, counter: str) -> list[Recount]:
        """The re-counts assigned to ``counter`` and not yet filed."""
        return [r for r in self.recounts if r.second == counter and not r.done]

    @property
    def unassigned(self) -> list[Recount]:
        """Selected windows nobody may re-count (everyone in the pool already counted them)."""
        return [r for r in self.recounts if r.second is None]

    def summary(self) -> Summary:
        n_sel = len(self.recounts)
        n_done = sum(r.done for r in self.recounts)
        by_video = sum(r.second == VIDEO for r in self.recounts)
        rows = [
            ("windows filed", f"{self.n_windows:,}"),
            (f"selected for a second count (design share {100 * self.share:g} %)", f"{n_sel:,}"),
            ("second count filed", f"{n_done:,}"),
            ("assigned to the video counter", f"{by_video:,}"),
            ("with no eligible second watcher", f"{len(self.unassigned):,}"),
            ("watchers in the pool", f"{self.n_pool:,}"),
            ("SHA-256 of the seed", self.seed_sha256),
        ]
        share = n_sel / self.n_windows if self.n_windows else math.nan
        text = (
            f"{n_sel:,} of {self.n_windows:,} filed windows ({100 * share:.1f} %) are selected "
            f"for a blind second count; {n_done:,} have been counted twice."
        )
        notes: tuple[str, ...] = ()
        if self.unassigned:
            notes = (
                note(
                    "{n} selected window(s) have no eligible second watcher: "
                    "add watchers to the pool.",
                    n=len(self.unassigned),
                ),
            )
        return Summary("Double counting", text, rows, notes)


def plan_double_counts(
    windows: Iterable[WatchedWindow],
    pool: Sequence[str],
    *,
    seed: str,
    share: float = DEFAULT_SHARE,
    footage: Collection[str] = (),
) -> DoubleCountPlan:
    """The blind second counts the design asks for (see the module docstring for the rule).

    Parameters
    ----------
    windows : iterable of WatchedWindow
        Every window filed so far, with the watcher ids that counted it in filing order.
        Windows of the same station and times are merged.
    pool : sequence of str
        Watcher ids who may be asked to re-count (e.g. the accredited camera watchers).
    seed : str
        The design's seed (non-empty).
    share : float
        Share of windows re-counted, in (0, 1]; default 0.10.
    footage : collection of str
        Stations whose recordings the video counter can re-count: their selected windows go to
        the counter (id ``"video"``) instead of a watcher.

    Returns
    -------
    DoubleCountPlan
        One :class:`Recount` per selected window, in station and time order.

    Examples
    --------
    >>> ws = [WatchedWindow("7", 480 + 15 * i, 495 + 15 * i, ("w1",)) for i in range(20)]
    >>> plan = plan_double_counts(ws, ["w1", "w2", "w3"], seed="demo")
    >>> len(plan.recounts), {r.second for r in plan.recounts} <= {"w2", "w3"}
    (2, True)
    """
    _check_share(share)
    if not isinstance(seed, str) or not seed:
        raise ValueError("seed must be a non-empty string.")
    merged: dict[tuple[str, float, float], list[str]] = {}
    for w in windows:
        counters = merged.setdefault((str(w.station_id), float(w.start), float(w.end)), [])
        for c in w.counters:
            if c not in counters:
                counters.append(c)
    people = sorted(set(pool) - {VIDEO})
    rank = {p: i for i, p in enumerate(people)}
    video = {str(s) for s in footage}
    offsets: dict[str, float] = {}
    out = []
    for (sid, start, end), counters in sorted(merged.items()):
        if sid not in offsets:
            offsets[sid] = station_offset(seed, sid)
        if not counters or not _picked(offsets[sid], start, end, share):
            continue
        first = counters[0]
        if len(counters) >= 2:
            out.append(Recount(sid, start, end, first, counters[1], True))
            continue
        second: str | None = None
        if sid in video and first != VIDEO:
            second = VIDEO
        else:
            # the k-th of the pool with the window's counters left out, k uniform from a hash
            skip = sorted(rank[c] for c in counters if c in rank)
            n = len(people) - len(skip)
            if n > 0:
                k = int(_uniform(seed, "who", sid, start, end) * n)
                for i in skip:
                    k += i <= k
                second = people[k]
        out.append(Recount(sid, start, end, first, second, False))
    return DoubleCountPlan(
        recounts=tuple(out),
        n_windows=len(merged),
        share=share,
        seed_sha256=hashlib.sha256(seed.encode("utf-8")).hexdigest(),
        n_pool=len(people),
        video_stations=len(video),
    )
