"""The long layout (one row per station and candidate) pivoted to one row per station.

Checked before pivoting: one row per station and candidate, and station-level columns that
agree between a station's rows; so the wide reading that follows sees exactly what a wide
file would give.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pollwatch.errors import DataIssue
from pollwatch.ingest._common import KEY, LINE, preview, source_columns
from pollwatch.ingest.cells import parse_counts
from pollwatch.ingest.mapping import Mapping


def pivot_long(
    df: pl.DataFrame, mapping: Mapping, source: str, thousands: str | None
) -> tuple[pl.DataFrame, list[str], dict[str, str], list[DataIssue], list[DataIssue]]:
    """One row per station and candidate → one row per station, a column per candidate.

    Station-level columns (protocol lines repeated on every candidate row) must agree within
    a station; a column that varies and is no mapped field is left out with a warning.
    """
    lg = mapping.long
    assert lg is not None
    header = source_columns(df)
    issues: list[DataIssue] = []
    warnings: list[DataIssue] = []
    need = [lg.candidate, lg.votes, *([lg.party] if lg.party else []), *mapping.station_id]
    for col in need:
        if col not in header:
            issues.append(
                DataIssue(
                    source,
                    "missing column of the long layout",
                    line=1,
                    column=col,
                    expected=f"a column named {col!r}",
                    value=preview(header),
                )
            )
    if issues:
        return df, [], {}, issues, warnings
    lines = df[LINE].to_numpy()
    key = pl.concat_str(
        [pl.col(c).cast(pl.Utf8).str.strip_chars().fill_null("") for c in mapping.station_id],
        separator="/",
    )
    df = df.with_columns(key.alias(KEY))
    votes, vissues = parse_counts(df, lg.votes, "votes", source, thousands, lines)
    issues += vissues
    cand = df[lg.candidate].cast(pl.Utf8).str.strip_chars()
    blank = (cand.is_null() | (cand == "")).to_numpy()
    issues += [
        DataIssue(
            source,
            "blank candidate name in a long layout",
            line=int(lines[i]),
            column=lg.candidate,
            value="",
            expected="the candidate (or protocol line) this row counts",
        )
        for i in np.flatnonzero(blank)
    ]
    pair = pl.DataFrame({KEY: df[KEY], "c": cand})
    dup = pair.is_duplicated().to_numpy() & ~blank
    seen: dict[tuple[str, str], int] = {}
    for i in np.flatnonzero(dup).tolist():
        k = (pair[KEY][i], cand[i])
        if k in seen:
            issues.append(
                DataIssue(
                    source,
                    "the same candidate twice for one station",
                    line=int(lines[i]),
                    column=lg.candidate,
                    value=cand[i],
                    station_id=k[0],
                    expected=f"one row per station and candidate (first on line {seen[k]})",
                    hint="several contests in one file? choose one: [station] contest = "
                    '{ column = "...", value = "..." }',
                )
            )
        else:
            seen[k] = int(lines[i])
    if issues:
        return df, [], {}, issues, warnings
    labels = cand.unique(maintain_order=True).to_list()
    per_station = [c for c in header if c not in (lg.candidate, lg.votes, lg.party)]
    fixed = set(mapping.station_id) | set(mapping.hierarchy)
    varying = (
        df.group_by(KEY).agg([pl.col(c).n_unique().alias(c) for c in per_station])
        if per_station
        else None
    )
    drop = []
    for c in per_station:
        if varying is None or not (varying[c] > 1).any():
            continue
        mapped = c in fixed or any(spec.matches(c) for spec in mapping.fields.values())
        bad_key = varying.filter(pl.col(c) > 1)[KEY][0]
        first = int(df.filter(pl.col(KEY) == bad_key)[LINE][0])
        if mapped:
            issues.append(
                DataIssue(
                    source,
                    "a station-level column differs between the rows of one station",
                    line=first,
                    column=c,
                    station_id=bad_key,
                    expected="the same value on every candidate row of a station",
                )
            )
        else:
            drop.append(c)
            warnings.append(
                DataIssue(
                    source,
                    "column differs between a station's candidate rows; not used",
                    line=first,
                    column=c,
                    station_id=bad_key,
                    kind="warning",
                )
            )
    if issues:
        return df, [], {}, issues, warnings
    base = df.select([KEY, *[c for c in per_station if c not in drop], LINE]).unique(
        subset=KEY, keep="first", maintain_order=True
    )
    names = {lab: (lab if lab not in base.columns else f"{lab} (votes)") for lab in labels}
    wide = pl.DataFrame({KEY: df[KEY], "c": cand.replace_strict(names), "v": votes}).pivot(
        on="c", index=KEY, values="v", aggregate_function=None
    )
    out = base.join(wide.select([KEY, *names.values()]), on=KEY, how="left", maintain_order="left")
    parties: dict[str, str] = {}
    if lg.party:
        firsts = pl.DataFrame({"c": cand, "p": df[lg.party].cast(pl.Utf8)}).unique(
            subset="c", keep="first"
        )
        parties = {
            names[c]: p
            for c, p in zip(firsts["c"].to_list(), firsts["p"].to_list(), strict=True)
            if p
        }
    return out.drop(KEY), list(names.values()), parties, issues, warnings
