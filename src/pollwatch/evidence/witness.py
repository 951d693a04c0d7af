"""A witness: a second organisation that keeps the latest checkpoint and refuses rewritten ones.

A checkpoint proves nothing by itself to someone who did not keep the earlier one. A witness
keeps, per log (``origin``), the newest checkpoint it accepted, and accepts a new one only with
an RFC 6962 consistency proof (§2.1.2) that the new tree extends the old: entries may be
appended, never edited, removed or reordered. A rewrite by whoever holds the organisation's key
and database therefore either stops at the witness (it is refused and the witness holds the
conflicting, signed pair as evidence) or is never shown to it (and the witness's last checkpoint
catches it later in ``pollwatch evidence verify --checkpoints``).

The request a witness endpoint receives (``POST``, ``text/plain``), modelled on the C2SP
tlog-witness protocol (https://c2sp.org/tlog-witness)::

    old <size the log believes the witness holds>
    <consistency proof hash, base64url>     (one per line, none when old is 0 or equal)
    <empty line>
    <checkpoint line, pw1 …>

:func:`witness_accept` is the decision; :class:`Witness` keeps the state in a directory and
answers with a status (200 accepted with a cosignature, 409 when the log's idea of ``old`` is
stale (the reply carries the size held, so the log can resend with the right proof), 403 for a
checkpoint not signed by the log's known keys, 422 for one that is not an extension: a rewrite).
The HTTP route itself belongs to the service.
"""

from __future__ import annotations

import json
import os
import time as _time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pollwatch.evidence.checkpoint import Checkpoint, b64, key_id, unb64
from pollwatch.evidence.merkle import verify_consistency

__all__ = [
    "Witness",
    "WitnessVerdict",
    "cosign",
    "parse_witness_request",
    "verify_cosignature",
    "witness_accept",
    "witness_request",
]

COSIG_CONTEXT = b"pollwatch-witness-cosignature/1\n"


def witness_request(old_size: int, proof: Sequence[bytes], checkpoint: Checkpoint) -> bytes:
    """The body a log POSTs to a witness."""
    lines = [f"old {old_size}", *(b64(p) for p in proof), "", checkpoint.text()]
    return ("\n".join(lines) + "\n").encode()


def parse_witness_request(body: bytes) -> tuple[int, list[bytes], Checkpoint]:
    """``(old_size, proof, checkpoint)`` from a request body; ``ValueError`` if malformed."""
    try:
        text = body.decode("ascii")
        head, cp_line = text.rstrip("\n").split("\n\n", 1)
        lines = head.split("\n")
        if not lines[0].startswith("old "):
            raise ValueError("the first line must be `old <size>`")
        old = int(lines[0][4:])
        proof = [unb64(x) for x in lines[1:]]
        if old < 0 or any(len(p) != 32 for p in proof):
            raise ValueError("bad size or proof hash")
        return old, proof, Checkpoint.parse(cp_line)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"malformed witness request: {exc}") from None


@dataclass(frozen=True)
class WitnessVerdict:
    accepted: bool
    status: int  # the HTTP status the endpoint answers with
    reason: str
    held_size: int | None = None  # on 409: the size the witness holds


def witness_accept(
    previous: Checkpoint | None,
    new: Checkpoint,
    consistency_proof: Sequence[bytes],
    *,
    log_keys: Sequence[Ed25519PublicKey] | None = None,
    old_size: int | None = None,
) -> WitnessVerdict:
    """Decide whether a witness holding ``previous`` accepts ``new``.

    ``consistency_proof`` goes from ``previous.size`` to ``new.size``. ``log_keys`` are the log's
    public keys the witness was given out of band (current and retired; ``None``: not checked).
    ``old_size`` is the size the log claims the witness holds (a mismatch answers 409).
    """
    if log_keys is not None and new.signer(log_keys) is None:
        return WitnessVerdict(False, 403, "checkpoint not signed by a known key of the log")
    held = previous.size if previous is not None else 0
    if old_size is not None and old_size != held:
        return WitnessVerdict(False, 409, f"the witness holds size {held}, not {old_size}", held)
    if previous is None:
        return WitnessVerdict(True, 200, "first checkpoint of this log")
    if new.origin != previous.origin:
        return WitnessVerdict(False, 422, f"checkpoint of {new.origin}, not {previous.origin}")
    if new.size < previous.size:
        return WitnessVerdict(
            False,
            422,
            f"the log shrank from {previous.size} to {new.size} entries (entries deleted)",
            held,
        )
    if not verify_consistency(
        previous.size, new.size, previous.root, new.root, list(consistency_proof)
    ):
        what = "a different root at the same size" if new.size == previous.size else "no proof"
        return WitnessVerdict(
            False,
            422,
            f"not an extension of the checkpoint held at size {previous.size} ({what} that the "
            "new tree extends it): the log's history was rewritten",
            held,
        )
    return WitnessVerdict(True, 200, f"extends size {previous.size} to {new.size}")


def cosign(
    checkpoint: Checkpoint, witness_key: Ed25519PrivateKey, name: str, at: int | None = None
) -> str:
    """The witness's line ``— <name> <key id> <time> <signature>`` over the checkpoint line."""
    t = int(_time.time()) if at is None else at
    msg = COSIG_CONTEXT + f"{name} {t}\n{checkpoint.text()}".encode()
    return f"— {name} {key_id(witness_key)} {t} {b64(witness_key.sign(msg))}"


def verify_cosignature(checkpoint: Checkpoint, line: str, witness_key: Ed25519PublicKey) -> bool:
    try:
        dash, name, kid, t, sig = line.split(" ")
        if dash != "—" or kid != key_id(witness_key):
            return False
        witness_key.verify(unb64(sig), COSIG_CONTEXT + f"{name} {t}\n{checkpoint.text()}".encode())
    except (ValueError, InvalidSignature):
        return False
    return True


class Witness:
    """A witness's state: the newest accepted checkpoint per log, and every refused one.

    ``root/<origin>.checkpoint`` is the latest accepted line; ``root/<origin>.refused.jsonl``
    keeps each refused checkpoint with the one held at the time (evidence of a rewrite).
    """

    def __init__(
        self,
        root: str | os.PathLike,
        key: Ed25519PrivateKey,
        name: str,
        log_keys: dict[str, Sequence[Ed25519PublicKey]],
    ) -> None:
        self.root, self.key, self.name, self.log_keys = Path(root), key, name, log_keys
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, origin: str) -> Path:
        if not origin.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise ValueError(f"bad origin {origin!r}")
        return self.root / f"{origin}.checkpoint"

    def held(self, origin: str) -> Checkpoint | None:
        p = self._path(origin)
        return Checkpoint.parse(p.read_text()) if p.exists() else None

    def add(self, body: bytes) -> tuple[WitnessVerdict, str | None]:
        """Handle one request body: ``(verdict, cosignature line or None)``."""
        try:
            old, proof, cp = parse_witness_request(body)
        except ValueError as exc:
            return WitnessVerdict(False, 400, str(exc)), None
        if cp.origin not in self.log_keys:
            return WitnessVerdict(False, 404, f"unknown log {cp.origin}"), None
        prev = self.held(cp.origin)
        verdict = witness_accept(prev, cp, proof, log_keys=self.log_keys[cp.origin], old_size=old)
        if not verdict.accepted:
            if verdict.status == 422:
                with (self.root / f"{cp.origin}.refused.jsonl").open("a") as fh:
                    fh.write(
                        json.dumps(
                            {
                                "held": prev.text() if prev else None,
                                "refused": cp.text(),
                                "reason": verdict.reason,
                            }
                        )
                        + "\n"
                    )
            return verdict, None
        tmp = self._path(cp.origin).with_suffix(".tmp")
        tmp.write_text(cp.text() + "\n")
        os.replace(tmp, self._path(cp.origin))
        return verdict, cosign(cp, self.key, self.name)
