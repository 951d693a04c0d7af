"""The station dossier's reads and writes of the service database.

:func:`observer_reports_from_db` turns observers' submissions into the plain dicts that
:func:`pollwatch.fusion.dossier.station_dossier` and :func:`pollwatch.fusion.fused_scores`
take; :func:`write_dossier_bundle` signs a bundle of chosen stations' dossiers with only those
stations' entries (inclusion proofs against a checkpoint of the chain) and published media.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select

from pollwatch.evidence.bundle import MediaItem, write_bundle
from pollwatch.evidence.keys import load_or_create_signing_key
from pollwatch.evidence.media import MediaStore
from pollwatch.fusion.bundle import dossier_manifest
from pollwatch.fusion.dossier import StationDossier
from pollwatch.service import models as m
from pollwatch.service.sources.evidence import (
    bundle_links,
    checkpoint_sizes,
    disclosure_selection,
    load_entries,
    open_database,
)

__all__ = ["observer_reports_from_db", "write_dossier_bundle"]


def observer_reports_from_db(
    session: Any, station_id: int | str | None = None, *, election_id: int | None = None
) -> list[dict]:
    """Observers' submissions from the service's ORM tables, as plain dicts.

    ``station_id``: the service's station id (int), a station code (str), or ``None`` for every
    station (of ``election_id`` when given). Each dict: ``station_id`` (the code),
    ``service_station_id``, ``submission_id``, ``kind``, ``form``, ``severity``, ``status``,
    ``quarantined``, ``description``, ``occurred_at``, ``answers``, ``flags``, ``channel`` and
    ``media`` (``sha256``, ``published_sha256``, ``content_type``). Quarantined submissions are
    left out (a coordinator has set them aside).
    """
    q = (
        select(m.Submission, m.Station.code)
        .join(m.Station, m.Station.id == m.Submission.station_id)
        .where(m.Submission.quarantined.is_(False))
    )
    if isinstance(station_id, int):
        q = q.where(m.Submission.station_id == station_id)
    elif station_id is not None:
        q = q.where(m.Station.code == str(station_id))
    if election_id is not None:
        q = q.where(m.Station.election_id == election_id)
    rows = session.execute(q.order_by(m.Submission.id)).all()
    ids = [s.id for s, _ in rows]
    media: dict[int, list[dict]] = {}
    if ids:
        for md in session.scalars(
            select(m.Media).where(m.Media.submission_id.in_(ids)).order_by(m.Media.id)
        ):
            media.setdefault(md.submission_id, []).append(
                {
                    "sha256": md.sha256,
                    "published_sha256": md.published_sha256,
                    "content_type": md.content_type,
                }
            )
    return [
        {
            "station_id": code,
            "service_station_id": s.station_id,
            "submission_id": s.id,
            "kind": s.kind,
            "form": s.form,
            "severity": s.severity,
            "status": s.status,
            "quarantined": s.quarantined,
            "description": s.description,
            "channel": s.channel,
            "occurred_at": s.occurred_at.isoformat() if s.occurred_at else None,
            "answers": s.answers,
            "flags": s.flags,
            "media": media.get(s.id, []),
        }
        for s, code in rows
    ]


def write_dossier_bundle(
    database_url: str,
    data_dir: str | os.PathLike,
    out: str | os.PathLike,
    dossiers: Sequence[StationDossier],
    *,
    include_unreviewed: bool = False,
    link_key: bytes | None = None,
) -> dict:
    """Write a signed bundle for the stations of ``dossiers``; returns the manifest.

    The bundle holds only those stations' entries that a reader needs
    (:func:`pollwatch.service.sources.evidence.disclosure_selection`: reviewed submissions,
    their media, camera counts, the elections), each with its inclusion proof against a
    checkpoint of the whole chain; the published media of those submissions; per-bundle
    observer pseudonyms; and, inside the signed manifest, the dossiers and the SHA-256 of each
    (:func:`pollwatch.fusion.bundle.dossier_manifest`), with the free text of unreviewed and
    rejected reports withheld. ``include_unreviewed``: unreviewed and rejected submissions and
    their text too. A third party verifies it with ``pollwatch evidence verify BUNDLE``.
    """
    data_dir = Path(data_dir)
    codes = [d.station_id for d in dossiers]
    store = MediaStore(data_dir / "media")
    engine, sessions = open_database(database_url, data_dir)
    try:
        with sessions() as session:
            entries = load_entries(session)
            sizes = checkpoint_sizes(session)  # checkpoints given out: the bundle's extends them
            ids = list(session.scalars(select(m.Station.id).where(m.Station.code.in_(codes))))
            chosen = disclosure_selection(
                session, entries, stations=ids, include_unreviewed=include_unreviewed
            )
            media = [
                MediaItem(r.sha256, r.published_sha256, store.get(r.published_sha256))
                for r in chosen.media
                if r.published_sha256 is not None
            ]
    finally:
        engine.dispose()
    extra = {
        **dossier_manifest(dossiers, include_unreviewed_text=include_unreviewed),
        "disclosure": "selected",
        "unreviewed_included": include_unreviewed,
        **bundle_links(chosen, link_key),
    }
    return write_bundle(
        out,
        entries,
        media,
        load_or_create_signing_key(data_dir),
        extra=extra,
        select=chosen.seqs,
        consistency_from=sizes,
    )
