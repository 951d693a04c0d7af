"""Station risk score: every signal that points at a station, with documented points, ranked.

Source: the per-station flags of the other methods (``docs/methods/forensics.md`` §3, §7, §8,
§2; protocol arithmetic of :mod:`pollwatch.validate`) and the high-high criterion of
``forensics.md`` §6. The score is a transparent sum of documented points, not a probability:
it orders stations for observers and journalists to look at first. No single signal, and no
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
from pollwatch.model import Election
from pollwatch.results import ResultMixin, Summary

__all__ = ["WEIGHTS", "StationScores", "station_scores"]

#: Points per signal. ``mixture`` is multiplied by the station's posterior fraud probability.
WEIGHTS: dict[str, float] = {
    "arithmetic": 3.0,  # a protocol identity or inequality is violated (hard evidence of a bad protocol)
    "extreme": 2.0,  # turnout > 95 % and leader share > 95 % (forensics.md §6)
    "turnout_outlier": 1.0,  # turnout > 3 robust sd above the constituency median
    "share_outlier": 1.0,  # leader share > 3 robust sd above the constituency median
    "integer": 1.0,  # whole-number turnout or leader percentage (integer test flag)
    "carousel": 1.0,  # away-voter share outlier in its constituency (floored rule)
    "mobile_box": 0.5,  # mobile-box share outlier in its constituency (floored rule)
    "mixture": 2.0,  # × posterior probability of the incremental or extreme fraud class
    "above_peak": 1.0,  # turnout above Shpilkin's natural peak (where his excess lives)
}

_OPTIONAL = {  # signal -> keys of ``results`` that may carry it
    "integer": ("integer_percentages", "integers", "integer"),
    "carousel": ("carousel",),
    "mobile_box": ("carousel",),
    "mixture": ("mixture",),
    "above_peak": ("shpilkin",),
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
        text = (
            f"{self.n_with_points:,} of {self.n_stations:,} stations have at least one signal. "
            "Points are a documented sum over signals, for ordering stations to look at; a high "
            "score is a reason to check the protocol and the observers' reports, not a verdict."
        )
        notes = list(self.notes) + [f"not available: {m}" for m in self.signals_missing]
        return Summary("Station risk scores", text, rows, notes)


def _pick(results: Mapping[str, object], keys: tuple[str, ...]) -> object | None:
    for k in keys:
        if results.get(k) is not None:
            return results[k]
    return None


def _station_array(obj: object, names: tuple[str, ...], n: int, what: str) -> np.ndarray | None:
    for name in names:
        arr = getattr(obj, name, None)
        if arr is not None:
            arr = np.asarray(arr)
            if arr.shape[0] != n:
                raise ValueError(
                    f"{what}.{name} has {arr.shape[0]} entries; the election has {n} stations"
                )
            return arr
    return None


def _arithmetic(e: Election, findings) -> tuple[np.ndarray, list[str]]:
    if findings is None:
        from pollwatch.validate import validate

        findings = validate(e)
    tab = findings.table.select("station_id", "rule")
    per = tab.group_by("station_id", maintain_order=True).agg(
        pl.col("rule").unique(maintain_order=True).str.join(",")
    )
    ids = e.table.select(pl.col("station_id").cast(pl.Utf8))
    joined = ids.join(per, on="station_id", how="left", maintain_order="left")
    rules = joined["rule"].fill_null("").to_list()
    return np.array([bool(r) for r in rules]), rules


def _above_peak(e: Election, shp: object, basis: str) -> np.ndarray | None:
    """Stations in turnout bins above Shpilkin's natural peak (the bins his excess sums over).

    :class:`pollwatch.forensics.shpilkin.ShpilkinResult` gives ``mode_pct`` (centre of the
    peak bin) and ``params.bin_pp``/``params.basis``: a station is above the peak when
    ``floor(t_pct/w) > floor(mode_pct/w)``. A bare ``mode`` (fraction, or percent if > 1) is
    compared directly with the station's turnout.
    """
    params = getattr(shp, "params", None)
    shp_basis = getattr(params, "basis", basis)
    if shp_basis == "issued" and basis != "issued":
        shp_basis = "cast"
    t_pct = np.nan_to_num(100 * e.turnout(shp_basis))
    if getattr(shp, "mode_pct", None) is not None:
        width = float(getattr(params, "bin_pp", 1.0))
        return np.floor(t_pct / width) > np.floor(float(shp.mode_pct) / width)
    if getattr(shp, "mode", None) is not None:
        mode = float(shp.mode)
        return t_pct > (mode if mode > 1 else 100 * mode)
    return None


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

    Signals taken from ``results`` when present (keys, then the per-station attribute read;
    arrays over ALL stations in election order):

    * ``integer``: ``results["integer_percentages"|"integers"|"integer"]``, attribute
      ``flag_any`` (else ``flag_either``; bool, False where excluded);
    * ``mixture``: ``results["mixture"]``, attribute ``posterior_fraud`` (float, NaN where
      excluded; points = weight × posterior; "fired" when ≥ 0.5);
    * ``carousel``/``mobile_box``: ``results["carousel"]``, attributes ``flag`` and
      ``shares["mobile"].flag_floored`` (:func:`pollwatch.forensics.carousel.carousel_signals`);
    * ``above_peak``: ``results["shpilkin"]``, attribute ``above_peak`` (bool), else
      ``mode_pct`` with ``params.bin_pp``/``params.basis`` (the Shpilkin result: stations in
      turnout bins above the natural-peak bin), else a scalar ``mode`` (fraction; > 1 read as
      percent) compared with the station's turnout.

    A missing result leaves its signal out; it is listed in ``signals_missing``.

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

    from pollwatch.model.derived import has_issued

    basis: Literal["cast", "issued"] = "issued" if has_issued(e) else "cast"
    turnout = e.turnout(basis)
    share = e.share(None, denominator="cast")
    codes, n_groups, level = _level_codes(e, group_level)
    tz, _, _ = robust_z(turnout, codes, n_groups)
    sz, _, _ = robust_z(share, codes, n_groups)
    if level is None:
        notes.append("no hierarchy: robust z computed against the national median")

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
    missing: list[str] = []

    integer = _pick(results, _OPTIONAL["integer"])
    arr = (
        None
        if integer is None
        else _station_array(integer, ("flag_any", "flag_either"), n, "integer result")
    )
    if arr is None:
        missing.append("integer")
    else:
        fired["integer"] = arr.astype(bool)

    car = _pick(results, _OPTIONAL["carousel"])
    arr = None if car is None else _station_array(car, ("flag",), n, "carousel result")
    if arr is None:
        missing += ["carousel", "mobile_box"]
    else:
        fired["carousel"] = arr.astype(bool)
        mob = getattr(car, "shares", {}).get("mobile")
        if mob is None:
            missing.append("mobile_box")
        else:
            fired["mobile_box"] = np.asarray(mob.flag_floored, bool)

    mix = _pick(results, _OPTIONAL["mixture"])
    post = None if mix is None else _station_array(mix, ("posterior_fraud",), n, "mixture result")
    if post is None:
        missing.append("mixture")
    else:
        post = post.astype(float)
        cols["mixture_posterior"] = post
        fired["mixture"] = np.nan_to_num(post) >= 0.5

    shp = _pick(results, _OPTIONAL["above_peak"])
    above = None if shp is None else _station_array(shp, ("above_peak",), n, "shpilkin result")
    if above is None and shp is not None:
        above = _above_peak(e, shp, basis)
    if above is None:
        missing.append("above_peak")
    else:
        fired["above_peak"] = np.asarray(above, bool)

    order = [s for s in WEIGHTS if s in fired]
    for s in order:
        if s == "mixture":
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
