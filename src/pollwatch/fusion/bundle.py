"""A signed evidence bundle for chosen stations: their dossiers and every piece of evidence.

The bundle is a :mod:`pollwatch.evidence.bundle` zip: the whole audit chain (a chain can only
be verified whole), the published media of the chosen stations' submissions, and, inside the
signed manifest, the stations' dossiers and the SHA-256 of each. A third party verifies it
with ``pollwatch evidence verify BUNDLE``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from pollwatch.fusion.dossier import StationDossier

__all__ = ["write_dossier_bundle"]


def write_dossier_bundle(database_url: str, data_dir: str | os.PathLike, out: str | os.PathLike,
                         dossiers: Sequence[StationDossier]) -> dict:
    """Write a signed bundle for the stations of ``dossiers``; returns the manifest."""
    from sqlalchemy import select

    from pollwatch.evidence.bundle import MediaItem, write_bundle
    from pollwatch.evidence.chain import canonical_json
    from pollwatch.evidence.database import load_entries, open_database
    from pollwatch.evidence.keys import load_or_create_signing_key
    from pollwatch.evidence.media import MediaStore
    from pollwatch.service import models as m

    data_dir = Path(data_dir)
    codes = [d.station_id for d in dossiers]
    store = MediaStore(data_dir / "media")
    engine, sessions = open_database(database_url, data_dir)
    try:
        with sessions() as session:
            entries = load_entries(session)
            q = (select(m.Media).join(m.Submission, m.Submission.id == m.Media.submission_id)
                 .join(m.Station, m.Station.id == m.Submission.station_id)
                 .where(m.Station.code.in_(codes), m.Media.published_sha256.is_not(None)).order_by(m.Media.id))
            media = [MediaItem(r.sha256, r.published_sha256, store.get(r.published_sha256))
                     for r in session.scalars(q)]
    finally:
        engine.dispose()
    docs = [d.to_dict() for d in dossiers]
    extra = {"stations": codes, "dossiers": docs,
             "dossier_sha256": {d["station_id"]: hashlib.sha256(canonical_json(d)).hexdigest() for d in docs}}
    return write_bundle(out, entries, media, load_or_create_signing_key(data_dir), extra=extra)
