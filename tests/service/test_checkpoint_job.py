"""The service's checkpoint wiring outside the attacks (tests/security/test_checkpoints_service.py):
the start-up that puts an existing SMS log into the chain, the periodic job's bookkeeping, and
the commands ``evidence checkpoint``, ``rotate-key`` and ``fingerprint``."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select, text
from typer.testing import CliRunner

from pollwatch.cli import app as cli
from pollwatch.evidence.checkpoint import Checkpoint
from pollwatch.service import models as m
from pollwatch.service.checkpoints import Frontier, latest_checkpoint
from pollwatch.service.db import alembic_config
from pollwatch.service.sources.evidence import open_database, verify_database

from ..evidence.test_timestamp import tsa  # noqa: F401, TID252 - the local TSA fixture


def test_frontier_roots_are_the_trees():
    from pollwatch.evidence.merkle import MerkleTree

    hashes = [f"{i:064x}" for i in range(1, 70)]
    tree, f = MerkleTree.from_entry_hashes(hashes), Frontier()
    for n, h in enumerate(hashes, 1):
        f.append(h)
        assert f.root() == tree.root(n), n


def test_start_puts_the_existing_sms_log_into_the_chain(tmp_path):
    """Rows stored before the log was chained: plaintext ones from before encryption at rest
    (0002) and encrypted ones from 0003_minimisation on (one redacted). Migration 0005 cannot
    reach the data key, so the start-up (``main.seal_plaintext``) seals and chains them, once."""
    from alembic import command

    from pollwatch.evidence.keys import load_or_create_secret
    from pollwatch.service import crud, privacy
    from pollwatch.service.db import session_factory
    from pollwatch.service.main import seal_plaintext

    url = f"sqlite:///{tmp_path}/old.db"
    data = tmp_path / "data"
    command.upgrade(alembic_config(url), "0002")
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO sms_messages (sender, text, reply, ok, received_at) VALUES "
                "('+994500000001', 'IN4 BS S4', 'Unknown', 0, '2026-03-01 14:10:00.000000'),"
                "('+994500000002', 'OP1 A0815', 'Unknown', 0, '2026-03-01 14:11:00.000000')"
            )
        )
    command.upgrade(alembic_config(url), "0004_sessions")
    secret = load_or_create_secret(data)
    key = privacy.resolve_data_key(secret, data)
    with engine.begin() as c:  # as 0003_minimisation's code stored them (not chained)
        for sender, body, redacted in (
            ("+994500000003", "IN5 OK", None),
            ("+994500000004", "IN6 OK", "2026-03-02 00:00:00.000000"),
        ):
            c.execute(
                text(
                    "INSERT INTO sms_messages (sender, sender_enc, text, reply, ok, received_at, "
                    "redacted_at) VALUES ('', :s, :t, '', 0, '2026-03-01 14:12:00.000000', :r)"
                ),
                {
                    "s": None if redacted else privacy.seal(key, sender, "sms_messages.sender"),
                    "t": "" if redacted else privacy.seal(key, body, "sms_messages.text"),
                    "r": redacted,
                },
            )
    command.upgrade(alembic_config(url), "head")
    assert not verify_database(url, data).ok  # not yet in the chain: named as unaudited
    sessions = session_factory(engine, secret, key)
    seal_plaintext(sessions)
    seal_plaintext(sessions)  # idempotent: nothing chained twice
    assert verify_database(url, data).ok
    with engine.begin() as c:
        rows = c.execute(text("SELECT entity, action FROM audit_log ORDER BY seq")).all()
        assert rows == [("sms_message", "backfill")] * 4
        blob = str(c.execute(text("SELECT * FROM sms_messages")).all())
        assert "+99450000000" not in blob and "IN4 BS S4" not in blob  # sealed
    with sessions() as s:
        row = s.get(m.SmsMessage, 2)
        assert crud.sms_plaintext(s, row)[:2] == ("+994500000002", "OP1 A0815")
        assert row.sender_commitment == crud.sms_log.sms_sender_commitment(s, 2, "+994500000002")
        assert (
            s.get(m.SmsMessage, 4).sender_commitment is None
        )  # redacted before: nothing to commit
        forged = privacy.seal(key, "+994509999999", "sms_messages.sender")
    with engine.begin() as c:  # the operator swaps a sender (holding the data key)
        c.execute(text("UPDATE sms_messages SET sender_enc = :s WHERE id = 2"), {"s": forged})
    engine.dispose()
    res = verify_database(url, data)
    assert not res.ok and res.first_broken_entry == 2 and "sender" in " ".join(res.problems)


@pytest.fixture
def env(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("POLLWATCH_DATABASE_URL", url)
    monkeypatch.setenv("POLLWATCH_DATA_DIR", str(tmp_path / "data"))
    return url, tmp_path / "data"


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_checkpoint_command_stores_once_per_size_and_reports_an_unreachable_witness(
    env, monkeypatch
):
    url, data = env
    assert (
        run("users", "create-admin", "--username", "root", "--password", "correct-horse").exit_code
        == 0
    )
    first = run("evidence", "checkpoint")
    assert first.exit_code == 0, first.output
    assert run("evidence", "checkpoint").output == first.output  # nothing appended: the same
    monkeypatch.setenv("POLLWATCH_WITNESSES", "http://127.0.0.1:9/add-checkpoint")
    r = run("evidence", "checkpoint")
    assert r.exit_code == 1 and "unreachable" in r.output  # logged, stored, retried next time
    engine, sessions = open_database(url, data)
    with sessions() as s:
        assert latest_checkpoint(s) == Checkpoint.parse(first.output)
        posts = s.scalars(select(m.CheckpointPost)).all()
        assert [(p.kind, p.status) for p in posts] == [("witness", 0)]
    engine.dispose()


def test_rotate_key_and_fingerprint_commands(env):
    url, _ = env
    assert (
        run("users", "create-admin", "--username", "root", "--password", "correct-horse").exit_code
        == 0
    )
    held = run("evidence", "checkpoint").output
    before = run("evidence", "fingerprint").output.strip()
    r = run("evidence", "rotate-key")
    assert r.exit_code == 0, r.output
    old, new = (line.split(" ")[1] for line in r.output.splitlines())
    assert old == before != new
    assert run("evidence", "fingerprint").output.splitlines() == [new, f"retired {old}"]
    (held_file := (env[1].parent / "held.txt")).write_text(held)
    assert (
        run("evidence", "verify", "--database", url, "--checkpoints", str(held_file)).exit_code == 0
    )


def test_the_lifespan_job_runs_and_a_dead_witness_blocks_nothing(tmp_path):
    import time

    from fastapi.testclient import TestClient

    from pollwatch.service.main import create_app

    from .conftest import make_ctx  # noqa: TID252

    base = make_ctx(tmp_path)
    base.client.close()
    base.app.state.engine.dispose()
    settings = base.settings.model_copy(
        update={"checkpoint_interval": 0.1, "witnesses": "http://127.0.0.1:9/add-checkpoint"}
    )
    app = create_app(settings, run_migrations=False)
    with TestClient(app) as client:
        t = time.monotonic()
        r = client.post(
            "/api/incidents", headers=base.headers["observer"], json=base.incident(base.stations[0])
        )
        assert r.status_code == 201 and r.json()["receipt"] and time.monotonic() - t < 2
        seq = int(r.json()["receipt"].split(" ")[1])
        deadline = time.monotonic() + 10
        while True:  # the job catches up with the new entry, and keeps trying the witness
            with app.state.sessions() as s:
                cp = latest_checkpoint(s)
                failed = s.scalars(select(m.CheckpointPost.status)).all()
            if cp is not None and cp.size >= seq and len(failed) >= 2:
                break
            assert time.monotonic() < deadline, (cp, failed)
            time.sleep(0.05)
        assert set(failed) == {0}
    app.state.engine.dispose()


def test_the_job_timestamps_its_checkpoint_with_a_tsa(tmp_path, tsa):  # noqa: F811
    from pollwatch.evidence.timestamp import Timestamp, verify_timestamp

    from .conftest import make_ctx  # noqa: TID252

    url, cert, _ = tsa
    c = make_ctx(tmp_path)
    try:
        job = c.app.state.checkpoints
        job.tsa_url, job.tsa_certificate = url, cert
        cp = job.run_once()
        [(kind, target, status, line)] = job.answers(cp)
        assert (kind, target, status) == ("tsa", url, 200)
        assert verify_timestamp(Timestamp.parse(cp.text(), line), tsa_certificate=cert)
        job.run_once()  # stamped already: not asked again
        assert len(job.answers(cp)) == 1
    finally:
        c.client.close()
        c.app.state.engine.dispose()


def test_witness_serve_needs_a_readable_log_key(tmp_path):
    r = run("witness", "serve", "--dir", str(tmp_path / "w"), "--trust", str(tmp_path / "none.pub"))
    assert r.exit_code == 1 and "none.pub" in r.output


def test_a_log_that_forgot_what_the_witness_holds_resends_from_its_size(tmp_path):
    """The witness answers 409 with the size it holds; the job sends the proof from there."""
    from pollwatch.evidence.keys import load_or_create_signing_key
    from pollwatch.evidence.witness import Witness
    from pollwatch.service.witness_app import create_witness_app

    from ..security.test_checkpoints_service import file_incidents, serving  # noqa: TID252
    from .conftest import make_ctx  # noqa: TID252

    c = make_ctx(tmp_path)
    log_key = load_or_create_signing_key(c.settings.data_dir).public_key()
    wdir = tmp_path / "w"
    witness = Witness(wdir, load_or_create_signing_key(wdir), "w", {"pollwatch": [log_key]})
    try:
        with serving(create_witness_app(witness)) as url:
            job = c.app.state.checkpoints
            job.witnesses = [url + "/add-checkpoint"]
            first = job.run_once()
            with c.app.state.engine.begin() as conn:  # the log loses its record of the posts
                conn.execute(text("DELETE FROM checkpoint_posts"))
            file_incidents(c, 2)
            second = job.run_once()
            assert [p[2] for p in job.answers(second)] == [200]
            assert witness.held("pollwatch") == second and first.size < second.size
    finally:
        c.client.close()
        c.app.state.engine.dispose()
