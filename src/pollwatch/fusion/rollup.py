"""Constituency and national roll-ups of the fused evidence.

* How many stations each source flags, among how many it covers, and the pairwise overlaps.
* Conditional rates: among stations a source covers, how often it flags stations that
  forensics flags against stations forensics does not flag, with Fisher's exact test
  (Fisher 1935; ``scipy.stats.fisher_exact``, two-sided) — agreement between independent
  sources is evidence that both see the same thing.
* Each source's estimate of falsified votes with its interval, side by side, with what it
  can and cannot see (Shpilkin excess, mixture model, camera lower bound, PVT vs official,
  protocol-copy mismatches). The estimates measure different things and are not added.
* With a known truth (a simulation): the exact AUC (Hanley & McNeil 1982, eq. 2; see
  :mod:`pollwatch.fusion.auc`) of each single source and of the fused score at ranking the
  stations with injected stuffing, over all stations (an uncovered station scores zero)
  and over the stations the source covers.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

import numpy as np
import polars as pl
from scipy.stats import fisher_exact

from pollwatch.fusion.auc import auc
from pollwatch.fusion.score import FusedScores
from pollwatch.i18n import N_, gettext
from pollwatch.results import ResultMixin, Summary, fmt_int

__all__ = ["Rollup", "rollup"]

#: source -> (coverage column, flag column, single-source score column); the names stay English
#: keys in the result and are translated where the summary shows them
SOURCES: dict[str, tuple[str | None, str, str]] = {
    N_("forensics"): (None, "forensic_flag", "forensic_points"),
    N_("cameras"): ("camera_watched", "camera_flag", "camera_points"),
    N_("protocol copies"): ("observed", "protocol_flag", "protocol_points"),
    N_("observers' reports"): ("observed", "incident_flag", "incident_points"),
}
#: the fused score's key among the AUCs
FUSION = N_("fusion")
#: the fixed caveat written with the AUCs (a note, translated where it is shown)
AUC_NOTE = N_(
    "AUC over all stations: a station a source does not cover scores zero for it. "
    "Weights were fixed in advance, not fitted to this truth."
)


@dataclass(frozen=True)
class Rollup(ResultMixin):
    """Result of :func:`rollup`.

    ``flags``: per source ``{covered, flagged}``; ``overlaps``: stations flagged by both of
    each pair of sources; ``n_multi``: stations flagged by two or more sources;
    ``conditional``: per source ``{covered, p_if_forensic, n_forensic, p_if_not, n_not,
    odds_ratio, p_value}``; ``estimates``: rows ``{source, quantity, estimate, low, high,
    scope}``; ``aucs``/``aucs_covered``: AUC by source (and ``fusion``) when a truth was given;
    ``by_group``: one row per constituency (``level``) with the same counts, the camera lower
    bound and the Shpilkin excess where available.

    The fields keep English source names and sentences (``to_dict`` is read by scripts);
    :meth:`summary` writes them in the language of the enclosing
    ``pollwatch.i18n.use_language`` when it is called.
    """

    level: str | None
    n_stations: int
    flags: dict[str, dict[str, int]]
    overlaps: dict[str, int]
    n_multi: int
    conditional: dict[str, dict[str, float]]
    estimates: tuple[dict, ...]
    aucs: dict[str, float]
    aucs_covered: dict[str, float]
    truth_label: str | None
    fusion_beats_all: bool | None
    notes: tuple[str, ...]
    by_group: pl.DataFrame = field(repr=False)
    #: each estimate's scope as (English template, its numbers), so that the summary can
    #: write it in the display language; ``estimates`` keeps the English for the JSON
    _scopes: tuple[tuple[str, dict], ...] = field(default=(), repr=False, compare=False)

    _dict_exclude = ("by_group",)

    def to_dict(self) -> dict:
        out = super().to_dict()
        out["by_group"] = self.by_group.to_dicts()
        return out

    def summary(self) -> Summary:
        """The summary in the current language (``pollwatch.i18n.use_language``): the source
        names, labels, sentence and fixed note are translated here, at display time; the
        numbers are formatted as in English."""
        rows = [
            (
                gettext("{source} flags").format(source=gettext(k)),
                gettext("{flagged} of {covered} covered stations").format(
                    flagged=f"{v['flagged']:,}", covered=f"{v['covered']:,}"
                ),
            )
            for k, v in self.flags.items()
        ]
        rows += [
            (
                gettext("both {first} & {second}").format(first=gettext(a), second=gettext(b)),
                f"{v:,}",
            )
            for (a, b), v in ((_pair(k), v) for k, v in self.overlaps.items())
            if v
        ]
        for k, c in self.conditional.items():
            rows.append(
                (
                    gettext("P({source} flag | forensic flag)").format(source=gettext(k)),
                    gettext(
                        "{p_forensic} (n={n_forensic}) vs {p_not} without (n={n_not}); "
                        "Fisher p = {p_value}"
                    ).format(
                        p_forensic=_p(c["p_if_forensic"]),
                        n_forensic=f"{c['n_forensic']:,}",
                        p_not=_p(c["p_if_not"]),
                        n_not=f"{c['n_not']:,}",
                        p_value=_g(c["p_value"]),
                    ),
                )
            )
        scopes = self._scopes if len(self._scopes) == len(self.estimates) else ()
        for i, e in enumerate(self.estimates):
            iv = "" if e["low"] is None else f" [{_int(e['low'])}, {_int(e['high'])}]"
            if scopes:
                template, args = scopes[i]
                scope = gettext(template).format(**args)
            else:  # built without its templates: a fixed scope is still a catalogue message
                scope = _tr(e["scope"])
            rows.append(
                (
                    f"{_tr(e['source'])}: {_tr(e['quantity'])}",
                    f"{_int(e['estimate'])}{iv} — {scope}",
                )
            )
        for k, v in self.aucs.items():
            cov = self.aucs_covered.get(k)
            rows.append(
                (
                    gettext("AUC {source}").format(source=gettext(k)),
                    f"{v:.3f}"
                    + (
                        gettext(" (covered stations: {auc})").format(auc=f"{cov:.3f}")
                        if cov is not None and k != FUSION and not math.isnan(cov)
                        else ""
                    ),
                )
            )
        text = (
            gettext(
                "{n_multi} of {n_stations} stations are flagged by two or more sources."
            ).format(n_multi=f"{self.n_multi:,}", n_stations=f"{self.n_stations:,}")
            + " "
            + self._agreement_text()
        )
        if self.aucs:
            best = max((k for k in self.aucs if k != FUSION), key=lambda k: _nan0(self.aucs[k]))
            text += " " + gettext(
                "Against the known truth ({truth}), the fused score ranks the stations with AUC "
                "{auc_fusion}, the best single source ({best}) {auc_best}."
            ).format(
                truth=_tr(self.truth_label or ""),
                auc_fusion=f"{self.aucs[FUSION]:.3f}",
                best=gettext(best),
                auc_best=f"{self.aucs[best]:.3f}",
            )
        notes = [_tr(n) for n in self.notes]
        return Summary(gettext("Sources side by side"), text, rows, notes)

    def _agreement_text(self) -> str:
        bits = []
        for k, c in self.conditional.items():
            if c["n_forensic"] and c["n_not"]:
                bits.append(
                    gettext(
                        "{source} flag {p_forensic} of the stations forensics flags and "
                        "{p_not} of the others"
                    ).format(
                        source=gettext(k),
                        p_forensic=_p(c["p_if_forensic"]),
                        p_not=_p(c["p_if_not"]),
                    )
                )
        return gettext("Where they overlap, {list}.").format(list="; ".join(bits)) if bits else ""


def _tr(text: str) -> str:
    """``text`` translated where the catalogue has it (``gettext("")`` is the header)."""
    return gettext(text) if text else text


def _pair(key: str) -> tuple[str, str]:
    """The two source names of an ``overlaps`` key (``"a & b"``; no source name holds " & ")."""
    a, _, b = key.partition(" & ")
    return a, b


def _p(x: float) -> str:
    return gettext("n/a") if x is None or math.isnan(x) else f"{100 * x:.1f} %"


def _int(x: float | None) -> str:
    """``fmt_int`` with its "n/a" (a one-sided interval's missing end) translated."""
    return gettext("n/a") if x is None or math.isnan(x) else fmt_int(x)


def _g(x: float) -> str:
    return gettext("n/a") if x is None or math.isnan(x) else f"{x:.2g}"


def _nan0(x: float) -> float:
    return -1.0 if x is None or math.isnan(x) else x


def _conditional(t: pl.DataFrame, cov: str | None, flag: str) -> dict[str, float]:
    covered = np.ones(t.height, bool) if cov is None else t[cov].to_numpy()
    f = t["forensic_flag"].to_numpy()[covered]
    s = t[flag].to_numpy()[covered]
    a, b = int((s & f).sum()), int((~s & f).sum())
    c, d = int((s & ~f).sum()), int((~s & ~f).sum())
    nf, nn = a + b, c + d
    if nf and nn and (a + c) and (b + d):
        odds, p = fisher_exact([[a, b], [c, d]])
    else:
        odds, p = math.nan, math.nan
    return {
        "covered": int(covered.sum()),
        "p_if_forensic": a / nf if nf else math.nan,
        "n_forensic": nf,
        "p_if_not": c / nn if nn else math.nan,
        "n_not": nn,
        "odds_ratio": float(odds),
        "p_value": float(p),
    }


def _extracted(analysis: Any, name: str) -> dict:
    ex = getattr(analysis, "extracted", None) or {}
    return ex.get(name) or {}


def _row(
    source: str,
    quantity: str,
    estimate: float,
    low: float | None,
    high: float | None,
    scope: str,
    **numbers: str,
) -> tuple[dict, tuple[str, dict]]:
    """One estimate row (its ``scope`` in English, for the JSON) and its scope's template with
    the numbers that fill it (for the summary in the display language)."""
    row = {
        "source": source,
        "quantity": quantity,
        "estimate": estimate,
        "low": low,
        "high": high,
        "scope": scope.format(**numbers),
    }
    return row, (scope, numbers)


def _estimates(
    fused: FusedScores, analysis: Any, pvt: Any, cameras: Any, election: Any, truth: dict | None
) -> list[tuple[dict, tuple[str, dict]]]:
    rows: list[tuple[dict, tuple[str, dict]]] = []
    sh = _extracted(analysis, "shpilkin")
    if sh.get("excess_votes") is not None:
        rows.append(
            _row(
                N_("forensics (Shpilkin)"),
                N_("excess votes for the leader"),
                sh["excess_votes"],
                sh.get("excess_votes_low"),
                sh.get("excess_votes_high"),
                N_("all stations; turnout above the natural peak (model-based)"),
            )
        )
    mx = _extracted(analysis, "mixture")
    if mx.get("fraudulent_votes") is not None:
        rows.append(
            _row(
                N_("forensics (mixture)"),
                N_("fraudulent votes"),
                mx["fraudulent_votes"],
                mx.get("fraudulent_votes_low"),
                mx.get("fraudulent_votes_high"),
                N_("all stations; incremental and extreme fraud classes (model-based)"),
            )
        )
    # a one-sided bound (official lines with ballots no camera sees) bounds nothing added
    if cameras is not None and getattr(cameras, "direction", None) != "official below camera":
        rows.append(
            _row(
                N_("cameras"),
                N_("ballots added, lower bound"),
                cameras.lower_bound_added,
                cameras.lower_bound_added,
                None,
                N_("{n} watched stations only (not a random sample); a conservative lower bound"),
                n=f"{cameras.n_compared:,}",
            )
        )
        rows.append(
            _row(
                N_("cameras"),
                N_("official minus camera estimate"),
                cameras.official_total - cameras.estimate_total,
                None,
                None,
                N_("{n} watched stations"),
                n=f"{cameras.n_compared:,}",
            )
        )
    if pvt is not None and election is not None:
        row = _pvt_leader_shift(pvt, election)
        if row:
            rows.append(row)
        shift = 0
        lead = election.leader.name
        for m in pvt.protocols.mismatches:
            if m.field == lead and m.copy is not None and m.official is not None:
                shift += m.official - m.copy
        rows.append(
            _row(
                N_("protocol copies"),
                N_("leader votes added between station and centre"),
                float(shift),
                float(shift),
                float(shift),
                N_("{n} copied protocols (exact there; not extrapolated)"),
                n=f"{pvt.protocols.stations_compared:,}",
            )
        )
    if truth:
        for k, v in truth.items():
            # the caller's quantity names: shown translated where the catalogue has them
            rows.append(
                _row(
                    N_("simulation truth"),
                    k,
                    float(v),
                    None,
                    None,
                    N_("what was injected (known only in a simulation)"),
                )
            )
    return rows


def _pvt_leader_shift(pvt: Any, election: Any) -> tuple[dict, tuple[str, dict]] | None:
    lead = election.leader.name
    row = next((r for r in pvt.official.rows if r.quantity == lead), None)
    if row is None:
        return None
    valid = float(election.totals()["valid"])
    return _row(
        N_("quick count (PVT)"),
        N_("leader votes: official minus PVT estimate"),
        (row.official - row.estimate) * valid,
        (row.official - row.high) * valid,
        (row.official - row.low) * valid,
        N_("tabulation only: stuffing and carousel inside the station's count are invisible to it"),
    )


def rollup(
    fused: FusedScores,
    *,
    analysis: Any = None,
    pvt: Any = None,
    cameras: Any = None,
    election: Any = None,
    truth: np.ndarray | None = None,
    truth_label: str = N_("injected stuffing"),
    truth_totals: dict[str, float] | None = None,
    level: str | None = None,
) -> Rollup:
    """National and per-constituency roll-up of a :class:`FusedScores` (see module docstring).

    ``truth``: bool per station (election order) of the stations to be found, e.g. the
    simulation's stations with stuffed ballots; ``truth_totals``: injected quantities to show
    next to the estimates. ``level``: the grouping level (default: the fused table's level).
    """
    t = fused.table
    level = level or fused.level
    if level is not None and level not in t.columns:
        raise ValueError(
            f"level ({level!r}) not recognised; must be one of the hierarchy columns "
            f"{[c for c in t.columns if c not in ('station_id',)][:5]}"
        )
    flags = {}
    for k, (cov, flag, _) in SOURCES.items():
        covered = t.height if cov is None else int(t[cov].sum())
        flags[k] = {"covered": covered, "flagged": int(t[flag].sum())}
    names = list(SOURCES)
    overlaps = {}
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            overlaps[f"{a} & {b}"] = int((t[SOURCES[a][1]] & t[SOURCES[b][1]]).sum())
    n_flags = reduce(operator.add, (t[SOURCES[k][1]].cast(pl.Int64) for k in names))
    n_multi = int((n_flags >= 2).sum())
    conditional = {
        k: _conditional(t, cov, flag)
        for k, (cov, flag, _) in SOURCES.items()
        if k != "forensics" and (cov is None or t[cov].any())
    }
    aucs: dict[str, float] = {}
    aucs_cov: dict[str, float] = {}
    beats = None
    notes = []
    if truth is not None:
        y = np.asarray(truth, bool)
        if y.shape[0] != t.height:
            raise ValueError(
                f"truth has {y.shape[0]} entries; the election has {t.height} stations"
            )
        for k, (cov, _, score) in SOURCES.items():
            aucs[k] = auc(t[score].to_numpy(), y)
            if cov is not None:
                m = t[cov].to_numpy()
                aucs_cov[k] = auc(t[score].to_numpy()[m], y[m]) if m.any() else math.nan
            else:
                aucs_cov[k] = aucs[k]
        aucs[FUSION] = auc(t["fused"].to_numpy(), y)
        beats = all(aucs[FUSION] > _nan0(v) for k, v in aucs.items() if k != FUSION)
        notes.append(AUC_NOTE)
    by_group = _by_group(t, level, analysis)
    estimates = _estimates(fused, analysis, pvt, cameras, election, truth_totals)
    return Rollup(
        level,
        t.height,
        flags,
        overlaps,
        n_multi,
        conditional,
        tuple(row for row, _ in estimates),
        aucs,
        aucs_cov,
        truth_label if truth is not None else None,
        beats,
        tuple(notes),
        by_group,
        tuple(scope for _, scope in estimates),
    )


def _by_group(t: pl.DataFrame, level: str | None, analysis: Any) -> pl.DataFrame:
    key = level or "__all__"
    if level is None:
        t = t.with_columns(pl.lit(N_("all")).alias(key))
    n_flags = reduce(operator.add, (pl.col(SOURCES[k][1]).cast(pl.Int64) for k in SOURCES))
    g = (
        t.with_columns(n_flags.alias("__n"))
        .group_by(key, maintain_order=True)
        .agg(
            pl.len().alias("stations"),
            pl.col("forensic_flag").sum().alias("forensics"),
            pl.col("camera_watched").sum().alias("camera_watched"),
            pl.col("camera_flag").sum().alias("cameras"),
            pl.col("observed").sum().alias("observed"),
            pl.col("protocol_flag").sum().alias("protocol_copies"),
            pl.col("incident_flag").sum().alias("observer_reports"),
            (pl.col("__n") >= 2).sum().alias("multi"),
            pl.col("camera_excess").sum().alias("camera_lower_bound"),
            pl.col("fused").mean().alias("fused_mean"),
        )
    )
    # Shpilkin's regional estimates as results.json carries them (the method's to_json)
    regions = _extracted(analysis, "shpilkin").get("regions") or []
    if regions:
        sh = pl.DataFrame(
            {
                key: [str(r["region"]) for r in regions],
                "shpilkin_excess": [
                    math.nan if r["excess_votes"] is None else float(r["excess_votes"])
                    for r in regions
                ],
            }
        )
        g = g.join(sh, on=key, how="left")
    return g.sort("multi", "fused_mean", descending=True)
