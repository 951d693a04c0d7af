"""Tamper tests on a live database: direct edits to the audit log, to audited rows or to the
media store make verification fail and name the first broken entry; exports verify."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select, text

from pollwatch.evidence.bundle import verify_bundle
from pollwatch.service import models as m
from pollwatch.service.sources.evidence import export_database, verify_database


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 90, 200)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def filled(ctx):
    r = ctx.client.post(
        "/api/media",
        headers=ctx.headers["observer"],
        data={"client_id": ctx.new_id()},
        files={"file": ("p.png", png(), "image/png")},
    )
    assert r.status_code == 201, r.text
    body = ctx.incident(ctx.stations[0], media_ids=[r.json()["id"]])
    sub = ctx.post("observer", "/api/incidents", json=body).json()
    ctx.post(
        "coordinator", f"/api/review/{sub['id']}", json={"status": "verified", "reason": "seen"}
    )
    return ctx


def verify(ctx):
    return verify_database(ctx.settings.database_url, ctx.settings.data_dir)


def test_untouched_database_verifies(filled):
    res = verify(filled)
    assert res.ok, res.problems
    assert res.n_entries > 10 and res.n_media == 1


def test_editing_any_audit_row_names_it(filled):
    with filled.session() as s:
        seqs = list(s.scalars(select(m.AuditLog.seq).order_by(m.AuditLog.seq)))
    for seq in seqs:
        with filled.app.state.engine.begin() as c:
            c.execute(text("UPDATE audit_log SET actor = actor || 'x' WHERE seq = :s"), {"s": seq})
        res = verify(filled)
        assert not res.ok and res.first_broken_entry == seq, (seq, res.problems)
        with filled.app.state.engine.begin() as c:
            c.execute(
                text(
                    "UPDATE audit_log SET actor = substr(actor, 1, length(actor) - 1) WHERE seq = :s"
                ),
                {"s": seq},
            )
    assert verify(filled).ok


def test_deleting_an_audit_row_is_detected(filled):
    with filled.app.state.engine.begin() as c:
        c.execute(text("DELETE FROM audit_log WHERE seq = 3"))
    res = verify(filled)
    assert not res.ok and res.first_broken_entry == 4


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE submissions SET description = 'nothing happened'",
        "UPDATE submissions SET status = 'rejected'",
        "UPDATE stations SET registered = registered + 1 WHERE code = '3'",
        "UPDATE accreditations SET body = 'forged'",
        "UPDATE media SET sha256 = 'ab' || substr(sha256, 3)",
    ],
)
def test_editing_an_evidence_row_names_its_last_audit_entry(filled, sql):
    with filled.app.state.engine.begin() as c:
        c.execute(text(sql))
    res = verify(filled)
    assert not res.ok and res.first_broken_entry is not None
    assert any(
        "changed outside the service" in p or "missing or altered" in p for p in res.problems
    )


def test_row_inserted_behind_the_service_is_detected(filled):
    with filled.app.state.engine.begin() as c:
        c.execute(
            text("INSERT INTO assignments (user_id, station_id) VALUES (:u, :s)"),
            {"u": filled.users["observer2"], "s": filled.stations[3]},
        )
    res = verify(filled)
    assert not res.ok and any("no audit entry" in p for p in res.problems)


def test_altered_media_file_is_detected(filled):
    with filled.session() as s:
        sha = s.scalar(select(m.Media.sha256))
    path = filled.app.state.store.path(sha)
    path.write_bytes(path.read_bytes() + b"x")
    res = verify(filled)
    assert not res.ok and any(sha in p for p in res.problems)


def test_export_is_signed_pseudonymous_and_verifies(filled, tmp_path):
    out = tmp_path / "bundle.zip"
    manifest = export_database(filled.settings.database_url, filled.settings.data_dir, out)
    res = verify_bundle(out, fingerprint_pin=manifest["signer_fingerprint"])
    assert res.ok, res.problems
    assert res.n_media == 1 and res.n_entries == manifest["entries"]
    import zipfile

    blob = zipfile.ZipFile(out).read("audit.jsonl").decode()
    for name in ("admin", "observer2", "coordinator"):
        assert f'"{name}"' not in blob
    assert f'"observer_id":{filled.users["observer"]}' not in blob.replace('\\"', '"')
