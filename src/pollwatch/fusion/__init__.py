"""Evidence fusion: everything that points at a station, side by side.

* :mod:`~pollwatch.fusion.evidence` — one small function per source returning its frozen
  evidence about one station: the official protocol and its arithmetic findings
  (:class:`OfficialEvidence`), forensic signals and rank (:class:`ForensicEvidence`), the
  observers' protocol copy and any mismatch (:class:`ProtocolCopyEvidence`), checklists and
  incidents with media hashes (:class:`ObserverEvidence`), the camera estimate and
  camera-status events (:class:`CameraEvidence`).
* :mod:`~pollwatch.fusion.dossier` — one :class:`StationDossier` per station composed of those
  objects, with one statement per thing a source says and a generated plain-language summary
  of which sources agree.
* :mod:`~pollwatch.fusion.score` — a documented, explainable per-station fused score.
* :mod:`~pollwatch.fusion.rollup` — constituency and national roll-ups: flags per source,
  overlaps, conditional rates, each source's estimate of falsified votes, and AUCs.
* :mod:`~pollwatch.fusion.bundle` — what a signed bundle of station dossiers signs.

Fusion sits above the methods and below the report (``docs/architecture.md``): it imports
``model``, ``validate``, ``results``, ``errors``, ``evidence.chain`` and the result classes of
``forensics``, ``quickcount`` and ``cameras`` (duck-typed where possible), and nothing above.
Its report sections live in :mod:`pollwatch.report.fusion`; the readers and writers of the
service database (observers' submissions, the signed dossier bundle) in
:mod:`pollwatch.service.sources.dossier`.
"""

from __future__ import annotations

from pollwatch.fusion.auc import auc
from pollwatch.fusion.dossier import (
    StationDossier,
    build_dossier,
    station_dossier,
)
from pollwatch.fusion.evidence import (
    CameraEvidence,
    ForensicEvidence,
    ObserverEvidence,
    OfficialEvidence,
    ProtocolCopyEvidence,
    camera_evidence,
    copy_evidence,
    forensic_evidence,
    observer_evidence,
    official_evidence,
)
from pollwatch.fusion.rollup import Rollup, rollup
from pollwatch.fusion.score import FUSION_WEIGHTS, FusedScores, fused_scores

__all__ = [
    "FUSION_WEIGHTS",
    "CameraEvidence",
    "ForensicEvidence",
    "FusedScores",
    "ObserverEvidence",
    "OfficialEvidence",
    "ProtocolCopyEvidence",
    "Rollup",
    "StationDossier",
    "auc",
    "build_dossier",
    "camera_evidence",
    "copy_evidence",
    "forensic_evidence",
    "fused_scores",
    "observer_evidence",
    "official_evidence",
    "rollup",
    "station_dossier",
]
