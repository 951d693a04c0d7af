"""A fused per-station score: the forensic points plus what cameras and observers add.

The score is a documented sum of parts, each listed per station, for ordering stations to
look at first; it is not a probability and proves nothing about a station on its own.

    fused = forensic points                                   (StationScores, forensics/scores.py)
          + camera_above    if official > camera upper 95 %  (docs/methods/quickcount-and-cameras.md §2.1 step 5)
          + camera_excess × (official − upper95)/official     (share of turnout the cameras did not see)
          + camera_clear    if watched and official ≤ upper95 (negative: cameras saw enough voters)
          (nothing when the camera comparison is only a one-sided bound: the official lines
          include the mobile box or early voters, §2.3 of the same note)
          + protocol_mismatch if the observers' copy ≠ official protocol (§1.2 f)
          + Σ incident points (by severity) for fraud-type incidents, capped at ``incident_cap``

Assumptions: the sources are treated as independent pieces of evidence (their points add);
a station not covered by cameras or observers gets zero from them (absence of coverage is
not evidence either way). Weights are fixed in advance, not fitted to the truth of a
simulation: fitting them there would flatter the fusion's AUC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from pollwatch.fusion.evidence import FRAUD_CATEGORIES, scores_table
from pollwatch.model import Election
from pollwatch.results import ResultMixin, Summary

__all__ = ["FUSION_WEIGHTS", "SEVERITY_POINTS", "FusedScores", "fused_scores"]

FUSION_WEIGHTS: dict[str, float] = {
    "forensic": 1.0,  # × the station's forensic points
    "camera_above": 3.0,  # official turnout above the camera's upper 95 % bound (hard)
    "camera_excess": 10.0,  # × unseen ballots beyond the bound as a share of official turnout
    "camera_clear": -1.0,  # watched and within the camera interval
    "protocol_mismatch": 3.0,  # copy made at the station differs from the published protocol (hard)
    "incident_cap": 4.0,  # most points incidents can add at one station
}
SEVERITY_POINTS: dict[str, float] = {"low": 0.5, "medium": 1.0, "high": 2.0, "critical": 3.0}


@dataclass(frozen=True)
class FusedScores(ResultMixin):
    """Result of :func:`fused_scores`.

    ``table``: one row per station in election order: ``station_id``, hierarchy labels, the
    parts (``forensic_points``, ``camera_points``, ``protocol_points``, ``incident_points``),
    coverage and flags per source (``forensic_flag``, ``camera_watched``, ``camera_flag``,
    ``camera_excess`` (ballots beyond the camera's upper bound),
    ``observed``, ``protocol_flag``, ``incident_flag``), ``fused``, ``rank`` (1 = highest,
    ties share the lowest rank) and ``parts`` (the non-zero parts in words).
    """

    weights: dict[str, float]
    severity_points: dict[str, float]
    forensic_threshold: float
    sources: tuple[str, ...]
    n_stations: int
    counts: dict[str, int]
    level: str | None
    notes: tuple[str, ...]
    table: pl.DataFrame = field(repr=False)

    _dict_exclude = ("table",)

    def top(self, n: int = 10) -> pl.DataFrame:
        return self.table.sort(["rank", "station_id"]).head(n)

    def summary(self) -> Summary:
        rows = [(k, f"{v:g}") for k, v in self.weights.items()]
        rows += [(f"flagged by {k}", f"{v:,}") for k, v in self.counts.items()]
        for r in self.top(5).iter_rows(named=True):
            rows.append(
                (f"rank {r['rank']}: station {r['station_id']}", f"{r['fused']:.2f} — {r['parts']}")
            )
        text = (
            "Each station's fused score adds its forensic points, what the cameras saw against the "
            "official turnout, any mismatch between the observers' protocol copy and the official one, "
            f"and observers' fraud reports; sources used: {', '.join(self.sources)}. The score orders "
            "stations to check first; it is not a verdict."
        )
        return Summary("Fused station score", text, rows, self.notes)


def _index(ids: np.ndarray) -> dict[str, int]:
    return {str(s): i for i, s in enumerate(ids)}


def fused_scores(
    election: Election,
    *,
    analysis: Any = None,
    pvt: Any = None,
    copies: Any = None,
    cameras: Any = None,
    observer_reports: Iterable[dict] | None = None,
    weights: Mapping[str, float] | None = None,
    forensic_threshold: float = 2.0,
) -> FusedScores:
    """Fuse every given source into one documented score per station (see module docstring).

    ``analysis``: an Analysis or its stations table (``points`` column); ``pvt``: a
    PVTComparison (its station-level mismatches); ``copies``: the protocol copies (which
    stations observers covered); ``cameras``: a CameraComparison; ``observer_reports``: dicts
    as :func:`~pollwatch.fusion.dossier.station_dossier` takes them. ``weights`` override
    entries of :data:`FUSION_WEIGHTS`. A station counts as flagged by forensics when its points
    reach ``forensic_threshold``.
    """
    w = dict(FUSION_WEIGHTS)
    for k, v in (weights or {}).items():
        if k not in w:
            raise ValueError(f"weights key {k!r} not recognised; must be one of {', '.join(w)}")
        w[k] = float(v)
    if not forensic_threshold >= 0:
        raise ValueError(f"forensic_threshold ({forensic_threshold}) must be >= 0")
    ids = np.asarray(election.station_ids).astype(str)
    n = ids.size
    pos = _index(ids)
    sources: list[str] = []
    notes: list[str] = []

    forensic = np.zeros(n)
    table = scores_table(analysis)
    if table is not None:
        pts = dict(
            zip(
                table["station_id"].cast(pl.Utf8).to_list(),
                table["points"].cast(pl.Float64).to_list(),
                strict=True,
            )
        )
        forensic = np.array([pts.get(s) or 0.0 for s in ids], dtype=float)
        sources.append("forensics")
    else:
        notes.append("no forensic analysis given: forensic points are zero")

    cam_points = np.zeros(n)
    watched = np.zeros(n, bool)
    cam_flag = np.zeros(n, bool)
    cam_excess = np.zeros(n)
    if cameras is not None:
        sources.append("cameras")
        cid = np.asarray(cameras.station_id).astype(str)
        bound = getattr(cameras, "direction", None) == "official below camera"
        for j, s in enumerate(cid):
            i = pos.get(s)
            off, hi = float(cameras.official[j]), float(cameras.high[j])
            if i is None or np.isnan(off) or np.isnan(hi) or bound:
                continue  # a one-sided bound (unseen ballots in the official figure) scores nothing
            watched[i] = True
            cam_excess[i] = float(cameras.excess[j])
            if cameras.flagged[j]:
                cam_flag[i] = True
                share = float(cameras.excess[j]) / off if off > 0 else 0.0
                cam_points[i] = w["camera_above"] + w["camera_excess"] * share
            else:
                cam_points[i] = w["camera_clear"]

    observed = np.zeros(n, bool)
    proto_flag = np.zeros(n, bool)
    if copies is not None:
        for s in copies.table["station_id"].cast(pl.Utf8).to_list():
            if s in pos:
                observed[pos[s]] = True
    if pvt is not None:
        sources.append("protocol copies")
        for s in pvt.protocols.altered_stations:
            if s in pos:
                proto_flag[pos[s]] = observed[pos[s]] = True

    inc_points = np.zeros(n)
    reports = list(observer_reports or ())
    if reports:
        sources.append("observers' reports")
    for r in reports:
        i = pos.get(str(r.get("station_id")))
        if i is None:
            continue
        observed[i] = True
        if (
            r.get("kind") == "incident"
            and r.get("form") in FRAUD_CATEGORIES
            and r.get("status") != "rejected"
        ):
            inc_points[i] += SEVERITY_POINTS.get(str(r.get("severity")), 1.0)
    inc_points = np.minimum(inc_points, w["incident_cap"])
    proto_points = w["protocol_mismatch"] * proto_flag

    fused = w["forensic"] * forensic + cam_points + proto_points + inc_points
    order = np.argsort(-fused, kind="stable")
    rank = np.empty(n, np.int64)
    sorted_f = fused[order]
    # ties share the lowest rank: rank = 1 + number of stations with a strictly higher score
    rank[order] = 1 + np.searchsorted(-sorted_f, -sorted_f, side="left")
    parts = [
        _parts(w["forensic"] * forensic[i], cam_points[i], proto_points[i], inc_points[i])
        for i in range(n)
    ]
    cols = {"station_id": ids}
    for lv in election.meta.hierarchy:
        cols[lv] = np.asarray(election.level(lv)).astype(str)
    out = pl.DataFrame(
        {
            **cols,
            "forensic_points": w["forensic"] * forensic,
            "camera_points": cam_points,
            "protocol_points": proto_points,
            "incident_points": inc_points,
            "forensic_flag": forensic >= forensic_threshold
            if table is not None
            else np.zeros(n, bool),
            "camera_watched": watched,
            "camera_flag": cam_flag,
            "camera_excess": cam_excess,
            "observed": observed,
            "protocol_flag": proto_flag,
            "incident_flag": inc_points > 0,
            "fused": fused,
            "rank": rank,
            "parts": parts,
        }
    )
    counts = {
        k: int(out[c].sum())
        for k, c in (
            ("forensics", "forensic_flag"),
            ("cameras", "camera_flag"),
            ("protocol copies", "protocol_flag"),
            ("observers' reports", "incident_flag"),
        )
    }
    level = election.meta.hierarchy[-1] if election.meta.hierarchy else None
    return FusedScores(
        w,
        dict(SEVERITY_POINTS),
        float(forensic_threshold),
        tuple(sources),
        n,
        counts,
        level,
        tuple(notes),
        out,
    )


def _parts(f: float, c: float, p: float, i: float) -> str:
    words = []
    if f:
        words.append(f"forensic {f:.2f}")
    if c:
        words.append(f"camera {c:+.2f}")
    if p:
        words.append(f"protocol mismatch {p:+.2f}")
    if i:
        words.append(f"incidents {i:+.2f}")
    return ", ".join(words) or "no evidence"
