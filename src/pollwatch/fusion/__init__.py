"""Evidence fusion: everything that points at a station, side by side.

* :mod:`~pollwatch.fusion.dossier` — one :class:`StationDossier` per station: the official
  protocol and its arithmetic findings, forensic signals and rank, the observers' protocol
  copy (and any mismatch), checklists and incidents with media hashes, the camera estimate
  and camera-status events, and a generated plain-language summary of which sources agree.
* :mod:`~pollwatch.fusion.score` — a documented, explainable per-station fused score.
* :mod:`~pollwatch.fusion.rollup` — constituency and national roll-ups: flags per source,
  overlaps, conditional rates, each source's estimate of falsified votes, and AUCs.

The report sections built from these live one layer up, in :mod:`pollwatch.report.fusion`.

May import: ``pollwatch.model``, ``pollwatch.validate``, ``pollwatch.results``,
``pollwatch.errors`` and the result classes of ``forensics``,
``quickcount`` and ``cameras`` (duck-typed where possible). ``pollwatch.service`` is imported
lazily, only by :func:`~pollwatch.fusion.dossier.observer_reports_from_db`.
"""

from __future__ import annotations

from pollwatch.fusion.auc import auc
from pollwatch.fusion.dossier import (
    StationDossier,
    build_dossier,
    observer_reports_from_db,
    station_dossier,
)
from pollwatch.fusion.rollup import Rollup, rollup
from pollwatch.fusion.score import FUSION_WEIGHTS, FusedScores, fused_scores

__all__ = [
    "FUSION_WEIGHTS", "FusedScores", "Rollup", "StationDossier", "auc", "build_dossier", "fused_scores",
    "observer_reports_from_db", "rollup", "station_dossier",
]
