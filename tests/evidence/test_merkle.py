"""The RFC 6962 tree: roots against the RFC's recursive definition, every proof verifies, any
tampered proof fails (hypothesis over random sizes)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pollwatch.evidence.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)


def mth(d: list[bytes]) -> bytes:
    """MTH straight from RFC 6962 §2.1, the reference for the cached tree."""
    n = len(d)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + mth(d[:k]) + mth(d[k:])).digest()


def leaves(n: int) -> list[bytes]:
    return [hashlib.sha256(str(i).encode()).digest() for i in range(n)]


def flip(b: bytes) -> bytes:
    return bytes([b[0] ^ 1]) + b[1:]


class TestRoots:
    def test_empty_and_single(self):
        assert MerkleTree().root() == EMPTY_ROOT
        assert MerkleTree([b"x"]).root() == leaf_hash(b"x")
        assert MerkleTree([b"x", b"y"]).root() == node_hash(leaf_hash(b"x"), leaf_hash(b"y"))

    def test_every_prefix_matches_the_rfc_recursion(self):
        d = leaves(70)
        t = MerkleTree(d)
        for n in range(71):
            assert t.root(n) == mth(d[:n])

    def test_known_vector(self):
        # RFC 6962 test tree (the eight leaves of certificate-transparency's merkle tests)
        data = [
            b"",
            b"\x00",
            b"\x10",
            b"\x20\x21",
            b"\x30\x31",
            b"\x40\x41\x42\x43",
            b"\x50\x51\x52\x53\x54\x55\x56\x57",
            b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
        ]
        assert MerkleTree(data).root().hex() == (
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
        )

    def test_bad_size(self):
        with pytest.raises(ValueError, match="between 0"):
            MerkleTree(leaves(3)).root(4)


sizes = st.integers(min_value=1, max_value=300)


@settings(max_examples=150, deadline=None)
@given(n=sizes, data=st.data())
def test_inclusion_proofs_verify_and_tampering_fails(n, data):
    d = leaves(n)
    t = MerkleTree(d)
    size = data.draw(st.integers(1, n), label="size")
    i = data.draw(st.integers(0, size - 1), label="index")
    root = t.root(size)
    proof = t.inclusion_proof(i, size)
    assert verify_inclusion(d[i], i, size, proof, root)
    # another leaf, another index, another size, another root: all refused
    assert not verify_inclusion(d[i] + b"!", i, size, proof, root)
    if size > 1:
        assert not verify_inclusion(d[i], (i + 1) % size, size, proof, root)
    assert not verify_inclusion(d[i], i, size, proof, flip(root))
    assert not verify_inclusion(d[i], size, size, proof, root)
    if proof:
        j = data.draw(st.integers(0, len(proof) - 1), label="tampered hash")
        bad = list(proof)
        bad[j] = flip(bad[j])
        assert not verify_inclusion(d[i], i, size, bad, root)
        assert not verify_inclusion(d[i], i, size, proof[:-1], root)
    assert not verify_inclusion(d[i], i, size, [*proof, root], root)


@settings(max_examples=150, deadline=None)
@given(n=sizes, data=st.data())
def test_consistency_proofs_verify_and_tampering_fails(n, data):
    d = leaves(n)
    t = MerkleTree(d)
    m = data.draw(st.integers(0, n), label="m")
    proof = t.consistency_proof(m, n)
    r1, r2 = t.root(m), t.root(n)
    assert verify_consistency(m, n, r1, r2, proof)
    if 0 < m < n:
        assert not verify_consistency(m, n, flip(r1), r2, proof)
        assert not verify_consistency(m, n, r1, flip(r2), proof)
        j = data.draw(st.integers(0, len(proof) - 1), label="tampered hash")
        bad = list(proof)
        bad[j] = flip(bad[j])
        assert not verify_consistency(m, n, r1, r2, bad)
        assert not verify_consistency(m, n, r1, r2, proof[:-1])
        assert not verify_consistency(m, n, r1, r2, [*proof, r2])
    # a rewritten history: the same size, one leaf changed anywhere before m
    if m > 0:
        k = data.draw(st.integers(0, m - 1), label="rewritten leaf")
        forged = MerkleTree([*d[:k], d[k] + b"x", *d[k + 1 :]])
        assert not verify_consistency(m, n, r1, forged.root(n), forged.consistency_proof(m, n))


def test_incremental_tree_equals_batch():
    d = leaves(37)
    t = MerkleTree()
    for i, x in enumerate(d):
        t.append(x)
        assert t.root() == mth(d[: i + 1])
