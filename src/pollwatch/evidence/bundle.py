"""Signed evidence bundles: write one from audit entries and media, verify one offline.

A bundle is a zip file::

    manifest.json     format, counts, head hash, SHA-256 of audit.jsonl, media list, signer
    audit.jsonl       every audit entry in order (pseudonymous actors and payloads)
    media/<sha256>    published (metadata-free) derivatives, named by their hash
    public_key.pem    the Ed25519 public key
    signature         hex Ed25519 signature over the exact bytes of manifest.json

Anyone can check it with ``pollwatch evidence verify BUNDLE``: the signature, the whole chain
(naming the first broken entry) and every media hash. A forger could re-sign a doctored bundle
with their own key, so the signer's fingerprint is printed to be compared with the one the
organisation published (``--fingerprint``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pollwatch.evidence.chain import AuditEntry, canonical_json, first_broken, head
from pollwatch.evidence.keys import fingerprint, public_pem
from pollwatch.evidence.media import sha256_bytes
from pollwatch.results import ResultMixin, Summary

FORMAT = "pollwatch-evidence/1"


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
) -> dict:
    """Write a signed bundle to ``out``; returns the manifest."""
    audit = b"".join(canonical_json(e.__dict__) + b"\n" for e in entries)
    manifest = {
        "format": FORMAT,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "entries": len(entries),
        "head_hash": head(entries),
        "audit_sha256": sha256_bytes(audit),
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
    mbytes = json.dumps(manifest, indent=1, sort_keys=True).encode()
    tmp = Path(str(out) + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", mbytes)
        z.writestr("audit.jsonl", audit)
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

    def summary(self) -> Summary:
        verdict = "intact" if self.ok else "NOT intact"
        text = (
            f"{self.source}: {verdict}. {self.n_entries} audit entries and {self.n_media} media "
            f"files checked."
        )
        if self.first_broken_entry is not None:
            text += f" The first broken audit entry is #{self.first_broken_entry}."
        rows = [
            ("entries", str(self.n_entries)),
            ("media", str(self.n_media)),
            ("head hash", self.head_hash),
        ]
        if self.signer_fingerprint:
            rows.append(("signer fingerprint", self.signer_fingerprint))
        return Summary("Evidence verification", text, rows, list(self.problems))


def _entries(audit: bytes) -> list[AuditEntry]:
    return [AuditEntry(**json.loads(line)) for line in audit.splitlines() if line.strip()]


def verify_bundle(
    path: str | os.PathLike, *, fingerprint_pin: str | None = None
) -> VerificationResult:
    """Check a bundle's signature, hash chain and media; never raises on a damaged bundle."""
    problems: list[str] = []
    try:
        z = zipfile.ZipFile(path)
        mbytes = z.read("manifest.json")
        manifest = json.loads(mbytes)
        audit = z.read("audit.jsonl")
        pub = serialization.load_pem_public_key(z.read("public_key.pem"))
        sig = bytes.fromhex(z.read("signature").decode().strip())
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
    try:
        entries = _entries(audit)
    except (ValueError, TypeError) as exc:
        return VerificationResult(
            False,
            str(path),
            0,
            0,
            "",
            signer_fingerprint=fp,
            problems=(*problems, f"audit.jsonl unreadable: {exc}"),
        )
    broken, why = first_broken(entries)
    if broken is not None:
        problems.append(f"audit entry #{broken}: {why}")
    if len(entries) != manifest.get("entries") or head(entries) != manifest.get("head_hash"):
        problems.append(
            "entry count or head hash differs from the signed manifest (entries removed?)"
        )
    problems += _check_media(z, manifest.get("media", []), entries)
    return VerificationResult(
        not problems,
        str(path),
        len(entries),
        len(manifest.get("media", [])),
        head(entries),
        broken,
        fp,
        tuple(problems),
    )


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
