from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Response, UploadFile

from pollwatch.i18n import N_
from pollwatch.service import crud
from pollwatch.service.api.deps import CurrentUser, SessionDep, SettingsDep, StoreDep
from pollwatch.service.errors import Msg
from pollwatch.service.schemas import IdPath, MediaPublic

router = APIRouter(prefix="/media", tags=["media"])
MAX_BYTES = 25 * 1024 * 1024


@router.post("", response_model=MediaPublic, status_code=201)
def upload_media(
    client_id: Annotated[uuid.UUID, Form()],
    file: Annotated[UploadFile, File()],
    response: Response,
    session: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    user: CurrentUser,
):
    """Upload a photo or file; stored by SHA-256. An image's metadata (GPS) is stripped from the
    stored original unless the service keeps originals (``POLLWATCH_KEEP_ORIGINAL_METADATA``);
    the hash of the upload as received is recorded (``received_sha256``). The published copy is
    always re-encoded without metadata."""
    data = file.file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise HTTPException(status_code=413, detail=Msg(N_("File too large")))
    with crud.media_files(session, store) as written:  # a failure leaves no file behind
        media, is_new = crud.store_media(
            session,
            store,
            user,
            str(client_id),
            data,
            file.content_type or "application/octet-stream",
            max_pixels=settings.max_image_pixels,
            written=written,
        )
        session.commit()
    response.status_code = 201 if is_new else 200
    return media


@router.get("/{media_id}", response_model=MediaPublic)
def read_media(media_id: IdPath, session: SessionDep, user: CurrentUser):
    """Return media metadata (uploader or staff/analysts)."""
    return crud.get_media(session, user, media_id)


@router.get("/{media_id}/published")
def published_file(
    media_id: IdPath, session: SessionDep, store: StoreDep, user: CurrentUser
) -> Response:
    """Return the metadata-free derivative."""
    media = crud.get_media(session, user, media_id)
    if media.published_sha256 is None:
        raise HTTPException(status_code=404, detail=Msg(N_("No published derivative")))
    data = store.get(media.published_sha256)
    ctype = "image/png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "image/jpeg"
    return Response(content=data, media_type=ctype)
