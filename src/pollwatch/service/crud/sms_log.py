"""The SMS log: each message stored encrypted (``privacy``), with a keyed blind index of the
sender and a commitment to the text; and its retention (``redact_sms_log``)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pollwatch.evidence.keys import text_commitment
from pollwatch.service import models as m
from pollwatch.service import privacy
from pollwatch.service.models import utcnow


def log_sms(
    session: Session,
    sender: str,
    text: str,
    *,
    reply: str,
    ok: bool,
    submission_id: int | None,
) -> m.SmsMessage:
    """Add the SMS log row of a message: sender and text sealed under the data key, the
    sender's blind index (``privacy.phone_lookup_key``, for per-number queries such as rate
    limits) and the text's commitment (``evidence.keys.text_commitment``, what the chain may
    hold). The plaintext ``sender`` column stays empty. Caller commits."""
    key = session.info["data_key"]
    row = m.SmsMessage(
        sender="",
        sender_enc=privacy.seal(key, sender[:40], "sms_messages.sender"),
        sender_index=privacy.phone_lookup_key(key, sender),
        text=privacy.seal(key, (text or "")[:2000], "sms_messages.text"),
        reply=privacy.seal(key, reply, "sms_messages.reply"),
        ok=ok,
        submission_id=submission_id,
    )
    session.add(row)
    session.flush()  # the id names the commitment's salt
    row.text_commitment = sms_text_commitment(session, row.id, (text or "")[:2000])
    return row


def sms_text_commitment(session: Session, sms_id: int, text: str) -> str:
    """The commitment to an SMS text (context ``sms:<id>``) under the pseudonym secret."""
    return text_commitment(session.info["pseudonym_secret"], f"sms:{sms_id}", text)


def sms_plaintext(session: Session, row: m.SmsMessage) -> tuple[str, str, str]:
    """``(sender, text, reply)`` of a log row, decrypted (empty once redacted)."""
    key = session.info["data_key"]
    sender = privacy.unseal(key, row.sender_enc, "sms_messages.sender") or row.sender
    text = privacy.unseal(key, row.text, "sms_messages.text") or ""
    return sender, text, privacy.unseal(key, row.reply, "sms_messages.reply") or ""


def redact_sms_log(session: Session, days: int) -> int:
    """Wipe sender, text and reply of SMS log rows received more than ``days`` days ago; keep the
    row, its outcome, its submission link and its text commitment (so an audit entry holding
    the commitment still verifies). Returns the number of rows redacted. Caller commits."""
    if days < 0:
        raise ValueError("`days` must be 0 or more")
    limit = privacy.cutoff(days)
    ids = select(m.SmsMessage.id).where(
        m.SmsMessage.received_at < limit, m.SmsMessage.redacted_at.is_(None)
    )
    result = session.execute(
        update(m.SmsMessage)
        .where(m.SmsMessage.id.in_(ids))
        .values(
            sender="", sender_enc=None, sender_index=None, text="", reply="", redacted_at=utcnow()
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
