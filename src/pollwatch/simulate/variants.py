"""Layout variations of real per-station results files, generated from a simulated election.

Why: pollwatch was first tuned on two Russian CEC files, and the same commission's exports of
other years broke it (protocol lines read as candidates, levels and e-voting rows as duplicate
stations, blanks as zeros). These writers reproduce each variation on a simulated election
whose true totals are known, so that ingest can be tested on every one of them without
shipping real files: later wording of the protocol lines, an electoral-district column, a
commission-level column with aggregate rows, remote e-voting rows with blank station ids,
territories with no published results, blank cells, a referendum with Yes/No options, a
long layout (one row per station and candidate), an absurd count, an unknown protocol line,
two contests in one file.

Every function takes a frame and returns a new one whose cells are text (as a CSV holds
them: blanks are empty strings); :func:`russia_frame` makes the starting frame.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pollwatch.model import Election
from pollwatch.simulate.layouts import RUSSIA_COLUMNS, _russia

ID_COLUMNS = ("region", "tik", "uik")

#: wording of later years (2016-2024 style) for the 2012 headers in :data:`RUSSIA_COLUMNS`
LATER_WORDING = {
    "registered": "Число избирателей, включенных в списки избирателей на момент окончания голосования",
    "ballots_issued_station": "Число избирательных бюллетеней, выданных в помещениях для голосования в дни голосования",
    "ballots_issued_mobile": "Число избирательных бюллетеней, выданных вне помещений для голосования в дни голосования",
    "ballots_mobile_box": "Число избирательных бюллетеней, содержащихся в переносном ящике для голосования",
    "ballots_stationary_box": "Число избирательных бюллетеней, содержащихся в стационарном ящике для голосования",
    "absentee_received": "Число открепительных удостоверений, полученных участковой избирательной комиссией",
    "ballots_unaccounted": "Число избирательных бюллетеней, не учтённых при получении",
}
#: a second column that also contains "не учтенн" (certificates, not ballots)
CERTIFICATES_UNACCOUNTED = "Число открепительных удостоверений, не учтенных при получении"
EVOTING_TIK = "Территориальная избирательная комиссия дистанционного электронного голосования"


def _insert(df: pl.DataFrame, pos: int, col: pl.Series) -> pl.DataFrame:
    """``insert_column`` on a copy (polars inserts in place)."""
    return df.clone().insert_column(pos, col)


def _text(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(pl.all().cast(pl.Utf8))


def count_columns(df: pl.DataFrame) -> list[str]:
    """Every column but the identifiers and the url."""
    return [c for c in df.columns if c not in (*ID_COLUMNS, "oik", "level", "url", "election")]


def russia_frame(e: Election) -> pl.DataFrame:
    """The 2012-style Russian CEC export of ``e`` (region, tik, uik, protocol lines, candidates, url)."""
    return _text(_russia(e))


def later_wording(df: pl.DataFrame) -> pl.DataFrame:
    """Headers as in later years, plus a certificates line that also contains "не учтенн"."""
    ren = {
        RUSSIA_COLUMNS[k]: v for k, v in LATER_WORDING.items() if RUSSIA_COLUMNS[k] in df.columns
    }
    out = df.rename(ren)
    pos = out.columns.index(LATER_WORDING["ballots_unaccounted"])
    return _insert(out, pos + 1, pl.Series(CERTIFICATES_UNACCOUNTED, ["0"] * out.height))


def with_oik(df: pl.DataFrame) -> pl.DataFrame:
    """An electoral-district column (numbers) beside region/tik/uik."""
    oik = df["tik"].rank("dense").cast(pl.Int64).cast(pl.Utf8)
    return _insert(df, 1, oik.alias("oik"))


def _sum_rows(df: pl.DataFrame, by: list[str], level: str) -> pl.DataFrame:
    counts = count_columns(df)
    agg = df.group_by(by, maintain_order=True).agg(
        [pl.col(c).cast(pl.Int64, strict=False).sum().cast(pl.Utf8) for c in counts]
    )
    for c in df.columns:
        if c not in agg.columns:
            agg = agg.with_columns(
                pl.lit(
                    level
                    if c == "level"
                    else ("http://example.invalid/total" if c == "url" else "")
                ).alias(c)
            )
    return agg.select(df.columns)


def with_levels(
    df: pl.DataFrame,
    station: str = "УИК",
    tik: str = "ТИК",
    region: str = "ИКСРФ",
    national: str = "ЦИК",
) -> pl.DataFrame:
    """A ``level`` column and aggregate rows (national, region and TIK totals) above the stations."""
    st = _insert(df, 0, pl.Series("level", [station] * df.height))
    parts = [
        _sum_rows(st.with_columns(pl.lit("").alias("region")), ["region"], national),
        _sum_rows(st, ["region"], region),
        _sum_rows(st, ["region", "tik"], tik),
        st,
    ]
    return pl.concat(parts, how="vertical")


def _find(df: pl.DataFrame, *stems: str) -> str:
    return next(c for c in df.columns if all(s in c for s in stems))


def with_evoting(
    df: pl.DataFrame,
    candidate: str,
    per_region: int = 2,
    regions: int = 2,
    registered: int = 150_000,
    tik: str = EVOTING_TIK,
) -> pl.DataFrame:
    """Remote e-voting rows: a commission named for e-voting, a blank ``uik`` repeated in each
    region, more voters than any ordinary station; half of them vote, all for ``candidate``."""
    counts = count_columns(df)
    regs = df["region"].unique(maintain_order=True).to_list()[:regions]
    reg_col, valid_col, box_col = (
        _find(df, "в спис"),
        _find(df, "Число действительных"),
        _find(df, "стационарн"),
    )
    rows = []
    for k, reg in enumerate(regs):
        for j in range(per_region):
            n = registered + 1000 * (k * per_region + j)
            row = {c: "0" for c in counts} | {
                reg_col: str(n),
                valid_col: str(n // 2),
                box_col: str(n // 2),
                candidate: str(n // 2),
            }
            row |= {"region": reg, "tik": tik, "uik": "", "url": "http://example.invalid/deg"}
            rows.append({c: row.get(c, "") for c in df.columns})
    return pl.concat([df, pl.DataFrame(rows, schema={c: pl.Utf8 for c in df.columns})])


def with_no_results(
    df: pl.DataFrame, k: int = 3, region: str = "Территория без результатов"
) -> pl.DataFrame:
    """Rows of a territory whose per-station results were not published: every count blank."""
    rows = [
        {c: "" for c in df.columns}
        | {
            "region": region,
            "tik": "ТИК 1",
            "uik": str(i + 1),
            "url": "http://example.invalid/none",
        }
        for i in range(k)
    ]
    rows = [{c: r.get(c, "") for c in df.columns} for r in rows]
    return pl.concat([df, pl.DataFrame(rows, schema={c: pl.Utf8 for c in df.columns})])


def with_blanks(df: pl.DataFrame, cells: dict[str, list[int]]) -> pl.DataFrame:
    """Blank the given cells (column → row indices)."""
    out = df
    for col, rows in cells.items():
        idx = pl.Series(rows, dtype=pl.Int64)
        out = out.with_columns(
            pl.when(pl.int_range(pl.len()).is_in(idx))
            .then(pl.lit(""))
            .otherwise(pl.col(col))
            .alias(col)
        )
    return out


def set_cell(df: pl.DataFrame, col: str, row: int, value: str) -> pl.DataFrame:
    return df.with_columns(
        pl.when(pl.int_range(pl.len()) == row).then(pl.lit(value)).otherwise(pl.col(col)).alias(col)
    )


def referendum(e: Election) -> pl.DataFrame:
    """A referendum export: options "Да" (the leader's votes) and "Нет" (everyone else's), no valid
    line, and the 2020 wording ("участников голосования")."""
    df = russia_frame(e)
    names = [c.name for c in e.candidates]
    yes = e.votes()
    no = e.votes_matrix().sum(axis=1) - yes
    df = df.drop([*names, RUSSIA_COLUMNS["valid"]])
    df = df.rename(
        {
            RUSSIA_COLUMNS[
                "registered"
            ]: "Число участников голосования, включенных в список участников голосования на момент окончания "
            "голосования"
        }
    )
    pos = df.columns.index("url")
    df = _insert(df, pos, pl.Series("Нет", no.astype(str)))
    return _insert(df, pos, pl.Series("Да", yes.astype(str)))


def long_layout(e: Election) -> pl.DataFrame:
    """One row per station and candidate (generic English headers), protocol lines repeated on
    every row of a station, and a per-row percentage that must not be read as a station line."""
    n, k = e.n_stations, len(e.candidates)
    rep = np.repeat(np.arange(n), k)
    cols: dict[str, object] = {
        "region": e.level("region")[rep],
        "district": e.level("constituency")[rep],
        "station": e.table["station_id"].to_numpy()[rep],
    }
    for f, h in (
        ("registered", "Registered voters"),
        ("valid", "Valid ballots"),
        ("invalid", "Invalid ballots"),
    ):
        cols[h] = e.field(f)[rep].astype(str)
    votes = e.votes_matrix()
    cols["candidate"] = np.tile(np.array([c.name for c in e.candidates], dtype=object), n)
    cols["votes"] = votes.reshape(-1).astype(str)
    cast = np.maximum(e.field("valid"), 1)[rep]
    cols["percent"] = np.round(100 * votes.reshape(-1) / cast, 2).astype(str)
    return pl.DataFrame(cols)


def long_items(e: Election) -> pl.DataFrame:
    """Fully long: one row per station and *item*, the protocol lines (registered, valid, invalid,
    ballots issued) as items beside the candidates, as some commissions publish them."""
    items = [
        ("Registered voters", e.field("registered")),
        ("Ballots issued", e.ballots_issued()),
        ("Valid ballots", e.field("valid")),
        ("Invalid ballots", e.field("invalid")),
    ]
    items += [(c.name, e.field(c.id)) for c in e.candidates]
    n, k = e.n_stations, len(items)
    rep = np.repeat(np.arange(n), k)
    return pl.DataFrame(
        {
            "region": e.level("region")[rep],
            "district": e.level("constituency")[rep],
            "station": e.table["station_id"].to_numpy()[rep],
            "item": np.tile(np.array([name for name, _ in items], dtype=object), n),
            "count": np.column_stack([v for _, v in items]).reshape(-1).astype(str),
        }
    )


def unknown_protocol_line(df: pl.DataFrame, header: str = "Получено УИК") -> pl.DataFrame:
    """A protocol line in wording no vocabulary knows (ballots received), just before the candidates."""
    first_cand = next(
        i
        for i, c in enumerate(df.columns)
        if c not in ID_COLUMNS
        and c != "oik"
        and c not in RUSSIA_COLUMNS.values()
        and c not in LATER_WORDING.values()
        and c != CERTIFICATES_UNACCOUNTED
    )
    return _insert(df, first_cand, df[RUSSIA_COLUMNS["ballots_received"]].alias(header))


def two_contests(
    df: pl.DataFrame, names: tuple[str, str] = ("Выборы Президента", "Выборы Губернатора")
) -> pl.DataFrame:
    """The same stations twice, one block per contest, told apart by an ``election`` column."""
    return pl.concat([_insert(df, 0, pl.Series("election", [n] * df.height)) for n in names])


__all__ = [
    "CERTIFICATES_UNACCOUNTED",
    "EVOTING_TIK",
    "LATER_WORDING",
    "count_columns",
    "later_wording",
    "long_items",
    "long_layout",
    "referendum",
    "russia_frame",
    "set_cell",
    "two_contests",
    "unknown_protocol_line",
    "with_blanks",
    "with_evoting",
    "with_levels",
    "with_no_results",
    "with_oik",
]
