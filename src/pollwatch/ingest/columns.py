"""Which column is which: the fields by ranked matching, the candidate columns (listed, or
``rest = true`` with every refusal explained) and the ``[derive]`` fallbacks.

Ties and near-misses are errors or warnings naming the columns and the one-line fix, so a
column is never taken for a field or a candidate by a silent guess.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pollwatch.errors import DataIssue
from pollwatch.i18n import N_, note
from pollwatch.ingest._common import MAPPING_DOCS, preview, source_columns
from pollwatch.ingest.cells import parse_counts
from pollwatch.ingest.mapping import Mapping
from pollwatch.ingest.vocabulary import classify_column, header_role


def resolve_fields(
    mapping: Mapping, header: list[str], source: str
) -> tuple[dict[str, str], list[DataIssue], list[DataIssue], dict[str, str]]:
    """Find each field's column. Ranked when several match: an exact name first, then the
    column whose meaning (the protocol-line vocabulary) is this field, then the one that matched
    more of the spec's terms; a tie is an error naming every tied column and the one-line fix."""
    found: dict[str, str] = {}
    issues: list[DataIssue] = []
    notes: list[DataIssue] = []
    losers: dict[str, str] = {}  # column -> the field it matched but lost: never a candidate
    for key, spec in mapping.fields.items():
        scored = [(spec.specificity(h), h) for h in header]
        hits = [(s, h) for s, h in scored if s is not None]
        if (
            not hits
        ):  # no column fits the spec: one whose meaning is this field will do, with a warning
            meant = [
                h
                for h in header
                if classify_column(h) == key
                and not any(sp.matches(h) for k2, sp in mapping.fields.items() if k2 != key)
            ]
            if len(meant) == 1:
                found[key] = meant[0]
                notes.append(
                    DataIssue(
                        source,
                        f"field {key!r}: no column fits the mapping's spec; took the one "
                        "whose wording means it",
                        line=1,
                        column=meant[0],
                        kind="warning",
                        expected=spec.describe(),
                        hint=f'to confirm or correct: [fields] {key} = "exact column name"',
                    )
                )
                continue
            if key in mapping.derive:
                continue
            if not spec.optional:
                issues.append(
                    DataIssue(
                        source,
                        f"missing required column for {key!r}",
                        line=1,
                        expected=spec.describe(),
                        value=preview(header),
                        hint=f'map it in a mapping file ([fields] {key} = "your column") and pass --mapping; {MAPPING_DOCS}',
                    )
                )
            continue
        ranked = sorted(((s >= 1000, classify_column(h) == key, s), h) for s, h in hits)
        best = ranked[-1][0]
        top = [h for h in header if any(r == best and h == x for r, x in ranked)]  # in file order
        if len(top) == 1:
            found[key] = top[0]
            if len(hits) > 1:
                others = [h for _, h in hits if h != top[0]]
                losers.update({h: key for h in others})
                notes.append(
                    DataIssue(
                        source,
                        f"field {key!r} matched {len(hits)} columns; took the most specific",
                        line=1,
                        column=top[0],
                        value=" | ".join(others),
                        kind="warning",
                        hint=f'to choose another: [fields] {key} = "exact column name"',
                    )
                )
        else:
            issues.append(
                DataIssue(
                    source,
                    f"field {key!r} matches {len(top)} columns equally well",
                    line=1,
                    expected=f"exactly one {spec.describe()}",
                    value=" | ".join(top),
                    hint=f'choose one in the mapping: [fields] {key} = "{top[0]}"'
                    + "".join(f' (or "{t}")' for t in top[1:]),
                )
            )
    by_col: dict[str, list[str]] = {}
    for key, col in found.items():
        by_col.setdefault(col, []).append(key)
    for col, keys in by_col.items():
        meant = [k for k in keys if classify_column(col) == k]
        if (
            len(keys) > 1 and len(meant) == 1
        ):  # the column's meaning decides; the other fields stay unmapped
            for k in keys:
                if k != meant[0]:
                    del found[k]
                    notes.append(
                        DataIssue(
                            source,
                            f"field {k!r} matched a column that means {meant[0]!r}; "
                            f"{k!r} left unmapped",
                            line=1,
                            column=col,
                            kind="warning",
                            hint=f'if the file has a column for it: [fields] {k} = "exact column name"',
                        )
                    )
                    if not mapping.fields[k].optional and k not in mapping.derive:
                        issues.append(
                            DataIssue(
                                source,
                                f"missing required column for {k!r}",
                                line=1,
                                expected=mapping.fields[k].describe(),
                                value=preview(header),
                            )
                        )
        elif len(keys) > 1:
            issues.append(
                DataIssue(
                    source,
                    f"one column matches the fields {', '.join(map(repr, keys))}",
                    line=1,
                    column=col,
                    expected="one field per column",
                    hint=f'name the columns exactly: [fields] {keys[0]} = "..." and {keys[1]} = "..."',
                )
            )
    for col in (*mapping.station_id, *mapping.hierarchy):
        if col not in header:
            issues.append(
                DataIssue(
                    source,
                    "missing station column",
                    line=1,
                    column=col,
                    expected=f"a column named {col!r}",
                    value=preview(header),
                )
            )
    return found, issues, notes, {c: k for c, k in losers.items() if c not in found.values()}


_GROUPED = (
    r"^[+-]?\d{1,3}(?:[ ,.'\u00a0\u202f]\d{3})+$"  # "1 234", "1,234,567": a count with a separator
)


def _text_example(s: pl.Series, thousands: str | None) -> tuple[str, str]:
    """``("count", "")``, ``("blank", "")``, ``("decimal", e.g.)`` or ``("text", e.g.)``.

    A column is text (or decimal) when most of its non-blank cells are; counts written with a
    thousands separator are counts (so the reader can say "set [source] thousands"), and a
    few bad cells in a column of counts are errors to report, not a reason to drop it.
    """
    if s.dtype.is_numeric():
        if s.null_count() == len(s):
            return "blank", ""
        if s.dtype.is_float() and bool((s.drop_nulls() % 1 != 0).any()):
            return "decimal", str(s.drop_nulls().filter(s.drop_nulls() % 1 != 0)[0])
        return "count", ""
    c = s.cast(pl.Utf8).str.strip_chars()
    if thousands:
        c = c.str.replace_all(thousands, "", literal=True)
    c = c.str.replace_all("\u00a0", "", literal=True)
    c = c.filter(c.is_not_null() & (c != ""))
    if not len(c):
        return "blank", ""
    bad = c.filter(c.cast(pl.Int64, strict=False).is_null() & ~c.str.contains(_GROUPED))
    if len(bad) * 2 <= len(c):
        return "count", ""
    decimal = bad.str.replace(",", ".", literal=True).cast(pl.Float64, strict=False).is_not_null()
    return ("decimal" if decimal.sum() * 2 > len(bad) else "text"), bad[0]


def candidate_columns(
    mapping: Mapping,
    df: pl.DataFrame,
    pool: list[str],
    used: set[str],
    source: str,
    thousands: str | None,
    explicit: tuple[str, ...],
    losers: dict[str, str],
) -> tuple[list[str], dict[str, str], list[DataIssue], list[DataIssue]]:
    """Candidate columns: the mapping's list, or (``rest``) every column of ``pool`` left over
    that holds counts and is no protocol line or identifier. Returns the refused ones with why."""
    issues: list[DataIssue] = []
    notes: list[DataIssue] = []
    refused: dict[str, str] = {}
    header = source_columns(df)
    if explicit:
        missing = [c for c in explicit if c not in header]
        issues += [
            DataIssue(
                source,
                "missing candidate column",
                line=1,
                column=c,
                expected=f"a column named {c!r}",
                value=preview(header),
            )
            for c in missing
        ]
        for c in explicit:
            kind = classify_column(c)
            if c in header and kind not in (None, "id", "text"):
                notes.append(
                    DataIssue(
                        source,
                        f"the mapping lists a protocol line ({kind}) as a candidate",
                        line=1,
                        column=c,
                        kind="warning",
                        hint="check [candidates] columns",
                    )
                )
        return [c for c in explicit if c in header], refused, issues, notes
    ignore = set(mapping.candidates_ignore)
    cols = []
    for h in pool:
        if h in used:
            continue
        if h in ignore:
            refused[h] = note(N_("ignored by the mapping"))
            continue
        if h in losers:
            refused[h] = note(
                N_("matched [fields] {field}, but another column matched it better"),
                field=losers[h],
            )
            continue
        kind = classify_column(h)
        if kind in ("id", "text"):
            refused[h] = (
                note(N_("identifier header ({role})"), role=header_role(h) or kind)
                if kind == "id"
                else note(N_("text header ({role})"), role=header_role(h) or kind)
            )
            continue
        if kind is not None:
            refused[h] = (
                note(N_("protocol line"))
                if kind == "protocol"
                else note(N_("protocol line ({kind}, already mapped or not needed)"), kind=kind)
            )
            continue
        what, example = _text_example(df[h], thousands)
        if what == "text":
            refused[h] = note(N_("text, not counts (e.g. {example})"), example=repr(example[:60]))
        elif what == "decimal":
            refused[h] = note(
                N_("decimal numbers (a share or percentage?), not counts (e.g. {example})"),
                example=repr(example[:60]),
            )
        elif what == "blank":
            refused[h] = note(N_("every cell is blank"))
        else:
            cols.append(h)
    if not cols:
        issues.append(
            DataIssue(
                source,
                "no candidate columns left after mapping the protocol fields",
                line=1,
                value="; ".join(f"{c}: {why}" for c, why in list(refused.items())[:12]) or None,
                hint=f'list them in the mapping: [candidates] columns = ["...", "..."]; {MAPPING_DOCS}',
            )
        )
    return cols, refused, issues, notes


def derive_fields(
    mapping: Mapping,
    df: pl.DataFrame,
    series: dict[str, pl.Series],
    found: dict[str, str],
    cand_ids: list[str],
    source: str,
    thousands: str | None,
    lines: np.ndarray,
) -> tuple[dict[str, str], list[DataIssue], list[DataIssue]]:
    """Compute ``[derive]`` fields that no column provides (in mapping order); nulls propagate.

    A field that ``[fields]`` does find in the file is read from its column: ``[derive]`` is the
    fallback (so one preset reads both elections with a valid line and referendums without).
    """
    done: dict[str, str] = {}
    issues: list[DataIssue] = []
    notes: list[DataIssue] = []
    header = source_columns(df)
    for key, d in mapping.derive.items():
        if key in found:  # [derive] is the fallback when [fields] finds no column
            continue
        total: pl.Series | None = None
        ok = True
        for sign, kind, name in d.terms:
            if kind == "candidates":
                if not cand_ids:
                    ok = False
                    issues.append(
                        DataIssue(
                            source, f"[derive] {key} = {d.text}: there are no candidates", line=1
                        )
                    )
                    continue
                frame = pl.DataFrame([series[c] for c in cand_ids])
                term = frame.select(
                    pl.when(pl.all_horizontal(pl.all().is_null()))
                    .then(None)
                    .otherwise(pl.sum_horizontal(pl.all()))
                    .alias("t")
                )["t"].cast(pl.Int64)
            elif kind == "field":
                if name not in series:
                    ok = False
                    issues.append(
                        DataIssue(
                            source,
                            f"[derive] {key} = {d.text}: the field {name!r} is not in the file",
                            line=1,
                            expected="a field mapped in [fields] or derived above",
                        )
                    )
                    continue
                term = series[name]
            else:
                if name not in header:
                    ok = False
                    issues.append(
                        DataIssue(
                            source,
                            f"[derive] {key} = {d.text}: no column named {name!r}",
                            line=1,
                            value=preview(header),
                        )
                    )
                    continue
                term, iss = parse_counts(df, name, key, source, thousands, lines)
                issues += iss
            term = term if sign > 0 else -term
            total = term if total is None else total + term
        if ok and total is not None:
            series[key] = total.alias(key)
            done[key] = d.text
    return done, issues, notes
