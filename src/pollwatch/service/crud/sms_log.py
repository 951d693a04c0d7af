"""The SMS log: each message stored encrypted (``privacy``), with a keyed blind index of the
sender, and in the audit chain by keyed commitments to its sender and text; its retention
(``redact_sms_log``); the check of a row against its commitments (``sms_problems``, used by
``evidence verify``); and the chaining of rows stored before the log was in the chain
(``chain_sms_log``, run at start-up).

One commitment scheme (issue 18): ``evidence.keys.text_commitment`` under the pseudonym secret,
contexts ``sms:<id>`` (the text) and ``sms-sender:<id>`` (the sender as received). The salt is
an HMAC of the context under the secret, so it is stored nowhere: neither a bundle (whose SMS
entries carry the commitments) nor a copy of the database lets anyone try the ~10^9 phone
numbers against a commitment; revealing one salt (``commitment_salt``) opens one commitment.
The audited snapshot holds the commitments, never the ciphertexts (``audit._HIDDEN``), so
the redaction leaves every entry verifiable, and ``sms_problems`` compares the commitments with
the *decrypted* sender and text while they are kept."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pollwatch.evidence.keys import text_commitment
from pollwatch.service import audit, privacy
from pollwatch.service import models as m
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
    hold), and its audit entry, which holds the commitments to sender and text. The plaintext
    ``sender`` column stays empty. Caller commits."""
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
    session.flush()  # the id names the commitments' salts
    row.text_commitment = sms_text_commitment(session, row.id, (text or "")[:2000])
    row.sender_commitment = sms_sender_commitment(session, row.id, sender[:40])
    audit.record(session, None, "create", row)
    return row


def sms_text_commitment(session: Session, sms_id: int, text: str) -> str:
    """The commitment to an SMS text (context ``sms:<id>``) under the pseudonym secret."""
    return text_commitment(session.info["pseudonym_secret"], f"sms:{sms_id}", text)


def sms_sender_commitment(session: Session, sms_id: int, sender: str) -> str:
    """The commitment to an SMS sender as received (context ``sms-sender:<id>``), keyed like
    :func:`sms_text_commitment`: a phone number cannot be tried against it without the secret."""
    return text_commitment(session.info["pseudonym_secret"], f"sms-sender:{sms_id}", sender)


def sms_problems(session: Session, row: m.SmsMessage) -> list[str]:
    """How ``row``'s decrypted sender and text differ from its commitments (empty: they match).

    A value the retention wiped (``redacted_at`` set, value empty) is not compared; a value
    wiped without the redaction's mark is (an emptied text no longer matches its commitment).
    """
    try:
        sender, text, _ = sms_plaintext(session, row)
    except privacy.DataKeyError as exc:
        return [f"sms_message {row.id}: {exc}"]
    out = []
    for what, value, digest, commit in (
        ("sender", sender, row.sender_commitment, sms_sender_commitment),
        ("text", text, row.text_commitment, sms_text_commitment),
    ):
        if digest is None or (not value and row.redacted_at is not None):
            continue
        if commit(session, row.id, value) != digest:
            out.append(f"sms_message {row.id}: its {what} was changed outside the service")
    return out


def chain_sms_log(session: Session) -> int:
    """Put every SMS log row that has no audit entry into the chain (action ``backfill``):
    rows stored before the log was chained (migration ``0005_checkpoints``, which cannot reach
    the data key). Their commitments are made from the decrypted sender and text (a text
    commitment stored at intake is kept). Idempotent, safe with several workers starting at
    once (the audit lock is taken before looking). Returns the rows chained; caller commits."""
    audit.lock(session)
    chained = select(m.AuditLog.entity_id).where(m.AuditLog.entity == "sms_message")
    rows = session.scalars(
        select(m.SmsMessage).where(m.SmsMessage.id.not_in(chained)).order_by(m.SmsMessage.id)
    ).all()
    for row in rows:
        sender, text, _ = sms_plaintext(session, row)
        wiped = row.redacted_at is not None
        if row.sender_commitment is None and (sender or not wiped):
            row.sender_commitment = sms_sender_commitment(session, row.id, sender)
        if row.text_commitment is None and (text or not wiped):
            row.text_commitment = sms_text_commitment(session, row.id, text)
    if rows:
        session.flush()
        audit.record_many(session, [(None, "backfill", row) for row in rows])
    return len(rows)


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
