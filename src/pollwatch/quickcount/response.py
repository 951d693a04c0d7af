"""Response of a registered sample: overall, by stratum and over time (docs/quickcount.md §6).

A quick count is judged by how much of its sample reported, where and when: NDI's coordinators
track reports by stratum and by the hour, because a stratum that stays silent, or reports only
late, can bias the estimate even when the overall response looks high (Estok, Nevitte & Cowan
2002, ch. 7). ``received`` counts copies from the active sample; ``counted`` those that passed
the checks (§5) and entered the estimate. Rates are of the active sample (``n_h`` per stratum).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pollwatch.i18n import N_, gettext, note
from pollwatch.results import fmt_pct, jsonable

__all__ = ["ArrivalStep", "OffSample", "ResponseReport", "StratumResponse", "response_report"]


@dataclass(frozen=True)
class OffSample:
    """Copies from stations outside the active sample: listed, never counted."""

    station_ids: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.station_ids)

    def to_dict(self) -> dict:
        return {"count": self.count, "station_ids": list(self.station_ids)}


@dataclass(frozen=True)
class StratumResponse:
    """One stratum: ``N_h``, ``n_h`` active stations, copies received and counted, replacements."""

    stratum: str
    stratum_stations: int
    sampled: int
    received: int
    counted: int
    replaced: int

    @property
    def rate(self) -> float:
        return self.counted / self.sampled if self.sampled else float("nan")

    def to_dict(self) -> dict:
        return {**{k: jsonable(v) for k, v in self.__dict__.items()}, "rate": jsonable(self.rate)}


@dataclass(frozen=True)
class ArrivalStep:
    """Copies counted that had arrived before ``until`` (cumulative), and their share of the sample."""

    until: str
    counted: int
    rate: float


@dataclass(frozen=True)
class ResponseReport:
    """Response of the registered sample (see the module docstring)."""

    sampled: int
    received: int
    counted: int
    quarantined: int
    off_sample: int
    replaced: int
    by_stratum: tuple[StratumResponse, ...]
    by_arrival: tuple[ArrivalStep, ...]
    arrival_note: str = ""

    @property
    def rate(self) -> float:
        return self.counted / self.sampled if self.sampled else float("nan")

    @property
    def received_rate(self) -> float:
        return self.received / self.sampled if self.sampled else float("nan")

    def to_dict(self) -> dict:
        out = {k: jsonable(v) for k, v in self.__dict__.items()}
        out["rate"] = jsonable(self.rate)
        out["received_rate"] = jsonable(self.received_rate)
        return out

    def lines(self) -> list[tuple[str, str]]:
        """Summary rows: overall, the least-responding strata, the last steps over time."""
        rows = [
            (
                gettext("response (counted / sampled)"),
                gettext(
                    "{counted} of {sampled} ({rate}); {received} received, {quarantined} "
                    "quarantined, {replaced} replaced by reserves"
                ).format(
                    counted=f"{self.counted:,}",
                    sampled=f"{self.sampled:,}",
                    rate=fmt_pct(self.rate),
                    received=f"{self.received:,}",
                    quarantined=f"{self.quarantined:,}",
                    replaced=f"{self.replaced:,}",
                ),
            )
        ]
        for s in sorted(self.by_stratum, key=lambda s: (s.rate, s.stratum))[:10]:
            rows.append(
                (
                    gettext("response in {stratum}").format(stratum=s.stratum),
                    gettext("{n} of {sampled} ({rate})").format(
                        n=s.counted, sampled=s.sampled, rate=fmt_pct(s.rate)
                    )
                    + (gettext(", {n} replaced").format(n=s.replaced) if s.replaced else ""),
                )
            )
        for a in self.by_arrival[-6:]:
            rows.append(
                (
                    gettext("counted by {time}").format(time=a.until),
                    f"{a.counted:,} ({fmt_pct(a.rate)})",
                )
            )
        return rows


def _parse(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        return None


def _timeline(arrived: Sequence[object], sampled: int) -> tuple[tuple[ArrivalStep, ...], str]:
    """Cumulative counted copies at the end of each clock hour, if every arrival is a time."""
    if not arrived:
        return (), ""
    times = [_parse(a) for a in arrived]
    if any(t is None for t in times):
        return (), note(
            N_(
                "Arrival values are not ISO times (or some are blank): no response over time; "
                "give `arrived`/`received_at` as times such as 2024-02-07T19:05:00+04:00."
            )
        )
    ts = [t for t in times if t is not None]
    if len({t.tzinfo is None for t in ts}) > 1:
        return (), note(
            N_("Arrival times mix times with and without a UTC offset: no response over time.")
        )
    start = min(ts).replace(minute=0, second=0, microsecond=0)
    end = max(ts)
    steps = []
    until = start + timedelta(hours=1)
    while True:
        n = sum(t < until for t in ts)
        steps.append(ArrivalStep(until.isoformat(), n, n / sampled if sampled else float("nan")))
        if until > end:
            break
        until += timedelta(hours=1)
    return tuple(steps), ""


def response_report(
    active: Sequence[tuple[str, str]],
    strata: dict[str, tuple[int, int]],
    replaced_by_stratum: dict[str, int],
    received_ids: Sequence[str],
    counted_ids: Sequence[str],
    counted_arrivals: Sequence[object] | None,
    off_sample: int,
) -> ResponseReport:
    """Response of a registered sample.

    Parameters
    ----------
    active : sequence of (station_id, stratum)
        The active sample (primaries not replaced and reserves brought in).
    strata : dict
        ``{stratum: (N_h, n_h)}`` from the sample file.
    replaced_by_stratum : dict
        Replacements made in each stratum.
    received_ids, counted_ids : sequence of str
        Active stations with a copy, and those whose copy was counted (passed the checks).
    counted_arrivals : sequence, optional
        Arrival value of each counted copy (ISO times give the hourly steps), or None.
    off_sample : int
        Copies from stations outside the active sample (not counted).
    """
    received, counted = set(received_ids), set(counted_ids)
    rows = []
    for name, (big_n, n_h) in strata.items():
        ids = [s for s, h in active if h == name]
        rows.append(
            StratumResponse(
                name,
                big_n,
                n_h,
                sum(s in received for s in ids),
                sum(s in counted for s in ids),
                replaced_by_stratum.get(name, 0),
            )
        )
    sampled = len(active)
    steps, arrival_note = _timeline(list(counted_arrivals or []), sampled)
    if counted_arrivals is None:
        arrival_note = note(
            N_(
                "The copies carry no arrival time (`arrived` or `received_at`): no response over "
                "time."
            )
        )
    return ResponseReport(
        sampled=sampled,
        received=len(received),
        counted=len(counted),
        quarantined=len(received - counted),
        off_sample=off_sample,
        replaced=sum(replaced_by_stratum.values()),
        by_stratum=tuple(rows),
        by_arrival=steps,
        arrival_note=arrival_note,
    )
