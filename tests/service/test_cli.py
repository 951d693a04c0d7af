"""``pollwatch users create-admin`` and ``pollwatch evidence export|verify``."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from pollwatch.cli import app


@pytest.fixture
def env(tmp_path, monkeypatch):
    # the commands export their options to POLLWATCH_* for workers; monkeypatch restores them
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("POLLWATCH_DATABASE_URL", url)
    monkeypatch.setenv("POLLWATCH_DATA_DIR", str(tmp_path / "data"))
    return url, tmp_path / "data"


def run(*args, input=None):
    return CliRunner().invoke(app, list(args), input=input)


def test_create_admin_then_login(env):
    url, data = env
    r = run(
        "users",
        "create-admin",
        "--username",
        "root",
        "--password",
        "correct-horse",
        "--database",
        url,
    )
    assert r.exit_code == 0, r.output
    assert "created admin 'root'" in r.output
    r = run("users", "create-admin", "--username", "root", "--password", "correct-horse")
    assert r.exit_code == 1 and "Username already exists" in r.output
    from pollwatch.evidence.keys import load_or_create_secret
    from pollwatch.service import crud
    from pollwatch.service.db import make_engine, session_factory

    engine = make_engine(url)
    with session_factory(engine, load_or_create_secret(data))() as s:
        assert crud.authenticate(s, "root", "correct-horse").role == "admin"
        assert crud.authenticate(s, "root", "wrong") is None
    engine.dispose()


def test_create_admin_prompts_and_checks_length(env):
    r = run("users", "create-admin", "--username", "a", input="short\nshort\n")
    assert r.exit_code == 1 and "at least 8 characters" in r.output
    r = run("users", "create-admin", "--username", "a", input="long-password\nlong-password\n")
    assert r.exit_code == 0, r.output


def test_export_verify_and_tamper(env, tmp_path):
    url, _ = env
    run("users", "create-admin", "--username", "root", "--password", "correct-horse")
    out = tmp_path / "bundle.zip"
    r = run("evidence", "export", "--full", "--out", str(out))
    assert r.exit_code == 0 and "1 audit entries" in r.output, r.output
    fp = r.output.split("fingerprint ")[1].split()[0]
    r = run("evidence", "verify", str(out), "--fingerprint", fp, "--json")
    assert r.exit_code == 0 and json.loads(r.output)["ok"] is True
    assert run("evidence", "verify", "--database", url).exit_code == 0
    assert run("evidence", "verify", str(out), "--fingerprint", "00" * 32).exit_code == 1
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text("UPDATE audit_log SET payload = replace(payload, 'admin', 'observer')"))
    engine.dispose()
    r = run("evidence", "verify", "--database", url)
    assert r.exit_code == 1 and "first broken audit entry is #1" in r.output


def test_verify_usage_errors(env, tmp_path):
    assert run("evidence", "verify").exit_code == 2
    r = run("evidence", "verify", str(tmp_path / "missing.zip"))
    assert r.exit_code == 1 and "no such file" in r.output
