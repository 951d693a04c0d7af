"""Observers' copies of station protocols: the input of the quick count.

A CSV/Parquet file (or a polars DataFrame; later the observation service) with ``station_id``,
``valid``, ``invalid``, ``registered`` and one column per candidate, named by the candidate's id
in the Election model (``cand_00`` …) or by the candidate's name. Other protocol fields with the
model's names (``ballots_issued_station`` …) are kept for the station-level match. Optional
``arrived`` (or ``received_at``; sortable: a time or a sequence number) orders reports for the
convergence check; ISO times also give the response rate over time. A blank cell is kept as
missing (null), never read as 0: :mod:`~pollwatch.quickcount.checks` quarantines such a copy
(docs/quickcount.md §5).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pollwatch.errors import DataIssue, InputDataError
from pollwatch.model.fields import FIELD_BY_NAME

REQUIRED = ("station_id", "valid", "invalid", "registered")
ARRIVED = "arrived"
RECEIVED_AT = "received_at"  # the service's name for the arrival time; read as ``arrived``
_META = {
    "station_id",
    ARRIVED,
    RECEIVED_AT,
    "observer",
    "note",
    "stratum",
    "weight",
    "inclusion_probability",
}

__all__ = ["ProtocolCopies", "read_protocol_copies"]


@dataclass(frozen=True)
class ProtocolCopies:
    """Protocol copies: one row per reported station.

    ``fields`` are protocol lines with model names; ``candidates`` the remaining count columns.
    """

    table: pl.DataFrame
    fields: tuple[str, ...]
    candidates: tuple[str, ...]
    source: str = "<DataFrame>"

    @property
    def n(self) -> int:
        return self.table.height

    @classmethod
    def from_frame(
        cls, df: pl.DataFrame, source: str = "<DataFrame>", lines: Sequence[int] | None = None
    ) -> ProtocolCopies:
        """Validate a DataFrame; raise :class:`InputDataError` listing every problem."""
        issues: list[DataIssue] = []
        for col in REQUIRED:
            if col not in df.columns:
                issues.append(
                    DataIssue(
                        source,
                        f'missing required column "{col}"',
                        line=1,
                        column=col,
                        expected=f"columns {', '.join(REQUIRED)} and one per candidate",
                        value=", ".join(df.columns),
                    )
                )
        if issues:
            raise InputDataError(
                f"{source}: not a protocol-copies file:\n" + "\n".join(f"- {i}" for i in issues),
                issues,
            )
        counts = [c for c in df.columns if c not in _META]
        fields = tuple(c for c in counts if c in FIELD_BY_NAME)
        cands = tuple(c for c in counts if c not in FIELD_BY_NAME)
        if not cands:
            issues.append(
                DataIssue(
                    source,
                    "no candidate columns",
                    line=1,
                    expected="one column per candidate besides the protocol fields",
                )
            )
        ids = df["station_id"].cast(pl.Utf8)
        line_of = (lambda i: lines[i]) if lines is not None else (lambda i: i + 2)
        for i, v in enumerate(ids.to_list()):
            if v is None or not v.strip():
                issues.append(
                    DataIssue(
                        source,
                        "empty station id",
                        line=line_of(i),
                        column="station_id",
                        expected="a station id of the frame",
                        value="",
                    )
                )
        dup = ids.is_duplicated().to_list()
        for i, d in enumerate(dup):
            if d:
                issues.append(
                    DataIssue(
                        source,
                        "station reported twice",
                        line=line_of(i),
                        column="station_id",
                        station_id=ids[i],
                        hint="keep one master copy per station",
                    )
                )
        out = {"station_id": ids}
        for col in counts:
            raw = df[col]
            num = (
                raw.cast(pl.Int64, strict=False)
                if raw.dtype != pl.Utf8
                else raw.str.strip_chars()
                .str.replace_all(r"[ ,\u00a0]", "")
                .cast(pl.Int64, strict=False)
            )
            bad = (num.is_null() & raw.is_not_null()) | (num < 0).fill_null(False)
            for i in bad.arg_true().to_list():
                issues.append(
                    DataIssue(
                        source,
                        "not a vote count",
                        line=line_of(i),
                        column=col,
                        station_id=ids[i],
                        expected="a non-negative integer",
                        value=str(raw[i]),
                    )
                )
            # a blank cell stays null (missing, never 0): quickcount.checks quarantines the copy
            out[col] = num
        if ARRIVED in df.columns:
            out[ARRIVED] = df[ARRIVED]
        elif RECEIVED_AT in df.columns:
            out[ARRIVED] = df[RECEIVED_AT]
        if issues:
            shown = "\n".join(f"- {i}" for i in issues[:20])
            more = f"\n… and {len(issues) - 20} more" if len(issues) > 20 else ""
            raise InputDataError(
                f"{source}: {len(issues)} problem(s) in the protocol copies:\n{shown}{more}", issues
            )
        return cls(pl.DataFrame(out), fields, cands, source)


def read_table(path: str | Path) -> pl.DataFrame:
    """An observers' file as text columns: Parquet, or CSV separated by ``,`` or ``;`` (the one
    the header uses more), header names stripped of spaces and a byte-order mark. A missing file
    is an :class:`InputDataError` naming it; the cells are checked by the caller."""
    path = Path(path)
    if not path.exists():
        raise InputDataError(f"{path}: file not found", [DataIssue(str(path), "file not found")])
    if path.suffix.lower() == ".parquet":
        return pl.read_parquet(path)
    head = path.read_text(encoding="utf-8-sig").splitlines()[:1]
    sep = ";" if head and head[0].count(";") > head[0].count(",") else ","
    df = pl.read_csv(path, separator=sep, infer_schema=False, encoding="utf8-lossy")
    return df.rename({c: c.strip().lstrip("\ufeff") for c in df.columns})


def read_protocol_copies(path: str | Path) -> ProtocolCopies:
    """Read protocol copies from CSV (``,`` or ``;``) or Parquet; every problem is reported with
    file, line, column, expected and found values in one :class:`InputDataError`."""
    return ProtocolCopies.from_frame(read_table(path), str(path))
