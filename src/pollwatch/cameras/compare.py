"""Official turnout against the camera estimate, per station; the camera-status finding.

``docs/methods/quickcount-and-cameras.md`` §2.1 steps 5, 6 and 8: flag ``official > upper95(V̂)``;
``inflation = official − V̂``, ``ratio = official/V̂``; conservative lower bound on added
ballots ``Σ max(0, official − upper95)`` over watched stations; national figures beyond the
watched stations are model-based unless the cameras were a probability sample.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from pollwatch.cameras.data import OUTAGE_STATUSES, format_time, outage_intervals
from pollwatch.cameras.estimate import ESTIMATED, CameraEstimate
from pollwatch.errors import DataIssue, IngestError
from pollwatch.model.derived import has_issued
from pollwatch.results import ResultMixin, Summary, fmt_int

_OFFICIAL_COLUMNS = ("official", "ballots_issued", "ballots_cast", "turnout", "voters")

EXTRAPOLATION_STATEMENT = (
    "These figures describe the watched stations only. Extending them to stations without "
    "cameras is model-based unless the watched stations were a random (probability) sample; "
    "cameras chosen by the commission or streams recorded by volunteers are not."
)


def read_official(path: str | Path) -> dict[str, int]:
    """Official per-station turnout from a CSV with ``station_id`` and one of
    ``official, ballots_issued, ballots_cast, turnout, voters`` (a count of voters)."""
    name = str(path)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = [h.strip().lower() for h in next(reader, [])]
        col = next((c for c in _OFFICIAL_COLUMNS if c in header), None)
        if "station_id" not in header or col is None:
            raise IngestError(
                name,
                [
                    DataIssue(
                        name,
                        "missing required columns",
                        line=1,
                        expected="station_id and one of " + ", ".join(_OFFICIAL_COLUMNS),
                        value=",".join(header),
                    )
                ],
            )
        si, ci = header.index("station_id"), header.index(col)
        out, issues = {}, []
        for line, row in enumerate(reader, start=2):
            if not any(c.strip() for c in row):
                continue
            try:
                v = int(row[ci].strip())
                if v < 0:
                    raise ValueError
                out[row[si].strip()] = v
            except (ValueError, IndexError):
                issues.append(
                    DataIssue(
                        name,
                        "cannot read the value",
                        line=line,
                        column=col,
                        value=row[ci] if ci < len(row) else "",
                        expected="a non-negative integer (voters)",
                    )
                )
    if issues:
        raise IngestError(name, issues)
    return out


def official_from_election(election, basis: str = "auto") -> dict[str, int]:
    """Per-station official turnout from an Election: ballots ``"issued"`` (what a camera on
    the box should match), ``"cast"`` (valid + invalid), or ``"auto"`` (issued when the
    election has the issued lines, else cast)."""

    if basis not in ("auto", "issued", "cast"):
        raise ValueError(f"basis ({basis!r}) not recognised; must be 'auto', 'issued' or 'cast'.")
    if basis == "auto":
        basis = "issued" if has_issued(election) else "cast"
    v = election.ballots_issued() if basis == "issued" else election.ballots_cast()
    return {str(s): int(x) for s, x in zip(election.station_ids, v, strict=True)}


@dataclass(frozen=True)
class CameraComparison(ResultMixin):
    """Official counts against camera intervals at the watched stations."""

    station_id: np.ndarray
    official: np.ndarray  # NaN where the official figure is missing
    estimate: np.ndarray
    high: np.ndarray
    flagged: np.ndarray
    inflation: np.ndarray
    ratio: np.ndarray
    excess: np.ndarray  # max(0, official − upper95)
    n_compared: int
    n_flagged: int
    n_no_official: int
    lower_bound_added: float
    ratio_overall: float
    official_total: float
    estimate_total: float
    level: float
    statement: str = EXTRAPOLATION_STATEMENT
    notes: tuple[str, ...] = ()
    _dict_exclude = (
        "station_id",
        "official",
        "estimate",
        "high",
        "flagged",
        "inflation",
        "ratio",
        "excess",
    )

    def table(self) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "station_id": self.station_id.astype(str),
                "official": self.official,
                "estimate": self.estimate,
                "high95": self.high,
                "flagged": self.flagged,
                "inflation": self.inflation,
                "ratio": self.ratio,
                "excess_over_upper95": self.excess,
            }
        )

    def summary(self) -> Summary:
        rows = [
            ("stations compared", f"{self.n_compared:,}"),
            (f"official above the {100 * self.level:.0f} % upper bound", f"{self.n_flagged:,}"),
            ("official voters (compared stations)", fmt_int(self.official_total)),
            ("camera estimate (compared stations)", fmt_int(self.estimate_total)),
            ("ratio official / camera", f"{self.ratio_overall:.3f}"),
            ("added ballots, conservative lower bound", fmt_int(self.lower_bound_added)),
        ]
        if self.n_no_official:
            rows.append(
                ("estimated stations without an official figure", f"{self.n_no_official:,}")
            )
        text = (
            f"At {self.n_flagged:,} of {self.n_compared:,} compared stations the official turnout "
            f"exceeds the upper end of the camera interval. Officially {fmt_int(self.official_total)} "
            f"voters, on camera about {fmt_int(self.estimate_total)} (ratio {self.ratio_overall:.2f}); "
            f"at least {fmt_int(self.lower_bound_added)} ballots were added beyond what the "
            "cameras allow. " + self.statement
        )
        return Summary("Camera counts against official turnout", text, rows, self.notes)


def compare_official(
    estimate: CameraEstimate, official: Mapping[str, int] | object, basis: str = "auto"
) -> CameraComparison:
    """Compare official per-station turnout with the camera intervals.

    Only stations with an estimate and an official figure are compared.

    Parameters
    ----------
    estimate : CameraEstimate
        The camera estimates (:func:`~pollwatch.cameras.estimate.estimate_turnout`).
    official : mapping or Election
        Station id → voters, or an Election.
    basis : {"auto", "issued", "cast"}
        With an Election: which ballots are the official turnout (see
        :func:`official_from_election`).

    Returns
    -------
    CameraComparison
        Per station: official figure, estimate, upper bound, flag, inflation and ratio; the
        conservative lower bound of votes added and the totals.
    """
    if not isinstance(official, Mapping):
        official = official_from_election(official, basis)
    ids = estimate.station_id.astype(str)
    off = np.array([official.get(s, np.nan) for s in ids], dtype=float)
    ok = (estimate.status == ESTIMATED) & ~np.isnan(off)
    v, hi = estimate.estimate, estimate.high
    flagged = ok & (off > hi)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(ok, off / v, np.nan)
    inflation = np.where(ok, off - v, np.nan)
    excess = np.where(ok, np.maximum(0.0, off - hi), np.nan)
    off_t, est_t = float(np.sum(off[ok])), float(np.sum(v[ok]))
    notes = []
    n_missing = int(np.sum((estimate.status == ESTIMATED) & np.isnan(off)))
    if n_missing:
        notes.append(
            f"{n_missing} estimated station(s) have no official figure and are not compared."
        )
    return CameraComparison(
        station_id=ids,
        official=off,
        estimate=v,
        high=hi,
        flagged=flagged,
        inflation=inflation,
        ratio=ratio,
        excess=excess,
        n_compared=int(ok.sum()),
        n_flagged=int(flagged.sum()),
        n_no_official=n_missing,
        lower_bound_added=float(np.nansum(excess[ok])),
        ratio_overall=off_t / est_t if est_t > 0 else float("nan"),
        official_total=off_t,
        estimate_total=est_t,
        level=estimate.level,
        notes=tuple(notes),
    )


@dataclass(frozen=True)
class CameraStatusSummary(ResultMixin):
    """How many cameras were muted, turned away or dark, and when (a finding in itself)."""

    n_cameras: int
    ever: dict[str, int]  # status → cameras that had it at some time
    by_hour: dict[str, dict[str, int]]  # "HH:00" → status → cameras in it during that hour
    minutes: dict[str, float]  # status → camera-minutes spent in it
    n_with_outage: int
    day_start: float
    day_end: float

    def summary(self) -> Summary:
        rows = [
            (f"cameras ever {k.replace('_', ' ')}", f"{v:,} of {self.n_cameras:,}")
            for k, v in sorted(self.ever.items())
        ]
        rows += [
            (f"{h}", ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(s.items())))
            for h, s in self.by_hour.items()
            if s
        ]
        text = (
            f"Of {self.n_cameras:,} cameras, {self.ever.get('audio_muted', 0):,} had muted audio, "
            f"{self.ever.get('turned_away', 0):,} were turned away at some point, and "
            f"{self.n_with_outage:,} had at least one outage (offline, turned away, covered, box "
            "out of frame, frozen or black). Outage windows are treated as missing, not as zero."
        )
        return Summary("Camera status", text, rows, ())


def status_summary(
    status: pl.DataFrame, day_start: float = 8 * 60, day_end: float = 20 * 60
) -> CameraStatusSummary:
    """Count cameras per status over the day and per hour (``[day_start, day_end)``)."""
    if day_end <= day_start:
        raise ValueError(f"day_end ({day_end}) must be after day_start ({day_start}).")
    ids = status["station_id"].unique().to_list()
    ever: dict[str, int] = {}
    minutes: dict[str, float] = {}
    hours = np.arange(np.floor(day_start / 60) * 60, day_end, 60.0)
    by_hour: dict[str, dict[str, int]] = {format_time(h): {} for h in hours}
    stretches = _all_stretches(status, day_end)
    n_out = 0
    for sid in ids:
        seen: set[str] = set()
        hour_seen: dict[str, set[str]] = {}
        for a, b, st in stretches.get(sid, ()):
            a, b = max(a, day_start), min(b, day_end)
            if b <= a and st != "audio_muted":
                continue
            seen.add(st)
            minutes[st] = minutes.get(st, 0.0) + max(b - a, 0.0)
            for h in hours:
                if a < h + 60 and b > h:
                    hour_seen.setdefault(format_time(h), set()).add(st)
        n_out += bool(seen & OUTAGE_STATUSES)
        for st in seen:
            ever[st] = ever.get(st, 0) + 1
        for h, sts in hour_seen.items():
            for st in sts:
                by_hour[h][st] = by_hour[h].get(st, 0) + 1
    return CameraStatusSummary(len(ids), ever, by_hour, minutes, n_out, day_start, day_end)


def _all_stretches(
    status: pl.DataFrame, day_end: float
) -> dict[str, list[tuple[float, float, str]]]:
    """Every non-online stretch, including audio_muted (which is not an outage)."""
    out: dict[str, list[tuple[float, float, str]]] = {}
    outages = outage_intervals(status, day_end)
    for sid, lst in outages.items():
        out[sid] = list(lst)
    muted = status.filter(pl.col("status") == "audio_muted")
    for sid, t in zip(muted["station_id"].to_list(), muted["time"].to_list(), strict=True):
        # muting is logged once and lasts the day unless the log says otherwise
        out.setdefault(sid, []).append((t, day_end, "audio_muted"))
    return out
