"""Choosing the rows that are polling stations, and naming them.

A file may hold several commission levels or contests, totals rows with blank ids, remote
e-voting and no-result pseudo-stations: rows are kept, relabelled or left out here, and every
row left out is counted, so nothing is dropped or guessed silently.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pollwatch.errors import DataIssue
from pollwatch.ingest._common import MAPPING_DOCS, preview, source_columns
from pollwatch.ingest.mapping import Mapping
from pollwatch.ingest.vocabulary import header_role, is_evoting_label, is_station_level
from pollwatch.model.election import STATION_ID


def _value_counts(s: pl.Series) -> list[tuple[str | None, int]]:
    vc = s.value_counts(sort=True)
    return list(zip(vc[s.name].to_list(), vc["count"].to_list(), strict=True))


def select_rows(
    df: pl.DataFrame, mapping: Mapping, source: str
) -> tuple[pl.DataFrame, dict[str, int], dict[str, tuple[str, ...]], list[DataIssue]]:
    """Keep the polling-station rows of one contest: by ``[station] level``/``contest`` or, for a
    column whose header names a level, by the one value that names polling stations.

    A file with several levels or contests and no way to choose is refused with the values to
    choose from; rows left out are counted (``skipped``), never dropped silently.
    """
    skipped: dict[str, int] = {}
    chosen: dict[str, tuple[str, ...]] = {}
    issues: list[DataIssue] = []
    header = source_columns(df)
    for what, sel in (("contest", mapping.contest), ("level", mapping.level)):
        if sel is not None and sel.column is not None:
            cols = [sel.column] if sel.column in header else []
            if not cols:
                issues.append(
                    DataIssue(
                        source,
                        f"[station] {what} names a column the file does not have",
                        line=1,
                        column=sel.column,
                        expected=f"one of the columns: {preview(header)}",
                    )
                )
                continue
        else:
            cols = [h for h in header if header_role(h) == what]
            if sel is not None and not cols:
                issues.append(
                    DataIssue(
                        source,
                        f"[station] {what} gives no column and no header names a {what}",
                        line=1,
                        value=preview(header),
                        hint=f'name it: [station] {what} = {{ column = "...", value = "{sel.values[0]}" }}',
                    )
                )
        for col in cols:
            s = df[col].cast(pl.Utf8).str.strip_chars()
            counts = _value_counts(s)
            values = [v for v, _ in counts if v is not None]
            listing = "; ".join(f"{v!r} ({n:,} rows)" for v, n in counts[:20]) + (
                " …" if len(counts) > 20 else ""
            )
            fix = f'[station] {what} = {{ column = "{col}", value = "..." }}'
            if sel is not None:
                absent = [v for v in sel.values if v not in values]
                if absent:
                    issues.append(
                        DataIssue(
                            source,
                            f"[station] {what} value not found in column {col!r}",
                            line=1,
                            column=col,
                            value=", ".join(absent),
                            expected=f"one of: {listing}",
                        )
                    )
                    continue
                keep_values = list(sel.values)
            elif len(values) <= 1 or len(values) > 100 or 2 * len(values) > df.height:
                continue  # one value, or so many that the column names something else (a station, a count)
            elif what == "level":
                station = [v for v in values if is_station_level(v)]
                if all(v in station or is_evoting_label(v) for v in values):
                    continue  # every row is a station (or e-voting): nothing to choose
                if len(station) != 1:
                    issues.append(
                        DataIssue(
                            source,
                            "rows of several commission levels and no single polling-station level among them",
                            line=1,
                            column=col,
                            value=listing,
                            expected="one value naming polling stations",
                            hint=f"choose the polling-station level in a mapping: {fix}; {MAPPING_DOCS}",
                        )
                    )
                    continue
                keep_values = station
            else:
                issues.append(
                    DataIssue(
                        source,
                        f"the file holds {len(values)} contests; pollwatch reads one at a time",
                        line=1,
                        column=col,
                        value=listing,
                        expected="one contest",
                        hint=f"choose it in a mapping: {fix}; {MAPPING_DOCS}",
                    )
                )
                continue
            if (
                what == "level"
            ):  # remote e-voting rows are kept: they become excluded pseudo-stations
                keep_values += [v for v in values if v not in keep_values and is_evoting_label(v)]
            keep = s.is_in(keep_values).fill_null(False)
            for v, n in counts:
                if v not in keep_values:
                    skipped[f"{col} = {'(blank)' if v is None else v}"] = n
            chosen[col] = tuple(keep_values)
            df = df.filter(keep)
    return df, skipped, chosen, issues


def evoting_rows(df: pl.DataFrame, mapping: Mapping) -> np.ndarray:
    """Rows whose station, commission, district, region or level label names remote e-voting."""
    header = source_columns(df)
    cols = [
        c
        for c in header
        if c in mapping.station_id
        or c in mapping.hierarchy
        or header_role(c) in ("level", "station", "district", "commission", "region", "name")
    ]
    extra = [x.casefold() for x in mapping.exclusions.get("evoting_labels", ())]
    mask = np.zeros(df.height, dtype=bool)
    for c in cols:
        s = df[c].cast(pl.Utf8)
        labels = s.unique().drop_nulls().to_list()
        hit = [v for v in labels if is_evoting_label(v) or any(x in v.casefold() for x in extra)]
        if hit:
            mask |= s.is_in(hit).fill_null(False).to_numpy()
    return mask


def station_ids(
    df: pl.DataFrame,
    cols: tuple[str, ...],
    source: str,
    lines: np.ndarray,
    pseudo: dict[str, np.ndarray],
) -> tuple[pl.Series, list[DataIssue]]:
    """The joined station id.

    Pseudo-stations (``pseudo``: label → rows; remote e-voting, territories with no published
    results) whose id is blank or repeated get ``…/LABEL@LINE``: they stay in the model,
    excluded, and are no duplicate-id errors. Every other blank or repeated id is an error.
    """
    parts = [pl.col(c).cast(pl.Utf8).str.strip_chars().fill_null("") for c in cols]
    sid = df.select(pl.concat_str(parts, separator="/").alias(STATION_ID))[STATION_ID]
    empty = df.select(pl.any_horizontal([p == "" for p in parts])).to_series().to_numpy()
    dup_all = sid.is_duplicated().to_numpy()
    for label, mask in pseudo.items():
        relabel = mask & (empty | dup_all)
        if relabel.any():
            suffix = pl.Series([f"/{label}@{int(x)}" for x in lines[relabel]])
            sid = sid.scatter(np.flatnonzero(relabel), sid.filter(pl.Series(relabel)) + suffix)
            empty = empty & ~relabel
    issues = []
    dup = sid.is_duplicated().to_numpy()
    if dup.any():
        idx = np.flatnonzero(dup)
        first: dict[str, int] = {}
        for i, v in zip(idx.tolist(), sid.gather(idx).to_list(), strict=True):
            if v in first:
                issues.append(
                    DataIssue(
                        source,
                        "duplicate station id",
                        line=int(lines[i]),
                        column="+".join(cols),
                        value=v,
                        expected=f"a unique id (first seen on line {first[v]})",
                    )
                )
            else:
                first[v] = int(lines[i])
    hint = (
        'totals of a higher level (region, commission)? leave them out with [station] blank_id = "skip" '
        '(or, with a level column, [station] level = { column = "...", value = "..." }); e-voting rows are '
        "recognised by a label naming remote electronic voting ([exclusions] evoting_labels)"
    )
    issues += [
        DataIssue(
            source,
            "empty station id"
            if len(cols) == 1
            else "empty station id (one of its columns is blank)",
            line=int(lines[i]),
            column="+".join(cols),
            value=v,
            expected="a value in every station-id column",
            hint=hint,
        )
        for i, v in zip(
            np.flatnonzero(empty).tolist(), sid.filter(pl.Series(empty)).to_list(), strict=True
        )
    ]
    return sid, issues


def no_result_rows(series: dict[str, pl.Series], cand_ids: list[str], n: int) -> np.ndarray:
    """Rows with no candidate's votes at all: territories with no published results."""
    return (
        np.logical_and.reduce([series[c].is_null().to_numpy() for c in cand_ids])
        if cand_ids
        else np.zeros(n, dtype=bool)
    )


def totals_rows(df: pl.DataFrame, station_id: tuple[str, ...], pseudo: np.ndarray) -> np.ndarray:
    """Rows with a blank station id that are no pseudo-station: totals of a higher level."""
    blank = (
        df.select(
            pl.any_horizontal(
                [pl.col(c).cast(pl.Utf8).str.strip_chars().fill_null("") == "" for c in station_id]
            )
        )
        .to_series()
        .to_numpy()
    )
    return blank & ~pseudo
