"""Station risk score: every signal that points at a station, with documented points, ranked.

Source: the per-station signals of the other methods, read through the station-signal
contract (:class:`pollwatch.results.MethodResult`) (``docs/methods/forensics.md`` §3, §7, §8,
§2; protocol arithmetic of :mod:`pollwatch.validate`) and the high-high criterion of
``docs/methods/forensics.md`` §6. The score is a transparent sum of documented points, not a
probability: it orders stations for observers and journalists to look at first. No single signal, and no
total, proves fraud at a station.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import polars as pl

from pollwatch.forensics.carousel import robust_z
from pollwatch.i18n import gettext, note
from pollwatch.model import Election
from pollwatch.model.derived import has_issued
from pollwatch.results import ResultMixin, StationSignal, Summary, station_signals_of
from pollwatch.validate import validate

__all__ = ["SIGNAL_SOURCES", "WEIGHTS", "StationScores", "station_scores"]

#: Points per signal. ``mixture`` is multiplied by the station's posterior fraud probability.
WEIGHTS: dict[str, float] = {
    "arithmetic": 3.0,  # a protocol identity or inequality is violated (hard evidence of a bad protocol)
    "extreme": 2.0,  # turnout > 95 % and leader share > 95 % (docs/methods/forensics.md §6)
    "turnout_outlier": 1.0,  # turnout > 3 robust sd above the constituency median
    "share_outlier": 1.0,  # leader share > 3 robust sd above the constituency median
    "integer": 1.0,  # whole-number turnout or leader percentage (integer test flag)
    "carousel": 1.0,  # away-voter share outlier in its constituency (floored rule)
    "mobile_box": 0.5,  # mobile-box share outlier in its constituency (floored rule)
    "mixture": 2.0,  # × posterior probability of the incremental or extreme fraud class
    "above_peak": 1.0,  # turnout above Shpilkin's natural peak (where his excess lives)
}

#: signal -> (method, the key of ``results`` whose result's ``station_signals`` carries it,
#: kind and unit the signal must have). Points of a ``score`` are weight × value.
SIGNAL_SOURCES: dict[str, tuple[str, str, str]] = {
    "integer": ("integer_percentages", "flag", "flag"),
    "carousel": ("carousel", "flag", "flag"),
    "mobile_box": ("carousel", "flag", "flag"),
    "mixture": ("mixture", "score", "probability"),
    "above_peak": ("shpilkin", "flag", "flag"),
}


@dataclass(frozen=True)
class StationScores(ResultMixin):
    """Result of :func:`station_scores`.

    ``table``: one row per station in election order with ``station_id``, hierarchy labels,
    ``turnout``, ``leader_share``, one column per signal (booleans; ``turnout_z``/``share_z``
    and ``mixture_posterior`` floats; ``arithmetic_rules`` the violated rules), ``signals``
    (comma-separated names of the signals that fired), ``n_signals``, ``points`` and ``rank``
    (1 = most points; ties share the lowest rank). ``signals_used``/``signals_missing`` say
    which signals could be computed; ``counts`` how many stations each fired at.
    """

    weights: dict[str, float]
    signals_used: tuple[str, ...]
    signals_missing: tuple[str, ...]
    counts: dict[str, int]
    n_stations: int
    n_with_points: int
    z_threshold: float
    turnout_basis: str
    group_level: str | None
    notes: tuple[str, ...]
    table: pl.DataFrame = field(repr=False)

    _dict_exclude = ("table",)

    def top(self, n: int = 20) -> pl.DataFrame:
        """The ``n`` highest-ranked stations."""
        return self.table.sort(["rank", "n_signals"], descending=[False, True]).head(n)

    def summary(self) -> Summary:
        rows = [
            (
                name,
                f"{self.counts.get(name, 0):,} stations, {self.weights[name]:g} points"
                + (" × posterior" if name == "mixture" else ""),
            )
            for name in self.signals_used
        ]
        top = self.top(5)
        for r in top.iter_rows(named=True):
            rows.append(
                (
                    f"rank {r['rank']}: station {r['station_id']}",
                    f"{r['points']:.2f} — {r['signals']}",
                )
            )
        text = gettext(
            "{n_with} of {n} stations have at least one signal. Points are a documented sum over "
            "signals, for ordering stations to look at; a high score is a reason to check the "
            "protocol and the observers' reports, not a verdict."
        ).format(n_with=f"{self.n_with_points:,}", n=f"{self.n_stations:,}")
        notes = list(self.notes) + [
            note("not available: {signal}", signal=m) for m in self.signals_missing
        ]
        return Summary("Station risk scores", text, rows, notes)


def _method_signals(e: Election, results: Mapping[str, object]) -> dict[str, StationSignal]:
    """The signals of :data:`SIGNAL_SOURCES` that the given results provide, checked."""
    out: dict[str, StationSignal] = {}
    by_method: dict[str, Mapping[str, StationSignal]] = {}
    for signal, (method, kind, unit) in SIGNAL_SOURCES.items():
        res = results.get(method)
        if res is None:
            continue
        if method not in by_method:
            by_method[method] = station_signals_of(res, e, method)
        sig = by_method[method].get(signal)
        if sig is None:
            continue
        if (sig.kind, sig.unit) != (kind, unit):
            raise ValueError(
                f"{method} signal {signal!r} is a {sig.kind} in {sig.unit!r}; the score needs "
                f"a {kind} in {unit!r}"
            )
        out[signal] = sig
    return out


def _arithmetic(e: Election, findings) -> tuple[np.ndarray, list[str]]:
    if findings is None:
        findings = validate(e)
    tab = findings.table.select("station_id", "rule")
    per = tab.group_by("station_id", maintain_order=True).agg(
        pl.col("rule").unique(maintain_order=True).str.join(",")
    )
    ids = e.table.select(pl.col("station_id").cast(pl.Utf8))
    joined = ids.join(per, on="station_id", how="left", maintain_order="left")
    rules = joined["rule"].fill_null("").to_list()
    return np.array([bool(r) for r in rules]), rules


def _level_codes(e: Election, group_level: str | None) -> tuple[np.ndarray, int, str | None]:
    if group_level is None and e.meta.hierarchy:
        group_level = e.meta.hierarchy[-1]
    if group_level is None:
        return np.zeros(e.n_stations, np.int64), 1, None
    if group_level not in e.meta.hierarchy:
        raise ValueError(
            f"group_level ({group_level!r}) not recognised; must be one of "
            f"{', '.join(map(repr, e.meta.hierarchy))}"
        )
    codes, labels = e.level_codes(group_level)
    return codes, len(labels), group_level


def station_scores(
    e: Election,
    *,
    results: dict[str, object] | None = None,
    findings=None,
    weights: Mapping[str, float] | None = None,
    z_threshold: float = 3.0,
    group_level: str | None = None,
) -> StationScores:
    """Per-station table of forensic signals, documented points and a ranking.

    Signals always computed from the election: ``arithmetic`` (any finding of
    :func:`pollwatch.validate.validate`, or of ``findings`` if given), ``extreme`` (turnout
    > 0.95 and leader share > 0.95, strict; turnout ``G/V`` where ballots issued exist, else
    ``R/V``; share ``L/R``), ``turnout_outlier``/``share_outlier`` (robust z within the
    constituency, ``(x − med_g)/(1.4826·MAD_g) > z_threshold``; only upward deviations).

    Signals taken from ``results`` (method name → result) when present, each through the
    result's ``station_signals(e)`` (:class:`pollwatch.results.MethodResult`; one value per
    station in election order; the method and the signal's kind/unit in
    :data:`SIGNAL_SOURCES`):

    * ``integer``: ``results["integer_percentages"]``, flag (whole-number percentage);
    * ``mixture``: ``results["mixture"]``, score in probability units (posterior of the fraud
      classes, a fraction in [0, 1], NaN where not fitted; points = weight × posterior;
      "fired" when ≥ 0.5);
    * ``carousel``/``mobile_box``: ``results["carousel"]``, flags;
    * ``above_peak``: ``results["shpilkin"]``, flag (turnout bin above the natural peak).

    A missing result, or one that does not provide the signal, leaves the signal out; it is
    listed in ``signals_missing``. A result that does not implement the contract raises
    TypeError naming its method; a signal of the wrong length or kind raises ValueError.

    :param weights: override points per signal (keys of :data:`WEIGHTS`, values ≥ 0).
    :param z_threshold: robust-z threshold for the outlier signals, in (0, 100].
    :param group_level: hierarchy level of the constituency (default: the lowest level).
    """
    if not (isinstance(z_threshold, (int, float)) and 0 < z_threshold <= 100):
        raise ValueError(f"z_threshold ({z_threshold!r}) must be in the interval (0, 100].")
    w = dict(WEIGHTS)
    for k, v in (weights or {}).items():
        if k not in WEIGHTS:
            raise ValueError(
                f"weights key ({k!r}) not recognised; must be one of {', '.join(WEIGHTS)}"
            )
        if not (isinstance(v, (int, float)) and v >= 0 and not math.isnan(v)):
            raise ValueError(f"weights[{k!r}] ({v!r}) must be in the interval [0, inf).")
        w[k] = float(v)
    results = dict(results or {})
    n = e.n_stations
    notes: list[str] = []

    basis: Literal["cast", "issued"] = "issued" if has_issued(e) else "cast"
    turnout = e.turnout(basis)
    share = e.share(None, denominator="cast")
    codes, n_groups, level = _level_codes(e, group_level)
    tz, _, _ = robust_z(turnout, codes, n_groups)
    sz, _, _ = robust_z(share, codes, n_groups)
    if level is None:
        notes.append(note("no hierarchy: robust z computed against the national median"))

    cols: dict[str, object] = {}
    fired: dict[str, np.ndarray] = {}
    points = np.zeros(n)
    arith, rules = _arithmetic(e, findings)
    fired["arithmetic"] = arith
    cols["arithmetic_rules"] = rules
    fired["extreme"] = np.nan_to_num(turnout) > 0.95
    fired["extreme"] &= np.nan_to_num(share) > 0.95
    cols["turnout_z"] = tz
    cols["share_z"] = sz
    fired["turnout_outlier"] = tz > z_threshold  # NaN compares False
    fired["share_outlier"] = sz > z_threshold

    post = None
    for name, sig in _method_signals(e, results).items():
        if name == "mixture":
            post = sig.values
            cols["mixture_posterior"] = post
            fired["mixture"] = np.nan_to_num(post) >= 0.5
        else:
            fired[name] = sig.values
    missing = [name for name in SIGNAL_SOURCES if name not in fired]

    order = [s for s in WEIGHTS if s in fired]
    for s in order:
        if s == "mixture":
            assert post is not None  # set with fired["mixture"]
            points += w[s] * np.nan_to_num(post)
        else:
            points += w[s] * fired[s]
    names = np.array(order)
    F = np.column_stack([fired[s] for s in order])
    signals = [",".join(names[row]) for row in F]
    n_sig = F.sum(axis=1)
    rank = pl.Series(-points).rank(method="min").cast(pl.Int64)

    data: dict[str, object] = {"station_id": e.table["station_id"]}
    for lvl in e.meta.hierarchy:
        data[lvl] = e.table[lvl]
    data["turnout"] = turnout
    data["leader_share"] = share
    for s in order:
        data[s] = fired[s]
        if s == "arithmetic":
            data["arithmetic_rules"] = cols["arithmetic_rules"]
        if s == "turnout_outlier":
            data["turnout_z"] = tz
        if s == "share_outlier":
            data["share_z"] = sz
        if s == "mixture":
            data["mixture_posterior"] = post
    data["signals"] = signals
    data["n_signals"] = n_sig
    data["points"] = points
    data["rank"] = rank
    table = pl.DataFrame(data)
    return StationScores(
        weights=w,
        signals_used=tuple(order),
        signals_missing=tuple(missing),
        counts={s: int(fired[s].sum()) for s in order},
        n_stations=n,
        n_with_points=int((points > 0).sum()),
        z_threshold=float(z_threshold),
        turnout_basis=basis,
        group_level=level,
        notes=tuple(notes),
        table=table,
    )
