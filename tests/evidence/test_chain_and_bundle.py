"""Hash chain, media store and signed bundles, without a database."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from pollwatch.evidence import AuditEntry, MediaStore, canonical_json, entry_hash, first_broken
from pollwatch.evidence.bundle import MediaItem, verify_bundle, write_bundle
from pollwatch.evidence.chain import GENESIS
from pollwatch.evidence.keys import fingerprint, load_or_create_signing_key, pseudonym
from pollwatch.evidence.media import sha256_bytes, strip_metadata


def make_chain(n: int, media_sha: tuple[str, str] | None = None) -> list[AuditEntry]:
    out, prev = [], GENESIS
    for i in range(1, n + 1):
        payload = {"i": i, "text": f"entry {i}"}
        entity = "submission"
        if media_sha and i == n:
            payload, entity = {"sha256": media_sha[0], "published_sha256": media_sha[1]}, "media"
        e = AuditEntry(
            i,
            f"2026-03-01T10:00:{i:02d}",
            "p-x",
            "create",
            entity,
            i,
            canonical_json(payload).decode(),
            prev,
        )
        e = AuditEntry(**{**e.__dict__, "hash": entry_hash(e)})
        out.append(e)
        prev = e.hash
    return out


def jpeg_with_exif() -> bytes:
    img = Image.new("RGB", (32, 24), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {2: (40.0, 24.0, 0.0)}  # GPS latitude
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif)
    return buf.getvalue()


class TestChain:
    def test_canonical_json_is_order_independent(self):
        assert canonical_json({"b": 1, "a": "ə"}) == canonical_json({"a": "ə", "b": 1})

    def test_intact_chain(self):
        assert first_broken(make_chain(5)) == (None, "")

    @pytest.mark.parametrize("k", range(5))
    @pytest.mark.parametrize("field", ["payload", "actor", "ts", "entity_id"])
    def test_any_edit_names_the_edited_entry(self, k, field):
        chain = make_chain(5)
        old = getattr(chain[k], field)
        chain[k] = AuditEntry(
            **{**chain[k].__dict__, field: old + 1 if isinstance(old, int) else old + "x"}
        )
        seq, why = first_broken(chain)
        assert seq == k + 1 and "altered" in why

    def test_deleted_entry_is_found(self):
        chain = make_chain(5)
        del chain[2]
        assert first_broken(chain)[0] == 4

    def test_rehashed_edit_breaks_the_next_link(self):
        chain = make_chain(5)
        e = AuditEntry(**{**chain[1].__dict__, "payload": "{}"})
        chain[1] = AuditEntry(**{**e.__dict__, "hash": entry_hash(e)})
        assert first_broken(chain) == (3, "prev_hash does not match the previous entry's hash")


class TestMedia:
    def test_content_addressed_and_checked(self, tmp_path):
        store = MediaStore(tmp_path)
        sha = store.put(b"hello")
        assert sha == sha256_bytes(b"hello") and store.put(b"hello") == sha and store.check(sha)
        store.path(sha).write_bytes(b"hellO")
        assert not store.check(sha)

    def test_bad_hash_name_is_rejected(self, tmp_path):
        with pytest.raises(ValueError, match="64 lowercase hex"):
            MediaStore(tmp_path).path("../../etc/passwd")

    def test_derivative_has_no_exif_but_same_pixels(self):
        raw = jpeg_with_exif()
        assert Image.open(io.BytesIO(raw)).getexif().get(0x010F) == "SecretCam"
        clean, ctype = strip_metadata(raw)
        img = Image.open(io.BytesIO(clean))
        assert ctype == "image/jpeg" and len(img.getexif()) == 0 and b"SecretCam" not in clean
        assert img.size == (32, 24)

    def test_not_an_image(self):
        with pytest.raises(ValueError, match="not a readable image"):
            strip_metadata(b"%PDF-1.4")


class TestKeys:
    def test_key_is_created_once_and_pseudonyms_are_stable(self, tmp_path):
        k1, k2 = load_or_create_signing_key(tmp_path), load_or_create_signing_key(tmp_path)
        assert fingerprint(k1) == fingerprint(k2)
        assert (tmp_path / "keys" / "evidence-ed25519.pem").stat().st_mode & 0o077 == 0
        assert pseudonym(b"s", 7) == pseudonym(b"s", 7) != pseudonym(b"t", 7)
        assert pseudonym(b"s", 7).startswith("p-") and pseudonym(b"s", None) == "anon"


class TestBundle:
    @pytest.fixture
    def bundle(self, tmp_path):
        data = b"published-bytes"
        chain = make_chain(4, media_sha=("a" * 64, sha256_bytes(data)))
        key = Ed25519PrivateKey.generate()
        path = tmp_path / "b.zip"
        write_bundle(path, chain, [MediaItem("a" * 64, sha256_bytes(data), data)], key)
        return path, key

    def test_intact_bundle_verifies(self, bundle):
        path, key = bundle
        res = verify_bundle(path, fingerprint_pin=fingerprint(key))
        assert res.ok and res.n_entries == 4 and res.n_media == 1 and res.first_broken_entry is None
        assert "intact" in res.summary().as_text()

    def rewrite(self, path, name, fn):
        with zipfile.ZipFile(path) as z:
            files = {n: z.read(n) for n in z.namelist()}
        files[name] = fn(files[name])
        with zipfile.ZipFile(path, "w") as z:
            for n, d in files.items():
                z.writestr(n, d)

    def test_edited_entry_is_named(self, bundle):
        path, _ = bundle

        def edit(audit: bytes) -> bytes:
            lines = audit.splitlines()
            e = json.loads(lines[1])
            e["payload"] = e["payload"].replace("entry 2", "entry two")
            lines[1] = canonical_json(e)
            return b"\n".join(lines) + b"\n"

        self.rewrite(path, "audit.jsonl", edit)
        res = verify_bundle(path)
        assert not res.ok and res.first_broken_entry == 2
        assert any("audit.jsonl does not match" in p for p in res.problems)

    def test_removed_tail_entry_is_detected(self, bundle):
        path, _ = bundle
        self.rewrite(path, "audit.jsonl", lambda a: b"\n".join(a.splitlines()[:-1]) + b"\n")
        res = verify_bundle(path)
        assert not res.ok and any("entries removed" in p for p in res.problems)

    def test_altered_media_is_detected(self, bundle):
        path, _ = bundle
        with zipfile.ZipFile(path) as z:
            name = next(n for n in z.namelist() if n.startswith("media/"))
        self.rewrite(path, name, lambda d: d + b"!")
        res = verify_bundle(path)
        assert not res.ok and any("does not match its hash" in p for p in res.problems)

    def test_resigned_manifest_fails_the_pin(self, bundle, tmp_path):
        path, key = bundle
        other = Ed25519PrivateKey.generate()
        with zipfile.ZipFile(path) as z:
            entries = [AuditEntry(**json.loads(x)) for x in z.read("audit.jsonl").splitlines()]
        write_bundle(path, entries, [], other)
        assert verify_bundle(path).ok  # self-consistent forgery …
        assert not verify_bundle(path, fingerprint_pin=fingerprint(key)).ok  # … caught by the pin

    def test_garbage_file_does_not_crash(self, tmp_path):
        p = tmp_path / "junk.zip"
        p.write_bytes(b"not a zip")
        res = verify_bundle(p)
        assert not res.ok and "unreadable" in res.problems[0]
