"""Uploaded media: stored by SHA-256, attached to submissions. An image's stored original has its
metadata (GPS) stripped losslessly unless the store keeps originals as received; the SHA-256 of
the upload as received is recorded first (``received_sha256``, in the audit entry). The
published copy is always re-encoded without metadata."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.orm import Session

from pollwatch.evidence.media import (
    MAX_PIXELS,
    MediaStore,
    sha256_bytes,
    strip_metadata,
    strip_original_metadata,
)
from pollwatch.i18n import N_
from pollwatch.service import audit
from pollwatch.service import models as m
from pollwatch.service.errors import Conflict, Invalid, NotFound, invalid, verbatim
from pollwatch.service.permissions import SUBMITTERS, require, sees_all


def attach_media(
    session: Session, user: m.User, sub: m.Submission, media_ids: Iterable[int]
) -> None:
    for mid in media_ids:
        media = session.get(m.Media, mid)
        if media is None or media.uploader_id != user.id:
            raise Invalid([invalid(["body", "media_ids"], N_("media {id} not found"), id=mid)])
        if media.submission_id not in (None, sub.id):
            raise Invalid(
                [
                    invalid(
                        ["body", "media_ids"],
                        N_("media {id} belongs to another submission"),
                        id=mid,
                    )
                ]
            )
        if media.submission_id is None:
            media.submission_id = sub.id
            audit.record(session, user.id, "attach", media)


def store_media(
    session: Session,
    store: MediaStore,
    user: m.User,
    client_id: str,
    data: bytes,
    content_type: str,
    *,
    max_pixels: int = MAX_PIXELS,
    written: list[str] | None = None,
) -> tuple[m.Media, bool]:
    """Store an upload: every check first (an image is decoded, its size bounded by
    ``max_pixels``, and re-encoded without metadata), the files only after all of them passed.
    ``written`` collects the hashes of the files this call added to the store: if the
    transaction then fails, ``discard_files`` removes them (``media_files`` does both)."""
    require(user, SUBMITTERS)
    prior = session.scalar(select(m.Media).where(m.Media.client_id == client_id))
    if prior is not None:
        if prior.uploader_id != user.id:
            raise Conflict(N_("client_id already used by another user"))
        return prior, False
    if not data:
        raise Invalid([invalid(["body", "file"], N_("the file is empty"))])
    derivative = None
    if content_type.startswith("image/"):  # first: bounds the pixels before anything decodes
        try:
            derivative, _ = strip_metadata(data, max_pixels)
        except ValueError as exc:
            raise Invalid([invalid(["body", "file"], verbatim(str(exc)))]) from None
    stored, received = _original_to_store(store, data, content_type)
    original = _add(store, stored, written)
    published = _add(store, derivative, written) if derivative is not None else None
    media = m.Media(
        client_id=client_id,
        sha256=original,
        received_sha256=received,
        published_sha256=published,
        content_type=content_type,
        size=len(stored),
        uploader_id=user.id,
    )
    session.add(media)
    audit.record(session, user.id, "create", media)
    return media, True


def _original_to_store(
    store: MediaStore, data: bytes, content_type: str
) -> tuple[bytes, str | None]:
    """The bytes to keep as the original and the SHA-256 of the upload as received (None when
    they are the same bytes): an image's metadata is stripped unless the store keeps it."""
    if store.keep_original_metadata or not content_type.startswith("image/"):
        return data, None
    try:
        clean = strip_original_metadata(data)
    except ValueError as exc:
        raise Invalid(
            [
                invalid(
                    ["body", "file"], N_("not a readable image: {error}"), error=verbatim(str(exc))
                )
            ]
        ) from None
    if clean is None or clean == data:
        return data, None
    return clean, sha256_bytes(data)


def _add(store: MediaStore, data: bytes, written: list[str] | None) -> str:
    digest, new = store.add(data)
    if new and written is not None:
        written.append(digest)
    return digest


def discard_files(session: Session, store: MediaStore, written: Iterable[str]) -> None:
    """After a rollback: remove the files a failed request added, unless a committed row
    refers to them (the same bytes uploaded at the same moment by someone else)."""
    for sha in written:
        used = session.scalar(
            select(m.Media.id)
            .where((m.Media.sha256 == sha) | (m.Media.published_sha256 == sha))
            .limit(1)
        )
        if used is None:
            store.remove(sha)
    session.commit()


@contextmanager
def media_files(session: Session, store: MediaStore) -> Iterator[list[str]]:
    """``with media_files(session, store) as written:`` around ``store_media`` calls and the
    commit: on any exception the transaction is rolled back and the files it added removed,
    so a failed upload leaves nothing in the store."""
    written: list[str] = []
    try:
        yield written
    except BaseException:
        session.rollback()
        if written:
            discard_files(session, store, written)
        raise


def get_media(session: Session, user: m.User, media_id: int) -> m.Media:
    media = session.get(m.Media, media_id)
    if media is None or (not sees_all(user) and media.uploader_id != user.id):
        raise NotFound(N_("Media not found"))
    return media
