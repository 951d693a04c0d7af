"""What a station-dossier bundle signs: the chosen stations, their dossiers and each one's SHA-256.

:func:`dossier_manifest` builds the ``extra`` block of the signed manifest of a
:mod:`pollwatch.evidence.bundle` zip. Writing the bundle needs the audit chain and the media of
the observation service: :func:`pollwatch.service.sources.dossier.write_dossier_bundle` reads
them and signs the zip, which a third party verifies with ``pollwatch evidence verify BUNDLE``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from pollwatch.evidence.chain import canonical_json
from pollwatch.fusion.dossier import StationDossier

__all__ = ["dossier_manifest"]


def dossier_manifest(dossiers: Sequence[StationDossier]) -> dict:
    """``stations`` (the codes, in order), ``dossiers`` (each as :meth:`StationDossier.to_dict`)
    and ``dossier_sha256`` (station code → SHA-256 of its dossier's canonical JSON)."""
    codes = [d.station_id for d in dossiers]
    docs = [d.to_dict() for d in dossiers]
    return {
        "stations": codes,
        "dossiers": docs,
        "dossier_sha256": {
            d["station_id"]: hashlib.sha256(canonical_json(d)).hexdigest() for d in docs
        },
    }
