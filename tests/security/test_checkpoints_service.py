"""Issue 18 item 2, against the live service: the operator (holding the database and the signing
key) rewrites the evidence; receipts the observers got in their replies, and the checkpoint a
second organisation's witness holds, name the rewritten entry.

Each attack first passes the checks that existed before (the chain recomputed, the rows and
their snapshots consistent, a bundle re-signed with the stolen key), then fails against what
left the server before it. The SMS log and station data are in the chain, so editing them is
caught the same way.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
import uuid

import pytest
from sqlalchemy import insert, select, text

from pollwatch.evidence.bundle import verify_bundle, write_bundle
from pollwatch.evidence.chain import AuditEntry, relink
from pollwatch.evidence.checkpoint import Checkpoint, Receipt, ShortCheckpoint
from pollwatch.evidence.keys import fingerprint, load_or_create_signing_key
from pollwatch.evidence.witness import Witness
from pollwatch.service import audit, privacy
from pollwatch.service import models as m
from pollwatch.service.crud.sms_log import sms_text_commitment
from pollwatch.service.importer import import_election
from pollwatch.service.sources.evidence import export_database, verify_database

from ..service.conftest import (  # noqa: TID252
    BACKENDS,
    database_url,
    drop_database,
    election,
    make_ctx,
    pg,  # noqa: F401 - the PostgreSQL fixture, for this directory
)


@pytest.fixture(params=BACKENDS)
def svc(request, tmp_path):
    c = make_ctx(tmp_path, database_url(request, tmp_path))
    yield c
    c.client.close()
    c.app.state.engine.dispose()
    drop_database(request, c.settings.database_url)


def file_incidents(c, n: int) -> list[tuple[int, Receipt]]:
    """``n`` incidents through the API: (submission id, the receipt in the reply) each."""
    out = []
    for _ in range(n):
        r = c.post("observer", "/api/incidents", json=c.incident(c.stations[0]))
        assert r.status_code == 201, r.text
        out.append((r.json()["id"], Receipt.parse(r.json()["receipt"])))
    return out


def rewrite(c, mutate) -> None:
    """The operator's tool: every audit entry read, changed by ``mutate``, relinked (renumbered,
    every hash recomputed) and written back in place of the old chain."""
    with c.app.state.engine.begin() as conn:
        rows = conn.execute(select(m.AuditLog).order_by(m.AuditLog.seq)).mappings().all()
        entries = relink(mutate([AuditEntry(**r) for r in rows]))
        conn.execute(text("DELETE FROM audit_log"))
        conn.execute(insert(m.AuditLog.__table__), [dataclasses.asdict(e) for e in entries])


def verify(c, held=()):
    return verify_database(c.settings.database_url, c.settings.data_dir, checkpoints=held)


def edit_payload(entries, seq: int, old: str, new: str):
    out = list(entries)
    e = out[seq - 1]
    assert old in e.payload
    out[seq - 1] = dataclasses.replace(e, payload=e.payload.replace(old, new))
    return out


def test_a_edited_row_and_recomputed_chain_is_named_by_the_receipts(svc):
    filed = file_incidents(svc, 5)
    sub_id, target = filed[2]
    with svc.app.state.engine.begin() as conn:
        conn.execute(
            text("UPDATE submissions SET description = 'all calm' WHERE id = :i"), {"i": sub_id}
        )
    rewrite(svc, lambda es: edit_payload(es, target.seq, '"box stuffed"', '"all calm"'))
    svc.app.state.checkpoints.run_once()  # and publishes a checkpoint signed with the real key
    assert verify(svc).ok  # the weakness of the issue: the rewrite passes on its own
    res = verify(svc, [r for _, r in filed])
    assert not res.ok and res.first_broken_entry == target.seq, res.problems


def test_b_deleted_incident_and_renumbered_chain_is_named(svc):
    filed = file_incidents(svc, 5)
    sub_id, target = filed[2]
    with svc.app.state.engine.begin() as conn:
        conn.execute(text("DELETE FROM submissions WHERE id = :i"), {"i": sub_id})
    rewrite(svc, lambda es: [e for e in es if e.seq != target.seq])
    assert verify(svc).ok
    res = verify(svc, [r for _, r in filed])
    assert not res.ok and res.first_broken_entry == target.seq, res.problems


def test_c_deleted_newest_entries_are_named(svc):
    filed = file_incidents(svc, 4)
    sub_id, target = filed[-1]
    with svc.app.state.engine.begin() as conn:
        conn.execute(text("DELETE FROM submissions WHERE id = :i"), {"i": sub_id})
        conn.execute(text("DELETE FROM audit_log WHERE seq = :s"), {"s": target.seq})
    assert verify(svc).ok
    res = verify(svc, [r for _, r in filed])
    assert not res.ok and res.first_broken_entry == target.seq
    assert "deleted" in " ".join(res.problems)


def test_d_bundle_resigned_with_the_stolen_key_is_named(svc, tmp_path):
    filed = file_incidents(svc, 5)
    _, target = filed[1]
    out = tmp_path / "bundle.zip"
    given = svc.app.state.checkpoints.run_once()  # the periodic job's, to a witness
    file_incidents(svc, 1)
    manifest = export_database(svc.settings.database_url, svc.settings.data_dir, out)
    assert given.size in [c["size"] for c in manifest["consistency"]]
    stolen = load_or_create_signing_key(svc.settings.data_dir)
    fp = fingerprint(stolen)
    with svc.session() as s:
        entries = [audit.to_entry(r) for r in s.scalars(select(m.AuditLog).order_by("seq"))]
    forged = relink(edit_payload(entries, target.seq, '"box stuffed"', '"all calm"'))
    write_bundle(out, forged, [], stolen)
    assert verify_bundle(out, fingerprint_pin=fp).ok  # pinned fingerprint: still passes
    res = verify_bundle(out, fingerprint_pin=fp, checkpoints=[r for _, r in filed])
    assert not res.ok and res.first_broken_entry == target.seq, res.problems


def send_sms(c, body: str):
    r = c.client.post(
        "/api/sms/webhook",
        headers={"X-Pollwatch-Secret": "s3cret"},
        json={"sender": "+994500000001", "text": body},
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_sms_message_edited_in_the_database_is_detected(svc):
    held = [r for _, r in file_incidents(svc, 2)]
    with svc.session() as s:
        code = s.get(m.Station, svc.stations[0]).code
    reply = send_sms(svc, f"IN{svc.users['observer']} #{code} BS S4 @box stuffed")
    assert reply["ok"], reply
    # the reply ends with the receipt in short: " #<entry> pw1s <size> <root prefix>"
    entry, short = reply["reply"].rsplit(" #", 1)[1].split(" ", 1)
    held.append(ShortCheckpoint.parse(short))
    with svc.session() as s:
        msg = s.scalars(select(m.SmsMessage)).one()
        sms_id, key = msg.id, s.info["data_key"]
        payload = s.scalars(select(m.AuditLog.payload)).all()[-1]
        # in the chain by keyed commitments: no text, no number, no ciphertext
        assert "box stuffed" not in payload and "+99450" not in payload and "enc1:" not in payload
        assert f'"text_commitment":"{msg.text_commitment}"' in payload
        assert f'"sender_commitment":"{msg.sender_commitment}"' in payload
        new = sms_text_commitment(s, sms_id, "IN3 OK")
    sms_seq = held[-1].size  # the SMS's own entry closes its transaction
    assert sms_seq == int(entry) + 1
    # the operator (holding the data key) edits the text: the decrypted text no longer matches
    # the commitment in the chain
    forged = privacy.seal(key, "IN3 OK", "sms_messages.text")
    with svc.app.state.engine.begin() as conn:
        conn.execute(
            text("UPDATE sms_messages SET text = :t WHERE id = :i"), {"t": forged, "i": sms_id}
        )
    res = verify(svc)
    assert not res.ok and res.first_broken_entry == sms_seq
    assert "its text was changed" in " ".join(res.problems)
    # ... and recomputes the commitment, the snapshot and the chain: only the receipts see it
    with svc.app.state.engine.begin() as conn:
        old = conn.execute(
            text("SELECT text_commitment FROM sms_messages WHERE id = :i"), {"i": sms_id}
        ).scalar()
        conn.execute(
            text("UPDATE sms_messages SET text_commitment = :h WHERE id = :i"),
            {"h": new, "i": sms_id},
        )
    rewrite(svc, lambda es: edit_payload(es, sms_seq, old, new))
    assert verify(svc).ok
    res = verify(svc, held)
    assert not res.ok and res.differing_range == (sms_seq - 1, sms_seq), res.problems


def test_station_moved_in_the_database_is_detected(svc):
    job = svc.app.state.checkpoints
    before = job.run_once()
    with svc.session() as s:  # a second election imported after that checkpoint
        row = import_election(s, election(), actor_id=svc.users["admin"], name="second")
        s.commit()
        eid = row.id
        station = s.scalars(select(m.Station.id).where(m.Station.election_id == eid)).first()
    after = job.run_once()
    assert after.size == before.size + 1
    with svc.app.state.engine.begin() as conn:
        conn.execute(
            text("UPDATE stations SET lat = 40.41, lon = 49.87 WHERE id = :i"), {"i": station}
        )
    res = verify(svc)
    assert not res.ok and res.first_broken_entry == after.size  # the election's snapshot
    with svc.session() as s:  # the operator recomputes the snapshot and the chain
        forged = audit.payload(s, s.get(m.Election, eid))
    rewrite(
        svc,
        lambda es: [
            dataclasses.replace(e, payload=forged) if e.seq == after.size else e for e in es
        ],
    )
    assert verify(svc).ok
    res = verify(svc, [before, after])
    assert not res.ok and res.first_broken_entry == after.size, res.problems


@contextlib.contextmanager
def serving(app):
    """``app`` on a loopback port, in a thread."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the witness did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def test_witness_refuses_the_rewritten_log_and_its_checkpoint_names_the_entry(svc, tmp_path):
    import urllib.request

    from pollwatch.service.witness_app import create_witness_app

    log_key = load_or_create_signing_key(svc.settings.data_dir).public_key()
    witness = Witness(
        tmp_path / "witness-b", load_or_create_signing_key(tmp_path / "witness-b"), "ngo-b",
        {"pollwatch": [log_key]},
    )  # fmt: skip
    with serving(create_witness_app(witness)) as url:
        job = svc.app.state.checkpoints
        job.witnesses = [url + "/add-checkpoint"]
        filed = file_incidents(svc, 3)
        first = job.run_once()
        filed += file_incidents(svc, 3)
        second = job.run_once()
        posts = job.answers(second)
        assert [p[2] for p in posts] == [200] and posts[0][3].startswith("— ngo-b ")
        assert witness.held("pollwatch") == second and first.size < second.size
        # the operator rewrites an incident filed before the witness's first checkpoint
        sub_id, target = filed[1]
        with svc.app.state.engine.begin() as conn:
            conn.execute(
                text("UPDATE submissions SET description = 'all calm' WHERE id = :i"),
                {"i": sub_id},
            )
        rewrite(svc, lambda es: edit_payload(es, target.seq, '"box stuffed"', '"all calm"'))
        file_incidents(svc, 1)
        third = job.run_once()
        status, answer = job.answers(third)[0][2:]
        assert status == 422 and "rewritten" in answer
        assert (tmp_path / "witness-b" / "pollwatch.refused.jsonl").exists()
        with urllib.request.urlopen(f"{url}/checkpoint/pollwatch") as r:
            held = Checkpoint.parse(r.read().decode())
    assert held == second
    assert verify(svc).ok
    res = verify(svc, [held])  # the witness's copy alone: the rewrite, within a range
    assert not res.ok and res.differing_range[0] <= target.seq <= res.differing_range[1]
    res = verify(svc, [held, *(r for _, r in filed)])  # with the receipts: the entry
    assert not res.ok and res.first_broken_entry == target.seq


def test_the_service_refuses_a_plaintext_key_without_the_flag(tmp_path, monkeypatch):
    from pollwatch.evidence.keys import SigningKeyError, is_encrypted
    from pollwatch.service.config import Settings
    from pollwatch.service.main import create_app

    monkeypatch.delenv("POLLWATCH_INSECURE_PLAINTEXT_KEY")
    url = f"sqlite:///{tmp_path}/k.db"
    load_or_create_signing_key(tmp_path / "data", allow_plaintext=True)  # an old, plain key
    with pytest.raises(SigningKeyError, match="stored unencrypted"):
        create_app(Settings(database_url=url, data_dir=tmp_path / "data"))
    passphrase = tmp_path / "secrets" / "pass"
    passphrase.parent.mkdir()
    passphrase.write_text("a long passphrase kept elsewhere\n")
    fresh = Settings(database_url=url, data_dir=tmp_path / "fresh", key_passphrase_file=passphrase)
    app = create_app(fresh)
    app.state.engine.dispose()
    assert is_encrypted((tmp_path / "fresh" / "keys" / "evidence-ed25519.pem").read_bytes())


def test_key_rotation_is_in_the_chain_and_old_receipts_still_verify(svc, monkeypatch):
    from pollwatch.evidence.checkpoint import verify_against_checkpoints
    from pollwatch.evidence.keys import known_public_keys
    from pollwatch.service.sources.evidence import load_entries, record_rotation

    held = [r for _, r in file_incidents(svc, 2)]
    old = fingerprint(load_or_create_signing_key(svc.settings.data_dir))
    rotation = record_rotation(svc.settings)
    assert rotation.old_fingerprint == old != rotation.new_fingerprint
    res = verify(svc, held)
    assert res.ok, res.problems
    with svc.session() as s:
        last = load_entries(s)[-1]
        assert last.entity == "key_rotation" and rotation.new_fingerprint in last.payload
        entries = load_entries(s)
    keys = known_public_keys(svc.settings.data_dir)
    assert fingerprint(keys[0]) == rotation.new_fingerprint
    assert verify_against_checkpoints(entries, held, keys=keys).ok
    public = svc.client.get("/api/public/evidence").json()
    assert public["fingerprint"] == rotation.new_fingerprint
    assert public["retired_fingerprints"] == [old]


def test_receipts_on_every_channel_and_the_public_page(svc):
    # the no-JavaScript page: the receipt under "saved"
    login = svc.client.post(
        "/login", data={"username": "observer", "password": "observer-pass"}, follow_redirects=False
    )
    assert login.status_code in (200, 303), login.text
    form = svc.client.get(f"/file/incident?station={svc.stations[0]}").text
    csrf = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]  # docs/security/sessions
    page = svc.client.post(
        "/file/incident",
        data={
            "csrf_token": csrf,
            "client_id": str(uuid.uuid4()),
            "station_id": str(svc.stations[0]),
            "category": "ballot_stuffing",
            "severity": "high",
            "occurred_at": "2026-03-01T14:10:00",
            "description": "box stuffed",
        },
    )
    assert page.status_code == 200 and 'id="receipt"' in page.text, page.text
    line = page.text.split('id="receipt"', 1)[1].split(">", 1)[1].split("<", 1)[0]
    receipt = Receipt.parse(line)
    svc.client.cookies.clear()
    cp = svc.app.state.checkpoints.run_once()
    assert cp.size >= receipt.size
    assert verify(svc, [receipt, cp]).ok
    html = svc.client.get("/evidence").text
    assert (
        cp.text() in html and fingerprint(load_or_create_signing_key(svc.settings.data_dir)) in html
    )
    proof = svc.client.get(f"/api/public/consistency?old={receipt.size}").json()
    assert proof["checkpoint"] == cp.text()
