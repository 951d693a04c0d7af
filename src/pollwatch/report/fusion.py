"""Report sections from evidence fusion: "Station dossiers" (top stations by fused score) and
"Sources side by side" (:mod:`pollwatch.fusion` builds the dossiers and roll-ups; this renders them)."""

from __future__ import annotations

import html
from collections.abc import Sequence

from pollwatch.fusion.dossier import StationDossier
from pollwatch.fusion.rollup import Rollup
from pollwatch.i18n import gettext
from pollwatch.report.html import Section

__all__ = ["dossier_section", "rollup_section"]

_esc = html.escape


def _dossier_html(d: StationDossier, rank: int | None) -> str:
    head = f"Station {d.station_id}" + (f" — fused rank {rank}" if rank else "")
    levels = ", ".join(f"{k} {v}" for k, v in d.levels.items())
    ev = "".join(
        f"<tr class='ev-{_esc(e.direction.replace(' ', '-'))}'><td>{_esc(e.strength)}</td>"
        f"<td>{_esc(e.source)}</td><td>{_esc(e.direction)}</td><td>{_esc(e.text)}</td></tr>"
        for e in d.evidence
    )
    off = d.official
    fields = off.fields.items() if off is not None else ()
    prot = ", ".join(f"{k} {v:,}" for k, v in fields if isinstance(v, int))
    votes = ", ".join(
        f"{k} {v:,}" for k, v in (off.votes.items() if off is not None else ()) if v is not None
    )
    media = (
        (
            "<p class='muted'>Media SHA-256: "
            + ", ".join(f"<code>{_esc(h)}</code>" for h in d.media_hashes)
            + "</p>"
        )
        if d.media_hashes
        else ""
    )
    return (
        f"<article class='dossier' id='dossier-{_esc(d.station_id)}'><h3>{_esc(head)}</h3>"
        f"<p class='muted'>{_esc(levels)}</p><p class='dossier-summary'>{_esc(d.text)}</p>"
        "<table><tr><th>strength</th><th>source</th><th>reading</th><th>what it says</th></tr>"
        f"{ev}</table><details><summary>Official protocol</summary><p>{_esc(prot)}</p>"
        f"<p>{_esc(votes)}</p></details>{media}</article>"
    )


def dossier_section(
    dossiers: Sequence[StationDossier], ranks: Sequence[int] | None = None
) -> Section:
    """One article per station, in the order given (the caller ranks them)."""
    shown: list[int | None] = list(ranks) if ranks is not None else [None] * len(dossiers)
    body = "".join(_dossier_html(d, r) for d, r in zip(dossiers, shown, strict=True))
    intro = gettext(
        "The {n} stations with the highest fused score, each with everything that points at it. "
        "Hard evidence is about the station's own paperwork or count (protocol copy against the official "
        "protocol, arithmetic, official turnout above the camera count); statistical signals say the "
        "station resembles stations where fraud happens; weak signals also arise without fraud."
    ).format(n=len(dossiers))
    return Section("dossiers", gettext("Station dossiers"), intro=intro, html=body)


def rollup_section(r: Rollup, top_groups: int = 15) -> Section:
    """The roll-up's summary, its AUC table and the constituencies most flagged by several sources."""
    parts = [r.summary().as_html()]
    if r.aucs:
        rows = "".join(
            f"<tr><td>{_esc(k)}</td><td>{v:.3f}</td><td>{r.aucs_covered.get(k, float('nan')):.3f}</td></tr>"
            for k, v in r.aucs.items()
        )
        parts.append(
            "<h4>Ranking the stations with injected stuffing (AUC)</h4><table class='auc'>"
            "<tr><th>source</th><th>AUC, all stations</th><th>AUC, covered stations</th></tr>"
            f"{rows}</table>"
        )
    g = r.by_group.head(top_groups)
    if g.height:
        cols = g.columns
        head = "".join(f"<th>{_esc(c)}</th>" for c in cols)
        body = "".join(
            "<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in g.iter_rows()
        )
        parts.append(
            f"<h4>Constituencies flagged by several sources (top {g.height})</h4>"
            f"<table class='groups'><tr>{head}</tr>{body}</table>"
        )
    intro = gettext(
        "How many stations each independent source flags, where they overlap, how often one source flags "
        "the stations another flags, and each source's own estimate of the falsified votes with its interval. "
        "The estimates measure different things (all stations vs watched or sampled ones; turnout vs "
        "tabulation) and are shown side by side, never added."
    )
    return Section("sources", gettext("Sources side by side"), intro=intro, html="".join(parts))


def _cell(v) -> str:
    if isinstance(v, float):
        return "" if v != v else f"{v:,.1f}"
    return _esc(str(v))
