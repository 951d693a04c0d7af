"""Analysis units: the regions inside which "clean" is judged, large enough to fit.

Region-by-region estimators (Shpilkin's regional excess, the stratified mixture, the
within-region permutation test) let every unit have its own clean turnout and support, so
honest regional differences stop counting as fraud (``docs/calibration.md``, "Region by
region"). They need units of a few hundred stations: a turnout histogram of 50 stations has
no stable peak, and a mixture fitted to it has more parameters than information. Files whose
top level is many small units (Azerbaijan: 125 constituencies of ~50 stations) used to pool
every small unit into one national remainder, which was then called "region by region".

Here a small unit is merged into the unit **most like it**: nearest in median turnout and
median leader share (spreads standardised), smallest first, until every unit holds
``min_stations``. The first version merged neighbours in numbering order (electoral numbering
runs through the map in many countries), but numbering carries no guarantee of likeness: on
clean simulated elections with strong regional differences, merged neighbours put two
different clean patterns into one unit, and the unit-by-unit mixture read 2–6 % of the
ballots as fraud in 10 of 10 elections (20 regions, 6,000 stations). Merging like with like
keeps each unit close to one clean pattern. Stuffing shifts a unit's medians little, and
fraud spread over a whole unit is outside every region-by-region method anyway. Units already
large enough stay as they are. Which level is used: ``region`` if the file has it, else the
top level of the hierarchy (``docs/headline.md`` §2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from pollwatch.i18n import note
from pollwatch.model import Election

UNIT_LEVEL = "analysis_unit"
MIN_STATIONS = 300


@dataclass(frozen=True)
class Units:
    """The units of one election: the source ``level``, one code per station, the unit labels,
    how many source units were merged into larger ones, and each station's source unit
    (``source_codes``: a within-unit permutation test shuffles inside these, so that the
    differences between the source units merged into one unit stay in its null)."""

    level: str
    codes: np.ndarray
    labels: tuple[str, ...]
    n_source_units: int
    n_merged: int
    min_stations: int
    source_codes: np.ndarray

    @property
    def description(self) -> str:
        if not self.n_merged:
            return note("{n} units of {level}", n=len(self.labels), level=repr(self.level))
        return note(
            "{n} units from {n_source} units of {level}: {n_merged} of "
            "them were merged, each unit under {min_n} stations with the most similar one "
            "(median turnout and leader share)",
            n=len(self.labels),
            n_source=self.n_source_units,
            level=repr(self.level),
            n_merged=self.n_merged,
            min_n=self.min_stations,
        )


def top_level(e: Election) -> str | None:
    """The region level, else the highest level of the hierarchy (constituencies in Azerbaijan)."""
    h = [x for x in e.meta.hierarchy if x != UNIT_LEVEL]  # never the units' own level
    return "region" if "region" in h else (h[0] if h else None)


def _natural(label: str) -> tuple:
    return tuple(int(t) if t.isdigit() else t.casefold() for t in re.split(r"(\d+)", label))


def _unit_features(e: Election, codes: np.ndarray, n: int) -> np.ndarray:
    """Median turnout (cast) and median leader share of the analysable stations of each unit,
    divided by their spread across units; NaN for a unit without analysable stations."""
    ok = e.analysable()
    with np.errstate(divide="ignore", invalid="ignore"):
        t = e.ballots_cast() / e.field("registered")
        s = e.votes() / e.ballots_cast()
    feats = np.full((n, 2), np.nan)
    order = np.argsort(codes[ok], kind="stable")
    c_sorted = codes[ok][order]
    bounds = np.flatnonzero(np.r_[True, c_sorted[1:] != c_sorted[:-1], True])
    for a, z in zip(bounds[:-1], bounds[1:], strict=True):
        idx = order[a:z]
        feats[c_sorted[a]] = (np.median(t[ok][idx]), np.median(s[ok][idx]))
    spread = np.nanstd(feats, axis=0)
    return feats / np.where(spread > 0, spread, 1.0)


def analysis_units(
    e: Election, level: str | None = None, min_stations: int = MIN_STATIONS
) -> Units | None:
    """Units of ``level`` (default :func:`top_level`) with small ones merged into similar ones.

    Only analysable stations count towards a unit's size. Merging is agglomerative: the
    smallest unit under ``min_stations`` joins the unit nearest to it in (median turnout,
    median leader share), spreads standardised, until every unit with analysable stations
    holds ``min_stations`` (or only one is left). Units without analysable stations stay as
    they are (no method sees them). None when the election has no hierarchy.
    """
    level = level or top_level(e)
    if level is None:
        return None
    codes, labels = e.level_codes(level)
    names = [str(x).split("\x1f")[-1] for x in labels]
    n = len(labels)
    sizes = np.bincount(codes[e.analysable()], minlength=n).astype(np.int64)
    feats = _unit_features(e, codes, n)
    members: dict[int, list[int]] = {c: [c] for c in range(n)}
    gsize = sizes.copy()
    gfeat = feats.copy()
    live = [c for c in range(n) if sizes[c] > 0]
    while len(live) > 1:
        small = [g for g in live if gsize[g] < min_stations]
        if not small:
            break
        g = min(small, key=lambda x: (gsize[x], x))
        others = np.array([o for o in live if o != g])
        d = np.nansum((gfeat[others] - gfeat[g]) ** 2, axis=1)
        target = int(others[int(np.argmin(d))])
        w1, w2 = gsize[target], gsize[g]
        gfeat[target] = (gfeat[target] * w1 + gfeat[g] * w2) / (w1 + w2)
        gsize[target] += gsize[g]
        members[target] += members.pop(g)
        live.remove(g)
    groups = sorted(
        (sorted(m, key=lambda c: _natural(names[c])) for m in members.values()),
        key=lambda m: _natural(names[m[0]]),
    )
    group = np.empty(n, dtype=np.int64)
    unit_labels = []
    for gi, unit in enumerate(groups):
        group[unit] = gi
        shown = [names[c] for c in unit]
        unit_labels.append(
            shown[0]
            if len(unit) == 1
            else " + ".join(shown)
            if len(unit) <= 3
            else f"{shown[0]} + {len(unit) - 1} more units"
        )
    n_merged = sum(len(g) for g in groups if len(g) > 1)
    return Units(
        level=level,
        codes=group[codes],
        labels=tuple(unit_labels),
        n_source_units=n,
        n_merged=n_merged,
        min_stations=min_stations,
        source_codes=codes,
    )


def with_units(e: Election, units: Units) -> Election:
    """The election with the units as an extra, outermost hierarchy level :data:`UNIT_LEVEL`."""
    col = pl.Series(UNIT_LEVEL, np.asarray(units.labels, dtype=object)[units.codes].astype(str))
    table = e.table.with_columns(col)
    hierarchy = (UNIT_LEVEL, *(h for h in e.meta.hierarchy if h != UNIT_LEVEL))
    return Election(table, replace(e.meta, hierarchy=hierarchy), e.ingest_report)
