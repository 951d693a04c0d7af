"""Derived quantities, defined once.

* ballots cast ``R = valid + invalid``;
* ballots issued ``G = early + in station + mobile`` (fields absent in a country count as 0;
  if none of the three is present, ``MissingFieldError``);
* ballots in boxes ``B = mobile box + stationary box``;
* turnout ``R/V`` (``basis="cast"``, the default) or ``G/V`` (``basis="issued"``, the
  convention of Kobak et al. and Shpilkin, needed for their published numbers);
* candidate share ``L/R`` (``denominator="cast"``, default) or ``L/valid``.

Percentages elsewhere are computed as ``(100·x)/n`` in float64: ``100·(x/n)`` flips one
2012 station at an integer-bin edge (docs/methods/forensics.md §0). Division by zero gives NaN.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import polars as pl

from pollwatch.errors import MissingFieldError

if TYPE_CHECKING:
    from pollwatch.model.election import Election, ElectionMeta

ISSUED_PARTS = ("ballots_issued_early", "ballots_issued_station", "ballots_issued_mobile")
BOX_PARTS = ("ballots_mobile_box", "ballots_stationary_box")

#: TIK/region names of electronic-voting pseudo-stations in Russian files.
EVOTING_PATTERNS = ("дистанционное электронное голосование", "electronic voting", "e-voting")


def _cached(e: Election, key: str, fn) -> np.ndarray:
    if key not in e._cache:
        e._cache[key] = fn()
    return e._cache[key]


def ballots_cast(e: Election) -> np.ndarray:
    return _cached(e, "__cast__", lambda: e.field("valid") + e.field("invalid"))


def has_issued(e: Election) -> bool:
    return any(e.has(f) for f in ISSUED_PARTS)


def ballots_issued(e: Election) -> np.ndarray:
    if not has_issued(e):
        raise MissingFieldError(
            "this election has no ballots-issued lines (early, in station, mobile); "
            "use turnout basis='cast'"
        )

    def calc():
        out = np.zeros(e.n_stations, dtype=np.int64)
        for f in ISSUED_PARTS:
            if e.has(f):
                out += e.field(f)
        return out

    return _cached(e, "__issued__", calc)


def ballots_in_boxes(e: Election) -> np.ndarray:
    if not any(e.has(f) for f in BOX_PARTS):
        raise MissingFieldError(
            "this election has no ballots-in-boxes lines (mobile, stationary box)"
        )

    def calc():
        out = np.zeros(e.n_stations, dtype=np.int64)
        for f in BOX_PARTS:
            if e.has(f):
                out += e.field(f)
        return out

    return _cached(e, "__boxes__", calc)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num = num.astype(np.float64)
    den = den.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    out[den == 0] = np.nan
    return out


def turnout(e: Election, basis: Literal["cast", "issued"] = "cast") -> np.ndarray:
    """Turnout per station as a fraction; NaN where nobody is registered."""
    if basis == "cast":
        num = ballots_cast(e)
    elif basis == "issued":
        num = ballots_issued(e)
    else:
        raise ValueError(f"basis ({basis!r}) not recognised; must be 'cast' or 'issued'")
    return _cached(e, f"__turnout_{basis}__", lambda: _ratio(num, e.field("registered")))


def share(
    e: Election, ref: str | None = None, denominator: Literal["cast", "valid"] = "cast"
) -> np.ndarray:
    """A candidate's share per station as a fraction; NaN where the denominator is 0."""
    if denominator == "cast":
        den = ballots_cast(e)
    elif denominator == "valid":
        den = e.field("valid")
    else:
        raise ValueError(f"denominator ({denominator!r}) not recognised; must be 'cast' or 'valid'")
    return _ratio(e.votes(ref), den)


def percent(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``(100·num)/den`` in float64, NaN where ``den`` is 0 (the published convention)."""
    return _ratio(100.0 * num.astype(np.float64), den)


def exclusion_expr(
    table: pl.DataFrame,
    meta: ElectionMeta,
    evoting_min_registered: int | None = None,
    evoting_labels: tuple[str, ...] = (),
    marks: dict[str, np.ndarray] | None = None,
) -> pl.Series:
    """Why each station cannot be analysed, first reason wins; null where it can.

    E-voting pseudo-stations are recognised by a hierarchy label matching
    :data:`EVOTING_PATTERNS` (and, if given, ``registered >= evoting_min_registered``).
    ``marks`` are boolean masks found by ingest (``evoting`` from any label column,
    ``implausible_count``, ``missing_counts``); order of precedence: no results, e-voting,
    implausible count, missing counts, zero registered, zero ballots.
    """
    n = table.height
    marks = marks or {}
    reasons = (
        "no_results",
        "evoting",
        "implausible_count",
        "missing_counts",
        "zero_registered",
        "zero_ballots",
    )
    code = np.zeros(n, dtype=np.int8)  # 0 = analysable; else 1 + index in `reasons`
    cand_ids = [c.id for c in meta.candidates]
    if cand_ids:
        allnull = (
            table.select(pl.all_horizontal([pl.col(c).is_null() for c in cand_ids]))
            .to_series()
            .to_numpy()
        )
        code[allnull] = 1
    ev = np.zeros(n, dtype=bool)
    patterns = {x.casefold() for x in (*EVOTING_PATTERNS, *evoting_labels)}
    for lvl in meta.hierarchy:  # match on the few unique labels, then map back to stations
        labels = table[lvl].cast(pl.Utf8).unique().drop_nulls()
        low = labels.str.to_lowercase()
        hit = np.zeros(len(labels), dtype=bool)
        for p in patterns:
            hit |= low.str.contains(p, literal=True).fill_null(False).to_numpy()
        if hit.any():
            ev |= (
                table[lvl]
                .cast(pl.Utf8)
                .is_in(labels.filter(pl.Series(hit)).implode())
                .fill_null(False)
                .to_numpy()
            )
    if evoting_min_registered is not None:
        ev |= table["registered"].fill_null(0).to_numpy() >= evoting_min_registered
    if "evoting" in marks:
        ev |= marks["evoting"]
    none = np.zeros(n, dtype=bool)
    cast = (table["valid"].fill_null(0) + table["invalid"].fill_null(0)).to_numpy()
    reg = table["registered"].fill_null(0).to_numpy()
    ordered = (
        ev,
        marks.get("implausible_count", none),
        marks.get("missing_counts", none),
        reg == 0,
        cast == 0,
    )
    for k, mask in enumerate(ordered, start=2):  # first reason wins
        code[np.asarray(mask) & (code == 0)] = k
    reason_of = {0: None, **{i + 1: r for i, r in enumerate(reasons)}}
    return pl.Series("exclusion", code).replace_strict(reason_of, return_dtype=pl.Utf8)
