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
from pollwatch.results import ResultMixin, Summary, fmt_int

__all__ = ["Rollup", "rollup"]

#: source -> (coverage column, flag column, single-source score column)
SOURCES: dict[str, tuple[str | None, str, str]] = {
    "forensics": (None, "forensic_flag", "forensic_points"),
    "cameras": ("camera_watched", "camera_flag", "camera_points"),
    "protocol copies": ("observed", "protocol_flag", "protocol_points"),
    "observers' reports": ("observed", "incident_flag", "incident_points"),
}


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

    _dict_exclude = ("by_group",)

    def to_dict(self) -> dict:
        out = super().to_dict()
        out["by_group"] = self.by_group.to_dicts()
        return out

    def summary(self) -> Summary:
        rows = [
            (f"{k} flags", f"{v['flagged']:,} of {v['covered']:,} covered stations")
            for k, v in self.flags.items()
        ]
        rows += [(f"both {k}", f"{v:,}") for k, v in self.overlaps.items() if v]
        for k, c in self.conditional.items():
            rows.append(
                (
                    f"P({k} flag | forensic flag)",
                    f"{_p(c['p_if_forensic'])} (n={c['n_forensic']:,}) vs {_p(c['p_if_not'])} without "
                    f"(n={c['n_not']:,}); Fisher p = {_g(c['p_value'])}",
                )
            )
        for e in self.estimates:
            iv = "" if e["low"] is None else f" [{fmt_int(e['low'])}, {fmt_int(e['high'])}]"
            rows.append(
                (f"{e['source']}: {e['quantity']}", f"{fmt_int(e['estimate'])}{iv} — {e['scope']}")
            )
        for k, v in self.aucs.items():
            cov = self.aucs_covered.get(k)
            rows.append(
                (
                    f"AUC {k}",
                    f"{v:.3f}"
                    + (
                        f" (covered stations: {cov:.3f})"
                        if cov is not None and k != "fusion" and not math.isnan(cov)
                        else ""
                    ),
                )
            )
        text = (
            f"{self.n_multi:,} of {self.n_stations:,} stations are flagged by two or more sources. "
            + self._agreement_text()
        )
        if self.aucs:
            best = max((k for k in self.aucs if k != "fusion"), key=lambda k: _nan0(self.aucs[k]))
            text += (
                f" Against the known truth ({self.truth_label}), the fused score ranks the stations with AUC "
                f"{self.aucs['fusion']:.3f}, the best single source ({best}) {self.aucs[best]:.3f}."
            )
        return Summary("Sources side by side", text, rows, self.notes)

    def _agreement_text(self) -> str:
        bits = []
        for k, c in self.conditional.items():
            if c["n_forensic"] and c["n_not"]:
                bits.append(
                    f"{k} flag {_p(c['p_if_forensic'])} of the stations forensics flags and "
                    f"{_p(c['p_if_not'])} of the others"
                )
        return ("Where they overlap, " + "; ".join(bits) + ".") if bits else ""


def _p(x: float) -> str:
    return "n/a" if x is None or math.isnan(x) else f"{100 * x:.1f} %"


def _g(x: float) -> str:
    return "n/a" if x is None or math.isnan(x) else f"{x:.2g}"


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


def _estimates(
    fused: FusedScores, analysis: Any, pvt: Any, cameras: Any, election: Any, truth: dict | None
) -> list[dict]:
    rows: list[dict] = []
    sh = _extracted(analysis, "shpilkin")
    if sh.get("excess_votes") is not None:
        rows.append(
            {
                "source": "forensics (Shpilkin)",
                "quantity": "excess votes for the leader",
                "estimate": sh["excess_votes"],
                "low": sh.get("excess_votes_low"),
                "high": sh.get("excess_votes_high"),
                "scope": "all stations; turnout above the natural peak (model-based)",
            }
        )
    mx = _extracted(analysis, "mixture")
    if mx.get("fraudulent_votes") is not None:
        rows.append(
            {
                "source": "forensics (mixture)",
                "quantity": "fraudulent votes",
                "estimate": mx["fraudulent_votes"],
                "low": mx.get("fraudulent_votes_low"),
                "high": mx.get("fraudulent_votes_high"),
                "scope": "all stations; incremental and extreme fraud classes (model-based)",
            }
        )
    # a one-sided bound (official lines with ballots no camera sees) bounds nothing added
    if cameras is not None and getattr(cameras, "direction", None) != "official below camera":
        rows.append(
            {
                "source": "cameras",
                "quantity": "ballots added, lower bound",
                "estimate": cameras.lower_bound_added,
                "low": cameras.lower_bound_added,
                "high": None,
                "scope": f"{cameras.n_compared:,} watched stations only (not a random sample); "
                "a conservative lower bound",
            }
        )
        rows.append(
            {
                "source": "cameras",
                "quantity": "official minus camera estimate",
                "estimate": cameras.official_total - cameras.estimate_total,
                "low": None,
                "high": None,
                "scope": f"{cameras.n_compared:,} watched stations",
            }
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
            {
                "source": "protocol copies",
                "quantity": "leader votes added between station and centre",
                "estimate": float(shift),
                "low": float(shift),
                "high": float(shift),
                "scope": f"{pvt.protocols.stations_compared:,} copied protocols (exact there; not extrapolated)",
            }
        )
    if truth:
        for k, v in truth.items():
            rows.append(
                {
                    "source": "simulation truth",
                    "quantity": k,
                    "estimate": float(v),
                    "low": None,
                    "high": None,
                    "scope": "what was injected (known only in a simulation)",
                }
            )
    return rows


def _pvt_leader_shift(pvt: Any, election: Any) -> dict | None:
    lead = election.leader.name
    row = next((r for r in pvt.official.rows if r.quantity == lead), None)
    if row is None:
        return None
    valid = float(election.totals()["valid"])
    return {
        "source": "quick count (PVT)",
        "quantity": "leader votes: official minus PVT estimate",
        "estimate": (row.official - row.estimate) * valid,
        "low": (row.official - row.high) * valid,
        "high": (row.official - row.low) * valid,
        "scope": "tabulation only: stuffing and carousel inside the station's count are invisible to it",
    }


def rollup(
    fused: FusedScores,
    *,
    analysis: Any = None,
    pvt: Any = None,
    cameras: Any = None,
    election: Any = None,
    truth: np.ndarray | None = None,
    truth_label: str = "injected stuffing",
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
        aucs["fusion"] = auc(t["fused"].to_numpy(), y)
        beats = all(aucs["fusion"] > _nan0(v) for k, v in aucs.items() if k != "fusion")
        notes.append(
            "AUC over all stations: a station a source does not cover scores zero for it. "
            "Weights were fixed in advance, not fitted to this truth."
        )
    by_group = _by_group(t, level, analysis)
    return Rollup(
        level,
        t.height,
        flags,
        overlaps,
        n_multi,
        conditional,
        tuple(_estimates(fused, analysis, pvt, cameras, election, truth_totals)),
        aucs,
        aucs_cov,
        truth_label if truth is not None else None,
        beats,
        tuple(notes),
        by_group,
    )


def _by_group(t: pl.DataFrame, level: str | None, analysis: Any) -> pl.DataFrame:
    key = level or "__all__"
    if level is None:
        t = t.with_columns(pl.lit("all").alias(key))
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
