"""Read a results file (CSV/TSV/ZIP/XLSX/Parquet) through a mapping into an Election."""

from __future__ import annotations

import hashlib
import io
import re
import time
import zipfile
from pathlib import Path

import numpy as np
import polars as pl

from pollwatch.errors import ConfigError, DataIssue, IngestError
from pollwatch.ingest.mapping import Mapping, detect_preset, load_mapping, load_preset
from pollwatch.ingest.report import IngestReport
from pollwatch.ingest.sniff import sniff
from pollwatch.ingest.vocabulary import (
    classify_column,
    header_role,
    is_evoting_label,
    is_station_level,
)
from pollwatch.model.derived import exclusion_expr
from pollwatch.model.election import (
    EXCLUSION,
    SOURCE_LINE,
    STATION_ID,
    Candidate,
    Election,
    ElectionMeta,
)
from pollwatch.model.fields import FIELD_BY_NAME

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


_LINE = "\x00line"  # internal column: the row's line in the source (the header is line 1)
_KEY = "\x00key"
_COUNT_LIKE_CAST = ("valid", "invalid", "ballots_issued_early", "ballots_issued_station", "ballots_issued_mobile",
                    "ballots_mobile_box", "ballots_stationary_box")
_DOCS = "see docs/mapping.md, or draft one with `pollwatch mapping draft FILE`"


def _header(df: pl.DataFrame) -> list[str]:
    return [c for c in df.columns if c not in (_LINE, _KEY)]


def _preview(values: list[str], n: int = 12) -> str:
    return ", ".join(values[:n]) + (" …" if len(values) > n else "")


def _lines_text(lines: np.ndarray, n: int = 5) -> str:
    shown = ", ".join(str(int(x)) for x in lines[:n])
    return shown + (f" and {len(lines) - n:,} more" if len(lines) > n else "")


# -- rows: levels and contests ---------------------------------------------------------------

def _value_counts(s: pl.Series) -> list[tuple[str | None, int]]:
    vc = s.value_counts(sort=True)
    return list(zip(vc[s.name].to_list(), vc["count"].to_list(), strict=True))


def _select_rows(df: pl.DataFrame, mapping: Mapping, source: str
                 ) -> tuple[pl.DataFrame, dict[str, int], dict[str, tuple[str, ...]], list[DataIssue]]:
    """Keep the polling-station rows of one contest: by ``[station] level``/``contest`` or, for a
    column whose header names a level, by the one value that names polling stations.

    A file with several levels or contests and no way to choose is refused with the values to
    choose from; rows left out are counted (``skipped``), never dropped silently.
    """
    skipped: dict[str, int] = {}
    chosen: dict[str, tuple[str, ...]] = {}
    issues: list[DataIssue] = []
    header = _header(df)
    for what, sel in (("contest", mapping.contest), ("level", mapping.level)):
        if sel is not None and sel.column is not None:
            cols = [sel.column] if sel.column in header else []
            if not cols:
                issues.append(DataIssue(source, f"[station] {what} names a column the file does not have", line=1,
                                        column=sel.column, expected=f"one of the columns: {_preview(header)}"))
                continue
        else:
            cols = [h for h in header if header_role(h) == what]
            if sel is not None and not cols:
                issues.append(DataIssue(source, f"[station] {what} gives no column and no header names a {what}",
                                        line=1, value=_preview(header),
                                        hint=f'name it: [station] {what} = {{ column = "...", value = "{sel.values[0]}" }}'))
        for col in cols:
            s = df[col].cast(pl.Utf8).str.strip_chars()
            counts = _value_counts(s)
            values = [v for v, _ in counts if v is not None]
            listing = "; ".join(f"{v!r} ({n:,} rows)" for v, n in counts[:20]) + (" …" if len(counts) > 20 else "")
            fix = f'[station] {what} = {{ column = "{col}", value = "..." }}'
            if sel is not None:
                absent = [v for v in sel.values if v not in values]
                if absent:
                    issues.append(DataIssue(source, f"[station] {what} value not found in column {col!r}", line=1,
                                            column=col, value=", ".join(absent), expected=f"one of: {listing}"))
                    continue
                keep_values = list(sel.values)
            elif len(values) <= 1 or len(values) > 100 or 2 * len(values) > df.height:
                continue  # one value, or so many that the column names something else (a station, a count)
            elif what == "level":
                station = [v for v in values if is_station_level(v)]
                if all(v in station or is_evoting_label(v) for v in values):
                    continue  # every row is a station (or e-voting): nothing to choose
                if len(station) != 1:
                    issues.append(DataIssue(
                        source, "rows of several commission levels and no single polling-station level among them",
                        line=1, column=col, value=listing, expected="one value naming polling stations",
                        hint=f"choose the polling-station level in a mapping: {fix}; {_DOCS}"))
                    continue
                keep_values = station
            else:
                issues.append(DataIssue(
                    source, f"the file holds {len(values)} contests; pollwatch reads one at a time", line=1,
                    column=col, value=listing, expected="one contest",
                    hint=f"choose it in a mapping: {fix}; {_DOCS}"))
                continue
            if what == "level":  # remote e-voting rows are kept: they become excluded pseudo-stations
                keep_values += [v for v in values if v not in keep_values and is_evoting_label(v)]
            keep = s.is_in(keep_values).fill_null(False)
            for v, n in counts:
                if v not in keep_values:
                    skipped[f"{col} = {'(blank)' if v is None else v}"] = n
            chosen[col] = tuple(keep_values)
            df = df.filter(keep)
    return df, skipped, chosen, issues


# -- long layouts ----------------------------------------------------------------------------

def _pivot_long(df: pl.DataFrame, mapping: Mapping, source: str, thousands: str | None
                ) -> tuple[pl.DataFrame, list[str], dict[str, str], list[DataIssue], list[DataIssue]]:
    """One row per station and candidate → one row per station, a column per candidate.

    Station-level columns (protocol lines repeated on every candidate row) must agree within
    a station; a column that varies and is no mapped field is left out with a warning.
    """
    lg = mapping.long
    assert lg is not None
    header = _header(df)
    issues: list[DataIssue] = []
    warnings: list[DataIssue] = []
    need = [lg.candidate, lg.votes, *([lg.party] if lg.party else []), *mapping.station_id]
    for col in need:
        if col not in header:
            issues.append(DataIssue(source, "missing column of the long layout", line=1, column=col,
                                    expected=f"a column named {col!r}", value=_preview(header)))
    if issues:
        return df, [], {}, issues, warnings
    lines = df[_LINE].to_numpy()
    key = pl.concat_str([pl.col(c).cast(pl.Utf8).str.strip_chars().fill_null("") for c in mapping.station_id],
                        separator="/")
    df = df.with_columns(key.alias(_KEY))
    votes, vissues = _parse_counts(df, lg.votes, "votes", source, thousands, lines)
    issues += vissues
    cand = df[lg.candidate].cast(pl.Utf8).str.strip_chars()
    blank = (cand.is_null() | (cand == "")).to_numpy()
    issues += [DataIssue(source, "blank candidate name in a long layout", line=int(lines[i]), column=lg.candidate,
                         value="", expected="the candidate (or protocol line) this row counts")
               for i in np.flatnonzero(blank)]
    pair = pl.DataFrame({_KEY: df[_KEY], "c": cand})
    dup = pair.is_duplicated().to_numpy() & ~blank
    seen: dict[tuple[str, str], int] = {}
    for i in np.flatnonzero(dup).tolist():
        k = (pair[_KEY][i], cand[i])
        if k in seen:
            issues.append(DataIssue(source, "the same candidate twice for one station", line=int(lines[i]),
                                    column=lg.candidate, value=cand[i], station_id=k[0],
                                    expected=f"one row per station and candidate (first on line {seen[k]})",
                                    hint="several contests in one file? choose one: [station] contest = "
                                         '{ column = "...", value = "..." }'))
        else:
            seen[k] = int(lines[i])
    if issues:
        return df, [], {}, issues, warnings
    labels = cand.unique(maintain_order=True).to_list()
    per_station = [c for c in header if c not in (lg.candidate, lg.votes, lg.party)]
    fixed = set(mapping.station_id) | set(mapping.hierarchy)
    varying = df.group_by(_KEY).agg([pl.col(c).n_unique().alias(c) for c in per_station]) if per_station else None
    drop = []
    for c in per_station:
        if varying is None or int(varying[c].max() or 0) <= 1:
            continue
        mapped = c in fixed or any(spec.matches(c) for spec in mapping.fields.values())
        bad_key = varying.filter(pl.col(c) > 1)[_KEY][0]
        first = int(df.filter(pl.col(_KEY) == bad_key)[_LINE][0])
        if mapped:
            issues.append(DataIssue(source, "a station-level column differs between the rows of one station",
                                    line=first, column=c, station_id=bad_key,
                                    expected="the same value on every candidate row of a station"))
        else:
            drop.append(c)
            warnings.append(DataIssue(source, "column differs between a station's candidate rows; not used",
                                      line=first, column=c, station_id=bad_key, kind="warning"))
    if issues:
        return df, [], {}, issues, warnings
    base = (df.select([_KEY, *[c for c in per_station if c not in drop], _LINE])
            .unique(subset=_KEY, keep="first", maintain_order=True))
    names = {lab: (lab if lab not in base.columns else f"{lab} (votes)") for lab in labels}
    wide = (pl.DataFrame({_KEY: df[_KEY], "c": cand.replace_strict(names), "v": votes})
            .pivot(on="c", index=_KEY, values="v", aggregate_function=None))
    out = base.join(wide.select([_KEY, *names.values()]), on=_KEY, how="left", maintain_order="left")
    parties: dict[str, str] = {}
    if lg.party:
        firsts = pl.DataFrame({"c": cand, "p": df[lg.party].cast(pl.Utf8)}).unique(subset="c", keep="first")
        parties = {names[c]: p for c, p in zip(firsts["c"].to_list(), firsts["p"].to_list(), strict=True) if p}
    return out.drop(_KEY), list(names.values()), parties, issues, warnings


# -- columns -----------------------------------------------------------------------------------

def _resolve(mapping: Mapping, header: list[str], source: str
             ) -> tuple[dict[str, str], list[DataIssue], list[DataIssue], dict[str, str]]:
    """Find each field's column. Ranked when several match: an exact name first, then the
    column whose meaning (the protocol-line vocabulary) is this field, then the one that matched
    more of the spec's terms; a tie is an error naming every tied column and the one-line fix."""
    found: dict[str, str] = {}
    issues: list[DataIssue] = []
    notes: list[DataIssue] = []
    losers: dict[str, str] = {}  # column -> the field it matched but lost: never a candidate
    for key, spec in mapping.fields.items():
        hits = [(spec.specificity(h), h) for h in header]
        hits = [(s, h) for s, h in hits if s is not None]
        if not hits:  # no column fits the spec: one whose meaning is this field will do, with a warning
            meant = [h for h in header if classify_column(h) == key and not any(
                sp.matches(h) for k2, sp in mapping.fields.items() if k2 != key)]
            if len(meant) == 1:
                found[key] = meant[0]
                notes.append(DataIssue(source, f"field {key!r}: no column fits the mapping's spec; took the one "
                                               "whose wording means it", line=1, column=meant[0], kind="warning",
                                       expected=spec.describe(),
                                       hint=f'to confirm or correct: [fields] {key} = "exact column name"'))
                continue
            if key in mapping.derive:
                continue
            if not spec.optional:
                issues.append(DataIssue(
                    source, f"missing required column for {key!r}", line=1, expected=spec.describe(),
                    value=_preview(header),
                    hint=f"map it in a mapping file ([fields] {key} = \"your column\") and pass --mapping; {_DOCS}"))
            continue
        ranked = sorted(((s >= 1000, classify_column(h) == key, s), h) for s, h in hits)
        best = ranked[-1][0]
        top = [h for h in header if any(r == best and h == x for r, x in ranked)]  # in file order
        if len(top) == 1:
            found[key] = top[0]
            if len(hits) > 1:
                others = [h for _, h in hits if h != top[0]]
                losers.update({h: key for h in others})
                notes.append(DataIssue(source, f"field {key!r} matched {len(hits)} columns; took the most specific",
                                       line=1, column=top[0], value=" | ".join(others), kind="warning",
                                       hint=f'to choose another: [fields] {key} = "exact column name"'))
        else:
            issues.append(DataIssue(source, f"field {key!r} matches {len(top)} columns equally well", line=1,
                                    expected=f"exactly one {spec.describe()}", value=" | ".join(top),
                                    hint=f'choose one in the mapping: [fields] {key} = "{top[0]}"'
                                         + "".join(f' (or "{t}")' for t in top[1:])))
    by_col: dict[str, list[str]] = {}
    for key, col in found.items():
        by_col.setdefault(col, []).append(key)
    for col, keys in by_col.items():
        meant = [k for k in keys if classify_column(col) == k]
        if len(keys) > 1 and len(meant) == 1:  # the column's meaning decides; the other fields stay unmapped
            for k in keys:
                if k != meant[0]:
                    del found[k]
                    notes.append(DataIssue(source, f"field {k!r} matched a column that means {meant[0]!r}; "
                                                   f"{k!r} left unmapped", line=1, column=col, kind="warning",
                                           hint=f'if the file has a column for it: [fields] {k} = "exact column name"'))
                    if not mapping.fields[k].optional and k not in mapping.derive:
                        issues.append(DataIssue(source, f"missing required column for {k!r}", line=1,
                                                expected=mapping.fields[k].describe(), value=_preview(header)))
        elif len(keys) > 1:
            issues.append(DataIssue(source, f"one column matches the fields {', '.join(map(repr, keys))}", line=1,
                                    column=col, expected="one field per column",
                                    hint=f'name the columns exactly: [fields] {keys[0]} = "..." and {keys[1]} = "..."'))
    for col in (*mapping.station_id, *mapping.hierarchy):
        if col not in header:
            issues.append(DataIssue(source, "missing station column", line=1, column=col,
                                    expected=f"a column named {col!r}", value=_preview(header)))
    return found, issues, notes, {c: k for c, k in losers.items() if c not in found.values()}


_GROUPED = r"^[+-]?\d{1,3}(?:[ ,.'\u00a0\u202f]\d{3})+$"  # "1 234", "1,234,567": a count with a separator


def _text_example(s: pl.Series, thousands: str | None) -> tuple[str, str | None]:
    """``("count", None)``, ``("blank", None)``, ``("decimal", e.g.)`` or ``("text", e.g.)``.

    A column is text (or decimal) when most of its non-blank cells are; counts written with a
    thousands separator are counts (so the reader can say "set [source] thousands"), and a
    few bad cells in a column of counts are errors to report, not a reason to drop it.
    """
    if s.dtype.is_numeric():
        if s.null_count() == len(s):
            return "blank", None
        if s.dtype.is_float() and bool((s.drop_nulls() % 1 != 0).any()):
            return "decimal", str(s.drop_nulls().filter(s.drop_nulls() % 1 != 0)[0])
        return "count", None
    c = s.cast(pl.Utf8).str.strip_chars()
    if thousands:
        c = c.str.replace_all(thousands, "", literal=True)
    c = c.str.replace_all("\u00a0", "", literal=True)
    c = c.filter(c.is_not_null() & (c != ""))
    if not len(c):
        return "blank", None
    bad = c.filter(c.cast(pl.Int64, strict=False).is_null() & ~c.str.contains(_GROUPED))
    if len(bad) * 2 <= len(c):
        return "count", None
    decimal = bad.str.replace(",", ".", literal=True).cast(pl.Float64, strict=False).is_not_null()
    return ("decimal" if decimal.sum() * 2 > len(bad) else "text"), bad[0]


def _candidate_columns(mapping: Mapping, df: pl.DataFrame, pool: list[str], used: set[str], source: str,
                       thousands: str | None, explicit: tuple[str, ...], losers: dict[str, str]
                       ) -> tuple[list[str], dict[str, str], list[DataIssue], list[DataIssue]]:
    """Candidate columns: the mapping's list, or (``rest``) every column of ``pool`` left over
    that holds counts and is no protocol line or identifier. Returns the refused ones with why."""
    issues: list[DataIssue] = []
    notes: list[DataIssue] = []
    refused: dict[str, str] = {}
    header = _header(df)
    if explicit:
        missing = [c for c in explicit if c not in header]
        issues += [DataIssue(source, "missing candidate column", line=1, column=c, expected=f"a column named {c!r}",
                             value=_preview(header)) for c in missing]
        for c in explicit:
            kind = classify_column(c)
            if c in header and kind not in (None, "id", "text"):
                notes.append(DataIssue(source, f"the mapping lists a protocol line ({kind}) as a candidate", line=1,
                                       column=c, kind="warning", hint="check [candidates] columns"))
        return [c for c in explicit if c in header], refused, issues, notes
    ignore = set(mapping.candidates_ignore)
    cols = []
    for h in pool:
        if h in used:
            continue
        if h in ignore:
            refused[h] = "ignored by the mapping"
            continue
        if h in losers:
            refused[h] = f"matched [fields] {losers[h]}, but another column matched it better"
            continue
        kind = classify_column(h)
        if kind in ("id", "text"):
            refused[h] = f"{'identifier' if kind == 'id' else 'text'} header ({header_role(h) or kind})"
            continue
        if kind is not None:
            refused[h] = "protocol line" + ("" if kind == "protocol" else f" ({kind}, already mapped or not needed)")
            continue
        what, example = _text_example(df[h], thousands)
        if what == "text":
            refused[h] = f"text, not counts (e.g. {example[:60]!r})"
        elif what == "decimal":
            refused[h] = f"decimal numbers (a share or percentage?), not counts (e.g. {example[:60]!r})"
        elif what == "blank":
            refused[h] = "every cell is blank"
        else:
            cols.append(h)
    if not cols:
        issues.append(DataIssue(source, "no candidate columns left after mapping the protocol fields", line=1,
                                value="; ".join(f"{c}: {why}" for c, why in list(refused.items())[:12]) or None,
                                hint=f'list them in the mapping: [candidates] columns = ["...", "..."]; {_DOCS}'))
    return cols, refused, issues, notes


# -- cells ---------------------------------------------------------------------------------------

def _parse_counts(df: pl.DataFrame, col: str, out_name: str, source: str, thousands: str | None,
                  lines: np.ndarray) -> tuple[pl.Series, list[DataIssue]]:
    """Parse a column of counts to Int64 (blank → null); collect every cell that is not a whole
    number ≥ 0, with its source line."""
    s = df[col]
    if s.dtype == pl.Utf8 and not thousands:
        direct = s.cast(pl.Int64, strict=False)
        if direct.null_count() == s.null_count():  # every cell a plain integer (or null): skip the slow path
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
        parsed = pl.Series(np.where(nan | ~integral, 0, f).astype(np.int64)).set(pl.Series(nan) | bad, None)
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
        issues = [DataIssue(source, f"{out_name} is not a count", line=int(lines[i]), column=col,
                            value="" if v is None else v, expected=_INT_EXPECTED, hint=hint)
                  for i, v in zip(idx.tolist(), vals, strict=True)]
    return parsed.alias(out_name), issues


def _evoting_rows(df: pl.DataFrame, mapping: Mapping) -> np.ndarray:
    """Rows whose station, commission, district, region or level label names remote e-voting."""
    header = _header(df)
    cols = [c for c in header if c in mapping.station_id or c in mapping.hierarchy
            or header_role(c) in ("level", "station", "district", "commission", "region", "name")]
    extra = [x.casefold() for x in mapping.exclusions.get("evoting_labels", ())]
    mask = np.zeros(df.height, dtype=bool)
    for c in cols:
        s = df[c].cast(pl.Utf8)
        labels = s.unique().drop_nulls().to_list()
        hit = [v for v in labels if is_evoting_label(v) or any(x in v.casefold() for x in extra)]
        if hit:
            mask |= s.is_in(hit).fill_null(False).to_numpy()
    return mask


def _station_ids(df: pl.DataFrame, cols: tuple[str, ...], source: str, lines: np.ndarray,
                 pseudo: dict[str, np.ndarray]) -> tuple[pl.Series, list[DataIssue]]:
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
                issues.append(DataIssue(source, "duplicate station id", line=int(lines[i]), column="+".join(cols),
                                        value=v, expected=f"a unique id (first seen on line {first[v]})"))
            else:
                first[v] = int(lines[i])
    hint = ("totals of a higher level (region, commission)? leave them out with [station] blank_id = \"skip\" "
            '(or, with a level column, [station] level = { column = "...", value = "..." }); e-voting rows are '
            "recognised by a label naming remote electronic voting ([exclusions] evoting_labels)")
    issues += [DataIssue(source, "empty station id" if len(cols) == 1 else "empty station id (one of its columns is blank)",
                         line=int(lines[i]), column="+".join(cols), value=v,
                         expected="a value in every station-id column", hint=hint)
               for i, v in zip(np.flatnonzero(empty).tolist(), sid.filter(pl.Series(empty)).to_list(), strict=True)]
    return sid, issues


def _blank_findings(fields: dict[str, pl.Series], found: dict[str, str], cands: list[tuple[str, str]],
                    no_results: np.ndarray, lines: np.ndarray, source: str
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
            out += [DataIssue(source, f"{key} is blank while the station has other results; station excluded "
                                      "(missing_counts)", line=int(lines[i]), column=found[key], value="",
                              expected=_INT_EXPECTED, kind="warning") for i in idx]
        else:
            out.append(DataIssue(source, f"{key} is blank at {len(idx):,} stations that have results "
                                         f"(lines {_lines_text(lines[idx])}); kept as missing, not as 0",
                                 line=int(lines[idx[0]]), column=found[key], value="", kind="warning"))
    for cid, col in cands:
        nul = fields[cid].is_null().to_numpy() & ~no_results
        if nul.any():
            idx = np.flatnonzero(nul)
            out.append(DataIssue(source, f"no votes given for {col!r} at {len(idx):,} stations that have results "
                                         f"(lines {_lines_text(lines[idx])}); read as 0 votes there",
                                 line=int(lines[idx[0]]), column=col, value="", kind="warning",
                                 hint="fine if the candidate did not stand there; otherwise check the file"))
    return missing, out


def _derive(mapping: Mapping, df: pl.DataFrame, series: dict[str, pl.Series], found: dict[str, str],
            cand_ids: list[str], source: str, thousands: str | None, lines: np.ndarray
            ) -> tuple[dict[str, str], list[DataIssue], list[DataIssue]]:
    """Compute ``[derive]`` fields that no column provides (in mapping order); nulls propagate.

    A field that ``[fields]`` does find in the file is read from its column: ``[derive]`` is the
    fallback (so one preset reads both elections with a valid line and referendums without).
    """
    done: dict[str, str] = {}
    issues: list[DataIssue] = []
    notes: list[DataIssue] = []
    header = _header(df)
    for key, d in mapping.derive.items():
        if key in found:  # [derive] is the fallback when [fields] finds no column
            continue
        total: pl.Series | None = None
        ok = True
        for sign, kind, name in d.terms:
            if kind == "candidates":
                if not cand_ids:
                    ok = False
                    issues.append(DataIssue(source, f"[derive] {key} = {d.text}: there are no candidates", line=1))
                    continue
                frame = pl.DataFrame([series[c] for c in cand_ids])
                term = frame.select(pl.when(pl.all_horizontal(pl.all().is_null())).then(None)
                                    .otherwise(pl.sum_horizontal(pl.all())).alias("t"))["t"].cast(pl.Int64)
            elif kind == "field":
                if name not in series:
                    ok = False
                    issues.append(DataIssue(source, f"[derive] {key} = {d.text}: the field {name!r} is not in the file",
                                            line=1, expected="a field mapped in [fields] or derived above"))
                    continue
                term = series[name]
            else:
                if name not in header:
                    ok = False
                    issues.append(DataIssue(source, f"[derive] {key} = {d.text}: no column named {name!r}", line=1,
                                            value=_preview(header)))
                    continue
                term, iss = _parse_counts(df, name, key, source, thousands, lines)
                issues += iss
            term = term if sign > 0 else -term
            total = term if total is None else total + term
        if ok and total is not None:
            series[key] = total.alias(key)
            done[key] = d.text
    return done, issues, notes


def _implausible(series: dict[str, pl.Series], cols: dict[str, str], evoting: np.ndarray, lines: np.ndarray,
                 plaus: dict, source: str) -> tuple[np.ndarray, list[DataIssue]]:
    """Counts no polling station can have: above ``max_count``, registered above
    ``max_registered`` (ordinary stations), ballots or votes above ``max_ratio`` × registered.

    Such a station stays in the model, excluded (``implausible_count``), one finding per cell.
    The check is elementwise: nothing here (or anywhere in ingest) allocates by a count's value.
    """
    max_count, max_reg, ratio = int(plaus["max_count"]), int(plaus["max_registered"]), float(plaus["max_ratio"])
    reg = series["registered"].fill_null(0).to_numpy() if "registered" in series else None
    mask = np.zeros(len(lines), dtype=bool)
    out: list[DataIssue] = []
    for name, col in cols.items():
        if name not in series:
            continue
        v = series[name].fill_null(0).to_numpy()
        over = v > max_count
        big = (v > max_reg) & ~evoting & ~over if name == "registered" else None
        ratio_hit = None
        if reg is not None and (name in _COUNT_LIKE_CAST or name.startswith("cand_")):
            ratio_hit = (reg > 0) & (v > ratio * reg.astype(np.float64)) & ~over
        hit = over | (big if big is not None else False) | (ratio_hit if ratio_hit is not None else False)
        for i in np.flatnonzero(hit).tolist():
            if over[i]:
                why = f"at most {max_count:,} at one station"
            elif big is not None and big[i]:
                why = f"at most {max_reg:,} registered voters at an ordinary station"
            else:
                why = f"at most {ratio:g} × the registered voters ({int(reg[i]):,})"
            out.append(DataIssue(source, "a count no polling station can have; station excluded (implausible_count)",
                                 line=int(lines[i]), column=col, value=str(int(v[i])), expected=why, kind="warning",
                                 hint="if stations this large are real in this file, raise [plausibility] "
                                      "max_count / max_registered / max_ratio"))
        mask |= hit
    return mask, out


def _gates(table: pl.DataFrame, meta: ElectionMeta, found: dict[str, str], derived: dict[str, str],
           source: str, plaus: dict) -> tuple[list[DataIssue], dict[str, str]]:
    """Plausibility gates on the whole reading (analysable stations only).

    A reading in which candidates do not add up to the valid votes, a "candidate" has more votes
    than there are valid ballots, ballots cast and issued differ by more than a quarter, or more
    ballots are cast than voters registered, is not a reading of this file's protocols: most
    likely a protocol line was taken for a candidate or a field for another. It is refused, with
    the columns it used and how to fix the mapping.
    """
    ok = table[EXCLUSION].is_null().to_numpy()
    res: dict[str, str] = {}
    fails: list[DataIssue] = []
    n = int(ok.sum())
    if not n or not meta.candidates:
        res["stations"] = "no analysable stations: gates not applied"
        return fails, res
    ids = [c.id for c in meta.candidates]
    sub = table.filter(pl.Series(ok))
    votes = np.column_stack([sub[c].fill_null(0).to_numpy() for c in ids])
    valid = sub["valid"].fill_null(0).to_numpy()
    invalid = sub["invalid"].fill_null(0).to_numpy()
    reg = sub["registered"].fill_null(0).to_numpy()
    used = ", ".join(f"{k} = {v!r}" for k, v in found.items() if k in ("registered", "valid", "invalid"))
    used += "".join(f", {k} = {v} (derived)" for k, v in derived.items())
    cand_text = ", ".join(repr(c.source_column or c.name) for c in meta.candidates)
    reading = f"This reading used {used}; candidates {cand_text}"
    totals = votes.sum(axis=0)
    top = int(np.argmax(totals))
    top_name = meta.candidates[top].source_column or meta.candidates[top].name
    valid_col = found.get("valid", derived.get("valid", "valid"))

    def fail(gate: str, message: str, found_: str, expected: str, hint: str, column: str | None = None) -> None:
        fails.append(DataIssue(source, f"refused ({gate}): {message}", line=1, column=column, value=found_,
                               expected=expected, hint=f"{hint}. {reading}. Mappings: {_DOCS}"))
        res[gate] = f"failed: {found_}"

    ignore_fix = f'[candidates] ignore = ["{top_name}"] or list them: [candidates] columns = ["...", "..."]'
    valid_sum = int(valid.sum())
    if "candidates" not in derived.get("valid", "") and "valid" in found:
        s = votes.sum(axis=1)
        off = s != valid
        share_off = float(off.mean())
        # a misreading breaks the sum at (nearly) every station; a few broken protocols are findings for
        # `validate`, not a reason to refuse the file
        if share_off > float(plaus["sum_tolerance"]) and int(off.sum()) >= int(plaus["min_stations"]):
            over = float((s > valid).mean())
            tot = int(s.sum())
            fail("candidates_sum_valid",
                 f"the candidates' votes do not add up to the valid votes at {100 * share_off:.1f} % of "
                 f"{n:,} stations ({'more' if over >= share_off / 2 else 'fewer'} than valid at most of them; "
                 f"all candidates {tot:,} vs valid {valid_sum:,})",
                 f"{100 * share_off:.1f} % of stations", f"at most {100 * float(plaus['sum_tolerance']):g} %",
                 (f"a protocol line taken as a candidate? the largest 'candidate' is {top_name!r}; {ignore_fix} "
                  "(if each voter may mark several candidates, set [plausibility] sum_tolerance = 1)"
                  if tot > valid_sum else
                  "a candidate missing, 'valid' the wrong column ([fields] valid = \"exact column name\"), or valid "
                  "votes that include blank votes or another line (make it a candidate in [candidates] columns, or "
                  "set [plausibility] sum_tolerance = 1 if the gap is real)"),
                 column=valid_col)
        else:
            res["candidates_sum_valid"] = f"ok: they add up at {100 * (1 - share_off):.1f} % of {n:,} stations"
    if valid_sum > 0:
        over_cols = [(meta.candidates[j].source_column or meta.candidates[j].name, int(totals[j]))
                     for j in range(len(ids)) if totals[j] > valid_sum]
        if over_cols:
            name, tot = over_cols[0]
            fail("candidate_le_valid", f"{name!r} has more votes than there are valid ballots "
                                       f"({100 * tot / valid_sum:.0f} % of the valid votes)",
                 f"{tot:,} votes", f"at most the {valid_sum:,} valid votes",
                 f"a protocol line taken as a candidate? [candidates] ignore = [\"{name}\"]", column=name)
        else:
            res["candidate_le_valid"] = f"ok: the largest has {100 * int(totals[top]) / valid_sum:.1f} % of valid"
    cast = int(valid.sum() + invalid.sum())
    parts = [p for p in ("ballots_issued_early", "ballots_issued_station", "ballots_issued_mobile") if p in sub.columns]
    few = n < int(plaus["min_stations"])  # national ratios of a handful of stations say little: not gated
    if few:
        res["stations"] = f"{n} analysable stations: the national-ratio gates need {plaus['min_stations']}"
    if parts and cast > 0 and not few:
        issued = int(sum(int(sub[p].fill_null(0).sum()) for p in parts))
        r = cast / issued if issued else float("inf")
        if not 0.8 <= r <= 1.25:
            fail("issued_vs_cast", f"ballots cast ({cast:,}) and issued ({issued:,}) are not of the same order "
                                   f"(ratio {r:.2f})", f"ratio {r:.2f}", "between 0.8 and 1.25",
                 "is one of the ballots-issued lines ("
                 + ", ".join(f"{p} = {found.get(p, '?')!r}" for p in parts)
                 + ") another protocol line? name it exactly: [fields] ballots_issued_station = \"...\"",
                 column=" + ".join(found.get(p, p) for p in parts))
        else:
            res["issued_vs_cast"] = f"ok: cast / issued = {r:.3f}"
    reg_sum = int(reg.sum())
    if few:
        pass
    elif reg_sum > 0 and cast > 1.05 * reg_sum:
        fail("cast_le_registered", f"more ballots cast ({cast:,}) than voters registered ({reg_sum:,})",
             f"turnout {100 * cast / reg_sum:.0f} %", "at most 105 %",
             "is 'registered' the list of voters? [fields] registered = \"exact column name\"",
             column=found.get("registered"))
    elif reg_sum > 0:
        res["cast_le_registered"] = f"ok: turnout {100 * cast / reg_sum:.1f} %"
    return fails, res


# -- entry points ----------------------------------------------------------------------------------

def read_election(path: str | Path | pl.DataFrame, *, preset: str | None = None,
                  mapping: str | Path | Mapping | None = None, scrutiny: str | None = None,
                  source: str | None = None, **meta_overrides) -> Election:
    """Read official per-station results into an :class:`Election`.

    :param path: CSV/TSV (UTF-8 or cp1251; also inside a single-file .zip), XLSX or Parquet;
        or a Polars DataFrame (then ``source`` names it in messages; see :func:`read_frame`).
    :param preset: a shipped preset name; by default one is auto-detected from the header.
    :param mapping: a TOML mapping file (or a parsed :class:`Mapping`) for other layouts.
    :param scrutiny: candidate under scrutiny (default: the winner).
    :raises IngestError: listing every problem found (file, line, column, value, expectation),
        or the plausibility gate the reading failed, with the columns it used and the fix.

    The returned Election carries ``ingest_report``. Example::

        e = read_election("../shared/data/russia/president-2012.csv.zip")
        e.totals()["leader_votes"]   # 45602075
    """
    if isinstance(path, pl.DataFrame):
        return read_frame(path, preset=preset, mapping=mapping, scrutiny=scrutiny,
                          source=source or "<DataFrame>", **meta_overrides)
    t0 = time.perf_counter()
    path = Path(path)
    source = str(path)
    if not path.exists():
        raise IngestError(source, [DataIssue(source, "file not found")])
    if not path.is_file():
        raise IngestError(source, [DataIssue(source, "not a file", expected="a results file", value="a directory")])
    mapping = _mapping_arg(preset, mapping)
    src = mapping.source if mapping else {}
    try:
        df, fmt, encoding, digest = _read_source(path, src)
    except IngestError:
        raise
    except (OSError, ValueError, pl.exceptions.PolarsError, UnicodeDecodeError, zipfile.BadZipFile) as exc:
        raise IngestError(source, [DataIssue(source, f"cannot be read as a table: {exc}",
                                             hint="check the file format and encoding")]) from None
    return _ingest(df, source=source, fmt=fmt, encoding=encoding, digest=digest, mapping=mapping,
                   scrutiny=scrutiny, meta_overrides=meta_overrides, default_name=path.name, t0=t0)


def read_frame(df: pl.DataFrame, *, mapping: str | Path | Mapping | None = None, preset: str | None = None,
               source: str = "<DataFrame>", scrutiny: str | None = None, **meta_overrides) -> Election:
    """Read results already in memory (one row per station, or per station and candidate with
    ``[long]``) through a mapping or preset, exactly as a file would be read. A pandas
    DataFrame is converted with ``pl.from_pandas``.

    Line numbers in messages are the row's position + 2 (as if the frame were a CSV with a header).
    Example::

        e = read_frame(df, mapping="mapping.toml", source="results 2024")
    """
    t0 = time.perf_counter()
    if not isinstance(df, pl.DataFrame):
        if type(df).__module__.startswith("pandas"):
            df = pl.from_pandas(df)
        else:
            raise TypeError(f"df must be a polars (or pandas) DataFrame, got {type(df).__name__}")
    mapping = _mapping_arg(preset, mapping)
    digest = hashlib.sha256(df.hash_rows(seed=0).to_numpy().tobytes()
                            + "\x1f".join(df.columns).encode()).hexdigest() if df.height else _sha256(b"")
    return _ingest(df, source=source, fmt="dataframe", encoding=None, digest=digest, mapping=mapping,
                   scrutiny=scrutiny, meta_overrides=meta_overrides, default_name=source, t0=t0)


def _mapping_arg(preset: str | None, mapping: str | Path | Mapping | None) -> Mapping | None:
    if isinstance(mapping, (str, Path)):
        mapping = load_mapping(mapping)
    if preset is not None and mapping is not None:
        raise ConfigError("give either a preset or a mapping, not both")
    if preset is not None:
        mapping = load_preset(preset)
    return mapping


def _ingest(df: pl.DataFrame, *, source: str, fmt: str, encoding: str | None, digest: str, mapping: Mapping | None,
            scrutiny: str | None, meta_overrides: dict, default_name: str, t0: float) -> Election:
    # polars keeps doubled quotes inside quoted header cells; unescape them as CSV intends
    df = df.rename({c: c.replace('""', '"').strip() for c in df.columns if c != c.replace('""', '"').strip()})
    rows_read = df.height
    df = df.with_columns(pl.Series(_LINE, np.arange(2, df.height + 2, dtype=np.int64)))
    header = _header(df)
    if mapping is None:
        mapping = detect_preset(header)
        if mapping is None:
            raise IngestError(source, [DataIssue(
                source, "the column layout matches no preset", line=1, value=_preview(header),
                expected="a known layout, or a mapping file",
                hint=f"write a TOML mapping and pass --mapping FILE ({_DOCS})")])
    thousands = mapping.source.get("thousands")
    warnings: list[DataIssue] = []

    df, skipped, chosen, issues = _select_rows(df, mapping, source)
    if issues:
        raise IngestError(source, issues)
    parties = dict(mapping.candidate_parties)
    explicit = mapping.candidate_columns
    pool = header
    if mapping.long is not None:
        df, labels, long_parties, issues, notes = _pivot_long(df, mapping, source, thousands)
        warnings += notes
        if issues:
            raise IngestError(source, issues)
        parties.update(long_parties)
        pool = labels
    header = _header(df)
    lines = df[_LINE].to_numpy()

    found, issues, notes, losers = _resolve(mapping, header, source)
    warnings += notes
    used = set(found.values()) | set(mapping.station_id) | set(mapping.hierarchy)
    used |= {t[2] for d in mapping.derive.values() for t in d.terms if t[1] == "column"}
    cand_cols, refused, cissues, notes = _candidate_columns(mapping, df, pool, used, source, thousands, explicit,
                                                                losers)
    issues += cissues
    warnings += notes
    if issues:  # structural problems: stop before reading cells
        raise IngestError(source, issues)

    evoting = _evoting_rows(df, mapping)
    series: dict[str, pl.Series] = {}
    for key, col in found.items():
        s, iss = _parse_counts(df, col, key, source, thousands, lines)
        series[key] = s
        issues += iss
    candidates = []
    for i, col in enumerate(cand_cols):
        cid = f"cand_{i:02d}"
        s, iss = _parse_counts(df, col, cid, source, thousands, lines)
        for d in iss:
            object.__setattr__(d, "message", f"votes for {col!r} are not a count")
        series[cid] = s
        issues += iss
        candidates.append(Candidate(cid, mapping.candidate_names.get(col, col), parties.get(col), col))
    cand_ids = [c.id for c in candidates]
    derived, diss, notes = _derive(mapping, df, series, found, cand_ids, source, thousands, lines)
    issues += diss
    warnings += notes
    if not diss:
        issues += [DataIssue(source, f"no column or derivation for the required field {key!r}", line=1,
                             hint=f'map it: [fields] {key} = "..." or [derive] {key} = "..."; {_DOCS}')
                   for key, f in FIELD_BY_NAME.items() if f.required and key not in series]
    all_blank = (np.logical_and.reduce([series[c].is_null().to_numpy() for c in cand_ids])
                 if cand_ids else np.zeros(len(lines), dtype=bool))
    if mapping.blank_id == "skip":  # totals rows of higher levels: left out and counted, not stations
        blank = df.select(pl.any_horizontal([pl.col(c).cast(pl.Utf8).str.strip_chars().fill_null("") == ""
                                             for c in mapping.station_id])).to_series().to_numpy()
        drop = blank & ~evoting & ~all_blank
        if drop.any():
            skipped[f"blank {'+'.join(mapping.station_id)} (totals of a higher level)"] = int(drop.sum())
            keep = ~drop
            df = df.filter(pl.Series(keep))
            series = {k: s.filter(pl.Series(keep)) for k, s in series.items()}
            lines, evoting, all_blank = lines[keep], evoting[keep], all_blank[keep]
            kept = set(lines.tolist())
            issues = [i for i in issues if i.line is None or i.line == 1 or i.line in kept]
    sid, sid_issues = _station_ids(df, mapping.station_id, source, lines,
                                   {"e-voting": evoting, "no-results": all_blank & ~evoting})
    issues = sid_issues + issues
    if issues:
        raise IngestError(source, issues)
    missing, blank_notes = _blank_findings(series, found, [(c.id, c.source_column or c.name) for c in candidates],
                                           all_blank | evoting, lines, source)
    count_cols = {**found, **{k: f"{k} (derived)" for k in derived},
                  **{c.id: c.source_column or c.name for c in candidates}}
    implausible, odd = _implausible(series, count_cols, evoting, lines, mapping.plausibility, source)
    findings = blank_notes + odd

    cols: list[pl.Series] = [sid]
    for lvl in mapping.hierarchy:
        cols.append(df[lvl].cast(pl.Utf8).str.strip_chars().alias(lvl))
    cols += [series[k] for k in FIELD_BY_NAME if k in series]
    cols += [series[c] for c in cand_ids]
    cols.append(pl.Series(SOURCE_LINE, lines))
    table = pl.DataFrame(cols)
    if mapping.options.get("station_issued_includes_mobile") and {"ballots_issued_station", "ballots_issued_mobile"} <= set(found):
        table = table.with_columns((pl.col("ballots_issued_station") - pl.col("ballots_issued_mobile").fill_null(0))
                                   .alias("ballots_issued_station"))

    el = dict(mapping.election)
    el.update({k: v for k, v in meta_overrides.items() if v is not None})
    meta = ElectionMeta(
        country=str(el.get("country", "")), date=str(el.get("date", "")), type=str(el.get("type", "")),
        name=str(el.get("name", default_name)), candidates=tuple(candidates), hierarchy=tuple(mapping.hierarchy),
        scrutiny=None, source=source, profile=str(el.get("profile", el.get("country", "generic") or "generic")),
    )
    exclusion = exclusion_expr(table, meta, mapping.exclusions.get("evoting_min_registered"),
                               tuple(mapping.exclusions.get("evoting_labels", ())),
                               marks={"evoting": evoting, "implausible_count": implausible, "missing_counts": missing})
    table = table.with_columns(exclusion.alias(EXCLUSION))
    gate_fails, gates = _gates(table, meta, found, derived, source, mapping.plausibility)
    if gate_fails and not mapping.plausibility.get("enforce", True):
        findings += [DataIssue(**{**d.to_dict(), "kind": "warning"}) for d in gate_fails]
        gate_fails = []
    ignored = tuple(h for h in header if h not in used and h not in cand_cols)
    warnings += [DataIssue(source, "column not used by the mapping" + (f": {refused[h]}" if h in refused else ""),
                           line=1, column=h, kind="warning") for h in ignored]
    report = IngestReport(
        source=source, sha256=digest, format=fmt, encoding=encoding, mapping=mapping.name, rows=table.height,
        columns=found, candidates=tuple(c.name for c in candidates), ignored_columns=ignored,
        exclusions={}, issues=tuple(gate_fails), warnings=tuple(warnings), seconds=time.perf_counter() - t0,
        findings=tuple(findings), rest_taken=tuple(cand_cols) if not explicit else (),
        rest_refused=refused, rows_read=rows_read, rows_skipped=skipped, rows_selected=chosen,
        derived=derived, gates=gates,
    )
    if gate_fails:
        raise IngestError(source, gate_fails, report)
    election = Election(table, meta)
    election = election.with_scrutiny(scrutiny) if scrutiny else election
    object.__setattr__(report, "exclusions", election.exclusion_counts())
    object.__setattr__(report, "seconds", time.perf_counter() - t0)
    election.ingest_report = report
    return election
