"""Checkpoints and receipts: the text forms, signatures, and the chain against held checkpoints."""

from __future__ import annotations

from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from pollwatch.evidence.chain import AuditEntry, canonical_json, first_broken, relink
from pollwatch.evidence.checkpoint import (
    Checkpoint,
    Receipt,
    ShortCheckpoint,
    make_checkpoint,
    make_receipt,
    parse_held,
    verify_against_checkpoints,
)
from pollwatch.evidence.merkle import MerkleTree


def chain(n: int) -> list[AuditEntry]:
    return relink(
        AuditEntry(
            i, f"2026-03-01T10:{i // 60:02d}:{i % 60:02d}", "p-x", "create", "incident", i,
            canonical_json({"i": i}).decode(), "",
        )
        for i in range(1, n + 1)
    )  # fmt: skip


@pytest.fixture(scope="module")
def key():
    return Ed25519PrivateKey.generate()


class TestFormat:
    def test_round_trip_and_length(self, key):
        cp = make_checkpoint(chain(12), key, origin="org-x", at=1772359200)
        line = cp.text()
        assert line.startswith("pw1 org-x 12 1772359200 ") and "\n" not in line
        assert len(line) <= 306  # two concatenated GSM-7 SMS segments
        assert Checkpoint.parse(line) == cp
        assert cp.signer([key.public_key()]) is not None
        assert cp.head == chain(12)[-1].hash and cp.root == MerkleTree.from_entry_hashes(
            e.hash for e in chain(12)
        ).root(12)

    def test_any_changed_field_breaks_the_signature(self, key):
        cp = make_checkpoint(chain(5), key)
        for forged in (replace(cp, size=4), replace(cp, time=cp.time + 1), replace(cp, origin="y")):
            assert forged.signer([key.public_key()]) is None
        assert cp.signer([Ed25519PrivateKey.generate().public_key()]) is None

    def test_empty_chain(self, key):
        cp = make_checkpoint([], key)
        assert Checkpoint.parse(cp.text()).size == 0

    @pytest.mark.parametrize(
        "line", ["", "pw1 a 1", "pw2 a 1 2 x y z s", "pw1 a 1 2 AAAA AAAA 00 AAAA", "hello"]
    )
    def test_malformed_lines_are_refused(self, line):
        with pytest.raises(ValueError):
            Checkpoint.parse(line)

    def test_bad_origin_and_size(self, key):
        with pytest.raises(ValueError, match="origin"):
            make_checkpoint(chain(1), key, origin="two words")
        with pytest.raises(ValueError, match="size"):
            make_checkpoint(chain(2), key, size=3)
        with pytest.raises(ValueError, match="heads"):
            make_checkpoint(MerkleTree.from_entry_hashes(e.hash for e in chain(2)), key)

    def test_short_form(self, key):
        c = chain(9)
        cp = make_checkpoint(c, key)
        short = ShortCheckpoint.parse(cp.short())
        assert len(cp.short()) < 40
        assert verify_against_checkpoints(c, [short]).ok
        edited = relink([*c[:3], replace(c[3], payload="{}"), *c[4:]])
        assert not verify_against_checkpoints(edited, [short]).ok

    def test_receipt(self, key):
        c = chain(7)
        r = make_receipt(c, 7, key)
        assert r.entry_hash == r.checkpoint.head
        assert Receipt.parse(r.text()) == r
        r5 = make_receipt(c[:5], 5, key)
        later = make_receipt(c, 3, key)
        held = parse_held(f"# my receipts\n{r5.text()}\n\n{later.text()}\n{r.checkpoint.short()}\n")
        assert held == [r5, later, ShortCheckpoint.parse(r.checkpoint.short())]
        assert verify_against_checkpoints(c, held, keys=[key.public_key()]).ok
        with pytest.raises(ValueError, match="line 1"):
            parse_held("pwx 1 2 3")


class TestVerify:
    def test_intact_chain_matches_every_checkpoint(self, key):
        c = chain(20)
        held = [make_checkpoint(c[:k], key) for k in range(0, 21, 3)]
        rep = verify_against_checkpoints(c, held, keys=[key.public_key()])
        assert rep.ok and rep.n_checked == len(held) and rep.last_matching_size == 18
        assert "matches every held checkpoint" in rep.summary().as_text()

    def test_dense_checkpoints_name_the_edited_entry(self, key):
        c = chain(20)
        held = [make_checkpoint(c[:k], key) for k in range(1, 21)]
        forged = relink([*c[:10], replace(c[10], payload='{"i":999}'), *c[11:]])
        assert first_broken(forged) == (None, "")
        rep = verify_against_checkpoints(forged, held, keys=[key.public_key()])
        assert not rep.ok and rep.first_differing_entry == 11 and rep.first_failing_size == 11
        assert "#11" in rep.summary().as_text()

    def test_sparse_checkpoints_give_a_range(self, key):
        c = chain(20)
        held = [make_checkpoint(c[:5], key), make_checkpoint(c[:15], key)]
        forged = relink([*c[:10], replace(c[10], actor="p-y"), *c[11:]])
        rep = verify_against_checkpoints(forged, held)
        assert rep.first_differing_entry is None and rep.differing_range == (6, 15)
        assert "between #6 and #15" in rep.summary().as_text()

    def test_edited_content_with_stale_hash_is_caught(self, key):
        c = chain(6)
        held = [make_checkpoint(c, key)]
        c[2] = replace(c[2], payload="{}")  # hash field left as it was
        assert not verify_against_checkpoints(c, held).ok

    def test_deleted_newest_entries(self, key):
        c = chain(10)
        held = [make_checkpoint(c[:k], key) for k in (4, 8, 10)]
        rep = verify_against_checkpoints(c[:8], held)
        assert not rep.ok and rep.first_failing_size == 10 and rep.differing_range == (9, 10)
        assert "deleted" in rep.problems[0]

    def test_checkpoint_from_a_retired_key_counts(self, key):
        c = chain(6)
        old = Ed25519PrivateKey.generate()
        held = [make_checkpoint(c[:3], old), make_checkpoint(c, key)]
        keys = [key.public_key(), old.public_key()]
        assert verify_against_checkpoints(c, held, keys=keys).n_checked == 2
        rep = verify_against_checkpoints(c, held, keys=[key.public_key()])
        assert rep.ok and rep.n_checked == 1 and len(rep.unverified) == 1

    def test_forged_checkpoint_is_not_used(self, key):
        c = chain(6)
        mallory = Ed25519PrivateKey.generate()
        bogus = make_checkpoint(relink([replace(e, actor="p-z") for e in c]), mallory)
        rep = verify_against_checkpoints(c, [bogus], keys=[key.public_key()])
        assert rep.ok and rep.n_checked == 0 and rep.unverified == (bogus.text(),)

    def test_split_view_is_reported(self, key):
        c = chain(10)
        other = relink([*c[:4], replace(c[4], payload="{}"), *c[5:]])
        held = [make_checkpoint(other[:6], key), make_checkpoint(c, key)]
        rep = verify_against_checkpoints(c, held)
        assert not rep.ok and any("disagree" in p for p in rep.problems)

    def test_receipt_of_a_changed_entry(self, key):
        c = chain(8)
        r = make_receipt(c[:5], 3, key)
        forged = relink([*c[:2], replace(c[2], payload="{}"), *c[3:]])
        rep = verify_against_checkpoints(forged, [r])
        assert not rep.ok and any("receipt for entry #3" in p for p in rep.problems)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 60), data=st.data())
def test_dense_checkpoints_name_any_rewrite(n, data):
    """One checkpoint per entry: an edit, a deletion or a truncation anywhere is named exactly."""
    key = Ed25519PrivateKey.generate()
    c = chain(n)
    tree = MerkleTree.from_entry_hashes(e.hash for e in c)
    held = [make_checkpoint(tree, key, size=k, heads=[e.hash for e in c]) for k in range(1, n + 1)]
    k = data.draw(st.integers(1, n), label="entry")
    how = data.draw(st.sampled_from(["edit", "delete", "truncate"]), label="attack")
    if how == "edit":
        forged = relink([*c[: k - 1], replace(c[k - 1], payload='{"x":0}'), *c[k:]])
    elif how == "delete":
        forged = relink([e for e in c if e.seq != k])
    else:
        forged = c[: k - 1]
    assert first_broken(forged) == (None, "")
    rep = verify_against_checkpoints(forged, held, keys=[key.public_key()])
    assert not rep.ok and rep.first_differing_entry == k
    if how != "truncate":
        assert rep.first_failing_size == k
