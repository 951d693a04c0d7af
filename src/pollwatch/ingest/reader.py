"""Read a results file (CSV/TSV/ZIP/XLSX/Parquet) through a mapping into an Election."""

from __future__ import annotations

import hashlib
import io
import time
import zipfile
from pathlib import Path

import numpy as np
import polars as pl

from pollwatch.errors import ConfigError, DataIssue, IngestError
from pollwatch.ingest.mapping import Mapping, detect_preset, load_mapping, load_preset
from pollwatch.ingest.report import IngestReport
from pollwatch.ingest.sniff import sniff
from pollwatch.model.derived import exclusion_expr
from pollwatch.model.election import (
    EXCLUSION,
    SOURCE_LINE,
    STATION_ID,
    Candidate,
    Election,
    ElectionMeta,
)

_INT_EXPECTED = "a whole number (count)"


def _sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _read_csv(name: str, raw: bytes, src: dict) -> tuple[pl.DataFrame, str]:
    encoding = src.get("encoding")
    if encoding is None:
        try:
            raw.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            encoding = "cp1251"
    if encoding.replace("-", "").lower() not in ("utf8", "utf8sig"):
        raw = raw.decode(encoding).encode("utf-8")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    sep = src.get("delimiter")
    if sep is None:
        first = raw[: raw.find(b"\n")] if b"\n" in raw else raw
        sep = "\t" if name.lower().endswith((".tsv", ".tab")) or first.count(b"\t") > first.count(b",") else ","
        if sep == "," and first.count(b";") > first.count(b","):
            sep = ";"
    df = pl.read_csv(io.BytesIO(raw), separator=sep, infer_schema=False, quote_char='"')
    return df, encoding


def _read_source(path: Path, src: dict) -> tuple[pl.DataFrame, str, str | None, str]:
    raw = path.read_bytes()
    digest = _sha256(raw)
    name, raw = sniff(path, raw, src)  # unpacks .zip/.gz; plain IngestError for binary, empty, header-only
    low = name.lower()
    if low.endswith(".parquet"):
        return pl.read_parquet(io.BytesIO(raw)), "parquet", None, digest
    if low.endswith((".xlsx", ".xlsm", ".xls")):
        try:
            df = pl.read_excel(io.BytesIO(raw), sheet_name=src.get("sheet"), infer_schema_length=0) \
                if src.get("sheet") else pl.read_excel(io.BytesIO(raw), infer_schema_length=0)
        except Exception as exc:  # calamine raises its own error types for corrupt workbooks
            raise ValueError(f"not a readable XLSX workbook ({type(exc).__name__}: {exc})") from None
        return df, "xlsx", None, digest
    df, enc = _read_csv(name, raw, src)
    return df, "csv", enc, digest


def _resolve(mapping: Mapping, header: list[str], source: str) -> tuple[dict[str, str], list[DataIssue]]:
    found: dict[str, str] = {}
    issues: list[DataIssue] = []
    for key, spec in mapping.fields.items():
        hits = [h for h in header if spec.matches(h)]
        if len(hits) == 1:
            found[key] = hits[0]
        elif len(hits) > 1:
            issues.append(DataIssue(source, f"field {key!r} matches {len(hits)} columns", line=1,
                                    expected=f"exactly one {spec.describe()}", value=" | ".join(hits),
                                    hint="make the mapping more specific"))
        elif not spec.optional:
            issues.append(DataIssue(source, f"missing required column for {key!r}", line=1,
                                    expected=spec.describe(), value=", ".join(header[:12]) + (" …" if len(header) > 12 else ""),
                                    hint="map it in a mapping file ([fields] " + key + " = \"your column\") and pass --mapping"))
    for col in (*mapping.station_id, *mapping.hierarchy):
        if col not in header:
            issues.append(DataIssue(source, "missing station column", line=1, column=col,
                                    expected=f"a column named {col!r}", value=", ".join(header[:12])))
    return found, issues


def _candidate_columns(mapping: Mapping, header: list[str], used: set[str], source: str) -> tuple[list[str], list[DataIssue]]:
    issues = []
    if mapping.candidate_columns:
        missing = [c for c in mapping.candidate_columns if c not in header]
        issues += [DataIssue(source, "missing candidate column", line=1, column=c, expected=f"a column named {c!r}")
                   for c in missing]
        return [c for c in mapping.candidate_columns if c in header], issues
    ignore = set(mapping.candidates_ignore)
    cols = [h for h in header if h not in used and h not in ignore]
    if not cols:
        issues.append(DataIssue(source, "no candidate columns left after mapping the protocol fields", line=1))
    return cols, issues


def _parse_counts(df: pl.DataFrame, col: str, out_name: str, source: str, thousands: str | None,
                  allow_empty: bool) -> tuple[pl.Series, list[DataIssue]]:
    """Parse a column of counts to Int64; collect every cell that is not a whole number."""
    s = df[col]
    if s.dtype == pl.Utf8 and not thousands:
        direct = s.cast(pl.Int64, strict=False)
        if direct.null_count() == s.null_count():  # every cell was a plain integer: skip the slow path
            if allow_empty or not s.null_count():
                return direct.alias(out_name), []
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
        empty = pl.Series(np.isnan(f))
        integral = np.isnan(f) | (np.floor(f) == f)
        bad = pl.Series(~integral)
        parsed = pl.Series(np.where(np.isnan(f) | ~integral, 0, f).astype(np.int64)).set(empty | bad, None)
    elif s.dtype.is_integer():
        parsed, empty, bad = s.cast(pl.Int64), s.is_null(), pl.Series(np.zeros(len(s), dtype=bool))
    else:
        parsed = s.cast(pl.Utf8).str.strip_chars().cast(pl.Int64, strict=False)
        empty = s.is_null()
        bad = (~empty & parsed.is_null()).fill_null(False)
    issues: list[DataIssue] = []
    if not allow_empty:
        bad = bad | empty
    idx = np.flatnonzero(bad.to_numpy())
    if len(idx):
        vals = s.gather(idx).cast(pl.Utf8).to_list()
        hint = None
        if any(v and ("," in v or "." in v) for v in vals[:50]):
            hint = "counts must be whole numbers; if the file uses a thousands separator, set [source] thousands"
        issues = [DataIssue(source, f"{out_name} is not a count", line=int(i) + 2, column=col,
                            value="" if v is None else v, expected=_INT_EXPECTED, hint=hint)
                  for i, v in zip(idx.tolist(), vals, strict=True)]
    return parsed.alias(out_name), issues


def _station_ids(df: pl.DataFrame, cols: tuple[str, ...], source: str) -> tuple[pl.Series, list[DataIssue]]:
    parts = [pl.col(c).cast(pl.Utf8).str.strip_chars().fill_null("") for c in cols]
    sid = df.select(pl.concat_str(parts, separator="/").alias(STATION_ID))[STATION_ID]
    issues = []
    dup = sid.is_duplicated().to_numpy()
    if dup.any():
        idx = np.flatnonzero(dup)
        first: dict[str, int] = {}
        for i, v in zip(idx.tolist(), sid.gather(idx).to_list(), strict=True):
            if v in first:
                issues.append(DataIssue(source, "duplicate station id", line=i + 2, column="+".join(cols),
                                        value=v, expected=f"a unique id (first seen on line {first[v]})"))
            else:
                first[v] = i + 2
    empty = df.select(pl.any_horizontal([p == "" for p in parts])).to_series().to_numpy()
    issues += [DataIssue(source, "empty station id" if len(cols) == 1 else "empty station id (one of its columns is blank)",
                         line=int(i) + 2, column="+".join(cols), value=v,
                         expected="a value in every station-id column")
               for i, v in zip(np.flatnonzero(empty).tolist(), sid.filter(pl.Series(empty)).to_list(), strict=True)]
    return sid, issues


def read_election(path: str | Path, *, preset: str | None = None, mapping: str | Path | Mapping | None = None,
                  scrutiny: str | None = None, **meta_overrides) -> Election:
    """Read official per-station results into an :class:`Election`.

    :param path: CSV/TSV (UTF-8 or cp1251; also inside a single-file .zip), XLSX or Parquet.
    :param preset: a shipped preset name; by default one is auto-detected from the header.
    :param mapping: a TOML mapping file (or a parsed :class:`Mapping`) for other layouts.
    :param scrutiny: candidate under scrutiny (default: the winner).
    :raises IngestError: listing every problem found (file, line, column, value, expectation).

    The returned Election carries ``ingest_report``. Example::

        e = read_election("../shared/data/russia/president-2012.csv.zip")
        e.totals()["leader_votes"]   # 45602075
    """
    t0 = time.perf_counter()
    path = Path(path)
    source = str(path)
    if not path.exists():
        raise IngestError(source, [DataIssue(source, "file not found")])
    if not path.is_file():
        raise IngestError(source, [DataIssue(source, "not a file", expected="a results file", value="a directory")])
    if isinstance(mapping, (str, Path)):
        mapping = load_mapping(mapping)
    if preset is not None and mapping is not None:
        raise ConfigError("give either a preset or a mapping, not both")
    if preset is not None:
        mapping = load_preset(preset)
    src = mapping.source if mapping else {}
    try:
        df, fmt, encoding, digest = _read_source(path, src)
    except IngestError:
        raise
    except (OSError, ValueError, pl.exceptions.PolarsError, UnicodeDecodeError, zipfile.BadZipFile) as exc:
        raise IngestError(source, [DataIssue(source, f"cannot be read as a table: {exc}",
                                             hint="check the file format and encoding")]) from None
    # polars keeps doubled quotes inside quoted header cells; unescape them as CSV intends
    df = df.rename({c: c.replace('""', '"').strip() for c in df.columns if c != c.replace('""', '"').strip()})
    header = list(df.columns)
    if mapping is None:
        mapping = detect_preset(header)
        if mapping is None:
            raise IngestError(source, [DataIssue(
                source, "the column layout matches no preset", line=1, value=", ".join(header[:12]),
                expected="a known layout, or a mapping file",
                hint=f"draft a mapping from this header with `pollwatch mapping draft {source} --out mapping.toml`, "
                     "check it (every key is explained in docs/mapping.md) and pass --mapping mapping.toml")])
    found, issues = _resolve(mapping, header, source)
    used = set(found.values()) | set(mapping.station_id) | set(mapping.hierarchy)
    cand_cols, cissues = _candidate_columns(mapping, header, used, source)
    issues += cissues
    if issues:  # structural problems: stop before reading cells
        raise IngestError(source, issues)

    thousands = mapping.source.get("thousands")
    cols: list[pl.Series] = []
    sid, sid_issues = _station_ids(df, mapping.station_id, source)
    issues += sid_issues
    cols.append(sid)
    for lvl in mapping.hierarchy:
        cols.append(df[lvl].cast(pl.Utf8).str.strip_chars().alias(lvl))
    for key, col in found.items():
        s, iss = _parse_counts(df, col, key, source, thousands, allow_empty=mapping.fields[key].optional)
        cols.append(s)
        issues += iss
    candidates = []
    for i, col in enumerate(cand_cols):
        cid = f"cand_{i:02d}"
        s, iss = _parse_counts(df, col, cid, source, thousands, allow_empty=True)
        for d in iss:
            object.__setattr__(d, "message", f"votes for {col!r} are not a count")
        cols.append(s)
        issues += iss
        candidates.append(Candidate(cid, mapping.candidate_names.get(col, col), mapping.candidate_parties.get(col), col))
    cols.append(pl.Series(SOURCE_LINE, np.arange(2, df.height + 2, dtype=np.int64)))
    table = pl.DataFrame(cols)
    if mapping.options.get("station_issued_includes_mobile") and {"ballots_issued_station", "ballots_issued_mobile"} <= set(found):
        table = table.with_columns((pl.col("ballots_issued_station") - pl.col("ballots_issued_mobile").fill_null(0))
                                   .alias("ballots_issued_station"))

    el = dict(mapping.election)
    el.update({k: v for k, v in meta_overrides.items() if v is not None})
    meta = ElectionMeta(
        country=str(el.get("country", "")), date=str(el.get("date", "")), type=str(el.get("type", "")),
        name=str(el.get("name", path.name)), candidates=tuple(candidates), hierarchy=tuple(mapping.hierarchy),
        scrutiny=None, source=source, profile=str(el.get("profile", el.get("country", "generic") or "generic")),
    )
    exclusion = exclusion_expr(table, meta, mapping.exclusions.get("evoting_min_registered"),
                               tuple(mapping.exclusions.get("evoting_labels", ())))
    table = table.with_columns(exclusion.alias(EXCLUSION))
    ignored = tuple(h for h in header if h not in used and h not in cand_cols)
    warnings = tuple(DataIssue(source, "column not used by the mapping", line=1, column=h, kind="warning") for h in ignored)
    report = IngestReport(
        source=source, sha256=digest, format=fmt, encoding=encoding, mapping=mapping.name, rows=df.height,
        columns=found, candidates=tuple(c.name for c in candidates), ignored_columns=ignored,
        exclusions={}, issues=tuple(issues), warnings=warnings, seconds=time.perf_counter() - t0,
    )
    if issues:
        raise IngestError(source, issues, report)
    election = Election(table, meta)
    election = election.with_scrutiny(scrutiny) if scrutiny else election
    object.__setattr__(report, "exclusions", election.exclusion_counts())
    object.__setattr__(report, "seconds", time.perf_counter() - t0)
    election.ingest_report = report
    return election
