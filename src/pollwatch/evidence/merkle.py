"""The Merkle tree of Certificate Transparency over the audit chain's entry hashes.

The tree is the one of RFC 6962 §2.1 (https://www.rfc-editor.org/rfc/rfc6962#section-2.1):
the hash of an empty list is SHA-256 of nothing, a leaf's hash is ``SHA-256(0x00 || d)`` and an
inner node's ``SHA-256(0x01 || left || right)``, where a list of ``n > 1`` leaves is split after
``k`` leaves, ``k`` the largest power of two smaller than ``n``. The 0x00/0x01 prefixes keep a
leaf from passing for an inner node (a second-preimage trick on plain Merkle trees).

A leaf's data here is the 32 raw bytes of an audit entry's hash (``AuditEntry.hash``), so leaf
``i`` is entry ``seq = i + 1``, and the root of the first ``n`` leaves commits to the first ``n``
entries in order. Two proofs follow from the tree, both a handful of hashes (``log2 n``):

* an *inclusion* proof (RFC 6962 §2.1.1, "audit path") that entry ``i`` is leaf ``i`` of the tree
  of size ``n``, checked against that tree's root without seeing the other entries;
* a *consistency* proof (§2.1.2) that the tree of size ``m`` is a prefix of the tree of size
  ``n``: the history a holder of the size-``m`` root saw was only appended to, not rewritten.

The proofs are generated as §2.1.1 and §2.1.2 define them (``PATH`` and ``SUBPROOF``); they are
verified with the iterative algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2 (the same tree, written
down as verification procedures). :class:`MerkleTree` keeps every complete subtree's hash, so a
root or a proof costs ``O(log n)`` hashes once the tree of ``n`` leaves is built (``2n`` hashes).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "MerkleTree",
    "leaf_hash",
    "node_hash",
    "verify_consistency",
    "verify_inclusion",
]

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)`` (RFC 6962 §2.1)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)`` (RFC 6962 §2.1)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """An append-only RFC 6962 tree over leaf data (here, raw entry hashes).

    ``levels[j][i]`` is the hash of the complete subtree of ``2**j`` leaves starting at leaf
    ``i * 2**j``; every subtree the RFC's recursion visits is either such a complete subtree or
    splits into one and a smaller rest, which keeps roots and proofs logarithmic.
    """

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self.levels: list[list[bytes]] = [[]]
        for d in leaves:
            self.append(d)

    @classmethod
    def from_entry_hashes(cls, hashes: Iterable[str]) -> MerkleTree:
        """The tree whose leaf ``i`` is the hex entry hash ``hashes[i]`` as 32 raw bytes."""
        return cls(bytes.fromhex(h) for h in hashes)

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def append(self, data: bytes) -> None:
        h = leaf_hash(data)
        self.levels[0].append(h)
        j = 0
        # complete every subtree this leaf closes (the leaf count's trailing ones, in binary)
        while len(self.levels[j]) % 2 == 0:
            if len(self.levels) == j + 1:
                self.levels.append([])
            lv = self.levels[j]
            self.levels[j + 1].append(node_hash(lv[-2], lv[-1]))
            j += 1

    def _mth(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a range the RFC recursion reaches (``start`` aligned)."""
        n = end - start
        if n == 0:
            return EMPTY_ROOT
        if n & (n - 1) == 0:  # a complete subtree: stored
            j = n.bit_length() - 1
            return self.levels[j][start >> j]
        k = _split(n)
        return node_hash(self._mth(start, start + k), self._mth(start + k, end))

    def root(self, n: int | None = None) -> bytes:
        """The root of the tree of the first ``n`` leaves (all of them by default)."""
        n = self.size if n is None else n
        if not 0 <= n <= self.size:
            raise ValueError(f"`n` ({n}) must be between 0 and the tree size {self.size}")
        return self._mth(0, n)

    def inclusion_proof(self, index: int, n: int | None = None) -> list[bytes]:
        """``PATH(index, D[n])`` of RFC 6962 §2.1.1: leaf ``index`` in the tree of size ``n``."""
        n = self.size if n is None else n
        if not 0 <= index < n <= self.size:
            raise ValueError(f"need 0 <= index ({index}) < n ({n}) <= tree size ({self.size})")
        path: list[bytes] = []
        start, end = 0, n
        while end - start > 1:  # walk down, collecting the sibling of each subtree, bottom first
            k = _split(end - start)
            if index < start + k:
                path.append(self._mth(start + k, end))
                end = start + k
            else:
                path.append(self._mth(start, start + k))
                start += k
        return path[::-1]

    def consistency_proof(self, m: int, n: int | None = None) -> list[bytes]:
        """``PROOF(m, D[n])`` of RFC 6962 §2.1.2: the tree of size ``m`` is a prefix of size ``n``."""
        n = self.size if n is None else n
        if not 0 <= m <= n <= self.size:
            raise ValueError(f"need 0 <= m ({m}) <= n ({n}) <= tree size ({self.size})")
        if m == 0 or m == n:
            return []
        return self._subproof(m, 0, n, True)

    def _subproof(self, m: int, start: int, end: int, whole: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if whole else [self._mth(start, end)]
        k = _split(n)
        if m <= k:
            return [*self._subproof(m, start, start + k, whole), self._mth(start + k, end)]
        return [*self._subproof(m - k, start + k, end, False), self._mth(start, start + k)]


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """True if ``proof`` shows leaf data ``leaf`` at ``index`` in the tree of ``size`` with ``root``.

    RFC 9162 §2.1.3.2, over the leaf's data (hashed here with :func:`leaf_hash`).
    """
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    r = leaf_hash(leaf)
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    m: int, n: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """True if ``proof`` shows the tree of size ``m`` (``first_root``) is a prefix of size ``n``.

    RFC 9162 §2.1.4.2; the trivial cases (``m == 0``: nothing to be a prefix of; ``m == n``: the
    same tree) need an empty proof and, for ``m == n``, equal roots.
    """
    if not 0 <= m <= n:
        return False
    if m == 0:
        return not proof
    if m == n:
        return not proof and first_root == second_root
    if not proof:
        return False
    path = list(proof)
    if m & (m - 1) == 0:  # m a power of two: the old root is itself a node of the new tree
        path.insert(0, first_root)
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_root and sr == second_root and sn == 0
