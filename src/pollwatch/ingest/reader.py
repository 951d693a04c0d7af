"""Read a results file (CSV/TSV/ZIP/XLSX/Parquet) or a DataFrame through a mapping into an Election.

The entry points and the order of the steps live here: read the table, choose the station rows
(``rows``), pivot a long layout (``long``), find the columns (``columns``), parse the cells
(``cells``), then the plausibility checks (``gates``) before building the Election and its report.
"""

from __future__ import annotations

import hashlib
import io
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import polars as pl

from pollwatch.errors import ConfigError, DataIssue, IngestError
from pollwatch.i18n import N_, note
from pollwatch.ingest._common import LINE, MAPPING_DOCS, preview, source_columns
from pollwatch.ingest.cells import blank_findings, parse_counts
from pollwatch.ingest.columns import candidate_columns, derive_fields, resolve_fields
from pollwatch.ingest.gates import implausible_counts, national_gates
from pollwatch.ingest.long import pivot_long
from pollwatch.ingest.mapping import Mapping, detect_preset, load_mapping, load_preset
from pollwatch.ingest.report import IngestReport
from pollwatch.ingest.rows import (
    evoting_rows,
    no_result_rows,
    select_rows,
    station_ids,
    totals_rows,
)
from pollwatch.ingest.sniff import sniff
from pollwatch.ingest.vocabulary import header_role
from pollwatch.model.derived import exclusion_expr
from pollwatch.model.election import (
    EXCLUSION,
    SOURCE_LINE,
    SOURCE_URL,
    Candidate,
    Election,
    ElectionMeta,
)
from pollwatch.model.fields import FIELD_BY_NAME


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
        sep = (
            "\t"
            if name.lower().endswith((".tsv", ".tab")) or first.count(b"\t") > first.count(b",")
            else ","
        )
        if sep == "," and first.count(b";") > first.count(b","):
            sep = ";"
    df = pl.read_csv(io.BytesIO(raw), separator=sep, infer_schema=False, quote_char='"')
    return df, encoding


def _read_source(path: Path, src: dict) -> tuple[pl.DataFrame, str, str | None, str]:
    raw = path.read_bytes()
    digest = _sha256(raw)
    name, raw = sniff(
        path, raw, src
    )  # unpacks .zip/.gz; plain IngestError for binary, empty, header-only
    low = name.lower()
    if low.endswith(".parquet"):
        return pl.read_parquet(io.BytesIO(raw)), "parquet", None, digest
    if low.endswith((".xlsx", ".xlsm", ".xls")):
        try:
            df = (
                pl.read_excel(io.BytesIO(raw), sheet_name=src.get("sheet"), infer_schema_length=0)
                if src.get("sheet")
                else pl.read_excel(io.BytesIO(raw), infer_schema_length=0)
            )
        except Exception as exc:  # calamine raises its own error types for corrupt workbooks
            raise ValueError(
                f"not a readable XLSX workbook ({type(exc).__name__}: {exc})"
            ) from None
        return df, "xlsx", None, digest
    df, enc = _read_csv(name, raw, src)
    return df, "csv", enc, digest


# -- entry points ----------------------------------------------------------------------------------


def read_election(
    path: str | Path | pl.DataFrame,
    *,
    preset: str | None = None,
    mapping: str | Path | Mapping | None = None,
    scrutiny: str | None = None,
    source: str | None = None,
    **meta_overrides,
) -> Election:
    """Read official per-station results into an :class:`Election`.

    The file's layout is recognised from its header (a shipped preset), or described by a
    mapping. Every problem is reported at once with file, line, column, value and what was
    expected; nothing is dropped silently (stations left out of the analysis are listed in
    ``election.ingest_report`` with the reason).

    Parameters
    ----------
    path : str, Path or polars.DataFrame
        CSV/TSV (UTF-8 or cp1251, also inside a single-file ``.zip``), XLSX or Parquet; or a
        Polars DataFrame already in memory (``source`` then names it in messages, see
        :func:`read_frame`).
    preset : str, optional
        A shipped preset name (``russia_cec``, ``azerbaijan_pec``); by default one is
        detected from the header.
    mapping : str, Path or Mapping, optional
        A TOML mapping file (``docs/mapping.md``), or a parsed :class:`Mapping`, for any
        other layout. ``pollwatch mapping draft FILE`` writes a first draft.
    scrutiny : str, optional
        The candidate under scrutiny (default: the winner).
    source : str, optional
        The name used in messages when ``path`` is a DataFrame.
    **meta_overrides
        Election metadata that overrides the mapping's (``name``, ``country``, ``date``, …).

    Returns
    -------
    Election
        One row per polling station, with ``ingest_report`` describing what was read,
        derived, excluded and why.

    Raises
    ------
    IngestError
        Listing every problem found, or the plausibility gate the reading failed, with the
        columns it used and the one-line fix.

    See Also
    --------
    read_frame : the same for a DataFrame.
    pollwatch.validate : protocol arithmetic on the result.

    Examples
    --------
    >>> import tempfile
    >>> from pollwatch import read_election, simulate_election
    >>> written = simulate_election(500, seed=2).write(tempfile.mkdtemp())
    >>> e = read_election(written["results.csv"], mapping=written["mapping.toml"])
    >>> e.totals()["stations"]
    500
    """
    if isinstance(path, pl.DataFrame):
        return read_frame(
            path,
            preset=preset,
            mapping=mapping,
            scrutiny=scrutiny,
            source=source or "<DataFrame>",
            **meta_overrides,
        )
    t0 = time.perf_counter()
    path = Path(path)
    source = str(path)
    if not path.exists():
        raise IngestError(source, [DataIssue(source, "file not found")])
    if not path.is_file():
        raise IngestError(
            source,
            [DataIssue(source, "not a file", expected="a results file", value="a directory")],
        )
    mapping = _mapping_arg(preset, mapping)
    src = mapping.source if mapping else {}
    try:
        df, fmt, encoding, digest = _read_source(path, src)
    except IngestError:
        raise
    except (
        OSError,
        ValueError,
        pl.exceptions.PolarsError,
        UnicodeDecodeError,
        zipfile.BadZipFile,
    ) as exc:
        raise IngestError(
            source,
            [
                DataIssue(
                    source,
                    f"cannot be read as a table: {exc}",
                    hint="check the file format and encoding",
                )
            ],
        ) from None
    return _ingest(
        df,
        source=source,
        fmt=fmt,
        encoding=encoding,
        digest=digest,
        mapping=mapping,
        scrutiny=scrutiny,
        meta_overrides=meta_overrides,
        default_name=path.name,
        t0=t0,
    )


def read_frame(
    df: pl.DataFrame,
    *,
    mapping: str | Path | Mapping | None = None,
    preset: str | None = None,
    source: str = "<DataFrame>",
    scrutiny: str | None = None,
    **meta_overrides,
) -> Election:
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
    digest = (
        hashlib.sha256(
            df.hash_rows(seed=0).to_numpy().tobytes() + "\x1f".join(df.columns).encode()
        ).hexdigest()
        if df.height
        else _sha256(b"")
    )
    return _ingest(
        df,
        source=source,
        fmt="dataframe",
        encoding=None,
        digest=digest,
        mapping=mapping,
        scrutiny=scrutiny,
        meta_overrides=meta_overrides,
        default_name=source,
        t0=t0,
    )


def read_columns(path: str | Path, mapping: str | Path | Mapping) -> tuple[pl.DataFrame, list[str]]:
    """A file's columns named as pollwatch names them, through a mapping, without building an
    election: for files that share the official layout but not all of its lines (tally sheets
    photographed at the stations, which may not show the registered voters). Returns the frame
    (``station_id``, each protocol line the mapping finds under its field name, each candidate
    column under the candidate's name, every other column under its own header) and the
    candidates' names. Every protocol line is optional here; a missing station id or candidate column, a
    blank or repeated station id is an :class:`IngestError` naming file, line and column.
    Cells are left as read: the caller checks them (``census.sheets_from_frame`` does)."""
    path = Path(path)
    mapping = load_mapping(mapping) if isinstance(mapping, (str, Path)) else mapping
    source = str(path)
    try:
        df, _, _, _ = _read_source(path, mapping.source)
    except ValueError as exc:
        raise IngestError(source, [DataIssue(source, str(exc))]) from None
    df = df.with_columns(pl.Series(LINE, np.arange(2, df.height + 2, dtype=np.int64)))
    header = source_columns(df)
    lenient = replace(
        mapping, fields={k: replace(spec, optional=True) for k, spec in mapping.fields.items()}
    )
    found, issues, _, losers = resolve_fields(lenient, header, source)
    missing_id = [c for c in mapping.station_id if c not in header]
    issues += [
        DataIssue(
            source,
            "missing station id column",
            line=1,
            column=c,
            expected="the mapping's [station] id columns",
            value=preview(header),
        )
        for c in missing_id
    ]
    used = set(found.values()) | set(mapping.station_id) | set(mapping.hierarchy)
    cand_cols, _, cissues, _ = candidate_columns(
        lenient,
        df,
        header,
        used,
        source,
        mapping.source.get("thousands"),
        mapping.candidate_columns,
        losers,
    )
    issues += cissues
    if issues:
        raise IngestError(source, issues)
    lines = df[LINE].to_numpy()
    sid, sid_issues = station_ids(df, mapping.station_id, source, lines, {})
    if sid_issues:
        raise IngestError(source, sid_issues)
    names = [mapping.candidate_names.get(c, c) for c in cand_cols]
    named = ["station_id", *found, *names]
    # the columns the mapping does not name stay under their own header (a sheets-only line
    # such as ballots_in_boxes, a note): the caller decides what they are
    others = [h for h in header if h not in used and h not in cand_cols and h not in named]
    out = pl.DataFrame(
        [
            sid.alias("station_id"),
            *(df[col].alias(key) for key, col in found.items()),
            *(df[c].alias(n) for c, n in zip(cand_cols, names, strict=True)),
            *(df[h] for h in others),
        ]
    )
    return out, names


def _mapping_arg(preset: str | None, mapping: str | Path | Mapping | None) -> Mapping | None:
    if isinstance(mapping, (str, Path)):
        mapping = load_mapping(mapping)
    if preset is not None and mapping is not None:
        raise ConfigError("give either a preset or a mapping, not both")
    if preset is not None:
        mapping = load_preset(preset)
    return mapping


def _ingest(
    df: pl.DataFrame,
    *,
    source: str,
    fmt: str,
    encoding: str | None,
    digest: str,
    mapping: Mapping | None,
    scrutiny: str | None,
    meta_overrides: dict,
    default_name: str,
    t0: float,
) -> Election:
    # polars keeps doubled quotes inside quoted header cells; unescape them as CSV intends
    df = df.rename(
        {c: c.replace('""', '"').strip() for c in df.columns if c != c.replace('""', '"').strip()}
    )
    rows_read = df.height
    df = df.with_columns(pl.Series(LINE, np.arange(2, df.height + 2, dtype=np.int64)))
    header = source_columns(df)
    if mapping is None:
        mapping = detect_preset(header)
        if mapping is None:
            raise IngestError(
                source,
                [
                    DataIssue(
                        source,
                        "the column layout matches no preset",
                        line=1,
                        value=preview(header),
                        expected="a known layout, or a mapping file",
                        hint=f"write a TOML mapping and pass --mapping FILE ({MAPPING_DOCS})",
                    )
                ],
            )
    thousands = mapping.source.get("thousands")
    warnings: list[DataIssue] = []

    df, skipped, chosen, issues = select_rows(df, mapping, source)
    if issues:
        raise IngestError(source, issues)
    parties = dict(mapping.candidate_parties)
    explicit = mapping.candidate_columns
    pool = header
    if mapping.long is not None:
        df, labels, long_parties, issues, notes = pivot_long(df, mapping, source, thousands)
        warnings += notes
        if issues:
            raise IngestError(source, issues)
        parties.update(long_parties)
        pool = labels
    header = source_columns(df)
    lines = df[LINE].to_numpy()

    found, issues, notes, losers = resolve_fields(mapping, header, source)
    warnings += notes
    used = set(found.values()) | set(mapping.station_id) | set(mapping.hierarchy)
    used |= {t[2] for d in mapping.derive.values() for t in d.terms if t[1] == "column"}
    cand_cols, refused, cissues, notes = candidate_columns(
        mapping, df, pool, used, source, thousands, explicit, losers
    )
    issues += cissues
    warnings += notes
    if issues:  # structural problems: stop before reading cells
        raise IngestError(source, issues)

    evoting = evoting_rows(df, mapping)
    series: dict[str, pl.Series] = {}
    for key, col in found.items():
        s, iss = parse_counts(df, col, key, source, thousands, lines)
        series[key] = s
        issues += iss
    candidates = []
    for i, col in enumerate(cand_cols):
        cid = f"cand_{i:02d}"
        s, iss = parse_counts(df, col, cid, source, thousands, lines)
        for d in iss:
            object.__setattr__(d, "message", f"votes for {col!r} are not a count")
        series[cid] = s
        issues += iss
        candidates.append(
            Candidate(cid, mapping.candidate_names.get(col, col), parties.get(col), col)
        )
    cand_ids = [c.id for c in candidates]
    derived, diss, notes = derive_fields(
        mapping, df, series, found, cand_ids, source, thousands, lines
    )
    issues += diss
    warnings += notes
    if not diss:
        issues += [
            DataIssue(
                source,
                f"no column or derivation for the required field {key!r}",
                line=1,
                hint=f'map it: [fields] {key} = "..." or [derive] {key} = "..."; {MAPPING_DOCS}',
            )
            for key, f in FIELD_BY_NAME.items()
            if f.required and key not in series
        ]
    all_blank = no_result_rows(series, cand_ids, len(lines))
    if (
        mapping.blank_id == "skip"
    ):  # totals rows of higher levels: left out and counted, not stations
        drop = totals_rows(df, mapping.station_id, evoting | all_blank)
        if drop.any():
            skipped[f"blank {'+'.join(mapping.station_id)} (totals of a higher level)"] = int(
                drop.sum()
            )
            keep = ~drop
            df = df.filter(pl.Series(keep))
            series = {k: s.filter(pl.Series(keep)) for k, s in series.items()}
            lines, evoting, all_blank = lines[keep], evoting[keep], all_blank[keep]
            kept = set(lines.tolist())
            issues = [i for i in issues if i.line is None or i.line == 1 or i.line in kept]
    sid, sid_issues = station_ids(
        df,
        mapping.station_id,
        source,
        lines,
        {"e-voting": evoting, "no-results": all_blank & ~evoting},
    )
    issues = sid_issues + issues
    if issues:
        raise IngestError(source, issues)
    missing, blank_notes = blank_findings(
        series,
        found,
        [(c.id, c.source_column or c.name) for c in candidates],
        all_blank | evoting,
        lines,
        source,
    )
    count_cols = {
        **found,
        **{k: f"{k} (derived)" for k in derived},
        **{c.id: c.source_column or c.name for c in candidates},
    }
    implausible, odd = implausible_counts(
        series, count_cols, evoting, lines, mapping.plausibility, source
    )
    findings = blank_notes + odd

    cols: list[pl.Series] = [sid]
    for lvl in mapping.hierarchy:
        cols.append(df[lvl].cast(pl.Utf8).str.strip_chars().alias(lvl))
    cols += [series[k] for k in FIELD_BY_NAME if k in series]
    cols += [series[c] for c in cand_ids]
    cols.append(pl.Series(SOURCE_LINE, lines))
    url_col = url_column(df, [h for h in header if h not in used and h not in cand_cols])
    if url_col is not None:  # kept for the report's links; still listed as not used for counts
        cols.append(df[url_col].cast(pl.Utf8).str.strip_chars().alias(SOURCE_URL))
    table = pl.DataFrame(cols)
    if mapping.options.get("station_issued_includes_mobile") and {
        "ballots_issued_station",
        "ballots_issued_mobile",
    } <= set(found):
        table = table.with_columns(
            (pl.col("ballots_issued_station") - pl.col("ballots_issued_mobile").fill_null(0)).alias(
                "ballots_issued_station"
            )
        )

    el = dict(mapping.election)
    el.update({k: v for k, v in meta_overrides.items() if v is not None})
    meta = ElectionMeta(
        country=str(el.get("country", "")),
        date=str(el.get("date", "")),
        type=str(el.get("type", "")),
        name=str(el.get("name", default_name)),
        candidates=tuple(candidates),
        round=str(el.get("round", "")),
        hierarchy=tuple(mapping.hierarchy),
        scrutiny=None,
        source=source,
        profile=str(el.get("profile", el.get("country", "generic") or "generic")),
    )
    exclusion = exclusion_expr(
        table,
        meta,
        mapping.exclusions.get("evoting_min_registered"),
        tuple(mapping.exclusions.get("evoting_labels", ())),
        marks={"evoting": evoting, "implausible_count": implausible, "missing_counts": missing},
    )
    table = table.with_columns(exclusion.alias(EXCLUSION))
    gate_fails, gates = national_gates(table, meta, found, derived, source, mapping.plausibility)
    if gate_fails and not mapping.plausibility.get("enforce", True):
        findings += [DataIssue(**{**d.to_dict(), "kind": "warning"}) for d in gate_fails]
        gate_fails = []
    ignored = tuple(h for h in header if h not in used and h not in cand_cols)
    warnings += [
        DataIssue(
            source,
            note(N_("column not used by the mapping: {why}"), why=refused[h])
            if h in refused
            else note(N_("column not used by the mapping")),
            line=1,
            column=h,
            kind="warning",
        )
        for h in ignored
    ]
    report = IngestReport(
        source=source,
        sha256=digest,
        format=fmt,
        encoding=encoding,
        mapping=mapping.name,
        rows=table.height,
        columns=found,
        candidates=tuple(c.name for c in candidates),
        ignored_columns=ignored,
        exclusions={},
        issues=tuple(gate_fails),
        warnings=tuple(warnings),
        seconds=time.perf_counter() - t0,
        findings=tuple(findings),
        rest_taken=tuple(cand_cols) if not explicit else (),
        rest_refused=refused,
        rows_read=rows_read,
        rows_skipped=skipped,
        rows_selected=chosen,
        derived=derived,
        gates=gates,
    )
    if gate_fails:
        raise IngestError(source, gate_fails, report)
    election = Election(table, meta)
    election = election.with_scrutiny(scrutiny) if scrutiny else election
    object.__setattr__(report, "exclusions", election.exclusion_counts())
    object.__setattr__(report, "seconds", time.perf_counter() - t0)
    election.ingest_report = report
    return election


def url_column(df: pl.DataFrame, candidates: list[str], sample: int = 200) -> str | None:
    """The column holding each station's web page, if the file has one: a header named like a
    link (``url``, ``link``, ``ссылка`` …; :func:`~pollwatch.ingest.vocabulary.header_role`)
    with at least one http(s) value, else the first column whose first ``sample`` non-blank
    values are at least 90 % http(s) URLs. The values are untrusted text; the report links
    only http(s) URLs."""

    def url_share(col: str) -> float:
        vals = df[col].cast(pl.Utf8, strict=False).drop_nulls().str.strip_chars()
        vals = vals.filter(vals != "").head(sample)
        if vals.len() == 0:
            return 0.0
        hits = vals.str.contains(r"(?i)^https?://\S+$")
        return int(hits.sum()) / vals.len()

    named = [c for c in candidates if header_role(c) == "url"]
    for c in named:
        if url_share(c) > 0:
            return c
    for c in candidates:
        if c not in named and url_share(c) >= 0.9:
            return c
    return None
