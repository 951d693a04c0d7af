"""RFC 3161 timestamps of checkpoints: a third party's signed statement of when a line existed.

A checkpoint's own time is whatever the server's clock (or its operator) says. A timestamp
authority (TSA, RFC 3161, https://www.rfc-editor.org/rfc/rfc3161) signs the SHA-256 of the
checkpoint line together with its own time, so a rewrite cannot be backdated: a checkpoint of a
rewritten history can only be timestamped after the rewrite, and the honest one timestamped
before it stays valid wherever its token is kept. The token is checked offline with the TSA's
certificate (and the roots it chains to); nothing in it reveals the chain's content, only a hash.

The request is built, and the reply parsed and verified, with ``rfc3161-client`` (the
``[timestamp]`` extra: a reader verifying tokens needs neither the service nor the network);
the request is posted with the standard library (``urllib``), so no HTTP client is needed.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    PKIStatus,
    TimestampRequestBuilder,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

from pollwatch.evidence.checkpoint import Checkpoint

__all__ = ["Timestamp", "TimestampError", "request_timestamp", "verify_timestamp"]

PREFIX = "pwt1"


class TimestampError(RuntimeError):
    """The TSA could not be reached, refused, or answered with a token that does not verify."""


@dataclass(frozen=True)
class Timestamp:
    """A TSA's token over a checkpoint line (``message``: the line's UTF-8 bytes)."""

    message: bytes
    token: bytes  # DER TimeStampResp as the TSA sent it
    gen_time: dt.datetime
    tsa: str = ""

    def text(self) -> str:
        """``pwt1 <token, base64url>``: kept next to the checkpoint line it stamps."""
        return f"{PREFIX} {base64.urlsafe_b64encode(self.token).decode().rstrip('=')}"

    @classmethod
    def parse(cls, checkpoint_line: str, text: str) -> Timestamp:
        kind, _, b64 = text.strip().partition(" ")
        if kind != PREFIX or not b64:
            raise ValueError(f"not a {PREFIX} timestamp line")
        token = base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4))
        resp = decode_timestamp_response(token)
        return cls(checkpoint_line.strip().encode(), token, resp.tst_info.gen_time)


def _message(checkpoint: Checkpoint | str | bytes) -> bytes:
    if isinstance(checkpoint, Checkpoint):
        return checkpoint.text().encode()
    return checkpoint.strip().encode() if isinstance(checkpoint, str) else checkpoint


def request_timestamp(
    checkpoint: Checkpoint | str | bytes,
    url: str,
    *,
    tsa_certificate: x509.Certificate | None = None,
    roots: Sequence[x509.Certificate] = (),
    timeout: float = 10.0,
) -> Timestamp:
    """Ask the TSA at ``url`` to timestamp the checkpoint line; returns the checked token.

    The reply's status, message imprint and nonce are always checked; its signature and
    certificate too when ``tsa_certificate`` (or ``roots``) is given, as :func:`verify_timestamp`
    does. Raises :class:`TimestampError`.
    """
    msg = _message(checkpoint)
    req = (
        TimestampRequestBuilder()
        .data(msg)
        .hash_algorithm(HashAlgorithm.SHA256)
        .nonce(nonce=True)
        .cert_request(cert_request=True)
        .build()
    )
    http = urllib.request.Request(
        url,
        data=req.as_bytes(),
        headers={"Content-Type": "application/timestamp-query"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(http, timeout=timeout) as r:  # noqa: S310 (configured URL)
            body = r.read()
    except OSError as exc:
        raise TimestampError(f"timestamp authority {url} unreachable: {exc}") from None
    try:
        resp = decode_timestamp_response(body)
    except ValueError as exc:
        raise TimestampError(f"timestamp authority {url} sent no timestamp reply: {exc}") from None
    if PKIStatus(resp.status) not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        raise TimestampError(f"timestamp authority {url} refused: status {resp.status}")
    if resp.tst_info.message_imprint.message != hashlib.sha256(msg).digest():
        raise TimestampError("the timestamp is over another message")
    if resp.tst_info.nonce != req.nonce:
        raise TimestampError("the timestamp reply's nonce is not the request's (a replay?)")
    ts = Timestamp(msg, body, resp.tst_info.gen_time, url)
    if tsa_certificate is not None or roots:
        verify_timestamp(ts, tsa_certificate=tsa_certificate, roots=roots)
    return ts


def verify_timestamp(
    ts: Timestamp,
    *,
    tsa_certificate: x509.Certificate | None = None,
    roots: Sequence[x509.Certificate] = (),
    intermediates: Sequence[x509.Certificate] = (),
) -> dt.datetime:
    """Check the token offline: the TSA's signature, its certificate (timeStamping purpose,
    chaining to ``roots``, or itself the root when self-signed) and that it stamps
    ``ts.message``. Returns the TSA's time; raises :class:`TimestampError`."""
    roots = list(roots) or ([tsa_certificate] if tsa_certificate is not None else [])
    if not roots:
        raise TimestampError("verifying a timestamp needs the TSA's certificate or its roots")
    try:
        resp = decode_timestamp_response(ts.token)
        builder = VerifierBuilder(
            tsa_certificate=tsa_certificate, roots=roots, intermediates=list(intermediates)
        )
        builder.build().verify_message(resp, ts.message)
    except (VerificationError, ValueError) as exc:
        raise TimestampError(f"timestamp does not verify: {exc}") from None
    return resp.tst_info.gen_time
