"""The sampling frame: which stations, and which stratum each one is in (shared by design and estimate)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from pollwatch.errors import DataIssue, InputDataError
from pollwatch.model import Election

SEP = " | "


def strata_columns(strata: str | Sequence[str] | None) -> tuple[str, ...]:
    if strata is None:
        return ()
    return (strata,) if isinstance(strata, str) else tuple(strata)


@dataclass(frozen=True)
class Frame:
    """Stations of the frame and their strata.

    ``mask`` selects frame stations in the election; ``labels`` (per frame station) is the
    stratum name; ``parents`` maps each stratum to its parent group (used to collapse strata).
    """

    election: Election
    by: tuple[str, ...]
    mask: np.ndarray
    station_ids: np.ndarray
    codes: np.ndarray  # stratum index per frame station
    names: tuple[str, ...]  # stratum names, sorted
    sizes: np.ndarray  # N_h, stations per stratum
    parents: tuple[str, ...]  # parent group of each stratum ("" = national)
    #: frame stations when the frame is a registered sample's strata (sum of N_h); else the mask's
    total: int | None = None

    @property
    def n(self) -> int:
        return int(self.mask.sum()) if self.total is None else self.total


def _parent_columns(election: Election, by: tuple[str, ...]) -> tuple[str, ...]:
    if len(by) > 1:
        return by[:-1]
    if len(by) == 1 and by[0] in election.meta.hierarchy:
        idx = election.meta.hierarchy.index(by[0])
        return election.meta.hierarchy[:idx]
    return ()


def _key(table: pl.DataFrame, cols: Sequence[str]) -> np.ndarray:
    if not cols:
        return np.full(table.height, "all", dtype=object)
    expr = pl.concat_str([pl.col(c).cast(pl.Utf8).fill_null("") for c in cols], separator=SEP)
    return table.select(expr.alias("k"))["k"].to_numpy()


def build_frame(
    election: Election, strata: str | Sequence[str] | None = None, analysable_only: bool = True
) -> Frame:
    """Stratify the election's stations by one or more columns (hierarchy levels or any column).

    Parameters
    ----------
    election : Election
        The stations.
    strata : str or sequence of str, optional
        Stratifying column(s); a hierarchy level is nested in the levels above it. None: one
        stratum.
    analysable_only : bool
        Leave out stations that cannot be analysed (``election.analysable()``).

    Returns
    -------
    Frame
        The frame's stations, their stratum codes, stratum names, sizes and parent groups.
    """
    by = strata_columns(strata)
    for c in by:
        if c not in election.table.columns:
            raise ValueError(
                f"strata ({c!r}) is not a column of the election; "
                f"columns are: {', '.join(election.table.columns)}"
            )
    mask = election.analysable() if analysable_only else np.ones(election.n_stations, dtype=bool)
    table = election.table.filter(pl.Series(mask))
    # nested strata: a TIK is identified together with its region
    cols = by
    if len(by) == 1 and by[0] in election.meta.hierarchy:
        cols = election.meta.hierarchy[: election.meta.hierarchy.index(by[0]) + 1]
    labels = _key(table, cols)
    names, codes = np.unique(labels, return_inverse=True)
    sizes = np.bincount(codes, minlength=len(names))
    pcols = _parent_columns(election, by)
    plabels = _key(table, pcols) if pcols else np.full(table.height, "", dtype=object)
    first = np.zeros(len(names), dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes))[::-1]
    parents = tuple(str(plabels[i]) for i in first)
    return Frame(
        election=election,
        by=by,
        mask=mask,
        station_ids=table["station_id"].to_numpy().astype(str),
        codes=codes.astype(np.int64),
        names=tuple(str(n) for n in names),
        sizes=sizes.astype(np.int64),
        parents=parents,
    )


def sample_frame(
    election: Election,
    by: Sequence[str],
    station_ids: Sequence[str],
    strata: Sequence[str],
    sizes: Mapping[str, int],
    source: str = "<sample>",
) -> Frame:
    """The frame of a registered sample: its active stations, their strata and the recorded N_h.

    The strata and their sizes come from the sample file (docs/quickcount.md §3), not from the
    election; the election must hold every active station (it supplies the candidates). A
    stratum ``"R01 | T05"`` has the parent group ``"R01"`` for collapsing, as in
    :func:`build_frame`.
    """
    present = set(election.table["station_id"].cast(pl.Utf8).to_list())
    missing = [s for s in station_ids if s not in present]
    if missing:
        issues = [
            DataIssue(
                source,
                "sampled station is not in the election file",
                column="station_id",
                station_id=s,
                expected="a station of the frame the sample was drawn from",
            )
            for s in missing
        ]
        raise InputDataError(
            f"{source}: {len(missing)} sampled station(s) are not in the election file "
            f"({', '.join(missing[:10])}{'…' if len(missing) > 10 else ''})",
            issues,
        )
    names = tuple(sorted(sizes))
    index = {n: i for i, n in enumerate(names)}
    return Frame(
        election=election,
        by=tuple(by),
        mask=election.table["station_id"].cast(pl.Utf8).is_in(list(station_ids)).to_numpy(),
        station_ids=np.asarray(list(station_ids), dtype=str),
        codes=np.asarray([index[s] for s in strata], dtype=np.int64),
        names=names,
        sizes=np.asarray([sizes[n] for n in names], dtype=np.int64),
        parents=tuple(n.rsplit(SEP, 1)[0] if SEP in n else "" for n in names),
        total=int(sum(sizes.values())),
    )
