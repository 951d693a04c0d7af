"""The SMS gateway's webhook. Who may call it (the gateway, by a shared secret or an HMAC
signature) is checked here; who sent the message (a registered phone) in ``sms_intake``."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from pollwatch.i18n import N_
from pollwatch.service.api.deps import SessionDep, SettingsDep
from pollwatch.service.checkpoints import receipt_for
from pollwatch.service.config import Settings
from pollwatch.service.errors import Msg, verbatim
from pollwatch.service.sms import receipt_suffix
from pollwatch.service.sms_intake import SmsRateLimited, clean_text, handle_sms

router = APIRouter(prefix="/sms", tags=["sms"])

SIGNATURE_HEADER = "x-pollwatch-signature"
TIMESTAMP_HEADER = "x-pollwatch-timestamp"
MESSAGE_ID_MAX = 100  # characters of the gateway's message id that name a message


class SmsReply(BaseModel):
    ok: bool
    reply: str


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Pollwatch-Signature`` of a call: ``sha256=`` and the hex HMAC-SHA256, keyed by
    the shared secret, of the ``X-Pollwatch-Timestamp`` value, a dot and the raw body."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _authenticate(request: Request, body: bytes, settings: Settings) -> None:
    """403 while no secret is configured (the webhook is off); 401 unless the call carries a
    valid, fresh signature, or (unless ``sms_require_signature``) the bare secret."""
    secret = settings.sms_secret
    if not secret:
        raise HTTPException(
            status_code=403, detail=Msg(N_("SMS webhook disabled: no gateway secret"))
        )
    signature = request.headers.get(SIGNATURE_HEADER)
    if signature is not None:
        stamp = request.headers.get(TIMESTAMP_HEADER, "")
        fresh = (
            stamp.isdigit()
            and len(stamp) <= 12
            and (abs(time.time() - int(stamp)) <= settings.sms_signature_max_age)
        )
        if fresh and hmac.compare_digest(signature.encode(), sign(secret, stamp, body).encode()):
            return
        raise _unauthorised(N_("Bad or expired SMS gateway signature"))
    if settings.sms_require_signature:
        raise _unauthorised(N_("SMS gateway signature required"))
    given = request.headers.get("x-pollwatch-secret") or request.query_params.get("secret") or ""
    if not hmac.compare_digest(given.encode(), secret.encode()):
        raise _unauthorised(N_("Bad SMS gateway secret"))


def _unauthorised(detail: str) -> HTTPException:
    return HTTPException(
        status_code=401, detail=Msg(detail), headers={"WWW-Authenticate": "Pollwatch-Signature"}
    )


async def _fields(request: Request, body: bytes) -> tuple[str, str, str | None]:
    """``sender``, ``text`` and the optional ``message_id`` (or ``id``: the gateway's id of the
    message, repeated on its retries) from a JSON object or a form; 422 with the reason
    otherwise."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            raise HTTPException(
                status_code=422, detail=Msg(N_("Malformed JSON: {error}"), error=verbatim(str(exc)))
            ) from None
    else:
        try:
            data = dict(await request.form())
        except Exception as exc:  # any malformed form or multipart body is the caller's fault
            raise HTTPException(
                status_code=422, detail=Msg(N_("Malformed form: {error}"), error=verbatim(str(exc)))
            ) from None
    if not isinstance(data, dict):
        raise HTTPException(
            status_code=422, detail=Msg(N_("Expected an object with sender and text"))
        )
    sender, text = data.get("sender", ""), data.get("text", "")
    if not isinstance(sender, str) or not isinstance(text, str):
        raise HTTPException(status_code=422, detail=Msg(N_("sender and text must be strings")))
    message_id = data.get("message_id") or data.get("id")
    if isinstance(message_id, int) and not isinstance(message_id, bool):
        message_id = str(message_id)
    if message_id is not None and not isinstance(message_id, str):
        raise HTTPException(
            status_code=422, detail=Msg(N_("message_id must be a string or a number"))
        )
    return sender, text, clean_text(message_id)[:MESSAGE_ID_MAX] if message_id else None


@router.post("/webhook", response_model=SmsReply)
async def sms_webhook(request: Request, session: SessionDep, settings: SettingsDep):
    """Gateway webhook: form or JSON ``sender``, ``text`` and optionally ``message_id`` (the
    gateway's id of the message, repeated on retries: see ``privacy.sms_client_id``). The
    gateway proves itself with ``X-Pollwatch-Signature`` (see ``sign``) and
    ``X-Pollwatch-Timestamp``, or with the shared secret in ``X-Pollwatch-Secret`` (or
    ``?secret=``) unless signatures are required.
    Replies with the text to send back; 429 with an empty reply (send nothing) when the sender
    is over its rate limit."""
    body = await request.body()
    _authenticate(request, body, settings)
    sender, text, message_id = await _fields(request, body)
    try:
        ok, reply = handle_sms(session, sender, text, message_id, settings)
    except SmsRateLimited:
        session.commit()  # the count itself
        return JSONResponse(
            status_code=429,
            content={"ok": False, "reply": ""},
            headers={"Retry-After": str(settings.sms_rate_window)},
        )
    session.commit()
    if ok:  # the submission's receipt, in short (the stored reply is without it)
        reply += receipt_suffix(receipt_for(request.app.state.notary, session, entity="submission"))
    return SmsReply(ok=ok, reply=reply)
