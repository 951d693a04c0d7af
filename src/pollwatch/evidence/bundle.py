"""Signed evidence bundles: write one from audit entries and media, verify one offline.

A bundle is a zip file::

    manifest.json     format, counts, head hash, SHA-256 of audit.jsonl, media list, signer,
                      and (format 2) the chain's checkpoint and consistency proofs
    audit.jsonl       the audit entries in order (pseudonymous actors and payloads): all of
                      them, or (format 2, ``select``) only the chosen ones
    proofs.jsonl      (format 2, selected entries only) each entry's RFC 6962 inclusion proof
                      against the checkpoint's root
    media/<sha256>    published (metadata-free) derivatives, named by their hash
    public_key.pem    the Ed25519 public key
    signature         hex Ed25519 signature over the exact bytes of manifest.json

Anyone can check it with ``pollwatch evidence verify BUNDLE``: the signature, the whole chain
(naming the first broken entry) or each selected entry's proof, and every media hash. A forger
could re-sign a doctored bundle with their own key, so the signer's fingerprint is printed to be
compared with the one the organisation published (``--fingerprint``). A forger holding the
organisation's key passes that too; what they cannot pass is a checkpoint taken before the
rewrite and held by the reader (``checkpoints=``, ``--checkpoints FILE``): a full bundle is
compared with it entry by entry (:func:`pollwatch.evidence.checkpoint.verify_against_checkpoints`),
a bundle of selected entries through the consistency proof from the held size to the bundle's
checkpoint (the writer includes proofs for the sizes it gave out, ``consistency_from``).

Format 1 bundles (``pollwatch-evidence/1``: the whole chain, no checkpoint) still verify.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import zipfile
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pollwatch.evidence.chain import AuditEntry, canonical_json, entry_hash, first_broken, head
from pollwatch.evidence.checkpoint import (
    Checkpoint,
    CheckpointReport,
    Held,
    Receipt,
    ShortCheckpoint,
    b64,
    make_checkpoint,
    unb64,
    verify_against_checkpoints,
)
from pollwatch.evidence.keys import fingerprint, public_pem
from pollwatch.evidence.media import sha256_bytes
from pollwatch.evidence.merkle import MerkleTree, verify_consistency, verify_inclusion
from pollwatch.results import ResultMixin, Summary

FORMAT_V1 = "pollwatch-evidence/1"
FORMAT = "pollwatch-evidence/2"


@dataclass(frozen=True)
class MediaItem:
    original_sha256: str
    published_sha256: str
    data: bytes  # the published derivative


def write_bundle(
    out: str | os.PathLike,
    entries: Sequence[AuditEntry],
    media: Sequence[MediaItem],
    key: Ed25519PrivateKey,
    *,
    extra: dict | None = None,
    checkpoint: Checkpoint | None = None,
    select: Collection[int] | None = None,
    consistency_from: Collection[int] = (),
    origin: str = "pollwatch",
) -> dict:
    """Write a signed bundle to ``out``; returns the manifest.

    ``entries`` is the whole chain. The bundle carries ``checkpoint`` (by default a new one of
    the whole chain signed with ``key``; a given one must be signed by ``key`` and match the
    chain). With ``select`` (entry numbers) only those entries are written, each with its
    inclusion proof against the checkpoint, so a reader can check they belong to the
    checkpointed chain without seeing the others. ``consistency_from`` lists the sizes of
    checkpoints already given out (receipts, witnesses) to prove the bundle's checkpoint extends.
    """
    hashes = [e.hash for e in entries]
    tree = MerkleTree.from_entry_hashes(hashes)
    if checkpoint is None:
        checkpoint = make_checkpoint(tree, key, origin=origin, heads=hashes)
    elif checkpoint.signer([key.public_key()]) is None or not checkpoint.matches(tree):
        raise ValueError("`checkpoint` must be signed by `key` and match `entries`")
    size = checkpoint.size
    if select is None:
        chosen = list(entries)
        proofs = b""
    else:
        seqs = sorted(set(select))
        if seqs and not 1 <= seqs[0] <= seqs[-1] <= size:
            raise ValueError(f"`select` must hold entry numbers between 1 and {size}")
        chosen = [entries[s - 1] for s in seqs]
        proofs = b"".join(
            canonical_json({"seq": s, "proof": [b64(p) for p in tree.inclusion_proof(s - 1, size)]})
            + b"\n"
            for s in seqs
        )
    audit = b"".join(canonical_json(e.__dict__) + b"\n" for e in chosen)
    manifest = {
        "format": FORMAT,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "entries": len(chosen),
        "chain_entries": len(entries),
        "selected": select is not None,
        "head_hash": head(chosen) if select is None else checkpoint.head,
        "audit_sha256": sha256_bytes(audit),
        "checkpoint": checkpoint.text(),
        "consistency": [
            {"size": m, "proof": [b64(p) for p in tree.consistency_proof(m, size)]}
            for m in sorted(set(consistency_from))
            if 0 < m <= size
        ],
        "media": [
            {
                "original_sha256": m.original_sha256,
                "published_sha256": m.published_sha256,
                "path": f"media/{m.published_sha256}",
            }
            for m in media
        ],
        "signer_fingerprint": fingerprint(key),
        **(extra or {}),
    }
    if select is not None:
        manifest["proofs_sha256"] = sha256_bytes(proofs)
    mbytes = json.dumps(manifest, indent=1, sort_keys=True).encode()
    tmp = Path(str(out) + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", mbytes)
        z.writestr("audit.jsonl", audit)
        if select is not None:
            z.writestr("proofs.jsonl", proofs)
        for m in media:
            z.writestr(f"media/{m.published_sha256}", m.data)
        z.writestr("public_key.pem", public_pem(key))
        z.writestr("signature", key.sign(mbytes).hex())
    os.replace(tmp, out)
    return manifest


@dataclass(frozen=True)
class VerificationResult(ResultMixin):
    """Outcome of verifying a bundle or a live database."""

    ok: bool
    source: str
    n_entries: int
    n_media: int
    head_hash: str
    first_broken_entry: int | None = None
    signer_fingerprint: str | None = None
    problems: tuple[str, ...] = field(default_factory=tuple)
    checkpoint: str | None = None  # the bundle's own checkpoint line (format 2)
    n_checkpoints_checked: int = 0  # held checkpoints the bundle or database was checked against
    differing_range: tuple[int, int] | None = None  # the first differing entry lies in it

    def summary(self) -> Summary:
        verdict = "intact" if self.ok else "NOT intact"
        text = (
            f"{self.source}: {verdict}. {self.n_entries} audit entries and {self.n_media} media "
            f"files checked."
        )
        if self.first_broken_entry is not None:
            text += f" The first broken audit entry is #{self.first_broken_entry}."
        elif self.differing_range is not None:
            lo, hi = self.differing_range
            text += (
                f" The first entry that differs from a held checkpoint is between #{lo} and #{hi}."
            )
        if self.n_checkpoints_checked:
            text += f" Checked against {self.n_checkpoints_checked} held checkpoints."
        rows = [
            ("entries", str(self.n_entries)),
            ("media", str(self.n_media)),
            ("head hash", self.head_hash),
        ]
        if self.signer_fingerprint:
            rows.append(("signer fingerprint", self.signer_fingerprint))
        if self.checkpoint:
            rows.append(("checkpoint", self.checkpoint))
        return Summary("Evidence verification", text, rows, list(self.problems))


def _entries(audit: bytes) -> list[AuditEntry]:
    return [AuditEntry(**json.loads(line)) for line in audit.splitlines() if line.strip()]


def verify_bundle(
    path: str | os.PathLike,
    *,
    fingerprint_pin: str | None = None,
    checkpoints: Iterable[Held] = (),
    keys: Sequence[Ed25519PublicKey] | None = None,
) -> VerificationResult:
    """Check a bundle's signature, hash chain (or inclusion proofs) and media; never raises on a
    damaged bundle.

    ``checkpoints``: checkpoints and receipts the reader held before (from an observer's phone,
    a witness); they are the reader's own, so they count whoever signed them unless ``keys`` is
    given, in which case only those signed by one of ``keys`` count.
    """
    problems: list[str] = []
    held = list(checkpoints)
    try:
        z = zipfile.ZipFile(path)
        mbytes = z.read("manifest.json")
        manifest = json.loads(mbytes)
        audit = z.read("audit.jsonl")
        pub = serialization.load_pem_public_key(z.read("public_key.pem"))
        sig = bytes.fromhex(z.read("signature").decode().strip())
        fmt = manifest.get("format")
        if fmt not in (FORMAT, FORMAT_V1):
            raise ValueError(f"unknown format {fmt!r}")
        selected = fmt == FORMAT and bool(manifest.get("selected"))
        proofs = z.read("proofs.jsonl") if selected else b""
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        return VerificationResult(
            False, str(path), 0, 0, "", problems=(f"unreadable bundle: {exc}",)
        )
    fp = None
    if not isinstance(pub, Ed25519PublicKey):
        problems.append("public key is not an Ed25519 key")
    else:
        fp = fingerprint(pub)
        try:
            pub.verify(sig, mbytes)
        except InvalidSignature:
            problems.append("signature does not match manifest.json")
        if fingerprint_pin and fp != fingerprint_pin.lower():
            problems.append(f"signer fingerprint {fp} is not the expected {fingerprint_pin}")
    if sha256_bytes(audit) != manifest.get("audit_sha256"):
        problems.append("audit.jsonl does not match the hash in the signed manifest")
    if selected and sha256_bytes(proofs) != manifest.get("proofs_sha256"):
        problems.append("proofs.jsonl does not match the hash in the signed manifest")
    try:
        entries = _entries(audit)
        cp = Checkpoint.parse(manifest["checkpoint"]) if fmt == FORMAT else None
    except (ValueError, TypeError, KeyError) as exc:
        return VerificationResult(
            False,
            str(path),
            0,
            0,
            "",
            signer_fingerprint=fp,
            problems=(*problems, f"audit.jsonl or checkpoint unreadable: {exc}"),
        )
    if cp is not None and isinstance(pub, Ed25519PublicKey) and cp.signer([pub]) is None:
        problems.append("the bundle's checkpoint is not signed by the bundle's key")
    broken: int | None = None
    report: CheckpointReport | None = None
    n_checked = 0
    if not selected:
        broken, why = first_broken(entries)
        if broken is not None:
            problems.append(f"audit entry #{broken}: {why}")
        if len(entries) != manifest.get("entries") or head(entries) != manifest.get("head_hash"):
            problems.append(
                "entry count or head hash differs from the signed manifest (entries removed?)"
            )
        if cp is not None:
            tree = MerkleTree.from_entry_hashes(entry_hash(e) for e in entries)
            if not cp.matches(tree, entries):
                problems.append("the audit entries do not match the bundle's own checkpoint")
        if held:
            report = verify_against_checkpoints(entries, held, keys=keys)
            n_checked = report.n_checked
            problems += report.problems
            if report.first_differing_entry is not None:
                broken = min(broken or report.first_differing_entry, report.first_differing_entry)
    else:
        assert cp is not None
        broken, more, n_checked = _check_selected(entries, proofs, cp, manifest, held, keys)
        problems += more
    problems += _check_media(z, manifest.get("media", []), entries)
    return VerificationResult(
        not problems,
        str(path),
        len(entries),
        len(manifest.get("media", [])),
        cp.head if selected and cp else head(entries),
        broken,
        fp,
        tuple(problems),
        cp.text() if cp else None,
        n_checked,
        report.differing_range if report is not None and not report.ok else None,
    )


def _check_selected(
    entries: list[AuditEntry],
    proofs: bytes,
    cp: Checkpoint,
    manifest: dict,
    held: list[Held],
    keys: Sequence[Ed25519PublicKey] | None,
) -> tuple[int | None, list[str], int]:
    """A bundle of selected entries: each entry's own hash, its inclusion proof against the
    bundle's checkpoint, the links between consecutive entries, and the held checkpoints through
    the manifest's consistency proofs. Returns (first bad entry, problems, held checked)."""
    problems: list[str] = []
    bad: list[int] = []
    try:
        by_seq = {p["seq"]: [unb64(h) for h in p["proof"]] for p in map(json.loads, proofs.split())}
        consistency = {
            c["size"]: [unb64(h) for h in c["proof"]] for c in manifest.get("consistency", [])
        }
    except (ValueError, KeyError, TypeError) as exc:
        return None, [f"proofs unreadable: {exc}"], 0
    if len(entries) != manifest.get("entries"):
        problems.append("entry count differs from the signed manifest (entries removed?)")
    prev: AuditEntry | None = None
    for e in entries:
        if entry_hash(e) != e.hash:
            bad.append(e.seq)
            problems.append(f"audit entry #{e.seq}: content does not match its hash (altered)")
        elif e.seq not in by_seq or not verify_inclusion(
            bytes.fromhex(e.hash), e.seq - 1, cp.size, by_seq[e.seq], cp.root
        ):
            bad.append(e.seq)
            problems.append(
                f"audit entry #{e.seq}: no valid proof that it is in the checkpointed chain"
            )
        if prev is not None and (
            e.seq <= prev.seq or (e.seq == prev.seq + 1 and e.prev_hash != prev.hash)
        ):
            bad.append(e.seq)
            problems.append(f"audit entry #{e.seq}: out of order or not linked to #{prev.seq}")
        prev = e
    n_checked = 0
    for h in held:
        if keys is not None and not isinstance(h, ShortCheckpoint) and h.signer(keys) is None:
            continue
        if isinstance(h, Receipt):
            mine = next((e for e in entries if e.seq == h.seq), None)
            if mine is not None and mine.hash != h.entry_hash:
                bad.append(h.seq)
                problems.append(f"receipt for entry #{h.seq}: the entry is not the one receipted")
        if h.size > cp.size:
            continue  # newer than the bundle: nothing here to compare it with
        n_checked += 1
        if isinstance(h, ShortCheckpoint):
            if h.size == cp.size and not b64(cp.root).startswith(h.root_prefix):
                problems.append(
                    f"the bundle's checkpoint differs from the one held at size {h.size}"
                )
            elif h.size < cp.size:
                problems.append(
                    f"a short checkpoint at size {h.size} cannot be checked against a bundle of "
                    "selected entries (keep the full checkpoint line)"
                )
            continue
        root = h.checkpoint.root if isinstance(h, Receipt) else h.root
        if h.size == cp.size:
            ok = root == cp.root
        elif h.size in consistency:
            ok = verify_consistency(h.size, cp.size, root, cp.root, consistency[h.size])
        else:
            problems.append(
                f"the bundle does not prove that its chain extends the checkpoint held at size "
                f"{h.size} (no consistency proof for that size)"
            )
            continue
        if not ok:
            problems.append(
                f"the bundle's chain is not an extension of the checkpoint held at size {h.size}: "
                "history before it was rewritten"
            )
    return (min(bad) if bad else None), problems, n_checked


def _check_media(z: zipfile.ZipFile, media: list[dict], entries: list[AuditEntry]) -> list[str]:
    recorded = set()
    for e in entries:
        if e.entity == "media":
            p = json.loads(e.payload)
            recorded.add((p.get("sha256"), p.get("published_sha256")))
    problems = []
    for m in media:
        try:
            data = z.read(m["path"])
        except KeyError:
            problems.append(f"media {m['published_sha256']} is missing from the bundle")
            continue
        if sha256_bytes(data) != m["published_sha256"]:
            problems.append(f"media {m['published_sha256']} does not match its hash (file altered)")
        if (m["original_sha256"], m["published_sha256"]) not in recorded:
            problems.append(f"media {m['published_sha256']} is not recorded in the audit log")
    return problems
