"""Turn an analysis into a :class:`~pollwatch.report.html.Report` (sections, figures, tables)."""

from __future__ import annotations

import datetime as dt
import html as _html
import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from pollwatch.forensics.strength import assess
from pollwatch.model import ElectionMeta
from pollwatch.model.derived import has_issued, percent
from pollwatch.report import figures as figs
from pollwatch.report.caveats import CAVEATS, calibration_notes, caveat_source
from pollwatch.report.html import Headline, Report, Section
from pollwatch.results import fmt_int, fmt_pct

esc = _html.escape


def _pct(x: Any, digits: int = 2) -> str:
    try:
        return fmt_pct(float(x), digits)
    except (TypeError, ValueError):
        return "n/a"


def _int(x: Any) -> str:
    try:
        return fmt_int(float(x))
    except (TypeError, ValueError):
        return "n/a"


def _headline(doc: dict) -> Headline:
    """The first sentence and the first card are the calibrated headline block of
    ``results.json`` (forensics/headline.py) and nothing less conservative; every other
    estimate lives in the diagnostics section."""
    el = doc["election"]
    # the strength block analyze already wrote; applied afresh only to an older results file
    st = doc.get("strength") or asdict(assess(doc))
    hl = doc.get("headline") or {}
    fv = hl.get("falsified_votes") or {}
    parts = [
        hl.get("statement") or "No headline was computed for this analysis (an older results file)."
    ]
    parts.append(
        f"Officially, {el['leader']} won {_pct(el['leader_share'])} of ballots cast on a turnout of "
        f"{_pct(el['turnout'])} across {el['stations']:,} polling stations."
    )
    if fv.get("estimate") is not None:
        first = {
            "label": f"falsified votes for the leader, 95 % interval {_int(fv.get('low'))}–{_int(fv.get('high'))}",
            "value": _int(fv["estimate"]),
        }
    else:
        first = {
            "label": "falsified votes: no statistical evidence (calibrated region-by-region tests)",
            "value": "none shown",
        }
    cards = [
        first,
        {"label": "official leader share", "value": _pct(el["leader_share"])},
        {"label": "official turnout (cast)", "value": _pct(el["turnout"])},
    ]
    return Headline(" ".join(parts), st["level"], st["rule"], cards)


def _diagnostics_html(doc: dict) -> str:
    """Every other estimate of falsified votes, each labelled with what it counts. The national
    ones are upper bounds that count honest regional differences as fraud."""
    m = doc.get("methods", {})
    rows: list[tuple[str, str, str]] = []
    sh, mx, mr = m.get("shpilkin", {}), m.get("mixture", {}), m.get("mixture_by_region", {})
    eb, sp, ip = (
        m.get("regional_excess_bounds", {}),
        m.get("shpilkin_permutation", {}),
        m.get("integer_percentages", {}),
    )
    if "excess_votes" in sh:
        rows.append(
            (
                "Shpilkin excess votes, national kernel",
                _int(sh["excess_votes"]),
                "upper bound: one clean pattern for the whole country, so honest differences between regions "
                "in turnout and support count as excess",
            )
        )
    if "fraudulent_votes" in mx:
        rows.append(
            (
                "finite mixture, fitted nationally",
                _int(mx["fraudulent_votes"]),
                "upper bound: one clean distribution for the whole country; its interval "
                f"({_int(mx.get('fraudulent_votes_low'))}–{_int(mx.get('fraudulent_votes_high'))}) is sampling "
                "noise only, blind to honest regional differences",
            )
        )
    for key, how in (
        ("flat", "each unit its own clean ratio"),
        ("trend", "each unit its own clean ratio, following turnout as below its peak"),
    ):
        r = eb.get(key)
        if not r:
            continue
        rows.append(
            (
                f"regional excess S ({how})",
                _int(r["excess"]),
                "over-reads: every unit's noise adds a little positive excess",
            )
        )
        rows.append(
            (
                f"regional excess beyond the permutation null D ({key})",
                _int(r["beyond_null"]),
                f"under-reads under fraud; permutation p = {r['pvalue']:.2g} ({eb.get('units', '')})",
            )
        )
    if "manufactured_votes" in mr:
        rows.append(
            (
                "finite mixture, unit by unit: manufactured votes",
                _int(mr["manufactured_votes"]),
                "the calibrated estimator (each unit its own clean distribution)",
            )
        )
    if "excess_votes" in sp:
        rows.append(
            (
                "Shpilkin national excess: within-region permutation",
                f"p = {sp.get('p_value', float('nan')):.2g}",
                f"median excess with no fraud at all: {_int((sp.get('null_quantiles') or {}).get('median'))}",
            )
        )
    if "excess" in ip:
        rows.append(
            (
                "stations at a whole percent beyond chance",
                _int(ip["excess"]),
                f"p = {ip.get('p_value', float('nan')):.2g}; signals rewritten protocols, not a vote count",
            )
        )
    if not rows:
        return "<p>No estimate was computed.</p>"
    body = "".join(
        f"<tr><th>{esc(a)}</th><td class='num'>{esc(b)}</td><td>{esc(c)}</td></tr>"
        for a, b, c in rows
    )
    return (
        "<p>Other readings of the same figures. Only the headline above is calibrated to raise a false alarm in "
        "at most one clean election in twenty; the national figures here count honest regional differences and "
        "must not be quoted as falsified votes.</p><div class='tablewrap'><table><thead><tr><th>estimate</th>"
        "<th class='num'>value</th><th>what it counts</th></tr></thead><tbody>"
        + body
        + "</tbody></table></div>"
    )


def _figures(analysis) -> list[figs.Figure]:
    e = analysis.election
    ok = e.analysable()
    basis = "issued" if _has_issued(e) else "cast"
    num = e.ballots_issued() if basis == "issued" else e.ballots_cast()
    tp = np.where(ok, percent(num, e.field("registered")), np.nan)
    sp = np.where(ok, percent(e.votes(), e.ballots_cast()), np.nan)
    out = [figs.percent_histograms(tp, sp, leader=e.leader.name, basis=basis)]
    kl = analysis.results.get("klimek")
    model = getattr(kl, "model_fingerprint", None) if kl is not None else None
    out.append(figs.fingerprint(tp / 100, sp / 100, model=model, leader=e.leader.name))
    level = next((h for h in ("region", *e.meta.hierarchy) if h in e.meta.hierarchy), None)
    if level is not None:
        small = figs.regional_fingerprints(tp / 100, sp / 100, e.level(level), leader=e.leader.name)
        if small is not None:
            out.append(small)
    sh = analysis.doc.get("methods", {}).get("shpilkin", {})
    centres, lead, others, cands = _votes_by_turnout(e, tp)
    k = sh.get("k")
    clean = None if k is None else k * others
    out.append(figs.shpilkin(centres, lead, others, clean, sh.get("mode"), e.leader.name, cands))
    ir = analysis.results.get("integer_percentages")
    if ir is not None:
        out.append(_integer_panel(e, ir))
    dg = analysis.doc.get("methods", {}).get("digits", {})
    for key, title, null in (
        ("second_digit", "Second-digit (2BL) mean", 4.187),
        ("last_digit", "Last-digit mean", 4.5),
    ):
        rows = dg.get(key + "_rows")
        if rows:
            out.append(figs.digit_intervals([tuple(r) for r in rows], title, null))
    reg = sh.get("regions")
    if reg:
        labels = [r["region"] for r in reg]
        vals = np.array([r["excess_votes"] for r in reg], dtype=float)
        out.append(figs.regional_bars(labels, vals, title="Excess votes by region (Shpilkin)"))
    if analysis.regions_geojson is not None and reg:
        vals_by = {r["region"]: r["excess_votes"] for r in reg}
        out.append(
            figs.choropleth(analysis.regions_geojson, vals_by, analysis.regions_key, "excess votes")
        )
    return out


def _integer_panel(e, ir) -> figs.Figure:
    """Observed against expected stations at each whole percent (turnout and leader share added;
    the counts come with the integer test's result)."""
    obs, exp, var = ir.by_percent
    return figs.integer_panel(
        np.arange(101),
        obs,
        exp,
        2 * np.sqrt(var),
        label="stations at a whole percent (turnout + share)",
    )


def _has_issued(e) -> bool:

    return has_issued(e)


def _votes_by_turnout(e, tp: np.ndarray):
    ok = np.isfinite(tp)
    b = np.clip(np.floor(tp[ok]).astype(int), 0, 99)
    centres = np.arange(100) + 0.5
    lead = np.bincount(b, weights=e.votes()[ok], minlength=100)
    others = np.bincount(b, weights=(e.field("valid") - e.votes())[ok], minlength=100)
    cands = {}
    if len(e.candidates) <= 8:
        for c in e.candidates:
            if c.id != e.leader.id:
                cands[c.name] = np.bincount(b, weights=e.field(c.id)[ok], minlength=100)
    return centres, lead, others, cands


def _stations_html(analysis, top: int) -> str:
    tbl = analysis.stations_table()
    if tbl is None or tbl.height == 0:
        return "<p>No station-level signals.</p>"
    tbl = tbl.sort("rank").head(top)
    cols = [
        c
        for c in (
            "rank",
            "station_id",
            *analysis.election.meta.hierarchy,
            "points",
            "signals",
            "turnout",
            "leader_share",
            "registered",
        )
        if c in tbl.columns
    ]
    head = "".join(
        f"<th class='{'num' if tbl[c].dtype.is_numeric() else ''}'>{esc(c.replace('_', ' '))}</th>"
        for c in cols
    )
    rows = []
    for r in tbl.select(cols).iter_rows(named=True):
        cells = []
        for c in cols:
            v = r[c]
            if c == "signals":
                cells.append(
                    "<td>"
                    + "".join(
                        f"<span class='sig'>{esc(s)}</span>" for s in str(v or "").split(";") if s
                    )
                    + "</td>"
                )
            elif isinstance(v, float):
                shown = (
                    ""
                    if math.isnan(v)
                    else (f"{100 * v:.1f} %" if c in ("turnout", "leader_share") else f"{v:.2f}")
                )
                cells.append(f"<td class='num' data-v='{'' if math.isnan(v) else v}'>{shown}</td>")
            elif isinstance(v, int):
                cells.append(f"<td class='num' data-v='{v}'>{v:,}</td>")
            else:
                cells.append(f"<td>{esc(str(v))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        "<p>The highest-ranked stations and every signal that points at each (click a column to sort, type "
        f"to filter). All {analysis.election.n_stations:,} stations are in <code>stations.csv</code>.</p>"
        "<input type='search' id='station-filter' placeholder='filter stations…' aria-label='filter stations'>"
        f"<div class='tablewrap'><table id='station-table'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _regions_html(analysis) -> str:
    """Per region: stations, official turnout and leader share, and Shpilkin's excess votes."""
    e = analysis.election
    if not e.meta.hierarchy:
        return "<p>The file has no regional hierarchy.</p>"
    level = "region" if "region" in e.meta.hierarchy else e.meta.hierarchy[0]
    lead = e.leader.id
    cols = ["registered", "valid", "invalid", lead]
    g = e.group_sums(level, cols).to_dicts()
    sh = {
        r["region"]: r["excess_votes"]
        for r in analysis.doc.get("methods", {}).get("shpilkin", {}).get("regions", [])
    }
    rows = []
    for r in sorted(g, key=lambda r: -sh.get(str(r[level]), 0.0)):
        cast = r["valid"] + r["invalid"]
        ex = sh.get(str(r[level]))
        rows.append(
            f"<tr><td>{esc(str(r[level]))}</td><td class='num'>{r['stations']:,}</td>"
            f"<td class='num'>{_pct(cast / r['registered'] if r['registered'] else float('nan'), 1)}</td>"
            f"<td class='num'>{_pct(r[lead] / cast if cast else float('nan'), 1)}</td>"
            f"<td class='num'>{_int(ex) if ex is not None else 'n/a'}</td></tr>"
        )
    return (
        f"<p>Per {esc(level)}: official turnout (cast) and {esc(e.leader.name)}'s share, with the excess votes "
        "of Shpilkin's method estimated on each region's own clean kernel.</p><div class='tablewrap'>"
        f"<table><thead><tr><th>{esc(level)}</th><th class='num'>stations</th><th class='num'>turnout</th>"
        "<th class='num'>leader share</th><th class='num'>excess votes</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )


def _quality_html(analysis) -> str:
    parts = []
    rep = analysis.election.ingest_report
    if rep is not None:
        parts.append(rep.summary().as_html())
    else:
        parts.append("<p>The election was built in memory (no source file).</p>")
    f = analysis.findings
    parts.append(f.summary().as_html())
    for rule, rows in f.examples(5).items():
        items = "".join(
            f"<li>station <code>{esc(str(r['station_id']))}</code>"
            + (f" (line {r['source_line']})" if r.get("source_line") is not None else "")
            + f": {esc(str(r['message']))}</li>"
            for r in rows
        )
        parts.append(f"<details><summary>{esc(rule)}: examples</summary><ul>{items}</ul></details>")
    return "".join(parts)


def _methods_html(analysis) -> str:
    parts = []
    for name, res in analysis.results.items():
        cav = CAVEATS.get(name)
        block = f"<h3>{esc(cav.title if cav else name)}</h3>"
        if cav:
            block += (
                f"<p><strong>Detects:</strong> {esc(cav.detects)} <strong>Cannot see:</strong> {esc(cav.blind)}</p>"
                f"<p class='muted'>Source: {esc(caveat_source(name, analysis.election.meta.country))}</p>"
            )
        calib = (analysis.calibration or calibration_notes()).get(name)
        if calib:
            block += f"<p class='muted'>Calibration: {esc(calib)}</p>"
        try:
            block += res.summary().as_html()
        except Exception as exc:  # a summary must never take the report down
            block += f"<p>Summary unavailable: {esc(str(exc))}</p>"
        parts.append(block)
    for name, err in analysis.errors.items():
        parts.append(f"<h3>{esc(name)}</h3><p>Not computed: {esc(err)}</p>")
    return "".join(parts)


def _repro_html(analysis) -> str:
    rep = analysis.election.ingest_report
    rows = [
        ("input file", rep.source if rep else "in memory"),
        ("input SHA-256", rep.sha256 if rep else "n/a"),
        ("pollwatch version", analysis.version),
        ("seed", str(analysis.seed)),
        ("command", analysis.command or "n/a"),
    ]
    table = "".join(f"<tr><th>{esc(k)}</th><td class='mono'>{esc(v)}</td></tr>" for k, v in rows)
    params = esc(
        json.dumps(analysis.doc.get("parameters", {}), indent=1, ensure_ascii=False, default=str)
    )
    timings = "".join(
        f"<tr><th>{esc(k)}</th><td class='num'>{v:.2f} s</td></tr>"
        for k, v in analysis.timings.items()
    )
    return (
        f"<table>{table}</table><details><summary>every parameter</summary><pre class='mono'>{params}</pre></details>"
        f"<details><summary>timings</summary><table>{timings}</table></details>"
    )


def build_report(
    analysis, *, top_stations: int = 300, extra_sections: list[Section] | None = None
) -> Report:
    """Assemble the report for an :class:`~pollwatch.forensics.run.Analysis`."""
    doc = analysis.doc
    e = analysis.election
    sections = [
        Section("figures", "What the numbers look like", figures=_figures(analysis)),
        Section("regions", "Regional breakdown", html=_regions_html(analysis)),
        Section(
            "diagnostics",
            "Diagnostics: other estimates and what they count",
            html=_diagnostics_html(doc),
        ),
        Section("stations", "Stations to look at", html=_stations_html(analysis, top_stations)),
        Section(
            "quality",
            "Data quality",
            intro="What was read, what could not be analysed and why, and the "
            "protocol-arithmetic violations. Violations are evidence in themselves.",
            html=_quality_html(analysis),
        ),
    ]
    sections += list(extra_sections or [])
    sections += [
        Section("methods", "Methods and caveats", html=_methods_html(analysis)),
        Section("reproduce", "Reproducibility", html=_repro_html(analysis)),
    ]
    return Report(
        title=report_title(e.meta),
        election={"country": e.meta.country, "date": e.meta.date},
        headline=_headline(doc),
        sections=sections,
        version=analysis.version,
    )


def report_title(meta: ElectionMeta) -> str:
    """The report's title: what the election was, where and when, never the file name alone.

    The mapping's or the command line's ``name`` (``--title``) leads; without one the title says
    what is known (type, country, date, round). A file with no metadata at all is named as
    "Election results in <file>" (name it with ``pollwatch analyze --title --date --country``).
    """
    source_name = Path(meta.source).name if meta.source else ""
    named = bool(meta.name) and meta.name != source_name
    what = meta.name if named else (f"{meta.type.capitalize()} election" if meta.type else "")
    facts = [meta.country, _long_date(meta.date), f"round {meta.round}" if meta.round else ""]
    facts = [f for f in facts if f and f not in what]
    if not what and not facts:
        return f"Election results in {source_name or 'an unnamed file'}: forensic analysis"
    head = what or "Election"
    return f"{head}{', ' if facts else ''}{', '.join(facts)}: forensic analysis"


def _long_date(date: str) -> str:
    """``2024-02-07`` as ``7 February 2024``; anything else as given."""
    try:
        d = dt.date.fromisoformat(date)
    except ValueError:
        return date
    return f"{d.day} {d.strftime('%B')} {d.year}"
