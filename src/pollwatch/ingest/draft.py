"""Draft a TOML mapping from a results file's header and a sample of its rows.

Writing a mapping by hand means reading a header of 30 protocol lines in a foreign language
and guessing which is which. :func:`draft_mapping` does the first pass: every column is
recognised (a model field, an id or hierarchy column, a candidate or option, a text column,
a protocol line with no model field) or marked NOT recognised, and the TOML it writes says
which, in a comment above each entry, so that the user only has to check and correct.

Recognition, in order: the shipped preset whose ``detect`` matches the header (its own field
specs, station columns and options), a header that is a model field's name, and the
protocol-line vocabulary (:func:`pollwatch.ingest.vocabulary.classify_column`). Values in the
sample decide the rest: a text column is never a candidate; a column of counts that is
no protocol line is taken as a candidate.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pollwatch.errors import DataIssue, IngestError
from pollwatch.ingest.mapping import Mapping, detect_preset
from pollwatch.ingest.sniff import EXPECTED, sniff
from pollwatch.ingest.vocabulary import (
    classify_column,
    header_role,
    is_evoting_label,
    is_station_level,
    normalise,
)
from pollwatch.model.fields import FIELD_BY_NAME, FIELDS

#: written where a required field has no column; ingest then names it as missing
PLACEHOLDER = "??? name of the column"
_CSV_SAMPLE_BYTES = 4 * 1024 * 1024
_HIERARCHY_ROLES = ("region", "district", "commission")


@dataclass(frozen=True)
class ColumnReading:
    """What the draft made of one column, and the comment it writes about it."""

    column: str
    kind: str  # values in the sample: "count", "number", "text" or "empty"
    role: str  # "field", "station", "hierarchy", "candidate" or "ignore"
    field: str | None = None
    recognised: bool = True
    note: str = ""

    @property
    def comment(self) -> str:
        return f"# {'recognised' if self.recognised else 'NOT recognised'}: {self.note}"


@dataclass(frozen=True)
class Draft:
    """A drafted mapping: the TOML text and the reading of every column behind it."""

    source: str
    text: str
    columns: tuple[ColumnReading, ...]
    preset: str | None
    sample_rows: int
    missing_required: tuple[str, ...] = ()
    settings: dict[str, str] = field(default_factory=dict)
    derived: dict[str, str] = field(default_factory=dict)
    long: tuple[str, str, str | None] | None = None
    items: tuple[
        ColumnReading, ...
    ] = ()  # long layouts: what each value of the candidate column is

    @property
    def not_recognised(self) -> tuple[ColumnReading, ...]:
        return tuple(c for c in self.columns if not c.recognised)

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.text, encoding="utf-8")
        return path


# -- reading a sample ----------------------------------------------------------------------------


def _delimiter(first_line: bytes, name: str) -> str:
    """The same rule as the reader: tab for .tsv or a tab-heavy header, ';' if it beats ','."""
    if name.lower().endswith((".tsv", ".tab")) or first_line.count(b"\t") > first_line.count(b","):
        return "\t"
    return ";" if first_line.count(b";") > first_line.count(b",") else ","


def read_sample(path: str | Path, rows: int = 200) -> tuple[pl.DataFrame, dict[str, str], bool]:
    """The header and the first ``rows`` rows as text, the source settings found, and whether
    the file has more rows than the sample. Only the sample is parsed."""
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise IngestError(
            source,
            [
                DataIssue(
                    source,
                    "file not found" if not path.exists() else "not a file",
                    expected="a results file",
                )
            ],
        )
    name, raw = sniff(path, path.read_bytes())
    try:
        return _parse_sample(name, raw, rows)
    except (OSError, ValueError, UnicodeDecodeError, pl.exceptions.PolarsError) as exc:
        raise IngestError(
            source,
            [
                DataIssue(
                    source,
                    f"cannot be read as a table: {exc}",
                    expected=EXPECTED,
                    hint="check the file format and encoding",
                )
            ],
        ) from None
    except Exception as exc:  # calamine/fastexcel raise their own types for damaged workbooks
        raise IngestError(
            source,
            [
                DataIssue(
                    source,
                    f"cannot be read as a table ({type(exc).__name__}: {exc})",
                    expected=EXPECTED,
                    hint="open it in a spreadsheet program and save it "
                    "again as .xlsx, or export CSV",
                )
            ],
        ) from None


def _parse_sample(name: str, raw: bytes, rows: int) -> tuple[pl.DataFrame, dict[str, str], bool]:
    low = name.lower()
    settings: dict[str, str] = {}
    if low.endswith(".parquet"):
        df = pl.read_parquet(io.BytesIO(raw), n_rows=rows + 1)
        settings["format"] = "parquet"
    elif low.endswith((".xlsx", ".xlsm", ".xls")):
        df = pl.read_excel(
            io.BytesIO(raw), infer_schema_length=0, read_options={"n_rows": rows + 1}
        )
        settings["format"] = "xlsx"
        try:
            import fastexcel

            sheets = fastexcel.read_excel(raw).sheet_names
            settings["sheet"] = sheets[0]
            settings["sheets"] = ", ".join(sheets)
        except Exception:  # the sheet list is only for a comment
            pass
    else:
        chunk = raw[:_CSV_SAMPLE_BYTES]
        if len(raw) > len(chunk) and b"\n" in chunk:
            chunk = chunk[: chunk.rfind(b"\n") + 1]
        if chunk.startswith(b"\xef\xbb\xbf"):
            chunk = chunk[3:]
        try:
            chunk.decode("utf-8")
            settings["encoding"] = "utf-8"
        except UnicodeDecodeError:
            chunk = chunk.decode("cp1251", errors="replace").encode("utf-8")
            settings["encoding"] = "cp1251"
        first = chunk[: chunk.find(b"\n")] if b"\n" in chunk else chunk
        settings["delimiter"] = _delimiter(first, name)
        settings["format"] = "csv"
        df = pl.read_csv(
            io.BytesIO(chunk),
            separator=settings["delimiter"],
            infer_schema=False,
            quote_char='"',
            n_rows=rows + 1,
            truncate_ragged_lines=True,
        )
    df = df.rename(
        {c: c.replace('""', '"').strip() for c in df.columns if c != c.replace('""', '"').strip()}
    )
    more = df.height > rows
    df = df.head(rows).with_columns(pl.all().cast(pl.Utf8))
    return df, settings, more


_COUNT = re.compile(r"[+-]?\d+(?:\.0+)?")
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:([ ,\u00a0'])\d{3})+")
_NUMBER = re.compile(r"[+-]?\d*[.,]?\d+\s*%?")


def _value_kind(s: pl.Series) -> tuple[str, str | None]:
    """("count"|"number"|"text"|"empty", thousands separator seen or None) for a sample column."""
    vals = [v.strip() for v in s.drop_nulls().to_list() if v and v.strip()]
    if not vals:
        return "empty", None
    if all(_COUNT.fullmatch(v) for v in vals):
        return "count", None
    seps = set()
    for v in vals:
        if _COUNT.fullmatch(v):
            continue
        m = _GROUPED.fullmatch(v)
        if not m:
            break
        seps.add(m.group(1))
    else:
        if len(seps) == 1:
            return "count", seps.pop()
    if all(_NUMBER.fullmatch(v) for v in vals):
        return "number", None
    return "text", None


# -- recognising columns -------------------------------------------------------------------------


def _language(header: str) -> str:
    low = header.casefold()
    if re.search(r"[а-яё]", low):
        if "ў" in low:
            return "Belarusian"
        if re.search(r"[ієїґ]", low):
            return "Ukrainian"
        return "Russian"
    if re.search(r"[əığş]", low):
        return "Azerbaijani"
    if re.search(r"[ñáíóú¿]", low) or re.search(r"\b(?:votos|mesa|electores|boletas)\b", low):
        return "Spanish"
    if re.search(r"[éèêàç]", low) or re.search(r"\b(?:bulletins|inscrits|votants)\b", low):
        return "French"
    return "English"


_OPTION = re.compile(
    r"(?:да|нет|так|ні|yes|no|sí|si|oui|non|bəli|xeyr|против всех|against all)", re.I
)
_PARTY = re.compile(
    r"парти|\bparty|partido|\bparti\b|partiya|блок|\bbloc|движени|movement|кандидат|candidat|namizəd",
    re.I,
)
_PERSON = re.compile(
    r"(?:[A-ZА-ЯЁІЇЄҐƏ][a-zа-яёіїєґəğışöüçñáéíóú'’-]+\.?\s+){1,3}[A-ZА-ЯЁІЇЄҐƏ][a-zа-яёіїєґəğışöüçñáéíóú'’-]+\.?"
)


def _candidate_cue(header: str) -> str | None:
    """Why a column of counts reads as a candidate: an option word, a party word, a person's name."""
    h = header.strip()
    if _OPTION.fullmatch(h):
        return "ballot option (yes / no / against all)"
    if _PARTY.search(h):
        return "party or candidate (by its wording)"
    if _PERSON.fullmatch(h) and all(len(w.strip(".")) >= 2 for w in h.split()):
        return "candidate (a person's name)"
    return None


def _model_name(header: str) -> str | None:
    key = re.sub(r"[\s-]+", "_", header.strip().casefold())
    return key if key in FIELD_BY_NAME else None


def _short(header: str, n: int = 60) -> str:
    return header if len(header) <= n else header[: n - 1] + "…"


def _quote(s: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(s, ensure_ascii=False)


def _key(s: str) -> str:
    return s if re.fullmatch(r"[A-Za-z0-9_-]+", s) else _quote(s)


def _station_columns(
    header: list[str], df: pl.DataFrame, kinds: dict[str, str], preset: Mapping | None
) -> tuple[list[str], list[str], dict[str, str]]:
    """(id columns, hierarchy columns, note per column) from the preset or the header's roles."""
    if preset and all(c in header for c in (*preset.station_id, *preset.hierarchy)):
        given = {c: f'"{c}" -> station id column (preset {preset.name})' for c in preset.station_id}
        given.update(
            {c: f'"{c}" -> hierarchy level (preset {preset.name})' for c in preset.hierarchy}
        )
        return list(preset.station_id), list(preset.hierarchy), given
    roles: dict[str, str] = {}
    for h in header:
        c = classify_column(h)
        if _model_name(h) or (c not in (None, "id", "text")):
            continue
        role = header_role(h)
        if role and (
            c in ("id", "text") or kinds[h] == "text" or role in ("station", *_HIERARCHY_ROLES)
        ):
            roles[h] = role
    station = [h for h, r in roles.items() if r == "station"]
    hierarchy = [h for h, r in roles.items() if r in _HIERARCHY_ROLES]
    notes: dict[str, str] = {}
    for h in hierarchy:
        n = df[h].n_unique()
        notes[h] = f'"{h}" -> hierarchy level ({roles[h]}; {kinds[h]}, {n} distinct in the sample)'
    if not station:  # no station column by name: the first id column whose sample values are unique
        ids = [h for h in header if classify_column(h) == "id" and h not in hierarchy]
        unique = [h for h in ids if df[h].drop_nulls().n_unique() == df.height > 0]
        if unique:
            station = [unique[0]]
            notes[unique[0]] = f'"{unique[0]}" -> station id (an id column, unique in the sample)'
        else:
            first = header[0]
            notes[first] = (
                f'no station-id column: "{first}" (the first column) is used; set [station] id to '
                "the column(s) that together identify a station"
            )
            return [first], hierarchy, notes
    sid = station[0]
    alone = (
        bool(re.search(r"(?:^|[\s_.-])(?:id|код|code|uid|key)$", sid.casefold()))
        or df[sid].drop_nulls().str.contains(r"[/|:]").any()
    )
    present = df[sid].drop_nulls()
    is_unique = present.n_unique() == len(present)
    if alone or not hierarchy:
        notes[sid] = (
            f'"{sid}" -> station id ({kinds[sid]}, {"unique" if is_unique else "NOT unique"} in the sample)'
        )
        return [sid], hierarchy, notes
    notes[sid] = (
        f'"{sid}" -> station number ({kinds[sid]}; '
        f"{'unique' if is_unique else 'repeats'} in the sample: joined with {', '.join(hierarchy)})"
    )
    return [*hierarchy, sid], hierarchy, notes


_LONG_CANDIDATE = re.compile(
    r"candidat|кандидат|\bparty\b|партия|\boption\b|вариант|partido|\bliste?\b|namizəd"
)
_LONG_VOTES = re.compile(
    r"^(?:number of )?votes?(?: received| cast)?$|^голос|^число голосов|^votos$|^voix$|^səs"
)
_LONG_PARTY = re.compile(r"\bparty\b|партия|partido|\bparti\b|partiya|блок")


def _long_layout(
    header: list[str], df: pl.DataFrame, kinds: dict[str, str], sid: list[str]
) -> tuple[str, str, str | None] | None:
    """(candidate column, votes column, party column) when rows are per station and candidate.

    Structural: the station id repeats in the sample, one text column tells a station's rows
    apart (the candidate, option or protocol item) and one column of counts varies between
    them (the votes). Names ("candidate", "votes") break ties.
    """
    if not df.height or df.select(sid).is_unique().all():
        return None
    spread = df.group_by(sid).agg([pl.col(h).n_unique() for h in header if h not in sid])

    def varies(h: str) -> bool:
        return h in spread.columns and (spread[h] > 1).any()

    roles_out = ("contest", "level", "url", "station", "district", "commission", "region")
    text = [
        h
        for h in header
        if kinds[h] == "text"
        and h not in sid
        and varies(h)
        and header_role(h) not in roles_out
        and df.select([*sid, h]).is_unique().all()
    ]
    counts = [h for h in header if kinds[h] == "count" and h not in sid and varies(h)]

    def pick(cols: list[str], rx: re.Pattern[str]) -> str | None:
        named = [h for h in cols if rx.search(normalise(h))]
        return named[0] if named else (cols[0] if len(cols) == 1 else None)

    cand = pick([h for h in text if not _LONG_PARTY.search(normalise(h))], _LONG_CANDIDATE) or pick(
        text, _LONG_CANDIDATE
    )
    votes = pick(counts, _LONG_VOTES)
    if votes is None or cand is None:
        return None
    party = next((h for h in text if h != cand and _LONG_PARTY.search(normalise(h))), None)
    return cand, votes, party


def _blank_id_rows(df: pl.DataFrame, sid: list[str]) -> int:
    """Rows of the sample with a blank station-id part that are not e-voting or no-result rows."""
    if not df.height or not all(c in df.columns for c in sid):
        return 0
    blank = df.select(
        pl.any_horizontal([pl.col(c).str.strip_chars().fill_null("") == "" for c in sid])
    ).to_series()
    labels = [c for c in df.columns if classify_column(c) in ("id", "text")]
    ev = pl.Series([False] * df.height)
    for c in labels:
        ev = ev | df[c].fill_null("").map_elements(is_evoting_label, return_dtype=pl.Boolean)
    return int((blank & ~ev).sum())


def _row_selectors(
    header: list[str], df: pl.DataFrame, used: set[str]
) -> list[tuple[str, str, list[str], str | None]]:
    """(level|contest, column, values in the sample, the polling-station value) for each such column."""
    out = []
    for h in header:
        role = header_role(h)
        if (
            h in used
            or role not in ("level", "contest")
            or classify_column(h) not in ("id", "text")
        ):
            continue
        values = [
            v
            for v in df[h].str.strip_chars().drop_nulls().unique(maintain_order=True).to_list()
            if v
        ]
        station = [v for v in values if is_station_level(v)] if role == "level" else []
        out.append((role, h, values, station[0] if len(station) == 1 else None))
    return out


def draft_mapping(path: str | Path, *, sample_rows: int = 200) -> Draft:
    """Read the header and ``sample_rows`` rows of ``path`` and draft a commented TOML mapping.

    The draft reads back with :func:`~pollwatch.ingest.mapping.load_mapping`. Columns it
    could not place are marked ``NOT recognised`` with what it did with them.
    """
    path = Path(path)
    df, settings, more = read_sample(path, sample_rows)
    header = list(df.columns)
    kinds: dict[str, str] = {}
    thousands: set[str] = set()
    for h in header:
        kinds[h], sep = _value_kind(df[h])
        if sep:
            thousands.add(sep)
    preset = detect_preset(header)
    sid, hierarchy, station_notes = _station_columns(header, df, kinds, preset)
    used = set(sid) | set(hierarchy)

    readings: dict[str, ColumnReading] = {}
    for h in sid:
        readings[h] = ColumnReading(
            h,
            kinds[h],
            "station",
            note=station_notes.get(h, f'"{h}" -> station id'),
            recognised=not station_notes.get(h, "").startswith("no station-id"),
        )
    for h in hierarchy:
        if h not in readings:
            readings[h] = ColumnReading(
                h, kinds[h], "hierarchy", note=station_notes.get(h, f'"{h}" -> hierarchy')
            )

    long = _long_layout(header, df, kinds, sid)
    if long:
        cand_col, votes_col, party_col = long
        readings[cand_col] = ColumnReading(
            cand_col,
            kinds[cand_col],
            "long",
            note=f'"{_short(cand_col)}" -> the candidate of each row ([long] candidate)',
        )
        readings[votes_col] = ColumnReading(
            votes_col,
            kinds[votes_col],
            "long",
            note=f'"{_short(votes_col)}" -> the votes of each row ([long] votes)',
        )
        if party_col:
            readings[party_col] = ColumnReading(
                party_col,
                kinds[party_col],
                "long",
                note=f'"{_short(party_col)}" -> the candidate\'s party ([long] party)',
            )
    selectors = _row_selectors(header, df, used | set(readings))

    fields: dict[str, str] = {}

    def claim(fld: str, h: str, how: str) -> None:
        desc = FIELD_BY_NAME[fld].description
        if fld in fields:
            readings[h] = ColumnReading(
                h,
                kinds[h],
                "ignore",
                fld,
                recognised=False,
                note=f'column "{_short(h)}" also reads as {fld} ({how}), but "{_short(fields[fld])}" was '
                f"taken for it; left out — swap them in [fields] if this one is right",
            )
            return
        fields[fld] = h
        readings[h] = ColumnReading(
            h, kinds[h], "field", fld, note=f'"{_short(h)}" -> {fld} ({how}): {desc}'
        )

    if preset:
        for fld, spec in preset.fields.items():
            hits = [h for h in header if h not in used and spec.matches(h)]
            if len(hits) == 1:
                claim(fld, hits[0], f"preset {preset.name}")
    for h in header:
        if h in readings or h in used:
            continue
        model = _model_name(h)
        c = model or classify_column(h)
        if c in FIELD_BY_NAME:
            if kinds[h] in ("text", "number"):
                readings[h] = ColumnReading(
                    h,
                    kinds[h],
                    "ignore",
                    c,
                    recognised=False,
                    note=f'"{_short(h)}" reads as {c} but holds {kinds[h]} values, not counts; left out',
                )
                continue
            claim(c, h, "model field name" if model else f"{_language(h)} protocol wording")
        elif c == "protocol":
            how = (
                "a protocol line number"
                if re.fullmatch(r"\d+(?:\.\d+)+[a-z]?", h.strip())
                else f"{_language(h)} protocol wording"
            )
            readings[h] = ColumnReading(
                h,
                kinds[h],
                "ignore",
                note=f'"{_short(h)}" -> protocol line with no model '
                f"field ({how}); ignored, never a candidate",
            )
        elif c in ("id", "text") or kinds[h] == "text":
            role = header_role(h)
            what = (
                f"{role} column" if role else ("text column" if kinds[h] == "text" else "id column")
            )
            readings[h] = ColumnReading(
                h,
                kinds[h],
                "ignore",
                recognised=c in ("id", "text") or role is not None,
                note=(
                    f'"{_short(h)}" -> {what} ({kinds[h]} values); ignored, never a candidate'
                    if c in ("id", "text") or role
                    else f'column "{_short(h)}" (text values) — not a count, so not a candidate; '
                    "ignored"
                ),
            )
        elif kinds[h] == "number":
            readings[h] = ColumnReading(
                h,
                kinds[h],
                "ignore",
                recognised=False,
                note=f'column "{_short(h)}" holds decimals or percentages, not counts — '
                "ignored; a rate (turnout, share) is computed by pollwatch itself",
            )
        elif kinds[h] == "empty":
            readings[h] = ColumnReading(
                h,
                kinds[h],
                "ignore",
                recognised=False,
                note=f'column "{_short(h)}" is empty in the sample — ignored; take it out of '
                "ignore if it holds a candidate's votes further down",
            )
        else:
            cue = _candidate_cue(h)
            readings[h] = ColumnReading(
                h,
                kinds[h],
                "candidate",
                recognised=cue is not None,
                note=f'"{_short(h)}" -> {cue} (counts)'
                if cue
                else f'column "{_short(h)}" (numeric) — taken as a candidate; move it to '
                "ignore if it is a protocol line",
            )
    if preset:  # the preset's own list of columns that are no candidates
        for h in preset.candidates_ignore:
            if h in readings and readings[h].role == "candidate":
                readings[h] = ColumnReading(
                    h,
                    readings[h].kind,
                    "ignore",
                    note=f'"{_short(h)}" -> not a candidate (ignored by the preset {preset.name})',
                )
    if long:  # the candidates are the values of one column: a column of counts left over is unused
        for h in sid:
            r = readings[h]
            readings[h] = ColumnReading(
                h,
                r.kind,
                r.role,
                r.field,
                r.recognised,
                r.note.replace(
                    "NOT unique in the sample", "repeated on each row of a station"
                ).replace("repeats in the sample", "repeated on each row of a station"),
            )
        for h, r in list(readings.items()):
            if r.role == "candidate":
                readings[h] = ColumnReading(
                    h,
                    r.kind,
                    "ignore",
                    recognised=False,
                    note=f'column "{_short(h)}" (numeric) — not used: in this long layout the '
                    f'candidates are the names in "{long[0]}"; map it in [fields] if it '
                    "is a protocol line",
                )
    for h, r in list(readings.items()):  # polars renames a repeated header "x" to "x_duplicated_0"
        m = re.fullmatch(r"(.*)_duplicated_\d+", h)
        if m and m.group(1) in header:
            readings[h] = ColumnReading(
                h,
                r.kind,
                r.role,
                r.field,
                recognised=False,
                note=f'the header names "{m.group(1)}" twice; the second is read as "{h}" — '
                f"check which is which ({r.note})",
            )
        elif not h.strip():
            readings[h] = ColumnReading(
                h,
                r.kind,
                r.role,
                r.field,
                recognised=False,
                note=f"a column with an empty header ({r.kind} values) — {r.role}; name it in "
                "the file if it matters",
            )
    items = _long_items(df, long, fields) if long else ()
    columns = tuple(readings[h] for h in header)
    derive: dict[str, tuple[str, str]] = {}
    if preset:
        derive.update(
            {
                k: (d.text, f"from the preset {preset.name}")
                for k, d in preset.derive.items()
                if k not in fields
            }
        )
    has_candidates = long is not None or any(c.role == "candidate" for c in columns)
    if "valid" not in fields and "valid" not in derive and has_candidates:
        derive["valid"] = (
            "sum(candidates)",
            "no column reads as valid: the candidates' (options') votes are "
            "taken to add up to the valid ballots, as in a referendum",
        )
    missing = tuple(
        f.name for f in FIELDS if f.required and f.name not in fields and f.name not in derive
    )
    field_comments = {
        r.field: r.comment for r in (*columns, *items) if r.role == "field" and r.field
    }
    text = _render(
        path,
        columns,
        fields,
        sid,
        hierarchy,
        preset,
        settings,
        thousands,
        missing,
        df.height,
        more,
        derive=derive,
        long=long,
        selectors=selectors,
        items=items,
        field_comments=field_comments,
        sample=df,
    )
    return Draft(
        str(path),
        text,
        columns,
        preset.name if preset else None,
        df.height,
        missing,
        {k: v for k, v in settings.items() if k in ("format", "encoding", "delimiter", "sheet")},
        derived={k: v[0] for k, v in derive.items()},
        long=long,
        items=items,
    )


def _long_items(
    df: pl.DataFrame, long: tuple[str, str, str | None], fields: dict[str, str]
) -> tuple[ColumnReading, ...]:
    """What each value of a long layout's candidate column is: a candidate, or a protocol line
    published as a row ("Registered voters"), which becomes a field (added to ``fields``)."""
    out = []
    labels = [
        v
        for v in df[long[0]].str.strip_chars().drop_nulls().unique(maintain_order=True).to_list()
        if v
    ]
    for lab in labels:
        model = _model_name(lab)
        c = model or classify_column(lab)
        how = "model field name" if model else f"{_language(lab)} protocol wording"
        if c in FIELD_BY_NAME and c not in fields:
            fields[c] = lab
            out.append(
                ColumnReading(
                    lab,
                    "count",
                    "field",
                    c,
                    note=f'item "{_short(lab)}" -> {c} ({how}): {FIELD_BY_NAME[c].description}',
                )
            )
        elif c in FIELD_BY_NAME:
            out.append(
                ColumnReading(
                    lab,
                    "count",
                    "ignore",
                    c,
                    recognised=False,
                    note=f'item "{_short(lab)}" also reads as {c}, taken by "{_short(fields[c])}"; '
                    "the reader leaves it out",
                )
            )
        elif c is not None:
            out.append(
                ColumnReading(
                    lab,
                    "count",
                    "ignore",
                    note=f'item "{_short(lab)}" -> protocol line with no '
                    "model field; the reader leaves it out",
                )
            )
        else:
            cue = _candidate_cue(lab)
            out.append(
                ColumnReading(
                    lab,
                    "count",
                    "candidate",
                    recognised=cue is not None,
                    note=f'item "{_short(lab)}" -> {cue}'
                    if cue
                    else f'item "{_short(lab)}" — taken as a candidate; if it is a protocol line, add it '
                    "to [candidates] ignore",
                )
            )
    return tuple(out)


def _render(
    path: Path,
    columns: tuple[ColumnReading, ...],
    fields: dict[str, str],
    sid: list[str],
    hierarchy: list[str],
    preset: Mapping | None,
    settings: dict[str, str],
    thousands: set[str],
    missing: tuple[str, ...],
    rows: int,
    more: bool,
    *,
    derive: dict[str, tuple[str, str]],
    long: tuple[str, str, str | None] | None,
    selectors: list[tuple[str, str, list[str], str | None]],
    items: tuple[ColumnReading, ...],
    field_comments: dict[str, str],
    sample: pl.DataFrame | None = None,
) -> str:
    by_col = {c.column: c for c in columns}
    n_bad = sum(not c.recognised for c in columns)
    out = [
        f"# Draft mapping for {path.name}, written by `pollwatch mapping draft` from the header and the first "
        f"{rows} row{'s' if rows != 1 else ''}{' (of more)' if more else ''}.",
        f"# {len(columns) - n_bad} of {len(columns)} columns recognised; "
        + (
            f"check the {n_bad} marked NOT recognised, then"
            if n_bad
            else "check the readings, then"
        ),
        f"#   pollwatch ingest {path.name} --mapping THIS_FILE",
        "# Every section and key is explained in docs/mapping.md.",
    ]
    if preset:
        out.append(
            f"# The header matches the shipped preset {preset.name!r}: `pollwatch ingest {path.name}` reads it "
            "without this file; this draft starts from that preset."
        )
    out += [
        "",
        "[preset]",
        f"name = {_quote(path.name.split('.')[0] + '-draft')}",
        f"description = {_quote(f'drafted from {path.name}')}",
        "",
    ]

    out.append("[election]")
    el = dict(preset.election) if preset else {}
    for k, v in el.items():
        out.append(f"{_key(k)} = {_quote(str(v))}")
    for k, example in (
        ("country", '"XX"  # ISO 3166 code; also picks the country profile'),
        ("date", '"2024-02-07"'),
        ("type", '"presidential"'),
        ("name", '"..."'),
    ):
        if k not in el:
            out.append(f"# {k} = {example}")
    out.append("")

    out.append("[station]")
    for h in dict.fromkeys([*hierarchy, *sid]):
        out.append(by_col[h].comment)
    out.append(f"id = [{', '.join(_quote(h) for h in sid)}]")
    out.append(f"hierarchy = [{', '.join(_quote(h) for h in hierarchy)}]")
    blank = _blank_id_rows(sample, sid) if sample is not None else 0
    if blank and not any(what == "level" and station for what, _, _, station in selectors):
        out.append(
            f"# NOT recognised: {blank} row(s) of the sample have a blank part of the station id; if they are "
            "totals of a higher level (region, commission), leave them out with:"
        )
        out.append('# blank_id = "skip"')
    for what, col, values, station in selectors:
        shown = "; ".join(_quote(v) for v in values[:8]) + (" …" if len(values) > 8 else "")
        if what == "level" and station is not None:
            out.append(
                f'# recognised: "{col}" -> commission level of each row; {_quote(station)} names polling '
                f"stations (the sample has: {shown})"
            )
            out.append(f"level = {{ column = {_quote(col)}, value = {_quote(station)} }}")
        elif what == "level":
            out.append(
                f'# NOT recognised: "{col}" names the commission level of each row, but no value in the '
                f"sample names polling stations (it has: {shown}); write the polling-station value:"
            )
            out.append(f'# level = {{ column = {_quote(col)}, value = "..." }}')
        elif len(values) > 1:
            out.append(
                f'# NOT recognised: "{col}" names the contest of each row and the sample holds {len(values)} '
                f"({shown}); pollwatch reads one: uncomment and choose"
            )
            out.append(f"# contest = {{ column = {_quote(col)}, value = {_quote(values[0])} }}")
        else:
            out.append(
                f'# recognised: "{col}" names the contest; the sample holds one ({shown}); if the file '
                "holds more, choose with:"
            )
            out.append(
                f"# contest = {{ column = {_quote(col)}, value = {_quote(values[0]) if values else '...'} }}"
            )
    out.append("")

    out.append("[fields]")
    for f in FIELDS:
        if f.name in fields:
            out.append(field_comments[f.name])
            out.append(f"{f.name} = {_quote(fields[f.name])}")
        elif f.required and f.name not in derive:
            out.append(
                f"# NOT recognised: no column reads as {f.name} ({f.description}), which is required;"
            )
            out.append("# write the column's name here (ingest refuses the file until then)")
            out.append(f"{f.name} = {_quote(PLACEHOLDER)}")
    out.append("")

    if derive:
        out.append("[derive]")
        for k, (expr, why) in derive.items():
            out.append(
                f"# recognised: {k} = {expr} ({why})"
                if why.startswith("from the preset")
                else f"# NOT recognised: {why}; if the file has a column for {k}, map it in [fields] instead"
            )
            out.append(f"{k} = {_quote(expr)}")
        out.append("")
    if long:
        out.append("[long]")
        out.append(
            "# one row per station and candidate (or protocol item), pivoted to one row per station"
        )
        for key, long_col in zip(("candidate", "votes", "party"), long, strict=True):
            if long_col is not None:
                out.append(by_col[long_col].comment)
                out.append(f"{key} = {_quote(long_col)}")
        out.append("")
    out.append("[candidates]")
    cands = [c for c in columns if c.role == "candidate"]
    if long:
        out.append(
            f"# the candidates are the names in {_quote(long[0])} (rest = true takes them all, in order of"
        )
        out.append(
            '# first appearance; columns = ["name", ...] picks and orders them); in the sample:'
        )
        out += [r.comment for r in items]
    elif cands:
        out.append(
            "# rest = true: every column not mapped above and not in ignore is a candidate (or a"
        )
        out.append(f"# referendum option), in file order; these {len(cands)}:")
        out += [c.comment for c in cands]
    else:
        out.append(
            "# NOT recognised: no column looks like a candidate's votes (a column of counts that is no"
        )
        out.append("# protocol line); list them with columns = [...] or take them out of ignore")
    out.append("rest = true")
    ignored = [c for c in columns if c.role == "ignore"]
    if (
        long and ignored
    ):  # ignore applies to the candidate names of a long layout: only say what is unused
        out.append("# columns not used (station-level text, or lines with no model field):")
        out += [c.comment for c in ignored]
        ignored = []
    if ignored:
        out.append("ignore = [")
        for c in ignored:
            out.append(f"    {c.comment}")
            out.append(f"    {_quote(c.column)},")
        out.append("]")
    out.append("")

    out.append("[source]")
    if settings.get("format") == "csv":
        out.append(f"encoding = {_quote(settings['encoding'])}  # detected")
        out.append(f"delimiter = {_quote(settings['delimiter'])}  # detected")
    if settings.get("sheet"):
        out.append(
            f"sheet = {_quote(settings['sheet'])}  # the first sheet; the workbook has: {settings['sheets']}"
        )
    if len(thousands) == 1:
        out.append(
            f"thousands = {_quote(next(iter(thousands)))}  # counts in the sample are written like 1{next(iter(thousands))}200"
        )
    elif len(thousands) > 1:
        out.append(
            f"# NOT recognised: counts use several thousands separators ({', '.join(map(repr, sorted(thousands)))}); "
            "set thousands to the one the file uses"
        )
    out.append("")
    if preset and preset.options:
        out.append(f"[options]  # from the preset {preset.name}")
        out += [f"{_key(k)} = {_toml_value(v)}" for k, v in preset.options.items()]
        out.append("")
    if preset and preset.exclusions:
        out.append(f"[exclusions]  # from the preset {preset.name}")
        out += [f"{_key(k)} = {_toml_value(v)}" for k, v in preset.exclusions.items()]
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return _quote(str(v))
