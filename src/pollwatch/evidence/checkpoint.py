"""Signed checkpoints of the audit chain, receipts, and verification against held checkpoints.

A hash chain checks itself, so whoever can write the database (and holds the signing key) can
rewrite it and recompute every hash: the result verifies. What such an operator cannot change is
a copy of the chain's state that left the server before the rewrite. A **checkpoint** is that
copy, small enough for an observer's phone or an SMS: the size of the chain, the RFC 6962 Merkle
root of its entry hashes (:mod:`pollwatch.evidence.merkle`), the hash of its newest entry, the
time and the signer's key id, signed with the evidence key.

Text form, one line of ASCII (about 230 characters, two concatenated SMS)::

    pw1 <origin> <size> <unix-time> <root> <head> <key-id> <signature>

``root`` and ``head`` are the 32-byte values in unpadded base64url (43 characters each), the key
id is the first 16 hex digits of the signer's fingerprint and the signature (86 characters) is
Ed25519 over ``b"pollwatch-checkpoint/1\\n"`` followed by everything before it on the line. The
full root is kept on purpose: a shortened root could not carry the signature, and a prefix of
``b`` bits can be matched by a forged history with about ``2**b`` hashing work. Where even two
SMS are too much, :meth:`Checkpoint.short` gives ``pw1s <size> <16 base64url chars>`` (96 bits of
the root): still far out of reach of a second-preimage search, but unsigned, so it only proves
something to whoever trusts the phone that received it; the full line should be kept too.

A **receipt** (:class:`Receipt`) is what an observer keeps for a submission: the submission's
entry number and hash and the checkpoint taken right after it (when that checkpoint's size is the
entry's number, the entry hash is the checkpoint's head). It later shows that the entry still
exists, unchanged, at its place in the chain.

:func:`verify_against_checkpoints` recomputes the tree from the entries (the hashes recomputed
from their content, not the stored ones) and compares it, at each held checkpoint's size, with
the held root. A signature only shows which key signed; it proves nothing once that key is
stolen. What makes a held checkpoint evidence is that it was held outside the server before the
rewrite; the signature (by the current key or any retired one) keeps a third party from passing
off a made-up checkpoint as the organisation's.
"""

from __future__ import annotations

import base64
import time as _time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pollwatch.evidence.chain import GENESIS, AuditEntry, entry_hash
from pollwatch.evidence.keys import fingerprint
from pollwatch.evidence.merkle import MerkleTree
from pollwatch.results import ResultMixin, Summary

__all__ = [
    "Checkpoint",
    "CheckpointReport",
    "Receipt",
    "ShortCheckpoint",
    "make_checkpoint",
    "make_receipt",
    "parse_held",
    "verify_against_checkpoints",
]

VERSION = "pw1"
SHORT_VERSION = "pw1s"
RECEIPT_VERSION = "pwr1"
CONTEXT = b"pollwatch-checkpoint/1\n"
KEY_ID_LEN = 16
SHORT_ROOT_LEN = 16  # base64url characters: 96 bits


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_id(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    return fingerprint(key)[:KEY_ID_LEN]


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement "the chain of ``origin`` had ``size`` entries with this root"."""

    origin: str
    size: int
    time: int  # unix seconds
    root: bytes  # RFC 6962 root of the first ``size`` entry hashes
    head: str  # hex hash of entry ``size`` (the genesis value for an empty chain)
    key_id: str  # first 16 hex digits of the signer's fingerprint
    signature: bytes = b""

    def body(self) -> str:
        return (
            f"{VERSION} {self.origin} {self.size} {self.time} {b64(self.root)} "
            f"{b64(bytes.fromhex(self.head))} {self.key_id}"
        )

    def signed_bytes(self) -> bytes:
        return CONTEXT + self.body().encode()

    def text(self) -> str:
        """The one-line form an observer's phone, an SMS or a witness keeps."""
        return f"{self.body()} {b64(self.signature)}"

    __str__ = text

    def short(self) -> str:
        """``pw1s <size> <first 96 bits of the root>``: unsigned, for a single SMS."""
        return f"{SHORT_VERSION} {self.size} {b64(self.root)[:SHORT_ROOT_LEN]}"

    def to_dict(self) -> dict:
        return {
            "origin": self.origin,
            "size": self.size,
            "time": self.time,
            "root": self.root.hex(),
            "head": self.head,
            "key_id": self.key_id,
            "text": self.text(),
        }

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Read the one-line form; raises ``ValueError`` on anything else."""
        parts = text.strip().split(" ")
        if len(parts) != 8 or parts[0] != VERSION:
            raise ValueError(f"not a {VERSION} checkpoint line: {text.strip()[:60]!r}")
        _, origin, size, t, root, head, kid, sig = parts
        cp = cls(origin, int(size), int(t), unb64(root), unb64(head).hex(), kid, unb64(sig))
        if len(cp.root) != 32 or len(cp.head) != 64 or len(cp.signature) != 64 or cp.size < 0:
            raise ValueError(f"malformed checkpoint: {text.strip()[:60]!r}")
        return cp

    def signer(self, keys: Iterable[Ed25519PublicKey]) -> Ed25519PublicKey | None:
        """The key among ``keys`` whose signature this is, or ``None``."""
        for k in keys:
            if not fingerprint(k).startswith(self.key_id):
                continue
            try:
                k.verify(self.signature, self.signed_bytes())
            except InvalidSignature:
                continue
            return k
        return None

    def matches(self, tree: MerkleTree, entries: Sequence[AuditEntry] | None = None) -> bool:
        if self.size > tree.size or tree.root(self.size) != self.root:
            return False
        return entries is None or _head(entries, self.size) == self.head


@dataclass(frozen=True)
class ShortCheckpoint:
    """``pw1s <size> <root prefix>``: a root prefix at a size, unsigned."""

    size: int
    root_prefix: str

    def text(self) -> str:
        return f"{SHORT_VERSION} {self.size} {self.root_prefix}"

    @classmethod
    def parse(cls, text: str) -> ShortCheckpoint:
        parts = text.strip().split(" ")
        if len(parts) != 3 or parts[0] != SHORT_VERSION or len(parts[2]) < SHORT_ROOT_LEN:
            raise ValueError(f"not a {SHORT_VERSION} line: {text.strip()[:60]!r}")
        return cls(int(parts[1]), parts[2])

    def matches(self, tree: MerkleTree, entries: Sequence[AuditEntry] | None = None) -> bool:
        return self.size <= tree.size and b64(tree.root(self.size)).startswith(self.root_prefix)


@dataclass(frozen=True)
class Receipt:
    """An observer's proof of a submission: its entry's number and hash, and a checkpoint after it."""

    seq: int
    entry_hash: str  # hex
    checkpoint: Checkpoint

    def text(self) -> str:
        return f"{RECEIPT_VERSION} {self.seq} {b64(bytes.fromhex(self.entry_hash))} {self.checkpoint.text()}"

    __str__ = text

    @property
    def size(self) -> int:
        return self.checkpoint.size

    @classmethod
    def parse(cls, text: str) -> Receipt:
        parts = text.strip().split(" ", 3)
        if len(parts) != 4 or parts[0] != RECEIPT_VERSION:
            raise ValueError(f"not a {RECEIPT_VERSION} receipt: {text.strip()[:60]!r}")
        r = cls(int(parts[1]), unb64(parts[2]).hex(), Checkpoint.parse(parts[3]))
        if not 1 <= r.seq <= r.checkpoint.size or len(r.entry_hash) != 64:
            raise ValueError(f"malformed receipt: {text.strip()[:60]!r}")
        if r.seq == r.checkpoint.size and r.entry_hash != r.checkpoint.head:
            raise ValueError("receipt's entry hash is not its checkpoint's head")
        return r

    def signer(self, keys: Iterable[Ed25519PublicKey]) -> Ed25519PublicKey | None:
        return self.checkpoint.signer(keys)

    def matches(self, tree: MerkleTree, entries: Sequence[AuditEntry] | None = None) -> bool:
        if self.seq > tree.size:
            return False
        if entries is not None and entry_hash(entries[self.seq - 1]) != self.entry_hash:
            return False
        return self.checkpoint.matches(tree, entries)


Held = Checkpoint | ShortCheckpoint | Receipt


def parse_held(text: str) -> list[Held]:
    """Every checkpoint, short checkpoint and receipt in ``text``, one per line (``#`` comments)."""
    out: list[Held] = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        kind = line.split(" ", 1)[0]
        parser: dict[str, type[Held]] = {
            VERSION: Checkpoint,
            SHORT_VERSION: ShortCheckpoint,
            RECEIPT_VERSION: Receipt,
        }
        if kind not in parser:
            raise ValueError(f"line {n}: not a checkpoint, short checkpoint or receipt")
        try:
            out.append(parser[kind].parse(line))
        except ValueError as exc:
            raise ValueError(f"line {n}: {exc}") from None
    return out


def _head(entries: Sequence[AuditEntry], size: int) -> str:
    return entry_hash(entries[size - 1]) if size else GENESIS


def make_checkpoint(
    entries: Sequence[AuditEntry] | MerkleTree,
    key: Ed25519PrivateKey,
    *,
    origin: str = "pollwatch",
    size: int | None = None,
    at: int | None = None,
    heads: Sequence[str] | None = None,
) -> Checkpoint:
    """Sign the checkpoint of the first ``size`` entries (all by default).

    ``entries`` may be a prebuilt :class:`MerkleTree` with the entry hashes as ``heads``.
    """
    if not origin or " " in origin or not origin.isascii():
        raise ValueError(f"`origin` ({origin!r}) must be a non-empty ASCII word")
    if isinstance(entries, MerkleTree):
        tree, hashes = entries, heads or []
    else:
        hashes = [e.hash for e in entries]
        tree = MerkleTree.from_entry_hashes(hashes)
    size = tree.size if size is None else size
    if not 0 <= size <= tree.size or (size and len(hashes) < size):
        raise ValueError(
            f"`size` ({size}) must be at most the chain's length, with `heads` given for a tree"
        )
    head = hashes[size - 1] if size else GENESIS
    cp = Checkpoint(
        origin, size, int(_time.time()) if at is None else at, tree.root(size), head, key_id(key)
    )
    return replace(cp, signature=key.sign(cp.signed_bytes()))


def make_receipt(
    entries: Sequence[AuditEntry], seq: int, key: Ed25519PrivateKey, *, origin: str = "pollwatch"
) -> Receipt:
    """The receipt of entry ``seq``: the entry's hash and a checkpoint of the whole chain now."""
    return Receipt(seq, entries[seq - 1].hash, make_checkpoint(entries, key, origin=origin))


@dataclass(frozen=True)
class CheckpointReport(ResultMixin):
    """The chain measured against the checkpoints and receipts its readers held."""

    ok: bool
    n_entries: int
    n_held: int
    n_checked: int
    first_failing: str | None = None  # the held line of the smallest size that fails
    first_failing_size: int | None = None
    last_matching_size: int | None = None
    first_differing_entry: int | None = None  # exact when known
    differing_range: tuple[int, int] | None = None  # the first differing entry lies in it
    unverified: tuple[str, ...] = field(default_factory=tuple)
    problems: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> Summary:
        verdict = "matches every held checkpoint" if self.ok else "DIFFERS from a held checkpoint"
        text = f"The chain of {self.n_entries} entries {verdict} ({self.n_checked} checked)."
        if self.first_differing_entry is not None:
            text += f" The first entry that differs is #{self.first_differing_entry}."
        elif self.differing_range is not None:
            lo, hi = self.differing_range
            text += f" The first entry that differs is between #{lo} and #{hi}."
        rows = [("held", str(self.n_held)), ("checked", str(self.n_checked))]
        if self.last_matching_size is not None:
            rows.append(("last matching size", str(self.last_matching_size)))
        if self.first_failing_size is not None:
            rows.append(("first failing size", str(self.first_failing_size)))
        notes = list(self.problems) + [
            f"not signed by a known key, not used: {u[:60]}…" for u in self.unverified
        ]
        return Summary("Checkpoints", text, rows, notes)


def verify_against_checkpoints(
    entries: Sequence[AuditEntry],
    held: Iterable[Held],
    *,
    keys: Sequence[Ed25519PublicKey] | None = None,
) -> CheckpointReport:
    """Compare the chain ``entries`` with each held checkpoint or receipt.

    The tree is rebuilt from the entries' recomputed hashes. ``keys`` (the current public key
    and the retired ones) decide which signed checkpoints count: one signed by none of them is
    listed in ``unverified`` and ignored; with ``keys=None`` signatures are not checked. Unsigned
    short checkpoints always count (their holder vouches for them).

    The report names the smallest held size that fails, and the first differing entry: exactly
    when the failing size is one past the largest size that matches (a receipt per submission
    gives that), otherwise the range between them. A held size larger than the chain shows
    deleted newest entries. A held checkpoint that matches at a size *above* a failing one means
    the readers were shown different histories (or one of the two is forged), and is reported.
    """
    hashes = [entry_hash(e) for e in entries]
    tree = MerkleTree.from_entry_hashes(hashes)
    n = len(entries)
    results: list[tuple[int, bool, str]] = []
    unverified: list[str] = []
    held = list(held)
    problems: list[str] = []
    for h in held:
        if keys is not None and not isinstance(h, ShortCheckpoint) and h.signer(keys) is None:
            unverified.append(h.text())
            continue
        ok = h.matches(tree, entries)
        results.append((h.size, ok, h.text()))
        if isinstance(h, Receipt) and h.seq <= n and entry_hash(entries[h.seq - 1]) != h.entry_hash:
            problems.append(f"receipt for entry #{h.seq}: the entry is not the one receipted")
    fails = sorted((s, t) for s, ok, t in results if not ok)
    if not fails:
        return CheckpointReport(
            True,
            n,
            len(held),
            len(results),
            last_matching_size=max((s for s, _, _ in results), default=None),
            unverified=tuple(unverified),
        )
    fail_size, fail_text = fails[0]
    passing = [s for s, ok, _ in results if ok]
    below = [s for s in passing if s < fail_size]
    last_ok = max(below, default=0)
    lo, hi = last_ok + 1, fail_size
    if fail_size > n and last_ok >= n:
        problems.insert(
            0,
            f"a checkpoint held at size {fail_size} but the chain has {n} entries: "
            f"entries #{n + 1}–#{fail_size} were deleted",
        )
        lo = n + 1
    elif fail_size > n:
        problems.insert(
            0,
            f"a checkpoint held at size {fail_size} but the chain has {n} entries, and the "
            f"entries from #{lo} on differ from those checkpointed or were deleted",
        )
    else:
        problems.insert(
            0,
            f"the chain's first {fail_size} entries do not have the root checkpointed at size "
            f"{fail_size}"
            + (f" (they matched at size {last_ok})" if last_ok else "")
            + ": an entry was edited, inserted or deleted and the chain recomputed",
        )
    above = sorted(s for s in passing if s > fail_size)
    if above:
        problems.append(
            f"held checkpoints disagree: size {fail_size} fails but size {above[0]} matches "
            "(readers were shown different histories, or one checkpoint is forged)"
        )
    first = lo if lo == hi else None
    return CheckpointReport(
        False,
        n,
        len(held),
        len(results),
        fail_text,
        fail_size,
        last_ok if below else None,
        first,
        (lo, hi),
        tuple(unverified),
        tuple(problems),
    )
