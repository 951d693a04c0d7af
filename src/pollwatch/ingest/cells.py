"""Reading count cells: every cell that is not a whole number ≥ 0 is reported by its line, and
a blank cell in a station that has results is a finding (or an exclusion), never a silent zero.
"""

from __future__ import annotations

import re

import numpy as np
import polars as pl

from pollwatch.errors import DataIssue
from pollwatch.model.fields import FIELD_BY_NAME

_INT_EXPECTED = "a whole number (count)"


def _lines_text(lines: np.ndarray, n: int = 5) -> str:
    shown = ", ".join(str(int(x)) for x in lines[:n])
    return shown + (f" and {len(lines) - n:,} more" if len(lines) > n else "")


def parse_counts(
    df: pl.DataFrame, col: str, out_name: str, source: str, thousands: str | None, lines: np.ndarray
) -> tuple[pl.Series, list[DataIssue]]:
    """Parse a column of counts to Int64 (blank → null); collect every cell that is not a whole
    number ≥ 0, with its source line."""
    s = df[col]
    if s.dtype == pl.Utf8 and not thousands:
        direct = s.cast(pl.Int64, strict=False)
        if (
            direct.null_count() == s.null_count()
        ):  # every cell a plain integer (or null): skip the slow path
            s = direct
    if s.dtype == pl.Utf8:
        clean = s.str.strip_chars()
        if thousands:
            clean = clean.str.replace_all(thousands, "", literal=True)
        clean = clean.str.replace_all("\u00a0", "", literal=True)
        parsed = clean.cast(pl.Int64, strict=False)
        empty = clean.is_null() | (clean == "")
        bad = (~empty & parsed.is_null()).fill_null(False)
    elif s.dtype.is_float():
        f = s.to_numpy()
        nan = np.isnan(f)
        integral = nan | ((np.floor(f) == f) & (np.abs(f) < 9.2e18))
        bad = pl.Series(~integral)
        parsed = pl.Series(np.where(nan | ~integral, 0, f).astype(np.int64)).set(
            pl.Series(nan) | bad, None
        )
    elif s.dtype.is_integer():
        parsed, bad = s.cast(pl.Int64), pl.Series(np.zeros(len(s), dtype=bool))
    else:
        parsed = s.cast(pl.Utf8).str.strip_chars().cast(pl.Int64, strict=False)
        bad = (s.is_not_null() & parsed.is_null()).fill_null(False)
    negative = (parsed < 0).fill_null(False)
    idx = np.flatnonzero((bad | negative).to_numpy())
    issues: list[DataIssue] = []
    if len(idx):
        vals = s.gather(idx).cast(pl.Utf8).to_list()
        hint = None
        if any(v and re.search(r"\d[ ,.'\u00a0\u202f]\d", v) for v in vals[:50]):
            hint = "counts must be whole numbers; if the file uses a thousands separator, set [source] thousands"
        issues = [
            DataIssue(
                source,
                f"{out_name} is not a count",
                line=int(lines[i]),
                column=col,
                value="" if v is None else v,
                expected=_INT_EXPECTED,
                hint=hint,
            )
            for i, v in zip(idx.tolist(), vals, strict=True)
        ]
    return parsed.alias(out_name), issues


def blank_findings(
    fields: dict[str, pl.Series],
    found: dict[str, str],
    cands: list[tuple[str, str]],
    no_results: np.ndarray,
    lines: np.ndarray,
    source: str,
) -> tuple[np.ndarray, list[DataIssue]]:
    """Blank cells in rows that do have results: never silent zeros.

    A blank registered/valid/invalid excludes the station (``missing_counts``), one finding per
    cell; a blank in another protocol line or a candidate is one finding per column (how many,
    which lines), and reads as missing (the model's sums treat it as 0).
    """
    missing = np.zeros(len(lines), dtype=bool)
    out: list[DataIssue] = []
    for key, s in fields.items():
        nul = s.is_null().to_numpy() & ~no_results
        if not nul.any() or key not in found:
            continue
        idx = np.flatnonzero(nul)
        if FIELD_BY_NAME[key].required:
            missing |= nul
            out += [
                DataIssue(
                    source,
                    f"{key} is blank while the station has other results; station excluded "
                    "(missing_counts)",
                    line=int(lines[i]),
                    column=found[key],
                    value="",
                    expected=_INT_EXPECTED,
                    kind="warning",
                )
                for i in idx
            ]
        else:
            out.append(
                DataIssue(
                    source,
                    f"{key} is blank at {len(idx):,} stations that have results "
                    f"(lines {_lines_text(lines[idx])}); kept as missing, not as 0",
                    line=int(lines[idx[0]]),
                    column=found[key],
                    value="",
                    kind="warning",
                )
            )
    for cid, col in cands:
        nul = fields[cid].is_null().to_numpy() & ~no_results
        if nul.any():
            idx = np.flatnonzero(nul)
            out.append(
                DataIssue(
                    source,
                    f"no votes given for {col!r} at {len(idx):,} stations that have results "
                    f"(lines {_lines_text(lines[idx])}); read as 0 votes there",
                    line=int(lines[idx[0]]),
                    column=col,
                    value="",
                    kind="warning",
                    hint="fine if the candidate did not stand there; otherwise check the file",
                )
            )
    return missing, out
