"""Turn an analysis into a :class:`~pollwatch.report.html.Report` (sections, figures, tables)."""

from __future__ import annotations

import datetime as dt
import html as _html
import json
import math
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from pollwatch.census.check import CensusCheck
from pollwatch.forensics.headline import restate
from pollwatch.forensics.scores import WEIGHTS
from pollwatch.forensics.strength import RULE, RULE_METHODS, assess
from pollwatch.i18n import (
    N_,
    current_language,
    format_date,
    format_number,
    gettext,
    normalise,
    translated,
    use_language,
)
from pollwatch.i18n import format_int as fmt_int
from pollwatch.i18n import format_pct as fmt_pct
from pollwatch.model import SOURCE_URL, ElectionMeta
from pollwatch.model.derived import has_issued, percent
from pollwatch.report import figures as figs
from pollwatch.report.caveats import CAVEATS, calibration_notes, caveat_source, legal_source
from pollwatch.report.census import census_section
from pollwatch.report.glossary import (
    CENSUS,
    CHECKS,
    COLUMNS,
    EXCLUSIONS,
    FIELDS,
    LEVELS,
    METHODS,
    READINGS,
    SECTIONS,
    SIGNALS,
    TEXT,
    VARIANTS,
    plain,
    term,
)
from pollwatch.report.html import Headline, Report, Section, labels_translated
from pollwatch.results import Skipped, Summary
from pollwatch.validate.findings import message as finding_message

esc = _html.escape


def _pct(x: Any, digits: int = 2) -> str:
    try:
        return fmt_pct(float(x), digits)
    except (TypeError, ValueError):
        return gettext("n/a")


def _int(x: Any) -> str:
    try:
        return fmt_int(float(x))
    except (TypeError, ValueError):
        return gettext("n/a")


def _a(href: str, text: str) -> str:
    """A number in the headline, linked to the table or figure it comes from."""
    return f'<a href="#{esc(href)}">{esc(text)}</a>'


def _t(key: str, **values: str) -> str:
    """A glossary sentence with its (already escaped) values filled in, escaped around them."""
    parts = re.split(r"(\{\w+\})", TEXT[key])
    return "".join(
        values[p[1:-1]] if p.startswith("{") and p[1:-1] in values else esc(p) for p in parts
    )


def _strength_of(doc: dict) -> dict:
    # the strength block analyze already wrote; applied afresh only to an older results file
    return doc.get("strength") or asdict(assess(doc))


def _headline(doc: dict) -> Headline:
    """At most three short sentences: the calibrated headline block of ``results.json``
    (forensics/headline.py; estimate, interval, strength in words), then the official result.
    Every number links to the table it comes from in "How we got these numbers"; the full
    statement and the strength rule are there too. Nothing less conservative than the
    headline block is ever a headline number: the other estimates live in the diagnostics."""
    el = doc["election"]
    st = _strength_of(doc)
    hl = doc.get("headline") or {}
    fv = hl.get("falsified_votes") or {}
    leader = esc(str(el.get("leader", "")))
    rules = hl.get("rules") or {}
    if not hl:
        first = _t("headline_missing")
    elif fv.get("estimate") is not None:
        share = fv.get("share_of_ballots_cast")
        first = _t(
            "headline_fired",
            leader=leader,
            estimate=_a("how-readings", _int(fv["estimate"])),
            share=_a("how-readings", _pct(share, 1) if share is not None else gettext("n/a")),
            low=_a("how-readings", _int(fv.get("low"))),
            high=_a("how-readings", _int(fv.get("high"))),
            confidence=_a("how-readings", "95 %"),
        )
    elif any("why" in r for r in rules.values()):
        first = _t("headline_not_computed")
    elif any(r.get("fired") for r in rules.values()):
        first = _t("headline_one")
    else:
        first = _t("headline_none", leader=leader)
    level = str(st.get("level", "none"))
    word = TEXT.get(f"strength_{level}", level)
    badge = f'<span class="verdict v-{esc(level)}">{esc(word)}</span>'
    n_fired = len([s for s in st.get("signals", ()) if s in RULE_METHODS])
    if n_fired == 0 and level == "weak":
        second = _t("headline_strength_weak_other", level=badge)
    else:
        second = _t(
            "headline_strength",
            level=badge,
            n=_a("how-strength", str(n_fired)),
            m=_a("how-strength", str(len(RULE_METHODS))),
        )
    # the leader is named once: in the first sentence when it names them, else here
    third = _t(
        "headline_official" if leader and leader in first else "headline_official_named",
        leader=leader,
        share=_a("how-official", _pct(el.get("leader_share"), 1)),
        turnout=_a("how-official", _pct(el.get("turnout"), 1)),
        stations=_a("how-official", fmt_int(el.get("stations", 0))),
    )
    if fv.get("estimate") is not None:
        card0 = {
            "label": TEXT["card_falsified"].format(
                low=_int(fv.get("low")), high=_int(fv.get("high"))
            ),
            "value": _int(fv["estimate"]),
        }
    else:
        card0 = {
            "label": TEXT["card_falsified_none"],
            "value": TEXT["card_falsified_none_value"],
        }
    cards = [
        card0,
        {"label": TEXT["card_share"], "value": _pct(el["leader_share"])},
        {"label": TEXT["card_turnout"], "value": _pct(el["turnout"])},
    ]
    return Headline(" ".join((first, second, third)), level, _strength_rule(st), cards)


# the headline's calibrated tests and their kinds, as results.json names them
# (forensics.headline), for the report's table
#: the two readings of the regional excess bounds, by their results.json keys, in words
_READING_KEYS = {"flat": N_("flat"), "trend": N_("trend")}

_RULE_WORDS = {
    "regional excess: permutation test": N_("regional excess: permutation test"),
    "unit-by-unit mixture: manufactured share": N_("unit-by-unit mixture: manufactured share"),
    "p-value below": N_("p-value below"),
    "share of ballots cast above": N_("share of ballots cast above"),
}


def _strength_rule(st: dict) -> str:
    """The strength rule in the report's language (``results.json`` keeps it in English; a
    file written with the rule of this version reads as :data:`strength.RULE`, said again)."""
    rule = st.get("rule", "")
    return str(translated(RULE if rule == RULE else rule))


def _rule_word(text: str) -> str:
    english = _RULE_WORDS.get(text)
    return gettext(english) if english else plain(text)


def _rule_value(r: dict) -> tuple[str, str]:
    """A calibrated test's statistic and threshold; a share of ballots as a percent."""
    kind = str(r.get("kind", ""))
    if "share" in kind:
        return _pct(r["statistic"]), f"{_rule_word(kind)} {_pct(r['threshold'])}"
    return (
        _sig(r["statistic"]),
        f"{_rule_word(kind)} {_sig(r['threshold'])}",
    )


def _sig(x: Any) -> str:
    """Two significant digits (as ``:.2g``) in the report's notation (0,05 in az and ru)."""
    try:
        text = f"{float(x):.2g}"
    except (TypeError, ValueError):
        return gettext("n/a")
    return text if current_language() == "en" else text.replace(".", ",")


def _how_html(doc: dict) -> str:
    """ "How we got these numbers": the full statement, the two calibrated tests, the readings
    the estimate combines, the strength rule and which of its tests signal, and the official
    totals. Each table carries the id the headline's numbers link to."""
    el = doc["election"]
    hl = doc.get("headline") or {}
    fv = hl.get("falsified_votes") or {}
    st = _strength_of(doc)
    parts = [f"<p>{esc(TEXT['how_statement'])}</p>"]
    # the statement results.json keeps in English, said in the report's language
    stated = translated(restate(hl, str(el.get("leader", "")))) if hl.get("statement") else ""
    parts.append(f"<blockquote>{esc(stated or TEXT['headline_missing'])}</blockquote>")
    rules = hl.get("rules") or {}
    if rules:
        rows = []
        for name, r in rules.items():
            if "why" in r:
                val, thr = gettext("n/a"), gettext("n/a")
                res = TEXT["how_rule_not_computed"].format(why=plain(translated(r["why"])))
            else:
                val, thr = _rule_value(r)
                res = TEXT["how_rule_fires"] if r["fired"] else TEXT["how_rule_quiet"]
            rows.append(
                f"<tr><th>{esc(_rule_word(name))}</th><td class='num'>{esc(val)}</td>"
                f"<td>{esc(thr)}</td><td class='nowrap'>{esc(res)}</td></tr>"
            )
        parts.append(
            f"<p>{esc(TEXT['how_rules_intro'])}</p><div class='tablewrap'><table id='how-rules'>"
            f"<thead><tr><th>{esc(TEXT['how_rule_test'])}</th><th class='num'>{esc(TEXT['how_rule_value'])}</th>"
            f"<th>{esc(TEXT['how_rule_threshold'])}</th><th>{esc(TEXT['how_rule_result'])}</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>"
        )
    readings = [
        (TEXT["how_estimate"], _int(fv.get("estimate")) if fv.get("estimate") is not None else "–"),
        (TEXT["how_low"], _int(fv.get("low")) if fv.get("low") is not None else "–"),
        (TEXT["how_high"], _int(fv.get("high")) if fv.get("high") is not None else "–"),
        (
            TEXT["how_share"],
            _pct(fv.get("share_of_ballots_cast"), 1)
            if fv.get("share_of_ballots_cast") is not None
            else "–",
        ),
    ]
    for key, v in (hl.get("readings") or {}).items():
        readings.append((_reading_name(key), _int(v) if v is not None else "–"))
    parts.append(
        f"<p>{esc(TEXT['how_readings_intro'])}</p><div class='tablewrap'><table id='how-readings'>"
        f"<thead><tr><th>{esc(TEXT['how_reading'])}</th><th class='num'>{esc(TEXT['diag_value'])}</th></tr></thead><tbody>"
        + "".join(f"<tr><th>{esc(a)}</th><td class='num'>{esc(b)}</td></tr>" for a, b in readings)
        + "</tbody></table></div>"
    )
    fired, not_run = set(st.get("signals", ())), set(st.get("not_computed", ()) or ())
    srows = "".join(
        f"<tr><th>{esc(gettext(name))}</th><td class='nowrap'>"
        + esc(
            TEXT["how_strength_not_computed"]
            if name in not_run
            else TEXT["how_strength_fires"]
            if name in fired
            else TEXT["how_strength_quiet"]
        )
        + "</td></tr>"
        for name in RULE_METHODS
    )
    parts.append(
        f"<p>{esc(TEXT['how_strength_intro'])}</p><p class='muted'>{esc(plain(_strength_rule(st)))}</p>"
        f"<div class='tablewrap'><table id='how-strength'><thead><tr><th>{esc(TEXT['how_strength_test'])}</th>"
        f"<th>{esc(TEXT['how_strength_state'])}</th></tr></thead><tbody>{srows}</tbody></table></div>"
    )
    official = [
        (TEXT["how_official_leader"], str(el.get("leader", ""))),
        (TEXT["how_official_share"], _pct(el.get("leader_share"), 1)),
        (TEXT["how_official_turnout"], _pct(el.get("turnout"), 1)),
        (TEXT["how_official_stations"], fmt_int(el.get("stations", 0))),
        (TEXT["how_official_cast"], _int(el.get("ballots_cast"))),
        (TEXT["how_official_registered"], _int(el.get("registered"))),
    ]
    parts.append(
        f"<p>{esc(TEXT['how_official_intro'])}</p><div class='tablewrap'><table id='how-official'><tbody>"
        + "".join(
            f"<tr><th>{esc(a)}</th><td class='num'>{esc(b)}</td></tr>"
            for a, b in official
            if b != gettext("n/a")
        )
        + "</tbody></table></div>"
    )
    return "".join(parts)


def _reading_name(key: str) -> str:
    return READINGS.get(key, plain(key))


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
                gettext("Shpilkin excess votes, national kernel"),
                _int(sh["excess_votes"]),
                gettext(
                    "upper bound: one clean pattern for the whole country, so honest differences between regions "
                    "in turnout and support count as excess"
                ),
            )
        )
    if "fraudulent_votes" in mx:
        rows.append(
            (
                gettext("finite mixture, fitted nationally"),
                _int(mx["fraudulent_votes"]),
                gettext(
                    "upper bound: one clean distribution for the whole country; its interval "
                    "({low}–{high}) is sampling noise only, blind to honest regional differences"
                ).format(
                    low=_int(mx.get("fraudulent_votes_low")),
                    high=_int(mx.get("fraudulent_votes_high")),
                ),
            )
        )
    for key, how in (
        ("flat", gettext("each unit its own clean ratio")),
        ("trend", gettext("each unit its own clean ratio, following turnout as below its peak")),
    ):
        r = eb.get(key)
        if not r:
            continue
        rows.append(
            (
                gettext("regional excess S ({how})").format(how=how),
                _int(r["excess"]),
                gettext("over-reads: every unit's noise adds a little positive excess"),
            )
        )
        rows.append(
            (
                gettext("regional excess beyond the permutation null D ({key})").format(
                    key=gettext(_READING_KEYS[key])
                ),
                _int(r["beyond_null"]),
                gettext("under-reads under fraud; permutation p = {p} ({units})").format(
                    p=format_number(r["pvalue"], 3), units=translated(eb.get("units", ""))
                ),
            )
        )
    if "manufactured_votes" in mr:
        rows.append(
            (
                gettext("finite mixture, unit by unit: manufactured votes"),
                _int(mr["manufactured_votes"]),
                gettext("the calibrated estimator (each unit its own clean distribution)"),
            )
        )
    if "excess_votes" in sp:
        rows.append(
            (
                gettext("Shpilkin national excess: within-region permutation"),
                f"p = {format_number(sp.get('p_value', float('nan')), 3)}",
                gettext("median excess with no fraud at all: {n}").format(
                    n=_int((sp.get("null_quantiles") or {}).get("median"))
                ),
            )
        )
    if "excess" in ip:
        rows.append(
            (
                gettext("stations at a whole percent beyond chance"),
                _int(ip["excess"]),
                gettext("p = {p}; signals rewritten protocols, not a vote count").format(
                    p=format_number(ip.get("p_value", float("nan")), 3)
                ),
            )
        )
    if not rows:
        return f"<p>{esc(TEXT['diag_none'])}</p>"
    body = "".join(
        f"<tr><th>{esc(a)}</th><td class='num'>{esc(b)}</td><td>{esc(plain(c))}</td></tr>"
        for a, b, c in rows
    )
    return (
        f"<p>{esc(TEXT['diag_intro'])}</p><div class='tablewrap'><table id='diagnostics-table'><thead><tr>"
        f"<th>{esc(TEXT['diag_estimate'])}</th><th class='num'>{esc(TEXT['diag_value'])}</th>"
        f"<th>{esc(TEXT['diag_counts'])}</th></tr></thead><tbody>" + body + "</tbody></table></div>"
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
    level = _region_level(e)
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
        ("second_digit", N_("Second-digit (2BL) mean"), 4.187),
        ("last_digit", N_("Last-digit mean"), 4.5),
    ):
        # rows with too few counts say nothing; with none left the figure is left out and the
        # methods section says why (_digits_note)
        rows = [r for r in dg.get(key + "_rows") or () if r[4] >= DIGITS_MIN_COUNTS]
        if rows:
            # the digit rows are the candidates (their names as the file gives them) and
            # forensics.digits' "ballots cast" row, translated here
            named = [(_count_names().get(r[0], r[0]), *r[1:]) for r in rows]
            out.append(
                figs.digit_intervals(named, gettext(title), null, key=f"digits-{title[:12]}")
            )
    reg = sh.get("regions") if level is not None else None
    if reg:
        labels = [r["region"] for r in reg]
        vals = np.array([r["excess_votes"] for r in reg], dtype=float)
        out.append(
            figs.regional_bars(labels, vals, title=gettext("Excess votes by region (Shpilkin)"))
        )
    if analysis.regions_geojson is not None and reg:
        vals_by = {r["region"]: r["excess_votes"] for r in reg}
        out.append(
            figs.choropleth(analysis.regions_geojson, vals_by, analysis.regions_key, "excess votes")
        )
    return out


#: fewest counts for which a digit mean is drawn: below it the bootstrap interval spans most
#: of the digit range (sd of a uniform digit ≈ 2.9, so ±0.57 at 100 counts)
DIGITS_MIN_COUNTS = 100


def _region_level(e) -> str | None:
    """The hierarchy level the regional parts read, or None when it has fewer than two
    labels (no regions, or one): a regional breakdown of one region says nothing."""
    level = next((h for h in ("region", *e.meta.hierarchy) if h in e.meta.hierarchy), None)
    if level is None or len(set(e.level(level).tolist())) < 2:
        return None
    return level


def _count_names() -> dict[str, str]:
    return {"ballots cast": gettext(N_("ballots cast"))}


def _integer_panel(e, ir) -> figs.Figure:
    """Observed against expected stations at each whole percent (turnout and leader share added;
    the counts come with the integer test's result)."""
    obs, exp, var = ir.by_percent
    return figs.integer_panel(
        np.arange(101),
        obs,
        exp,
        2 * np.sqrt(var),
        label=gettext("stations at a whole percent (turnout + share)"),
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


def safe_url(value: object) -> str | None:
    """``value`` if it is an absolute http(s) URL with a host, else None: a file's link column
    is untrusted input, and ``javascript:``/``data:`` links (or anything else) never reach the
    page."""
    if not isinstance(value, str):
        return None
    v = value.strip()
    try:
        parts = urlsplit(v)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if any(c.isspace() or ord(c) < 32 for c in v):
        return None
    return v


def _th(code: str, numeric: bool = False, narrow: bool = True) -> str:
    t = COLUMNS.get(code) or LEVELS.get(code) or term(code)
    cls = " class='num'" if numeric else "" if narrow else " class='hide-narrow'"
    tip = f" title='{esc(t.explanation)}'" if t.explanation else ""
    return f"<th{cls}{tip} data-col='{esc(code)}'>{esc(t.name)}</th>"


def _station_cell(sid: str, levels: list[str]) -> str:
    """The station's own part of its id when the id is its place joined by "/" (the Russian
    files' "region/TIK/UIK"), with the full id as the tooltip; else the id as it is."""
    prefix = "/".join(levels) + "/"
    if levels and sid.startswith(prefix) and len(sid) > len(prefix):
        return f"<td title='{esc(sid)}'>{esc(sid[len(prefix) :])}</td>"
    return f"<td>{esc(sid)}</td>"


def _signal_spans(value: object) -> str:
    out = []
    for code in str(value or "").replace(";", ",").split(","):
        code = code.strip()
        if code:
            t = SIGNALS.get(code) or term(code)
            out.append(f"<span class='sig' title='{esc(t.explanation)}'>{esc(t.name)}</span>")
    return "".join(out)


def _stations_html(analysis, top: int) -> str:
    """The highest-ranked stations: station, its place, points, signals in words, turnout and
    leader share first (what a reader scans), then rank and size; a link to the station's
    official page where the file gives one (``source_url``)."""
    tbl = analysis.stations_table()
    if tbl is None or tbl.height == 0:
        return f"<p>{esc(TEXT['stations_none'])}</p>"
    tbl = tbl.sort("rank").head(top)
    e = analysis.election
    urls: dict[str, str] = {}
    if SOURCE_URL in e.table.columns:
        want = set(tbl["station_id"].to_list())
        for sid, u in e.table.select(["station_id", SOURCE_URL]).iter_rows():
            if sid in want:
                ok = safe_url(u)
                if ok:
                    urls[sid] = ok
    cols = [
        c
        for c in (
            "station_id",
            *e.meta.hierarchy,
            "points",
            "signals",
            "turnout",
            "leader_share",
            "rank",
            "registered",
        )
        if c in tbl.columns
    ]
    # on a phone the levels below the first are hidden: the station's tooltip names them
    narrow_hidden = set(e.meta.hierarchy[1:])
    head = "".join(
        _th(c, c != "signals" and tbl[c].dtype.is_numeric(), c not in narrow_hidden) for c in cols
    )
    if urls:
        head += _th("protocol")
    rows = []
    for r in tbl.select(cols).iter_rows(named=True):
        cells = []
        for c in cols:
            v = r[c]
            if c == "signals":
                cells.append(f"<td class='sigs'>{_signal_spans(v)}</td>")
            elif isinstance(v, float):
                shown = (
                    ""
                    if math.isnan(v)
                    else (
                        fmt_pct(v, 1) if c in ("turnout", "leader_share") else format_number(v, 2)
                    )
                )
                cells.append(f"<td class='num' data-v='{'' if math.isnan(v) else v}'>{shown}</td>")
            elif isinstance(v, int):
                cells.append(f"<td class='num' data-v='{v}'>{fmt_int(v)}</td>")
            elif c == "station_id":
                cells.append(_station_cell(str(v), [str(r[h]) for h in e.meta.hierarchy]))
            elif c in narrow_hidden:
                cells.append(f"<td class='hide-narrow'>{esc(str(v))}</td>")
            else:
                cells.append(f"<td>{esc(str(v))}</td>")
        if urls:
            u = urls.get(r["station_id"])
            cells.append(
                f"<td><a href='{esc(u, quote=True)}' rel='noopener noreferrer nofollow'>"
                f"{esc(TEXT['stations_link'])}</a></td>"
                if u
                else "<td></td>"
            )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    note = f"<p class='muted'>{esc(TEXT['stations_link_note'])}</p>" if urls else ""
    return (
        f"<p>{esc(TEXT['stations_intro'].format(n=f'{fmt_int(e.n_stations)}'))}</p>{note}"
        f"<input type='search' id='station-filter' placeholder='{esc(TEXT['stations_filter'])}' "
        f"aria-label='{esc(TEXT['stations_filter'])}'>"
        f"<div class='tablewrap'><table id='station-table'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _regions_html(analysis) -> str:
    """Per region: stations, official turnout and leader share, and Shpilkin's excess votes."""
    e = analysis.election
    level = _region_level(e)
    if level is None:
        if not e.meta.hierarchy:
            return f"<p>{esc(TEXT['regions_none'])}</p>"
        only = str(e.table[e.meta.hierarchy[0]][0]) if e.n_stations else ""
        return f"<p>{esc(TEXT['regions_one'].format(region=only))}</p>"
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
            f"<tr><td>{esc(str(r[level]))}</td><td class='num'>{fmt_int(r['stations'])}</td>"
            f"<td class='num'>{_pct(cast / r['registered'] if r['registered'] else float('nan'), 1)}</td>"
            f"<td class='num'>{_pct(r[lead] / cast if cast else float('nan'), 1)}</td>"
            f"<td class='num'>{_int(ex)}</td></tr>"
        )
    return (
        "<p>"
        + esc(
            gettext(
                "Per {level}: official turnout (cast) and the share of {leader}, with the excess "
                "votes of Shpilkin's method estimated on each region's own clean kernel."
            ).format(level=(LEVELS.get(level) or term(level)).name, leader=e.leader.name)
        )
        + "</p><div class='tablewrap'>"
        f"<table id='regions-table'><thead><tr><th>{esc((LEVELS.get(level) or term(level)).name)}</th>"
        f"<th class='num'>{esc(gettext('stations'))}</th><th class='num'>{esc(COLUMNS['turnout'].name)}</th>"
        f"<th class='num'>{esc(COLUMNS['leader_share'].name)}</th><th class='num'>{esc(gettext('excess votes'))}</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )


def summary_html(s: Summary) -> str:
    """A method's summary with every code in its title, text, rows and notes in words, all in
    the report's language (``labels_translated``: the title and row labels from the catalogue,
    the sentence written with ``gettext`` by the method, the notes said again from their parts)."""
    s = labels_translated(s)
    return Summary(
        plain(s.title),
        plain(s.text),
        [(plain(k), plain(v)) for k, v in s.rows],
        [plain(n) for n in s.notes],
    ).as_html()


def _quality_html(analysis) -> str:
    """The ingest report and the protocol checks, each check by its name in words."""
    parts = []
    rep = analysis.election.ingest_report
    if rep is not None:
        parts.append(summary_html(rep.summary()))
    else:
        parts.append(f"<p>{esc(TEXT['quality_in_memory'])}</p>")
    if SOURCE_URL in analysis.election.table.columns:
        parts.append(f"<p class='muted'>{esc(TEXT['quality_url'])}</p>")
    f = analysis.findings
    counts = f.counts()
    bad = {r: n for r, n in counts.items() if n}
    if bad:
        text = TEXT["quality_summary"].format(
            checked=len(f.checked),
            violations=f"{fmt_int(sum(bad.values()))}",
            stations=f"{fmt_int(len(f.stations()))}",
        )
    else:
        text = TEXT["quality_summary_clean"].format(checked=len(f.checked))
    rows = "".join(
        f"<tr><th title='{esc(term(r).explanation)}'>{esc(term(r).name)}</th>"
        f"<td class='num'>{fmt_int(n)}</td><td>{esc(term(r).explanation)}</td></tr>"
        for r, n in counts.items()
    )
    parts.append(
        f"<h3>{esc(METHODS['validate'].name)}</h3><p>{esc(text)}</p><div class='tablewrap'>"
        f"<table id='quality-checks'><thead><tr><th>{esc(TEXT['quality_check'])}</th>"
        f"<th class='num'>{esc(TEXT['quality_stations'])}</th><th>{esc(TEXT['glossary_meaning'])}</th>"
        f"</tr></thead><tbody>{rows}</tbody></table></div>"
    )
    for r, why in f.skipped.items():
        parts.append(
            f"<p class='muted'>{esc(TEXT['quality_not_checked'].format(check=term(r).name, why=plain(translated(why))))}</p>"
        )
    for rule, examples in f.examples(5).items():
        items = "".join(
            "<li>"
            + esc(
                TEXT["quality_example_line"].format(
                    station=r["station_id"],
                    line=r["source_line"],
                    message=plain(translated(finding_message(r))),
                )
                if r.get("source_line") is not None
                else TEXT["quality_example"].format(
                    station=r["station_id"], message=plain(translated(finding_message(r)))
                )
            )
            + "</li>"
            for r in examples
        )
        parts.append(
            f"<details><summary>{esc(TEXT['quality_examples'].format(check=term(rule).name))}</summary>"
            f"<ul>{items}</ul></details>"
        )
    return "".join(parts)


def _carousel_html(res, country: str | None) -> str:
    """The carousel block: one count per share, the one the stations table uses (the floored
    rule), said in words. The method's own summary prints the strict count next to the floored
    one and, when the file has a mobile-box line but no away-voter line, "0 stations" above
    "flagged 4,546" (those are mobile-box stations, a different signal)."""
    shares = getattr(res, "shares", None) or {}
    if not shares:
        return f"<p>{esc(TEXT['carousel_none'])}</p>"
    away = {k: s for k, s in shares.items() if k != "mobile"}
    parts = []
    if away:
        if res.n_flagged:
            parts.append(
                TEXT["carousel_flagged"].format(
                    n=f"{fmt_int(res.n_flagged)}",
                    k=f"{res.k:g}",
                    delta=f"{100 * res.delta:g}",
                    n_min=res.n_min,
                )
            )
        else:
            parts.append(TEXT["carousel_none_flagged"])
    mobile = shares.get("mobile")
    if mobile is not None and away:
        parts.append(
            TEXT["carousel_flagged_mobile"].format(n=f"{fmt_int(mobile.n_flagged_floored)}")
        )
    elif mobile is not None:
        parts.append(
            TEXT["carousel_mobile_only"].format(
                n=f"{fmt_int(mobile.n_flagged_floored)}",
                k=f"{res.k:g}",
                delta=f"{100 * res.delta:g}",
                n_min=res.n_min,
            )
        )
    parts.append(TEXT["carousel_caution"])
    rows = "".join(
        f"<tr><th title='{esc(term(k).explanation)}'>{esc(term(k).name)}</th>"
        f"<td class='num'>{esc(fmt_pct(s.national_share))}</td><td class='num'>{esc(fmt_pct(s.station_median))}</td>"
        f"<td class='num'>{fmt_int(s.n_flagged_floored)}</td></tr>"
        for k, s in shares.items()
    )
    extra = []
    for k, r in (getattr(res, "correlation_with_leader", None) or {}).items():
        extra.append((TEXT["carousel_corr"].format(share=term(k).name), f"{r:.3f}"))
    if res.cards_used is not None:
        extra.append((TEXT["carousel_cards"], f"{_int(res.cards_used)} / {_int(res.cards_issued)}"))
        extra.append(
            (
                TEXT["carousel_groups_over"],
                f"{fmt_int(res.n_groups_cards_over)} / {fmt_int(res.n_groups)}",
            )
        )
    if res.n_boxes_gt_issued is not None:
        extra.append((TEXT["carousel_boxes"], f"{fmt_int(res.n_boxes_gt_issued)}"))
    notes = "".join(
        f"<li>{esc(plain(translated(n)))}</li>" for n in getattr(res, "notes", ()) or ()
    )
    return (
        f"<div class='pw-summary' id='carousel-summary'><p>{esc(' '.join(parts))}</p>"
        f"<table><thead><tr><th>{esc(TEXT['carousel_share'])}</th><th class='num'>{esc(TEXT['carousel_national'])}</th>"
        f"<th class='num'>{esc(TEXT['carousel_median'])}</th><th class='num'>{esc(TEXT['carousel_flagged_col'])}</th>"
        f"</tr></thead><tbody>{rows}</tbody></table>"
        + (
            "<table>"
            + "".join(f"<tr><th>{esc(a)}</th><td>{esc(b)}</td></tr>" for a, b in extra)
            + "</table>"
            if extra
            else ""
        )
        + (f"<ul class='muted'>{notes}</ul>" if notes else "")
        + "</div>"
    )


def _methods_html(analysis) -> str:
    parts = []
    country = analysis.election.meta.country
    for name, res in analysis.results.items():
        cav = CAVEATS.get(name)
        t = METHODS.get(name) or term(name)
        block = f"<h3 id='method-{esc(name)}' title='{esc(t.explanation)}'>{esc(gettext(cav.title) if cav else t.name)}</h3>"
        if cav:
            block += (
                f"<p><strong>{esc(TEXT['methods_detects'])}</strong> {esc(gettext(cav.detects))} "
                f"<strong>{esc(TEXT['methods_blind'])}</strong> {esc(gettext(cav.blind))}</p>"
                f"<p class='muted'>{esc(TEXT['methods_source'].format(source=caveat_source(name, country)))}</p>"
            )
            if name in LEGAL_METHODS and legal_source(name, country) is None:
                block += f"<p class='muted'>{esc(TEXT['legal_none'])}</p>"
        else:
            block += f"<p>{esc(t.explanation)}</p>"
        calib = (analysis.calibration or calibration_notes()).get(name)
        if calib:
            block += f"<p class='muted'>{esc(TEXT['methods_calibration'].format(text=plain(translated(calib))))}</p>"
        if name == "carousel":
            block += _carousel_html(res, country)
        elif name == "digits" and not _digit_rows_shown(analysis):
            block += f"<p>{esc(TEXT['digits_small'].format(n=DIGITS_MIN_COUNTS))}</p>"
        elif isinstance(res, Skipped):  # Skipped.summary(), its reason in the report's language
            block += summary_html(
                Summary(
                    res.method,
                    gettext("Not computed: {reason}.").format(reason=translated(res.reason)),
                )
            )
        else:
            try:
                block += summary_html(res.summary())
            except Exception as exc:  # a summary must never take the report down
                block += f"<p>{esc(TEXT['methods_unavailable'].format(error=plain(str(exc))))}</p>"
        parts.append(block)
    for name, err in analysis.errors.items():
        t = METHODS.get(name) or term(name)
        parts.append(
            f"<h3 title='{esc(t.explanation)}'>{esc(t.name)}</h3>"
            f"<p>{esc(TEXT['methods_not_computed'].format(error=plain(str(err))))}</p>"
        )
    return "".join(parts)


#: methods whose protocol lines have a country's law behind them (caveats.LEGAL_SOURCES)
LEGAL_METHODS = ("carousel",)


def _digit_rows_shown(analysis) -> bool:
    dg = analysis.doc.get("methods", {}).get("digits", {})
    return any(
        r[4] >= DIGITS_MIN_COUNTS
        for key in ("second_digit_rows", "last_digit_rows")
        for r in dg.get(key) or ()
    )


def _repro_html(analysis) -> str:
    """The input's fingerprint and the command; the settings in their results.json form (codes
    and all) inside <code>, next to what the exported files are."""
    rep = analysis.election.ingest_report
    rows = [
        (TEXT["repro_file"], rep.source if rep else gettext("in memory")),
        (TEXT["repro_sha"], rep.sha256 if rep else gettext("n/a")),
        (TEXT["repro_version"], analysis.version),
        (TEXT["repro_seed"], str(analysis.seed)),
        (TEXT["repro_command"], analysis.command or gettext("n/a")),
    ]
    table = "".join(f"<tr><th>{esc(k)}</th><td class='mono'>{esc(v)}</td></tr>" for k, v in rows)
    params = esc(
        json.dumps(analysis.doc.get("parameters", {}), indent=1, ensure_ascii=False, default=str)
    )
    timings = "".join(
        f"<tr><th>{esc((METHODS.get(k) or term(k)).name if k in METHODS else plain(k))}</th>"
        f"<td class='num'>{v:.2f} s</td></tr>"
        for k, v in analysis.timings.items()
    )
    return (
        f"<table>{table}</table><p>{esc(TEXT['repro_exports'])}</p>"
        f"<details id='exports'><summary>{esc(TEXT['repro_params'])}</summary>"
        f"<pre class='mono'><code>{params}</code></pre></details>"
        f"<details><summary>{esc(TEXT['repro_timings'])}</summary><table>{timings}</table></details>"
    )


def _glossary_html(checks: set[str], sections: list[Section]) -> str:
    """Every term the report uses: name, meaning and the code the exports keep. The points
    column gives each station signal's points in the ranking. Of the protocol checks, only
    those of this election's profile (``checks``): another country's law is not cited."""

    def table(title: str, terms, points: bool = False) -> str:
        head = (
            f"<tr><th>{esc(TEXT['glossary_name'])}</th><th>{esc(TEXT['glossary_meaning'])}</th>"
            + (f"<th class='num'>{esc(TEXT['glossary_points'])}</th>" if points else "")
            + f"<th>{esc(TEXT['glossary_code'])}</th></tr>"
        )
        body = "".join(
            f"<tr id='term-{esc(t.code)}'><th>{esc(t.name)}</th><td>{esc(t.explanation)}</td>"
            + (
                f"<td class='num'>{WEIGHTS[t.code]:g}{' × p' if t.code == 'mixture' else ''}</td>"
                if points
                else ""
            )
            + f"<td class='code'><code>{esc(t.code)}</code></td></tr>"
            for t in terms
        )
        return (
            f"<h3>{esc(title)}</h3><div class='tablewrap glosswrap'><table class='glossary'>"
            f"<thead>{head}</thead><tbody>{body}</tbody></table></div>"
        )

    scored = [SIGNALS[c] for c in WEIGHTS if c in SIGNALS]
    return (
        f"<p>{esc(TEXT['glossary_intro'])}</p>"
        + table(
            TEXT["glossary_sections"],
            [SECTIONS[x.key] for x in sections if x.key in SECTIONS] + [SECTIONS["glossary"]],
        )
        + table(TEXT["glossary_signals"], scored, points=True)
        + table(TEXT["glossary_columns"], COLUMNS.values())
        + table(TEXT["glossary_methods"], _unique(METHODS.values()))
        + table(TEXT["glossary_checks"], [t for c, t in CHECKS.items() if c in checks])
        + table(TEXT["glossary_exclusions"], EXCLUSIONS.values())
        + table(TEXT["glossary_variants"], VARIANTS.values())
        + table(TEXT["glossary_fields"], FIELDS.values())
        + table(TEXT["glossary_levels"], LEVELS.values())
        + (
            table(TEXT["glossary_census"], CENSUS.values())
            if any(x.key == "census" for x in sections)
            else ""
        )
    )


def _checks_shown(analysis) -> set[str]:
    """The protocol checks and reading gates this report names."""
    f = analysis.findings
    shown = set(f.counts()) | set(f.skipped) | {"nonnegative"}
    rep = analysis.election.ingest_report
    if rep is not None:
        shown |= set(getattr(rep, "gates", {}) or {})
    return shown


def _unique(terms) -> list:
    """One row per name (``shpilkin_test`` and ``shpilkin_permutation`` are one method): the
    codes of a name are listed together."""
    by_name: dict[str, list] = {}
    for t in terms:
        by_name.setdefault(t.name, []).append(t)
    return [
        type(ts[0])(" / ".join(t.code for t in ts), ts[0].name, ts[0].explanation)
        for ts in by_name.values()
    ]


def _section(key: str, **kw) -> Section:
    t = SECTIONS[key]
    return Section(key, t.name, tooltip=t.explanation, **kw)


def build_report(
    analysis,
    *,
    top_stations: int = 300,
    extra_sections: list[Section] | None = None,
    lang: str | None = None,
    census: CensusCheck | None = None,
    census_source: str = "",
) -> Report:
    """Assemble the report for an :class:`~pollwatch.forensics.run.Analysis` in ``lang``
    (``en``, ``az``, ``ru``; default: the current ``pollwatch.i18n.use_language``, else English).
    Every text the report adds, its figures and its numbers are in that language; the
    exports keep their codes. Sections in ``extra_sections`` are built by the caller, in the
    language of the block it builds them in.

    ``census``: a :class:`~pollwatch.census.check.CensusCheck` adds the "Tally-sheet census"
    section after the other sources (``census_source``: the sheets file's name); without one
    the section is left out, as for every source not given."""
    lang = normalise(lang) if lang else current_language()
    with use_language(lang):
        return _build_report(analysis, top_stations, extra_sections, lang, census, census_source)


def _build_report(
    analysis,
    top_stations: int,
    extra_sections: list[Section] | None,
    lang: str,
    census: CensusCheck | None = None,
    census_source: str = "",
) -> Report:
    doc = analysis.doc
    e = analysis.election
    sections = [
        _section("how", html=_how_html(doc)),
        _section("figures", figures=_figures(analysis)),
        _section("regions", html=_regions_html(analysis)),
        _section("diagnostics", html=_diagnostics_html(doc)),
        _section("stations", html=_stations_html(analysis, top_stations)),
        _section("quality", intro=TEXT["quality_intro"], html=_quality_html(analysis)),
    ]
    extra = list(extra_sections or [])
    if census is not None:
        extra.append(census_section(census, census_source))
    for s in extra:
        t = SECTIONS.get(s.key)
        if t is not None and not s.tooltip:
            s.tooltip = t.explanation
        sections.append(s)
    sections += [
        _section("methods", html=_methods_html(analysis)),
        _section("reproduce", html=_repro_html(analysis)),
    ]
    sections.append(_section("glossary", html=_glossary_html(_checks_shown(analysis), sections)))
    return Report(
        title=report_title(e.meta),
        election={"country": e.meta.country, "date": e.meta.date},
        headline=_headline(doc),
        sections=sections,
        version=analysis.version,
        text={k: TEXT[k] for k in ("contents", "footer")},
        lang=lang,
    )


def report_title(meta: ElectionMeta) -> str:
    """The report's title: what the election was, where and when, never the file name alone.

    The mapping's or the command line's ``name`` (``--title``) leads; without one the title says
    what is known (type, country, date, round). A file with no metadata at all is named as
    "Election results in <file>" (name it with ``pollwatch analyze --title --date --country``).
    """
    source_name = Path(meta.source).name if meta.source else ""
    named = bool(meta.name) and meta.name != source_name
    kinds = {
        "presidential": gettext("Presidential election"),
        "parliamentary": gettext("Parliamentary election"),
        "referendum": gettext("Referendum"),
    }
    kind = (meta.type or "").lower()
    what = (
        meta.name
        if named
        else (kinds.get(kind) or gettext("{kind} election").format(kind=meta.type.capitalize()))
        if meta.type
        else ""
    )
    facts = [
        meta.country,
        _long_date(meta.date),
        gettext("round {n}").format(n=meta.round) if meta.round else "",
    ]
    facts = [f for f in facts if f and f not in what]
    if not what and not facts:
        return gettext("Election results in {file}: forensic analysis").format(
            file=source_name or gettext("an unnamed file")
        )
    head = what or gettext("Election")
    return gettext("{what}: forensic analysis").format(
        what=f"{head}{', ' if facts else ''}{', '.join(facts)}"
    )


def _long_date(date: str) -> str:
    """``2024-02-07`` as ``7 February 2024`` (in the report's language: ``7 fevral 2024``,
    ``7 февраля 2024 г.``); anything else as given."""
    try:
        d = dt.date.fromisoformat(date)
    except ValueError:
        return date
    return format_date(d)
