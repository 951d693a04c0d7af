"""``pollwatch backup`` / ``restore`` (docs/deploy.md §6): a sealed backup restored into an
empty database holds every submission, photo and key, and its audit chain still verifies."""

from __future__ import annotations

import uuid

import pytest
from typer.testing import CliRunner

from pollwatch.cli import app as cli
from pollwatch.service.config import Settings
from pollwatch.service.main import create_app
from pollwatch.service.ops.backup import BackupError, backup, restore
from pollwatch.service.sources.evidence import verify_database

from .conftest import BACKENDS, Ctx, database_url, drop_database, make_ctx
from .test_api import jpeg_with_gps

PASS = b"correct horse battery staple"


@pytest.fixture(params=BACKENDS)
def filled(request, tmp_path) -> Ctx:
    (tmp_path / "live").mkdir()
    c = make_ctx(tmp_path / "live", database_url(request, tmp_path))
    for st in c.stations[:2]:
        assert c.post("observer", "/api/incidents", json=c.incident(st)).status_code == 201
    r = c.client.post(
        "/api/media",
        headers=c.headers["observer"],
        data={"client_id": str(uuid.uuid4())},
        files={"file": ("p.jpg", jpeg_with_gps(), "image/jpeg")},
    )
    assert r.status_code == 201
    c.media = r.json()  # type: ignore[attr-defined]
    yield c
    c.client.close()
    c.app.state.engine.dispose()
    drop_database(request, c.settings.database_url)


def _empty_target(request, tmp_path, live: Settings) -> Settings:
    if live.database_url.startswith("postgresql"):
        url = request.getfixturevalue("pg").create_database(f"r_{uuid.uuid4().hex[:12]}")
    else:
        url = f"sqlite:///{tmp_path}/restored.db"
    return Settings(database_url=url, data_dir=tmp_path / "restored-data", sms_secret="s3cret")


def test_backup_restore_round_trip(filled, request, tmp_path):
    archive = tmp_path / "b.pwbk"
    info = backup(filled.settings, archive, passphrase=PASS)
    assert info.sealed and info.revision and info.files >= 4
    assert archive.stat().st_mode & 0o777 == 0o600
    assert b"admin" not in archive.read_bytes()  # sealed: no readable table or key inside

    target = _empty_target(request, tmp_path, filled.settings)
    with pytest.raises(BackupError, match="wrong passphrase"):
        restore(archive, target, passphrase=b"not the passphrase")
    manifest = restore(archive, target, passphrase=PASS)
    assert manifest["database"]["revision"] == info.revision

    # the restored service: same accounts and tokens, same submissions, same photo, and the
    # audit chain and media store verify
    app2 = create_app(target, run_migrations=True)
    from fastapi.testclient import TestClient

    with TestClient(app2) as client:
        got = client.get("/api/incidents", headers=filled.headers["admin"]).json()
        assert got["count"] == 2
        media = client.get(f"/api/media/{filled.media['id']}", headers=filled.headers["observer"])
        assert media.status_code == 200 and media.json()["sha256"] == filled.media["sha256"]
    app2.state.engine.dispose()
    check = verify_database(target.database_url, target.data_dir)
    assert check.ok, check.problems
    assert (target.data_dir / "keys").stat().st_mode & 0o077 == 0

    # a second restore into the now non-empty target is refused without --overwrite
    with pytest.raises(BackupError, match="not empty"):
        restore(archive, target, passphrase=PASS)
    drop_database(request, target.database_url)


def test_an_altered_backup_is_refused(filled, tmp_path):
    archive = tmp_path / "b.pwbk"
    backup(filled.settings, archive, passphrase=PASS)
    raw = bytearray(archive.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    archive.write_bytes(bytes(raw))
    target = Settings(database_url=f"sqlite:///{tmp_path}/x.db", data_dir=tmp_path / "x")
    with pytest.raises(BackupError, match="altered"):
        restore(archive, target, passphrase=PASS)
    # cut short at a chunk boundary: the last-chunk flag catches it
    archive.write_bytes(bytes(raw[: 5 + 23 + (1 << 20) + 16]))
    with pytest.raises(BackupError):
        restore(archive, target, passphrase=PASS)
    assert not (tmp_path / "x.db").exists()


def test_cli_refuses_an_unsealed_backup_without_saying_so(tmp_path, monkeypatch):
    ctx = make_ctx(tmp_path)
    monkeypatch.delenv("POLLWATCH_BACKUP_PASSPHRASE", raising=False)
    args = ["backup", str(tmp_path / "b.pwbk"), "--database", ctx.settings.database_url, "--data-dir", str(ctx.settings.data_dir)]  # fmt: skip
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 1 and "passphrase" in res.output
    monkeypatch.setenv("POLLWATCH_BACKUP_PASSPHRASE", PASS.decode())
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert "sealed" in res.output
    ctx.app.state.engine.dispose()
