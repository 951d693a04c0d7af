"""Checkpoints that leave the server: receipts in replies, the periodic job, witnesses, a TSA.

The formats and checks are :mod:`pollwatch.evidence`'s (``checkpoint``, ``witness``,
``timestamp``); this module runs them inside the service:

* :class:`Notary` signs, after each commit that appended audit entries, a checkpoint covering
  them, and hands the observer a receipt (``pwr1 …``) in the reply: the API's JSON (``receipt``),
  the no-JavaScript pages (a line under "saved") and SMS (:func:`pollwatch.service.sms.receipt_suffix`).
  It keeps the RFC 6962 tree as its *frontier* (one complete subtree per binary digit of the
  size, ``log2 n`` hashes), so a checkpoint costs a few hashes and one Ed25519 signature, not a
  pass over the chain. Entries other processes appended meanwhile are read once, by number.
* :class:`CheckpointJob` (every ``checkpoint_interval`` seconds in the app's lifespan, and
  ``pollwatch evidence checkpoint --database``) stores a checkpoint of the whole chain in the
  ``checkpoints`` table, posts it to each configured witness with the consistency proof from the
  last checkpoint that witness accepted, and to the configured RFC 3161 authority; their answers
  (cosignature, refusal, token, error) go to ``checkpoint_posts``. A failure is logged and
  retried at the next run; it never blocks a submission.

Receipts and checkpoints are built from the stored entry hashes: they are the server's
statement of what its chain is, and a later rewrite of it differs from what was given out.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time as _time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import replace

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pollwatch.evidence.chain import GENESIS
from pollwatch.evidence.checkpoint import Checkpoint, Receipt, b64, key_id, make_checkpoint
from pollwatch.evidence.keys import fingerprint, known_public_keys
from pollwatch.evidence.merkle import EMPTY_ROOT, MerkleTree, leaf_hash, node_hash
from pollwatch.evidence.witness import witness_request
from pollwatch.service import audit
from pollwatch.service import models as m

__all__ = [
    "CheckpointJob",
    "Frontier",
    "Notary",
    "checkpoint_sizes",
    "latest_checkpoint",
    "receipt_for",
    "stored_receipt",
]

log = logging.getLogger("pollwatch.checkpoints")


class Frontier:
    """The right edge of an RFC 6962 tree: its root at the current size, appended to in O(log n).

    ``nodes`` are the complete subtrees the leaves split into (sizes the binary digits of
    ``size``, largest first); the root folds them from the right, as the RFC's recursion splits
    a tree into its largest complete left part and the rest.
    """

    def __init__(self) -> None:
        self.size = 0
        self.nodes: list[tuple[int, bytes]] = []

    def append(self, entry_hash: str) -> None:
        node = (1, leaf_hash(bytes.fromhex(entry_hash)))
        while self.nodes and self.nodes[-1][0] == node[0]:
            n, left = self.nodes.pop()
            node = (2 * n, node_hash(left, node[1]))
        self.nodes.append(node)
        self.size += 1

    def root(self) -> bytes:
        if not self.nodes:
            return EMPTY_ROOT
        r = self.nodes[-1][1]
        for _, h in reversed(self.nodes[:-1]):
            r = node_hash(h, r)
        return r


class Notary:
    """Signs checkpoints of the live chain for receipts (one per size, shared by a batch)."""

    def __init__(
        self, key: Ed25519PrivateKey, sessions: sessionmaker[Session], origin: str = "pollwatch"
    ) -> None:
        self.key, self.sessions, self.origin = key, sessions, origin
        self._kid = key_id(key)
        self._lock = threading.Lock()
        self._frontier = Frontier()
        self._head = GENESIS
        self._signed: Checkpoint | None = None

    def checkpoint_after(self, entries: Iterable[tuple[int, str]]) -> Checkpoint:
        """A signed checkpoint whose size covers every ``(seq, hash)`` of ``entries`` (just
        committed). Entries before them that this process has not seen are read by number."""
        known = dict(entries)
        last = max(known)
        with self._lock:
            lo = self._frontier.size
            if lo < last:
                missing = [s for s in range(lo + 1, last + 1) if s not in known]
                if missing:
                    known.update(self._read(missing[0], missing[-1]))
                for s in range(lo + 1, last + 1):
                    self._frontier.append(known[s])
                self._head = known[last]
            cp = self._signed
            if cp is None or cp.size != self._frontier.size:
                cp = Checkpoint(
                    self.origin,
                    self._frontier.size,
                    int(_time.time()),
                    self._frontier.root(),
                    self._head,
                    self._kid,
                )
                cp = self._signed = replace(cp, signature=self.key.sign(cp.signed_bytes()))
            return cp

    def receipts(self, entries: Sequence[tuple[int, str]]) -> list[Receipt]:
        cp = self.checkpoint_after(entries)
        return [Receipt(seq, h, cp) for seq, h in entries]

    def stamp(self, rows: Sequence) -> None:
        """Set ``row.receipt`` (the ``pwr1`` line) on each new row that carries its audit entry
        as ``row.audit_entry``; a failure is logged and leaves the rows without one."""
        rows = [r for r in rows if getattr(r, "audit_entry", None) is not None]
        if not rows:
            return
        try:
            for r, rc in zip(rows, self.receipts([r.audit_entry for r in rows]), strict=True):
                r.receipt = rc.text()
        except Exception:  # noqa: BLE001 - a receipt never costs a submission
            log.exception("could not sign the receipts of %d submission(s)", len(rows))

    def _read(self, lo: int, hi: int) -> dict[int, str]:
        with self.sessions() as s:
            rows = s.execute(
                select(m.AuditLog.seq, m.AuditLog.hash)
                .where(m.AuditLog.seq >= lo, m.AuditLog.seq <= hi)
                .order_by(m.AuditLog.seq)
            ).all()
        out = dict(rows)
        if len(out) != hi - lo + 1:
            raise RuntimeError(f"audit entries #{lo}-#{hi} are not all in the database")
        return out


def receipt_for(notary: Notary | None, session: Session, obj=None, entity: str | None = None):
    """The receipt of the entry this session committed for ``obj`` (or the newest one of
    ``entity``), with a checkpoint covering every entry the session committed; None (no
    notary, no such entry, or signing failed: logged)."""
    if notary is None:
        return None
    if obj is not None:
        entity, eid = audit.ENTITY_OF[type(obj)], obj.id
    committed = audit.committed_entries(session)
    new = [
        (seq, h)
        for seq, ent, e_id, h in committed
        if ent == entity and (obj is None or e_id == eid)
    ]
    if not new:
        return None
    try:  # the checkpoint covers every entry of the transaction (an SMS's own, after it)
        cp = notary.checkpoint_after([(seq, h) for seq, _, _, h in committed])
        return Receipt(*new[-1], cp)
    except Exception:  # noqa: BLE001
        log.exception("could not sign a receipt")
        return None


def stored_receipt(notary: Notary | None, session: Session, obj) -> Receipt | None:
    """The receipt of ``obj``'s creation, looked up in the chain (a retried submission whose
    first reply, with the receipt, may never have arrived); None if absent or on failure."""
    if notary is None:
        return None
    row = session.execute(
        select(m.AuditLog.seq, m.AuditLog.hash)
        .where(
            m.AuditLog.entity == audit.ENTITY_OF[type(obj)],
            m.AuditLog.entity_id == obj.id,
            m.AuditLog.action == "create",
        )
        .order_by(m.AuditLog.seq)
        .limit(1)
    ).first()
    session.commit()  # give the connection back (see api.deps.get_db)
    if row is None:
        return None
    try:
        return notary.receipts([(row[0], row[1])])[0]
    except Exception:  # noqa: BLE001
        log.exception("could not sign a receipt")
        return None


# --- the periodic job ---------------------------------------------------------------------


def latest_checkpoint(session: Session) -> Checkpoint | None:
    """The newest checkpoint the service stored (the one a bundle carries), or None."""
    text = session.scalar(select(m.CheckpointRecord.text).order_by(m.CheckpointRecord.id.desc()))
    return Checkpoint.parse(text) if text else None


def checkpoint_sizes(session: Session) -> list[int]:
    """The sizes of the checkpoints the service stored (given out to witnesses and the TSA):
    a bundle proves its own checkpoint extends each (``write_bundle(consistency_from=…)``), so
    a reader holding any of them can check even a partial bundle."""
    return sorted(set(session.scalars(select(m.CheckpointRecord.size))))


class CheckpointJob:
    """One run: checkpoint the whole chain, store it, post it to witnesses and the TSA."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        key: Ed25519PrivateKey,
        *,
        origin: str = "pollwatch",
        witnesses: Sequence[str] = (),
        tsa_url: str = "",
        tsa_certificate=None,
        timeout: float = 10.0,
    ) -> None:
        self.sessions, self.key, self.origin = sessions, key, origin
        self.witnesses, self.tsa_url, self.tsa_certificate = (
            list(witnesses),
            tsa_url,
            tsa_certificate,
        )
        self.timeout = timeout

    @classmethod
    def from_settings(cls, settings, sessions, key) -> CheckpointJob:
        cert = None
        if settings.tsa_certificate:
            from cryptography import x509

            cert = x509.load_pem_x509_certificate(settings.tsa_certificate.read_bytes())
        return cls(
            sessions,
            key,
            origin=settings.checkpoint_origin,
            witnesses=settings.witness_urls,
            tsa_url=settings.tsa_url,
            tsa_certificate=cert,
        )

    def run_once(self) -> Checkpoint:
        """Checkpoint the chain as it is now (the stored one if nothing was appended since),
        then post it wherever it has not been accepted yet. Never raises for a witness or TSA."""
        with self.sessions() as s:
            hashes = list(s.scalars(select(m.AuditLog.hash).order_by(m.AuditLog.seq)))
            tree = MerkleTree.from_entry_hashes(hashes)
            last = s.scalars(
                select(m.CheckpointRecord).order_by(m.CheckpointRecord.id.desc()).limit(1)
            ).first()
            if (
                last is not None
                and last.size == tree.size
                and last.root == tree.root().hex()
                and Checkpoint.parse(last.text).origin == self.origin
            ):
                cp, cp_id = Checkpoint.parse(last.text), last.id
            else:
                cp = make_checkpoint(tree, self.key, origin=self.origin, heads=hashes)
                rec = m.CheckpointRecord(size=cp.size, root=cp.root.hex(), text=cp.text())
                s.add(rec)
                s.commit()
                cp_id = rec.id
        for url in self.witnesses:
            self._post(cp_id, cp, tree, url)
        if self.tsa_url:
            self._timestamp(cp_id, cp)
        return cp

    def answers(self, cp: Checkpoint) -> list[tuple[str, str, int, str]]:
        """``(kind, target, status, answer)`` of the latest post of ``cp`` to each target."""
        with self.sessions() as s:
            rows = s.execute(
                select(
                    m.CheckpointPost.kind,
                    m.CheckpointPost.target,
                    m.CheckpointPost.status,
                    m.CheckpointPost.answer,
                )
                .join(m.CheckpointRecord, m.CheckpointRecord.id == m.CheckpointPost.checkpoint_id)
                .where(m.CheckpointRecord.text == cp.text())
                .order_by(m.CheckpointPost.id)
            ).all()
        latest = {(k, t): (k, t, st, a) for k, t, st, a in rows}
        return list(latest.values())

    def _accepted_size(self, s: Session, url: str) -> int:
        size = s.scalar(
            select(m.CheckpointRecord.size)
            .join(m.CheckpointPost, m.CheckpointPost.checkpoint_id == m.CheckpointRecord.id)
            .where(m.CheckpointPost.target == url, m.CheckpointPost.status == 200)
            .order_by(m.CheckpointRecord.size.desc())
            .limit(1)
        )
        return size or 0

    def _post(self, cp_id: int, cp: Checkpoint, tree: MerkleTree, url: str) -> None:
        with self.sessions() as s:
            done = s.scalar(
                select(m.CheckpointPost.id).where(
                    m.CheckpointPost.checkpoint_id == cp_id,
                    m.CheckpointPost.target == url,
                    m.CheckpointPost.status == 200,
                )
            )
            if done is not None:
                return
            old = self._accepted_size(s, url)
            status, answer = self._send(url, cp, tree, old)
            if status == 409 and answer.strip().isdigit() and int(answer) <= tree.size:
                status, answer = self._send(url, cp, tree, int(answer))  # its size, not ours
            s.add(
                m.CheckpointPost(
                    checkpoint_id=cp_id, target=url, kind="witness", status=status, answer=answer
                )
            )
            s.commit()
        if status != 200:
            log.error(
                "witness %s did not accept checkpoint %d: %s %s", url, cp.size, status, answer
            )

    def _send(self, url: str, cp: Checkpoint, tree: MerkleTree, old: int) -> tuple[int, str]:
        old = min(old, cp.size)
        body = witness_request(old, tree.consistency_proof(old, cp.size), cp)
        req = urllib.request.Request(
            url, data=body, headers={"Content-Type": "text/plain"}, method="POST"
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:  # noqa: S310 (configured)
                return r.status, r.read(4000).decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            with contextlib.suppress(OSError):
                return exc.code, exc.read(4000).decode("utf-8", "replace")
            return exc.code, str(exc)
        except OSError as exc:
            return 0, f"unreachable: {exc}"

    def _timestamp(self, cp_id: int, cp: Checkpoint) -> None:
        with self.sessions() as s:
            done = s.scalar(
                select(m.CheckpointPost.id).where(
                    m.CheckpointPost.checkpoint_id == cp_id,
                    m.CheckpointPost.kind == "tsa",
                    m.CheckpointPost.status == 200,
                )
            )
            if done is not None:
                return
            try:
                from pollwatch.evidence.timestamp import request_timestamp

                ts = request_timestamp(
                    cp, self.tsa_url, tsa_certificate=self.tsa_certificate, timeout=self.timeout
                )
                status, answer = 200, ts.text()
            except Exception as exc:  # noqa: BLE001 - logged, retried at the next run
                status, answer = 0, str(exc)[:2000]
                log.error("timestamp authority %s: %s", self.tsa_url, exc)
            s.add(
                m.CheckpointPost(
                    checkpoint_id=cp_id,
                    target=self.tsa_url,
                    kind="tsa",
                    status=status,
                    answer=answer,
                )
            )
            s.commit()


def public_status(session: Session, data_dir) -> dict:
    """What the service publishes about its evidence: the signing key's fingerprint (and the
    retired ones, for older checkpoints), and the newest stored checkpoint."""

    keys = known_public_keys(data_dir)
    cp = latest_checkpoint(session)
    return {
        "fingerprint": fingerprint(keys[0]) if keys else None,
        "retired_fingerprints": [fingerprint(k) for k in keys[1:]],
        "checkpoint": cp.text() if cp is not None else None,
        "size": cp.size if cp is not None else None,
    }


def consistency(session: Session, old: int) -> dict:
    """The RFC 6962 consistency proof from size ``old`` to the newest stored checkpoint (for a
    holder of an older checkpoint or receipt: the log only grew since). ``ValueError`` if
    ``old`` is beyond it."""

    cp = latest_checkpoint(session)
    if cp is None or not 0 <= old <= cp.size:
        raise ValueError("`old` must be between 0 and the latest checkpoint's size")
    hashes = list(
        session.scalars(
            select(m.AuditLog.hash).where(m.AuditLog.seq <= cp.size).order_by(m.AuditLog.seq)
        )
    )
    tree = MerkleTree.from_entry_hashes(hashes)
    return {
        "old": old,
        "checkpoint": cp.text(),
        "proof": [b64(h) for h in tree.consistency_proof(old, cp.size)],
    }
