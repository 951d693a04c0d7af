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


WITHHELD = "[withheld: not reviewed]"


def withhold_unreviewed_text(doc: dict) -> dict:
    """A dossier dict (:meth:`StationDossier.to_dict`) without the free text of the observer
    reports a reviewer has not verified (new, under review, rejected): each such description
    becomes :data:`WITHHELD` wherever it appears (the report itself, the statements quoting it)."""
    texts = {
        r["description"]
        for r in doc.get("observer_reports", [])
        if r.get("description") and r.get("status") != "verified"
    }
    if not texts:
        return doc

    def clean(v):
        if isinstance(v, str):
            for t in texts:
                v = v.replace(t, WITHHELD)
            return v
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, list):
            return [clean(x) for x in v]
        return v

    return clean(doc)


def dossier_manifest(
    dossiers: Sequence[StationDossier], *, include_unreviewed_text: bool = True
) -> dict:
    """``stations`` (the codes, in order), ``dossiers`` (each as :meth:`StationDossier.to_dict`)
    and ``dossier_sha256`` (station code → SHA-256 of its dossier's canonical JSON). Without
    ``include_unreviewed_text`` the descriptions of unreviewed and rejected observer reports are
    withheld (:func:`withhold_unreviewed_text`)."""
    codes = [d.station_id for d in dossiers]
    docs = [d.to_dict() for d in dossiers]
    if not include_unreviewed_text:
        docs = [withhold_unreviewed_text(d) for d in docs]
    return {
        "stations": codes,
        "dossiers": docs,
        "dossier_sha256": {
            d["station_id"]: hashlib.sha256(canonical_json(d)).hexdigest() for d in docs
        },
    }
