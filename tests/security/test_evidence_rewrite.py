"""Issue 18 item 2: an operator holding the database and the signing key rewrites the chain.

Each attack recomputes every hash (and re-signs, with the stolen key), so it passes the chain's
own check, which is the weakness the issue describes; each fails against checkpoints that left
the server before the rewrite (an observer's receipts, a witness's copy).
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pollwatch.evidence.bundle import verify_bundle, write_bundle
from pollwatch.evidence.chain import AuditEntry, canonical_json, first_broken, relink
from pollwatch.evidence.checkpoint import make_checkpoint, make_receipt, verify_against_checkpoints
from pollwatch.evidence.keys import fingerprint


def service_chain(n: int) -> list[AuditEntry]:
    """Incidents at stations 1–5, as the service appends them."""
    return relink(
        AuditEntry(
            i, f"2026-03-01T14:{i:02d}:00", f"p-{i % 3:016x}", "create", "incident", i,
            canonical_json({"station_id": 1 + i % 5, "description": f"report {i}"}).decode(), "",
        )
        for i in range(1, n + 1)
    )  # fmt: skip


@pytest.fixture
def setting():
    """The honest chain, the organisation's key (later stolen), and what left the server: a
    receipt per submission on the observers' phones."""
    key = Ed25519PrivateKey.generate()
    entries = service_chain(30)
    receipts = [make_receipt(entries[:k], k, key) for k in range(1, 31)]
    return entries, key, receipts


def check(entries, held, key):
    return verify_against_checkpoints(entries, held, keys=[key.public_key()])


def test_a_edit_and_recompute_is_named(setting):
    entries, key, receipts = setting
    doctored = [*entries]
    doctored[11] = replace(doctored[11], payload=canonical_json({"station_id": 3}).decode())
    doctored = relink(doctored)
    assert first_broken(doctored) == (None, "")  # the old check: passes
    rep = check(doctored, receipts, key)
    assert not rep.ok and rep.first_differing_entry == 12
    # with one witness checkpoint only, the rewrite is still caught, as a range
    rep = check(doctored, [make_checkpoint(entries[:20], key)], key)
    assert not rep.ok and rep.differing_range == (1, 20)


def test_b_delete_in_the_middle_and_renumber(setting):
    entries, key, receipts = setting
    # an incident's entries (its creation, a photo, an edit) removed and the rest renumbered
    doctored = relink([e for e in entries if e.seq not in (7, 9, 12)])
    assert first_broken(doctored) == (None, "")
    rep = check(doctored, receipts, key)
    assert not rep.ok and rep.first_differing_entry == 7
    # the observer of entry 20 still holds its receipt: it names the entry as not the one receipted
    rep = check(doctored, [receipts[19]], key)
    assert not rep.ok and any("receipt for entry #20" in p for p in rep.problems)


def test_c_delete_the_newest_entries(setting):
    entries, key, receipts = setting
    doctored = entries[:25]
    assert first_broken(doctored) == (None, "")
    assert check(doctored, receipts[:25], key).ok  # only checkpoints up to 25: nothing to see
    rep = check(doctored, receipts, key)
    assert not rep.ok and rep.first_differing_entry == 26 and "deleted" in rep.problems[0]


def test_d_bundle_resigned_with_the_stolen_key(setting, tmp_path):
    entries, key, receipts = setting
    honest = tmp_path / "honest.zip"
    write_bundle(honest, entries, [], key)
    doctored = relink([*entries[:14], replace(entries[14], actor="p-0"), *entries[15:]])
    forged = tmp_path / "forged.zip"
    write_bundle(forged, doctored, [], key)  # the stolen key: the pinned fingerprint matches
    pin = fingerprint(key)
    assert verify_bundle(forged, fingerprint_pin=pin).ok  # the old check: passes
    witness = [receipts[19].checkpoint]
    assert verify_bundle(honest, fingerprint_pin=pin, checkpoints=witness).ok
    res = verify_bundle(forged, fingerprint_pin=pin, checkpoints=receipts)
    assert not res.ok and res.first_broken_entry == 15
    assert not verify_bundle(forged, fingerprint_pin=pin, checkpoints=witness).ok
    # a bundle of a few entries only, with proofs against its own checkpoint and a consistency
    # proof from the sizes the organisation gave out: honest, it extends the held checkpoint …
    part = tmp_path / "part.zip"
    write_bundle(part, entries, [], key, select=[3, 15, 16], consistency_from=[20])
    res = verify_bundle(part, fingerprint_pin=pin, checkpoints=witness)
    assert res.ok and res.n_entries == 3 and res.n_checkpoints_checked == 1
    with zipfile.ZipFile(part) as z:
        assert len(z.read("audit.jsonl").splitlines()) == 3
        assert json.loads(z.read("manifest.json"))["format"] == "pollwatch-evidence/2"
    # … forged, it is self-consistent but no consistency proof links it to the held checkpoint
    write_bundle(part, doctored, [], key, select=[3, 15, 16], consistency_from=[20])
    assert verify_bundle(part, fingerprint_pin=pin).ok
    res = verify_bundle(part, fingerprint_pin=pin, checkpoints=witness)
    assert not res.ok and any("not an extension" in p for p in res.problems)
    write_bundle(part, doctored, [], key, select=[3, 15, 16])  # proof left out: still refused
    assert not verify_bundle(part, fingerprint_pin=pin, checkpoints=witness).ok
