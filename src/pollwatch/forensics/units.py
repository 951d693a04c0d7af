"""Analysis units: the regions inside which "clean" is judged, large enough to fit.

Region-by-region estimators (Shpilkin's regional excess, the stratified mixture, the
within-region permutation test) let every unit have its own clean turnout and support, so
honest regional differences stop counting as fraud (``docs/calibration.md``, "Region by
region"). They need units of a few hundred stations: a turnout histogram of 50 stations has
no stable peak, and a mixture fitted to it has more parameters than information. Files whose
top level is many small units (Azerbaijan: 125 constituencies of ~50 stations) used to pool
every small unit into one national remainder, which was then called "region by region".

Here small units are merged with their **neighbours**: in the order of their labels (natural
order, so "C2" < "C10"; electoral numbering runs through the map in most countries), each run
of consecutive small units is merged until it holds ``min_stations``; a short tail joins the
previous group. Units already large enough stay as they are. Which level is used: ``region``
if the file has it, else the top level of the hierarchy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np
import polars as pl

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
            return f"{len(self.labels)} units of {self.level!r}"
        return (f"{len(self.labels)} units: {self.n_source_units} units of {self.level!r}, of which {self.n_merged} "
                f"under {self.min_stations} stations were merged with their neighbours in numbering order")


def top_level(e: Election) -> str | None:
    """The region level, else the highest level of the hierarchy (constituencies in Azerbaijan)."""
    h = [x for x in e.meta.hierarchy if x != UNIT_LEVEL]  # never the units' own level
    return "region" if "region" in h else (h[0] if h else None)


def _natural(label: str) -> tuple:
    return tuple(int(t) if t.isdigit() else t.casefold() for t in re.split(r"(\d+)", label))


def analysis_units(e: Election, level: str | None = None, min_stations: int = MIN_STATIONS) -> Units | None:
    """Units of ``level`` (default :func:`top_level`) with small ones merged with neighbours.

    Only analysable stations count towards a unit's size. None when the election has no
    hierarchy.
    """
    level = level or top_level(e)
    if level is None:
        return None
    codes, labels = e.level_codes(level)
    names = [str(x).split("\x1f")[-1] for x in labels]
    sizes = np.bincount(codes[e.analysable()], minlength=len(labels))
    order = sorted(range(len(labels)), key=lambda c: _natural(names[c]))
    group = np.empty(len(labels), dtype=np.int64)
    groups: list[list[int]] = []
    run: list[int] = []
    run_size = 0
    for c in order:
        if sizes[c] >= min_stations:
            groups.append([c])
            continue
        run.append(c)
        run_size += sizes[c]
        if run_size >= min_stations:
            groups.append(run)
            run, run_size = [], 0
    if run:  # a short tail joins the last group of merged units, else stands alone
        merged = [g for g in groups if sizes[g].sum() >= min_stations and any(sizes[c] < min_stations for c in g)]
        if merged:
            merged[-1].extend(run)
        else:
            groups.append(run)
    unit_labels = []
    for gi, g in enumerate(groups):
        group[g] = gi
        first, last = names[g[0]], names[g[-1]]
        unit_labels.append(first if len(g) == 1 else f"{first} … {last} ({len(g)} units)")
    n_merged = sum(len(g) for g in groups if len(g) > 1)
    return Units(level, group[codes], tuple(unit_labels), len(labels), n_merged, min_stations, codes)


def with_units(e: Election, units: Units) -> Election:
    """The election with the units as an extra, outermost hierarchy level :data:`UNIT_LEVEL`."""
    col = pl.Series(UNIT_LEVEL, np.asarray(units.labels, dtype=object)[units.codes].astype(str))
    table = e.table.with_columns(col)
    hierarchy = (UNIT_LEVEL, *(h for h in e.meta.hierarchy if h != UNIT_LEVEL))
    return Election(table, replace(e.meta, hierarchy=hierarchy), e.ingest_report)
