"""Collected tally sheets: one row per photographed or typed station protocol.

The census (``docs/census.md`` §1) works with what the sheets carry. Only ``station_id`` and the
candidates' votes are required; other protocol lines (``registered``, ``ballots_in_boxes``,
``valid``, ``invalid`` …, with the model's field names) are used where present. Optional columns:
``sheet_id`` (the sheet's own serial or QR id), ``image_sha256`` (hash of the photo in the
evidence store), ``collector``, and text columns naming the station's region or constituency.

Nothing is dropped silently. A sheet is *usable* for totals and bounds only if it is complete
(no blank candidate cell) and passes its arithmetic; every other sheet is kept in the table and
reported as a finding, and its station counts as *not collected*: the worst-case bound then
gives its votes to whoever the claim favours, so a doubtful sheet can never help prove a claim
impossible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pollwatch.errors import DataIssue, InputDataError
from pollwatch.model.fields import FIELD_BY_NAME

#: protocol lines a sheet may show: the model's fields, and the total of ballots in the boxes
#: that many sheets print as one line
LINES = (*FIELD_BY_NAME, "ballots_in_boxes")
#: columns that are neither candidates nor protocol lines
META = ("station_id", "sheet_id", "image_sha256", "collector", "received_at", "note", "url")

__all__ = ["META", "Sheets", "SheetFinding", "read_sheets", "sheets_from_frame"]


@dataclass(frozen=True)
class SheetFinding:
    """Something about one station's sheets that a reader must see.

    ``kind``: ``duplicate`` (the same numbers filed twice: one kept), ``conflict`` (two sets of
    numbers for one station: none used, shown side by side), ``incomplete`` (a blank candidate
    cell), ``arithmetic`` (a control relation fails), ``unknown_station`` (not on the official
    station list), ``sheet_id_reused`` (one sheet id on sheets of different stations: none of
    them counted).
    """

    station_id: str
    kind: str
    detail: str
    rows: tuple[int, ...]

    def to_dict(self) -> dict:
        return {
            "station_id": self.station_id,
            "kind": self.kind,
            "detail": self.detail,
            "rows": list(self.rows),
        }


@dataclass(frozen=True)
class Sheets:
    """The collected sheets, with the usable ones marked.

    ``table`` has one row per sheet as filed, ``line`` (the file line) and ``usable``;
    ``candidates`` are the vote columns, ``fields`` the protocol lines present, ``levels``
    the text columns (region, constituency …).
    """

    table: pl.DataFrame
    candidates: tuple[str, ...]
    fields: tuple[str, ...]
    levels: tuple[str, ...]
    findings: tuple[SheetFinding, ...]
    source: str

    @property
    def usable(self) -> pl.DataFrame:
        """One row per station whose sheet is complete, consistent and unique."""
        return self.table.filter(pl.col("usable")).unique(
            subset=["station_id"], keep="first", maintain_order=True
        )

    @property
    def n_filed(self) -> int:
        return self.table.height

    @property
    def n_usable(self) -> int:
        return self.usable.height

    def counts(self) -> dict[str, int]:
        """Sheets filed, stations with a usable sheet, and findings by kind."""
        out = {
            "filed": self.n_filed,
            "stations": int(self.table["station_id"].n_unique()),
            "usable": self.n_usable,
        }
        for f in self.findings:
            out[f.kind] = out.get(f.kind, 0) + 1
        return out


def read_sheets(path: str | Path) -> Sheets:
    """Read a tally-sheet file (CSV, UTF-8, or Parquet) into :class:`Sheets`.

    Raises :class:`InputDataError` naming the file, line and column when the file cannot be a
    sheets file (no ``station_id``, no candidate column, a count that is not a whole number).
    """
    path = Path(path)
    if not path.exists():
        raise InputDataError(f"{path}: file not found", [DataIssue(str(path), "file not found")])
    if path.suffix.lower() == ".parquet":
        df = pl.read_parquet(path)
    else:
        try:
            df = pl.read_csv(path, infer_schema=False, encoding="utf8")
        except (pl.exceptions.ComputeError, UnicodeDecodeError) as exc:
            raise InputDataError(
                f"{path}: not a readable UTF-8 CSV ({exc})",
                [DataIssue(str(path), "not a readable UTF-8 CSV", expected="a CSV with a header")],
            ) from None
    return sheets_from_frame(df, source=str(path))


def _as_int(df: pl.DataFrame, col: str, source: str) -> tuple[pl.Series, list[DataIssue]]:
    raw = df[col]
    if raw.dtype.is_integer():
        return raw.cast(pl.Int64), []
    text = raw.cast(pl.Utf8).str.strip_chars().str.replace_all(r"[\s\u00a0,]", "")
    text = text.replace("", None)
    out = text.cast(pl.Int64, strict=False)
    bad = (out.is_null() & text.is_not_null()) | (out < 0).fill_null(False)
    issues = [
        DataIssue(
            source,
            "not a whole number of votes",
            line=i + 2,
            column=col,
            value=str(raw[i]),
            expected="a whole number ≥ 0, or blank if the sheet does not show it",
        )
        for i in bad.arg_true().to_list()[:50]
    ]
    return out, issues


def sheets_from_frame(
    df: pl.DataFrame, *, source: str = "<DataFrame>", candidates: Sequence[str] | None = None
) -> Sheets:
    """Validate a DataFrame of sheets (see the module docstring for the columns).

    ``candidates`` names the vote columns; by default every column that is neither a protocol
    line of the model (``docs/mapping.md``), nor a known meta column, nor text, is a candidate.
    Blank cells stay missing (null), never 0.
    """
    if "station_id" not in df.columns:
        raise InputDataError(
            f"{source}: not a tally-sheet file (no station_id column)",
            [
                DataIssue(
                    source,
                    'missing required column "station_id"',
                    line=1,
                    column="station_id",
                    expected="station_id and one column per candidate",
                    value=", ".join(df.columns),
                )
            ],
        )
    issues: list[DataIssue] = []
    ints: dict[str, pl.Series] = {}
    text_cols: list[str] = []
    for col in df.columns:
        if col in META:
            continue
        s, probs = _as_int(df, col, source)
        # a column of counts with a few typos is still a column of counts (the typos are
        # reported); a column that is mostly text names a region or constituency
        filled = df.height - df[col].cast(pl.Utf8).str.strip_chars().replace("", None).null_count()
        looks_numeric = filled > 0 and (df.height - s.null_count()) >= 0.9 * filled
        if col in LINES or (candidates and col in candidates) or looks_numeric:
            issues += probs
            ints[col] = s
        else:
            text_cols.append(col)
    fields = tuple(c for c in ints if c in LINES)
    cands = tuple(candidates) if candidates else tuple(c for c in ints if c not in LINES)
    missing = [c for c in cands if c not in ints]
    if missing:
        issues.append(
            DataIssue(
                source,
                "candidate column not found",
                line=1,
                column=missing[0],
                expected=", ".join(missing),
                value=", ".join(df.columns),
            )
        )
    if not cands:
        issues.append(
            DataIssue(
                source,
                "no candidate columns",
                line=1,
                expected="one numeric column per candidate besides station_id and protocol lines",
                value=", ".join(df.columns),
            )
        )
    ids = df["station_id"].cast(pl.Utf8).str.strip_chars()
    for i in (ids.is_null() | (ids == "")).arg_true().to_list()[:50]:
        issues.append(
            DataIssue(source, "blank station id", line=i + 2, column="station_id", expected="an id")
        )
    if issues:
        raise InputDataError(
            f"{source}: {len(issues)} problem(s) in the tally sheets:\n"
            + "\n".join(f"- {i}" for i in issues),
            issues,
        )
    table = pl.DataFrame(
        {
            "station_id": ids,
            **{c: df[c].cast(pl.Utf8) for c in META if c in df.columns and c != "station_id"},
            **{c: df[c].cast(pl.Utf8) for c in text_cols},
            **{c: ints[c] for c in (*cands, *fields)},
            "line": pl.int_range(2, df.height + 2, eager=True),
        }
    )
    table = table.with_columns(_ballots(table, fields).alias("ballots"))
    table, findings = _check(table, cands, fields)
    return Sheets(table, cands, fields, tuple(text_cols), tuple(findings), source)


def _ballots(table: pl.DataFrame, fields: tuple[str, ...]) -> pl.Expr:
    """Ballots in the boxes, from the line that shows them or the lines that add up to them."""
    for parts in (
        ("ballots_in_boxes",),
        ("ballots_stationary_box", "ballots_mobile_box"),
        ("valid", "invalid"),
    ):
        if all(p in fields for p in parts):
            return pl.sum_horizontal(parts) if len(parts) > 1 else pl.col(parts[0])
    return pl.lit(None, dtype=pl.Int64)


def _rows(table: pl.DataFrame, mask: pl.Series) -> tuple[int, ...]:
    return tuple(table.filter(mask)["line"].to_list())


def _check(
    table: pl.DataFrame, cands: tuple[str, ...], fields: tuple[str, ...]
) -> tuple[pl.DataFrame, list[SheetFinding]]:
    findings: list[SheetFinding] = []
    usable = [True] * table.height
    votes = table.select(cands)
    total = votes.select(pl.sum_horizontal(pl.all())).to_series()
    blank = votes.select(pl.any_horizontal(pl.all().is_null())).to_series()
    ids = table["station_id"].to_list()
    lines = table["line"].to_list()

    def flag(i: int, kind: str, detail: str) -> None:
        usable[i] = False
        findings.append(SheetFinding(ids[i], kind, detail, (lines[i],)))

    for i in blank.arg_true().to_list():
        gone = [c for c in cands if votes[c][i] is None]
        flag(i, "incomplete", f"blank vote cell(s): {', '.join(gone)}")
    # control relations the sheet itself can be checked on (docs/census.md §1.2)
    rules = [
        ("valid", lambda r: r["valid"] == r["_total"], "candidates' votes add up to {_total:,}, valid ballots {valid:,}"),
        ("ballots", lambda r: r["_total"] <= r["ballots"], "candidates' votes {_total:,} exceed ballots in the boxes {ballots:,}"),
        ("registered", lambda r: r["_total"] <= r["registered"], "candidates' votes {_total:,} exceed registered voters {registered:,}"),
    ]  # fmt: skip
    rows = table.with_columns(total.alias("_total")).to_dicts()
    for i, r in enumerate(rows):
        if not usable[i]:
            continue
        for col, ok, msg in rules:
            if (col in fields or col == "ballots") and r[col] is not None and not ok(r):
                flag(i, "arithmetic", msg.format(**r))
                break
    # one station, several sheets: identical numbers are one sheet filed twice; different
    # numbers are a conflict, and neither set is used until someone resolves it from the photos
    key_cols = [*cands, *fields]
    dup = table.with_row_index("_i").filter(pl.col("station_id").is_duplicated())
    for sid, grp in dup.group_by("station_id", maintain_order=True):
        idx = grp["_i"].to_list()
        distinct = grp.select(key_cols).unique()
        sid_s = str(sid[0] if isinstance(sid, tuple) else sid)
        if distinct.height == 1:
            for i in idx[1:]:
                usable[i] = False
            findings.append(
                SheetFinding(
                    sid_s, "duplicate", f"{len(idx)} identical sheets; one kept",
                    tuple(lines[i] for i in idx),
                )
            )  # fmt: skip
        else:
            for i in idx:
                usable[i] = False
            shown = "; ".join(
                f"line {lines[i]}: " + ", ".join(f"{c} {rows[i][c]}" for c in cands) for i in idx
            )
            findings.append(
                SheetFinding(
                    sid_s, "conflict", f"{distinct.height} different sets of numbers ({shown})",
                    tuple(lines[i] for i in idx),
                )
            )  # fmt: skip
    # one sheet id (the protocol's serial or QR id) on sheets of different stations: one of
    # them is a copy or a forgery; none is counted until the photos settle it
    if "sheet_id" in table.columns:
        by_id = table.with_row_index("_i").filter(pl.col("sheet_id").is_not_null())
        for key, grp in by_id.group_by("sheet_id", maintain_order=True):
            stations = grp["station_id"].unique(maintain_order=True).to_list()
            if len(stations) < 2:
                continue
            idx = grp["_i"].to_list()
            for i in idx:
                usable[i] = False
            findings.append(
                SheetFinding(
                    ", ".join(stations),
                    "sheet_id_reused",
                    f"sheet id {key[0] if isinstance(key, tuple) else key} appears on sheets of "
                    f"{len(stations)} stations ({', '.join(stations[:5])})",
                    tuple(lines[i] for i in idx),
                )
            )
    return table.with_columns(pl.Series("usable", usable)), findings
