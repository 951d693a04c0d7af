"""Format 2 bundles: the checkpoint, bundles of selected entries with inclusion proofs, held
checkpoints; format 1 bundles still verify."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pollwatch.evidence.bundle import MediaItem, verify_bundle, write_bundle
from pollwatch.evidence.chain import AuditEntry, canonical_json, head, relink
from pollwatch.evidence.checkpoint import Checkpoint, make_checkpoint, make_receipt
from pollwatch.evidence.keys import fingerprint, public_pem
from pollwatch.evidence.media import sha256_bytes


def chain(n: int, media: tuple[str, str] | None = None) -> list[AuditEntry]:
    out = []
    for i in range(1, n + 1):
        payload, entity = {"i": i}, "incident"
        if media and i == 4:
            payload, entity = {"sha256": media[0], "published_sha256": media[1]}, "media"
        out.append(
            AuditEntry(i, "t", "p-x", "create", entity, i, canonical_json(payload).decode(), "")
        )
    return relink(out)


@pytest.fixture(scope="module")
def key():
    return Ed25519PrivateKey.generate()


def rewrite(path, name, fn):
    with zipfile.ZipFile(path) as z:
        files = {n: z.read(n) for n in z.namelist()}
    files[name] = fn(files[name])
    with zipfile.ZipFile(path, "w") as z:
        for n, d in files.items():
            z.writestr(n, d)


def test_format_1_bundle_still_verifies(tmp_path, key):
    entries = chain(6)
    audit = b"".join(canonical_json(e.__dict__) + b"\n" for e in entries)
    manifest = {
        "format": "pollwatch-evidence/1",
        "created": dt.datetime.now(dt.UTC).isoformat(),
        "entries": 6,
        "head_hash": head(entries),
        "audit_sha256": sha256_bytes(audit),
        "media": [],
        "signer_fingerprint": fingerprint(key),
    }
    mbytes = json.dumps(manifest).encode()
    path = tmp_path / "v1.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("manifest.json", mbytes)
        z.writestr("audit.jsonl", audit)
        z.writestr("public_key.pem", public_pem(key))
        z.writestr("signature", key.sign(mbytes).hex())
    res = verify_bundle(path, fingerprint_pin=fingerprint(key))
    assert res.ok and res.checkpoint is None
    held = [make_checkpoint(entries[:4], key)]
    assert verify_bundle(path, checkpoints=held).ok
    forged = [make_checkpoint(relink([replace(e, actor="q") for e in entries])[:4], key)]
    assert not verify_bundle(path, checkpoints=forged).ok


def test_full_bundle_carries_its_checkpoint(tmp_path, key):
    entries = chain(8)
    path = tmp_path / "b.zip"
    manifest = write_bundle(path, entries, [], key, origin="org")
    cp = Checkpoint.parse(manifest["checkpoint"])
    assert cp.size == 8 and cp.origin == "org" and cp.signer([key.public_key()])
    res = verify_bundle(path)
    assert res.ok and res.checkpoint == cp.text() and "checkpoint" in res.summary().as_text()


def test_given_checkpoint_must_match(tmp_path, key):
    entries = chain(8)
    write_bundle(
        tmp_path / "ok.zip", entries, [], key, checkpoint=make_checkpoint(entries[:5], key)
    )
    assert verify_bundle(tmp_path / "ok.zip").ok
    with pytest.raises(ValueError, match="match"):
        other = make_checkpoint(chain(9)[:5], Ed25519PrivateKey.generate())
        write_bundle(tmp_path / "x.zip", entries, [], key, checkpoint=other)
    with pytest.raises(ValueError, match="between 1 and 5"):
        write_bundle(
            tmp_path / "x.zip",
            entries,
            [],
            key,
            checkpoint=make_checkpoint(entries[:5], key),
            select=[6],
        )


class TestSelected:
    @pytest.fixture
    def part(self, tmp_path, key):
        data = b"photo"
        entries = chain(40, media=("a" * 64, sha256_bytes(data)))
        path = tmp_path / "part.zip"
        write_bundle(
            path,
            entries,
            [MediaItem("a" * 64, sha256_bytes(data), data)],
            key,
            select=[4, 5, 17, 40],
            consistency_from=[10, 33],
        )
        return path, entries

    def test_verifies_without_the_other_entries(self, part, key):
        path, entries = part
        res = verify_bundle(path, fingerprint_pin=fingerprint(key))
        assert res.ok and res.n_entries == 4 and res.n_media == 1
        held = [make_checkpoint(entries[:10], key), make_receipt(entries[:33], 17, key)]
        res = verify_bundle(path, checkpoints=held, keys=[key.public_key()])
        assert res.ok and res.n_checkpoints_checked == 2

    def test_receipt_of_an_included_entry_must_match(self, part, key):
        path, entries = part
        other = relink([*entries[:16], replace(entries[16], payload="{}"), *entries[17:]])
        res = verify_bundle(path, checkpoints=[make_receipt(other[:33], 17, key)])
        assert not res.ok and res.first_broken_entry == 17

    def test_held_size_without_proof_is_not_taken_on_trust(self, part, key):
        path, entries = part
        res = verify_bundle(path, checkpoints=[make_checkpoint(entries[:20], key)])
        assert not res.ok and "no consistency proof" in res.problems[0]

    def test_altered_entry_is_named(self, part):
        path, _ = part

        def edit(audit: bytes) -> bytes:
            lines = audit.splitlines()
            e = json.loads(lines[2])
            e["actor"] = "p-y"
            lines[2] = canonical_json(e)
            return b"\n".join(lines) + b"\n"

        rewrite(path, "audit.jsonl", edit)
        res = verify_bundle(path)
        assert not res.ok and res.first_broken_entry == 17

    def test_rehashed_entry_fails_its_proof(self, part, key):
        path, entries = part
        # the forger rewrites the entry, recomputes its hash and re-signs the whole bundle
        with zipfile.ZipFile(path) as z:
            files = {n: z.read(n) for n in z.namelist()}
        lines = files["audit.jsonl"].splitlines()
        e = AuditEntry(**json.loads(lines[2]))
        e = relink([replace(e, payload="{}")], renumber=False)[0]
        lines[2] = canonical_json(e.__dict__)
        files["audit.jsonl"] = b"\n".join(lines) + b"\n"
        m = json.loads(files["manifest.json"])
        m["audit_sha256"] = sha256_bytes(files["audit.jsonl"])
        files["manifest.json"] = json.dumps(m).encode()
        files["signature"] = key.sign(files["manifest.json"]).hex().encode()
        with zipfile.ZipFile(path, "w") as z:
            for n, d in files.items():
                z.writestr(n, d)
        res = verify_bundle(path, fingerprint_pin=fingerprint(key))
        assert not res.ok and res.first_broken_entry == 17
        assert any("no valid proof" in p for p in res.problems)

    def test_tampered_proofs(self, part):
        path, _ = part
        rewrite(path, "proofs.jsonl", lambda p: p.replace(b'"seq":17', b'"seq":18'))
        res = verify_bundle(path)
        assert not res.ok and any("proofs.jsonl does not match" in p for p in res.problems)

    def test_removed_entry(self, part):
        path, _ = part
        rewrite(path, "audit.jsonl", lambda a: b"\n".join(a.splitlines()[:-1]) + b"\n")
        assert not verify_bundle(path).ok
