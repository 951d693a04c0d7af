"""Report sections from evidence fusion: "Station dossiers" (top stations by fused score) and
"Sources side by side" (:mod:`pollwatch.fusion` builds the dossiers and roll-ups; this renders them).

Both are written in the language of the enclosing ``pollwatch.i18n.use_language``: headings,
labels and codes here, the roll-up's summary when it is shown; a dossier's sentences are in the
language it was built in, so build the dossiers inside the same block."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

from pollwatch.fusion.dossier import StationDossier, direction_label, strength_label
from pollwatch.fusion.rollup import Rollup
from pollwatch.i18n import N_, gettext
from pollwatch.report.glossary import term
from pollwatch.report.html import Section

__all__ = ["GROUP_COLUMNS", "dossier_section", "rollup_section"]

_esc = html.escape

#: the roll-up's per-constituency columns (``Rollup.by_group``) as the report heads them
GROUP_COLUMNS: dict[str, str] = {
    "__all__": N_("stations taken together"),
    "stations": N_("stations"),
    "forensics": N_("flagged by forensics"),
    "camera_watched": N_("watched by cameras"),
    "cameras": N_("flagged by cameras"),
    "observed": N_("with observers"),
    "protocol_copies": N_("protocol copy differs"),
    "observer_reports": N_("flagged by observers' reports"),
    "multi": N_("flagged by two or more sources"),
    "camera_lower_bound": N_("ballots beyond the camera bound"),
    "fused_mean": N_("mean fused score"),
    "shpilkin_excess": N_("excess votes (Shpilkin)"),
}


def _column(code: str) -> str:
    """A ``by_group`` column's heading: its label, or the hierarchy level's name."""
    return gettext(GROUP_COLUMNS[code]) if code in GROUP_COLUMNS else term(code).name


def _dossier_html(d: StationDossier, rank: int | None) -> str:
    head = (
        gettext("Station {station} — fused rank {rank}").format(station=d.station_id, rank=rank)
        if rank
        else gettext("Station {station}").format(station=d.station_id)
    )
    levels = ", ".join(f"{term(k).name} {v}" for k, v in d.levels.items())
    ev = "".join(
        f"<tr class='ev-{_esc(e.direction.replace(' ', '-'))}'><td>{_esc(strength_label(e.strength))}</td>"
        f"<td>{_esc(gettext(e.source))}</td><td>{_esc(direction_label(e.direction))}</td>"
        f"<td>{_esc(e.text)}</td></tr>"
        for e in d.evidence
    )
    off = d.official
    fields = off.fields.items() if off is not None else ()
    # protocol lines by their names (the codes stay in the dossier's JSON)
    prot = ", ".join(f"{term(k).name} {v:,}" for k, v in fields if isinstance(v, int))
    votes = ", ".join(
        f"{k} {v:,}" for k, v in (off.votes.items() if off is not None else ()) if v is not None
    )
    # the hashes as a placeholder: the sentence is escaped, the <code> elements are not
    media_line = gettext("Media SHA-256: {hashes}")
    media = (
        "<p class='muted'>"
        + _esc(media_line).format(
            hashes=", ".join(f"<code>{_esc(h)}</code>" for h in d.media_hashes)
        )
        + "</p>"
        if d.media_hashes
        else ""
    )
    # (gettext outside the f-strings: Babel's extractor does not look inside them)
    heads = "".join(f"<th>{_esc(h)}</th>" for h in _dossier_heads())
    protocol = gettext("Official protocol")
    return (
        f"<article class='dossier' id='dossier-{_esc(d.station_id)}'><h3>{_esc(head)}</h3>"
        f"<p class='muted'>{_esc(levels)}</p><p class='dossier-summary'>{_esc(d.text)}</p>"
        f"<table><tr>{heads}</tr>{ev}</table><details><summary>{_esc(protocol)}</summary>"
        f"<p>{_esc(prot)}</p><p>{_esc(votes)}</p></details>{media}</article>"
    )


def _dossier_heads() -> tuple[str, ...]:
    return (gettext("strength"), gettext("source"), gettext("reading"), gettext("what it says"))


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
            f"<tr><td>{_esc(gettext(k))}</td><td>{_auc(v)}</td>"
            f"<td>{_auc(r.aucs_covered.get(k, math.nan))}</td></tr>"
            for k, v in r.aucs.items()
        )
        heads = "".join(
            f"<th>{_esc(h)}</th>"
            for h in (
                gettext("source"),
                gettext("AUC, all stations"),
                gettext("AUC, covered stations"),
            )
        )
        title = gettext("Ranking the stations with injected stuffing (AUC)")
        parts.append(f"<h4>{_esc(title)}</h4><table class='auc'><tr>{heads}</tr>{rows}</table>")
    g = r.by_group.head(top_groups)
    if g.height:
        cols = g.columns
        # the column's code kept in data-code (results.json's by_group key), not shown
        head = "".join(f"<th data-code='{_esc(c)}'>{_esc(_column(c))}</th>" for c in cols)
        body = "".join(
            "<tr>"
            + "".join(f"<td>{_cell(c, v)}</td>" for c, v in zip(cols, row, strict=True))
            + "</tr>"
            for row in g.iter_rows()
        )
        title = gettext("Constituencies flagged by several sources (top {n})").format(n=g.height)
        parts.append(f"<h4>{_esc(title)}</h4><table class='groups'><tr>{head}</tr>{body}</table>")
    intro = gettext(
        "How many stations each independent source flags, where they overlap, how often one source flags "
        "the stations another flags, and each source's own estimate of the falsified votes with its interval. "
        "The estimates measure different things (all stations vs watched or sampled ones; turnout vs "
        "tabulation) and are shown side by side, never added."
    )
    return Section("sources", gettext("Sources side by side"), intro=intro, html="".join(parts))


def _auc(v: float) -> str:
    # the fused score has no "covered stations" AUC: it covers them all
    return gettext("n/a") if math.isnan(v) else f"{v:.3f}"


def _cell(column: str, v: object) -> str:
    if v is None:  # no Shpilkin estimate for the group
        return ""
    if isinstance(v, float):
        return "" if v != v else f"{v:,.1f}"
    if column == "__all__":  # the one group of a roll-up without a level: "all"
        return _esc(gettext(str(v)))
    return _esc(str(v))
