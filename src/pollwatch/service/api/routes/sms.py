from __future__ import annotations

import hmac

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel

from pollwatch.service.api.deps import SessionDep, SettingsDep
from pollwatch.service.checkpoints import receipt_for
from pollwatch.service.sms import receipt_suffix
from pollwatch.service.sms_intake import handle_sms

router = APIRouter(prefix="/sms", tags=["sms"])


class SmsReply(BaseModel):
    ok: bool
    reply: str


@router.post("/webhook", response_model=SmsReply)
async def sms_webhook(request: Request, session: SessionDep, settings: SettingsDep):
    """Gateway webhook: form or JSON ``sender``, ``text`` and optionally ``message_id`` (the
    gateway's id of the message, repeated on retries); shared secret in ``X-Pollwatch-Secret``
    or ``?secret=``. Replies with the text to send back."""
    given = request.headers.get("x-pollwatch-secret") or request.query_params.get("secret") or ""
    if not settings.sms_secret or not hmac.compare_digest(
        given.encode(), settings.sms_secret.encode()
    ):
        raise HTTPException(status_code=403, detail="Bad SMS gateway secret")
    if request.headers.get("content-type", "").startswith("application/json"):
        data = await request.json()
    else:
        data = dict(await request.form())
    if not isinstance(data, dict):
        raise HTTPException(status_code=422, detail="Expected sender and text")
    sender, text = str(data.get("sender", ""))[:40], str(data.get("text", ""))
    # the gateway's own id of the message, when it sends one: its retries repeat it
    message_id = data.get("message_id") or data.get("id")
    ok, reply = handle_sms(session, sender, text, str(message_id)[:100] if message_id else None)
    session.commit()
    if ok:  # the submission's receipt, in short (the stored reply is without it)
        reply += receipt_suffix(receipt_for(request.app.state.notary, session, entity="submission"))
    return SmsReply(ok=ok, reply=reply)
