"""``pollwatch evidence checkpoint`` and ``verify --checkpoints``: a database and a bundle checked
against checkpoints held outside the server, the key holder's rewrite caught."""

from __future__ import annotations

import json
import zipfile

import pytest
from typer.testing import CliRunner

from pollwatch.cli import app
from pollwatch.evidence.bundle import write_bundle
from pollwatch.evidence.chain import AuditEntry, relink
from pollwatch.evidence.keys import load_or_create_signing_key

pytest.importorskip("sqlalchemy")


@pytest.fixture
def env(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("POLLWATCH_DATABASE_URL", url)
    monkeypatch.setenv("POLLWATCH_DATA_DIR", str(tmp_path / "data"))
    return url, tmp_path / "data"


def run(*args):
    return CliRunner().invoke(app, list(args))


def admin(name):
    r = run("users", "create-admin", "--username", name, "--password", "correct-horse")
    assert r.exit_code == 0, r.output


def test_checkpoint_then_deleted_newest_entries(env, tmp_path):
    url, _ = env
    admin("root")
    r = run("evidence", "checkpoint", "--origin", "test-org", "--short")
    assert r.exit_code == 0, r.output
    line, short = r.output.splitlines()
    assert line.startswith("pw1 test-org 1 ") and short.startswith("pw1s 1 ")
    admin("second")
    held = tmp_path / "held.txt"
    held.write_text(f"# from an observer's phone\n{line}\n{run('evidence', 'checkpoint').output}")
    assert run("evidence", "verify", "--database", url, "--checkpoints", str(held)).exit_code == 0
    # the operator removes the second admin and its audit entry: the chain alone still verifies
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text("DELETE FROM users WHERE username = 'second'"))
        c.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    engine.dispose()
    assert run("evidence", "verify", "--database", url).exit_code == 0
    r = run("evidence", "verify", "--database", url, "--checkpoints", str(held), "--json")
    assert r.exit_code == 1
    doc = json.loads(r.output)
    assert doc["first_broken_entry"] == 2 and "deleted" in " ".join(doc["problems"])


def test_resigned_bundle_against_a_held_checkpoint(env, tmp_path):
    _, data = env
    admin("root")
    admin("second")
    out = tmp_path / "b.zip"
    assert run("evidence", "export", "--full", "--out", str(out)).exit_code == 0
    held = tmp_path / "held.txt"
    held.write_text(run("evidence", "checkpoint").output)
    assert run("evidence", "verify", str(out), "--checkpoints", str(held)).exit_code == 0
    # rewrite the first entry, recompute the chain, re-sign with the (stolen) key
    with zipfile.ZipFile(out) as z:
        entries = [AuditEntry(**json.loads(x)) for x in z.read("audit.jsonl").splitlines()]
        fp = json.loads(z.read("manifest.json"))["signer_fingerprint"]
    forged = relink([AuditEntry(**{**entries[0].__dict__, "actor": "p-0"}), *entries[1:]])
    write_bundle(out, forged, [], load_or_create_signing_key(data))
    assert run("evidence", "verify", str(out), "--fingerprint", fp).exit_code == 0
    r = run("evidence", "verify", str(out), "--fingerprint", fp, "--checkpoints", str(held))
    assert r.exit_code == 1 and "between #1 and #2" in r.output


def test_bad_checkpoints_file(env, tmp_path):
    admin("root")
    bad = tmp_path / "bad.txt"
    bad.write_text("not a checkpoint\n")
    r = run("evidence", "verify", "--database", env[0], "--checkpoints", str(bad))
    assert r.exit_code == 1 and "line 1" in r.output
    r = run("evidence", "checkpoint", "--origin", "two words")
    assert r.exit_code == 2 and "origin" in r.output


def test_checkpoint_refuses_without_a_passphrase_or_flag(env, monkeypatch):
    admin("root")
    monkeypatch.delenv("POLLWATCH_INSECURE_PLAINTEXT_KEY")
    r = run("evidence", "checkpoint")
    assert r.exit_code == 1 and "refusing to create an unencrypted signing key" in r.output
    monkeypatch.setenv("POLLWATCH_KEY_PASSPHRASE", "pass phrase")
    assert run("evidence", "checkpoint").output.startswith("pw1 pollwatch 1 ")
    monkeypatch.setenv("POLLWATCH_KEY_PASSPHRASE", "wrong")
    r = run("evidence", "checkpoint")
    assert r.exit_code == 1 and "wrong passphrase" in r.output


def test_rewritten_live_database_is_named_by_a_held_checkpoint(env, tmp_path):
    """The operator demotes the first admin in the table and in its audit snapshot, and
    recomputes the whole chain: the database verifies, the held checkpoints name entry 1."""
    url, _ = env
    admin("root")
    held = tmp_path / "held.txt"
    held.write_text(run("evidence", "checkpoint").output)
    admin("second")
    with held.open("a") as fh:
        fh.write(run("evidence", "checkpoint").output)
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text("UPDATE users SET role = 'observer' WHERE username = 'root'"))
        rows = c.execute(text("SELECT * FROM audit_log ORDER BY seq")).mappings().all()
        entries = [AuditEntry(**r) for r in rows]
        first = entries[0]
        entries[0] = AuditEntry(
            **{**first.__dict__, "payload": first.payload.replace("admin", "observer")}
        )
        for e in relink(entries):
            c.execute(
                text(
                    "UPDATE audit_log SET payload = :p, prev_hash = :ph, hash = :h WHERE seq = :s"
                ),
                {"p": e.payload, "ph": e.prev_hash, "h": e.hash, "s": e.seq},
            )
    engine.dispose()
    assert run("evidence", "verify", "--database", url).exit_code == 0  # the old weakness
    r = run("evidence", "verify", "--database", url, "--checkpoints", str(held))
    assert r.exit_code == 1 and "first broken audit entry is #1" in r.output, r.output
