"""The witness refuses a checkpoint that is not an extension of the one it holds."""

from __future__ import annotations

from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pollwatch.evidence.chain import AuditEntry, relink
from pollwatch.evidence.checkpoint import Checkpoint, make_checkpoint
from pollwatch.evidence.merkle import MerkleTree
from pollwatch.evidence.witness import (
    Witness,
    cosign,
    parse_witness_request,
    verify_cosignature,
    witness_accept,
    witness_request,
)


def chain(n: int) -> list[AuditEntry]:
    return relink(
        AuditEntry(i, "t", "p", "create", "incident", i, "{}", "") for i in range(1, n + 1)
    )


def proof(entries, m, n):
    return MerkleTree.from_entry_hashes(e.hash for e in entries).consistency_proof(m, n)


@pytest.fixture(scope="module")
def log_key():
    return Ed25519PrivateKey.generate()


def test_accepts_extensions_and_refuses_rewrites(log_key):
    c = chain(30)
    keys = [log_key.public_key()]
    cp10, cp30 = make_checkpoint(c[:10], log_key), make_checkpoint(c, log_key)
    assert witness_accept(None, cp10, [], log_keys=keys).accepted
    v = witness_accept(cp10, cp30, proof(c, 10, 30), log_keys=keys)
    assert v.accepted and v.status == 200
    # the key holder rewrites entry 4 and presents the new history with its own proof
    forged = relink([*c[:3], replace(c[3], payload='{"x":1}'), *c[4:]])
    v = witness_accept(cp10, make_checkpoint(forged, log_key), proof(forged, 10, 30), log_keys=keys)
    assert not v.accepted and v.status == 422 and "rewritten" in v.reason
    # same size, other root; a shrunken log; a stranger's signature; a stale `old`
    v = witness_accept(cp10, make_checkpoint(forged[:10], log_key), [], log_keys=keys)
    assert not v.accepted and "same size" in v.reason
    v = witness_accept(cp30, cp10, [], log_keys=keys)
    assert not v.accepted and "deleted" in v.reason
    stranger = make_checkpoint(c, Ed25519PrivateKey.generate())
    assert witness_accept(cp10, stranger, proof(c, 10, 30), log_keys=keys).status == 403
    v = witness_accept(cp10, cp30, proof(c, 10, 30), old_size=5)
    assert v.status == 409 and v.held_size == 10


def test_request_round_trip():
    key = Ed25519PrivateKey.generate()
    c = chain(9)
    body = witness_request(4, proof(c, 4, 9), make_checkpoint(c, key))
    old, p, cp = parse_witness_request(body)
    assert old == 4 and p == proof(c, 4, 9) and cp.size == 9
    for bad in (b"", b"new 3\n\npw1", b"old x\n\n" + body.split(b"\n\n")[1], "ö".encode()):
        with pytest.raises(ValueError, match="malformed"):
            parse_witness_request(bad)


def test_witness_state(tmp_path, log_key):
    wkey = Ed25519PrivateKey.generate()
    w = Witness(tmp_path, wkey, "witness-org", {"pollwatch": [log_key.public_key()]})
    c = chain(20)
    v, sig = w.add(witness_request(0, [], make_checkpoint(c[:5], log_key)))
    held = Checkpoint.parse((tmp_path / "pollwatch.checkpoint").read_text())
    assert v.accepted and verify_cosignature(held, sig, wkey.public_key())
    v, _ = w.add(witness_request(5, proof(c, 5, 20), make_checkpoint(c, log_key)))
    assert v.accepted and w.held("pollwatch").size == 20
    forged = relink([replace(e, actor="q") for e in c] + chain(2))
    v, sig = w.add(witness_request(20, proof(forged, 20, 22), make_checkpoint(forged, log_key)))
    assert not v.accepted and sig is None and w.held("pollwatch").size == 20
    assert "rewritten" in (tmp_path / "pollwatch.refused.jsonl").read_text()
    assert w.add(b"garbage")[0].status == 400
    other = make_checkpoint(c, log_key, origin="elsewhere")
    assert w.add(witness_request(0, [], other))[0].status == 404


def test_cosignature_binds_the_checkpoint():
    wkey, lkey = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    c = chain(3)
    cp = make_checkpoint(c, lkey)
    line = cosign(cp, wkey, "w", at=100)
    assert verify_cosignature(cp, line, wkey.public_key())
    assert not verify_cosignature(make_checkpoint(c[:2], lkey), line, wkey.public_key())
    assert not verify_cosignature(cp, line, lkey.public_key())
