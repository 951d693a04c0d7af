"""The report's "Tally-sheet census" section, from a :class:`~pollwatch.census.check.CensusCheck`.

What the people who ran the Venezuelan 2024 and Belarusian 2020 collections published on the
night, in that order: how many sheets and where (coverage overall and by region), the votes on
the sheets as they are, the coverage-corrected estimate with its interval and the assumption it
rests on (``docs/census.md`` §2), whether the collection looks like the rest by the official
figures (the selection check, §2.3), the worst-case bound and each claim's verdict with its
arithmetic (§3), and the stations whose official figure is below the signed sheet. Every
sentence is a glossary string (:data:`pollwatch.report.glossary.TEXT`); every code is shown by
its :data:`~pollwatch.report.glossary.CENSUS` name.
"""

from __future__ import annotations

import html as _html
import re

from pollwatch.census.check import CensusCheck
from pollwatch.i18n import translated
from pollwatch.report.glossary import SECTIONS, TEXT, plain, term
from pollwatch.report.html import Section
from pollwatch.results import fmt_int, fmt_pct

__all__ = ["MAX_ROWS", "census_section"]

esc = _html.escape

#: rows of the sheets-above-official table shown in the page (all are in results.json)
MAX_ROWS = 200


def _t(key: str, **values: object) -> str:
    """A glossary sentence, escaped, with its values (escaped) filled in."""
    parts = re.split(r"(\{\w+\})", TEXT[key])
    return "".join(
        esc(str(values[p[1:-1]])) if p.startswith("{") and p[1:-1] in values else esc(p)
        for p in parts
    )


def _pct(x: object, digits: int = 1) -> str:
    return "n/a" if x is None else fmt_pct(float(x), digits)  # type: ignore[arg-type]


def _table(head: list[str], rows: list[list[str]], tid: str = "", num: tuple[int, ...] = ()) -> str:
    """A table of already escaped cells; ``num``: right-aligned columns."""
    th = "".join(f"<th{' class=num' if i in num else ''}>{esc(h)}</th>" for i, h in enumerate(head))
    body = "".join(
        "<tr>"
        + "".join(f"<td{' class=num' if i in num else ''}>{c}</td>" for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    ident = f" id='{esc(tid)}'" if tid else ""
    return (
        f"<div class='tablewrap'><table{ident}><thead><tr>{th}</tr></thead>"
        f"<tbody>{body}</tbody></table></div>"
    )


def _quantity(name: str) -> str:
    if name.startswith("share:"):
        return TEXT["census_q_share"].format(name=name[6:])
    if name.startswith("votes:"):
        return TEXT["census_q_votes"].format(name=name[6:])
    return {
        "valid_votes": TEXT["census_q_valid"],
        "ballots_cast": TEXT["census_q_cast"],
        "turnout": TEXT["census_q_turnout"],
    }.get(name, plain(name))


def _claimed(quantity: str) -> str:
    """A claim's quantity (``pollwatch.claims`` code) in words."""
    head, _, name = quantity.partition(":")
    key = f"census_c_{head}"
    return TEXT[key].format(name=name) if key in TEXT else plain(quantity)


def _coverage(check: CensusCheck) -> list[str]:
    cov = check.coverage
    overall = cov.get("overall")
    if not overall:
        return [f"<p>{_t('census_coverage_none')}</p>"]
    reg = overall.get("registered_share")
    key = "census_coverage" if reg is not None else "census_coverage_noreg"
    out = [
        "<p>"
        + _t(
            key,
            collected=f"{overall['collected']:,}",
            stations=f"{overall['stations']:,}",
            share=_pct(overall.get("share")),
            reg_share=_pct(reg),
        )
        + "</p>"
    ]
    for k, groups in cov.items():
        if not k.startswith("by_"):
            continue
        level = k[3:]
        rows = [
            [
                esc(g),
                f"{b['stations']:,}",
                f"{b['collected']:,}",
                esc(_pct(b.get("share"))),
                esc(_pct(b.get("registered_share"))),
            ]
            for g, b in groups.items()
        ]
        head = [
            term(level).name,
            TEXT["census_col_stations"],
            TEXT["census_col_collected"],
            TEXT["census_col_share"],
            TEXT["census_col_reg_share"],
        ]
        out.append(f"<p>{_t('census_coverage_by', level=term(level).name)}</p>")
        out.append(_table(head, rows, f"census-coverage-{level}", num=(1, 2, 3, 4)))
    return out


def _estimate(check: CensusCheck) -> list[str]:
    est = check.estimate
    if est is None:
        return [f"<p>{_t('census_estimate_none')}</p>"]
    rows = []
    for q in est.quantities:
        fmt = (lambda v: fmt_pct(v, 2)) if q.unit == "share" else fmt_int
        rows.append(
            [
                esc(_quantity(q.name)),
                esc(fmt(q.estimate)),
                esc(f"{fmt(q.interval.low)} – {fmt(q.interval.high)}"),
            ]
        )
    head = [TEXT["census_col_quantity"], TEXT["census_col_estimate"], TEXT["census_col_interval"]]
    out = [
        "<p>"
        + _t(
            "census_estimate_intro",
            confidence=f"{est.confidence:.0%}".replace("%", " %"),
            collected=f"{est.collected:,}",
            stations=f"{est.stations:,}",
            strata=f"{est.n_strata:,}",
        )
        + "</p>",
        _table(head, rows, "census-estimate", num=(1, 2)),
        f"<p>{_t('census_estimate_assumption', assumption=translated(est.assumption))}</p>",
    ]
    sel = check.diagnostics.get("selection_check")
    if sel:
        widened = [k for k, v in sel.items() if v.get("widened")]
        if widened:
            out.append(f"<p>{_t('census_selection_widened', n=len(widened), m=len(sel))}</p>")
        else:
            out.append(f"<p>{_t('census_selection_ok', n=len(sel))}</p>")
    else:
        out.append(f"<p>{_t('census_selection_none')}</p>")
    return out


def _claims(check: CensusCheck) -> list[str]:
    b = check.bound
    if b.uncollected_max is not None:
        out = [
            "<p>"
            + _t(
                "census_bound",
                n=f"{b.collected_stations:,}",
                votes=fmt_int(b.collected_total),
                max=fmt_int(b.uncollected_max),
            )
            + "</p>"
        ]
    else:
        out = [
            "<p>"
            + _t(
                "census_bound_open", n=f"{b.collected_stations:,}", votes=fmt_int(b.collected_total)
            )
            + "</p>"
        ]
    if not check.claims:
        return [*out, f"<p>{_t('census_claims_none')}</p>"]
    rows = []
    for c in check.claims:
        t = term(c.verdict)
        value = f"{c.value:,g} %" if c.unit == "%" else f"{c.value:,g}"
        rows.append(
            [
                esc(c.source),
                esc(_claimed(c.quantity)),
                esc(value),
                f"<strong class='census-verdict c-{esc(c.verdict)}' "
                f"title='{esc(t.explanation)}'>{esc(t.name)}</strong>",
                esc(translated(c.reason)),  # a Note: said in the report's language
            ]
        )
    head = [
        TEXT["census_col_source"],
        TEXT["census_col_claim"],
        TEXT["census_col_value"],
        TEXT["census_col_verdict"],
        TEXT["census_col_reason"],
    ]
    out += [f"<p>{_t('census_claims_intro')}</p>", _table(head, rows, "census-claims", num=(2,))]
    return out


def _against_official(check: CensusCheck) -> list[str]:
    above = [f for f in check.findings if f.get("kind") == "sheet_above_official"]
    added = {f["station_id"] for f in check.findings if f.get("kind") == "official_above_sheet"}
    if not check.coverage:  # no official file: nothing to compare
        return []
    out = []
    stations = {f["station_id"] for f in above}
    if above:
        above = sorted(above, key=lambda f: f["difference"])  # largest loss first
        rows = [
            [
                esc(str(f["station_id"])),
                esc(str(f["candidate"])),
                fmt_int(f["sheet"]),
                fmt_int(f["official"]),
                f"{f['difference']:+,}",
            ]
            for f in above[:MAX_ROWS]
        ]
        head = [
            TEXT["census_col_station"],
            TEXT["census_col_candidate"],
            TEXT["census_col_sheet"],
            TEXT["census_col_official"],
            TEXT["census_col_difference"],
        ]
        out.append(f"<p>{_t('census_above_intro', n=f'{len(stations):,}')}</p>")
        out.append(_table(head, rows, "census-above", num=(2, 3, 4)))
        if len(above) > MAX_ROWS:
            out.append(f"<p>{_t('census_listed_first', n=MAX_ROWS)}</p>")
    else:
        out.append(f"<p>{_t('census_above_none')}</p>")
    if added:
        out.append(f"<p>{_t('census_official_above', n=f'{len(added):,}')}</p>")
    return out


def _sheet_problems(check: CensusCheck) -> list[str]:
    skip = {"sheet_above_official", "official_above_sheet"}
    counts: dict[str, int] = {}
    for f in check.findings:
        k = str(f.get("kind"))
        if k not in skip:
            counts[k] = counts.get(k, 0) + 1
    if not counts:
        return []
    rows = [
        [f"<span title='{esc(term(k).explanation)}'>{esc(term(k).name)}</span>", f"{n:,}"]
        for k, n in counts.items()
    ]
    head = [TEXT["census_col_finding"], TEXT["census_col_count"]]
    return [f"<p>{_t('census_findings_intro')}</p>", _table(head, rows, "census-problems", (1,))]


def census_section(check: CensusCheck, source: str = "") -> Section:
    """The "Tally-sheet census" section of the analysis report (``source``: the sheets file)."""
    s = check.sheets
    totals = [[esc(str(k)), fmt_int(v)] for k, v in check.totals.items()]
    parts = [
        *_coverage(check),
        f"<p>{_t('census_totals_intro')}</p>",
        _table(
            [TEXT["census_col_candidate"], TEXT["census_col_votes"]], totals, "census-totals", (1,)
        ),
        *_estimate(check),
        *_claims(check),
        *_against_official(check),
        *_sheet_problems(check),
    ]
    intro = TEXT["census_intro"].format(
        source=source or "—",
        usable=f"{s.get('usable', 0):,}",
        filed=f"{s.get('filed', 0):,}",
    )
    return Section(
        "census",
        SECTIONS["census"].name,
        intro=intro,
        html="".join(parts),
        tooltip=SECTIONS["census"].explanation,
    )
