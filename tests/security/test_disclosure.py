"""Issue 18 items 5 and 8: what leaves the server, and what stays on it, identifies no observer.

Each test is an attack of the issue, replayed against the service: recover the SMS sender's phone
from a bundle's client id, read raw user ids and the observer → station map in a bundle, join two
bundles on an observer's pseudonym, read unreviewed and rejected free text in a bundle or in the
public feed, read GPS from a stored original, read phone numbers and names in the database file,
link two published submissions to one observer. On SQLite and PostgreSQL (the service fixture).
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import re
import sys
import uuid
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select, text

from pollwatch.evidence.bundle import verify_bundle
from pollwatch.service import crud
from pollwatch.service import models as m
from pollwatch.service.sources.evidence import export_database, verify_database

# the service fixtures (``ctx`` over SQLite and PostgreSQL) of tests/service/conftest.py
_spec = importlib.util.spec_from_file_location(
    "service_conftest_disclosure", Path(__file__).parents[1] / "service" / "conftest.py"
)
svc = sys.modules.setdefault(_spec.name, importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(svc)
ctx, pg, _fast_hashing = svc.ctx, svc.pg, svc._fast_hashing

PHONE = "+994 50 123 45 67"
NAME = "Leyla Mammadova"
PSEUDONYM = re.compile(r"\b[pqbs]-[0-9a-f]{16}\b")


def sms_observer(ctx, phone: str = PHONE, name: str = NAME) -> int:
    """An accredited observer registered with ``phone``, assigned to the first station only."""
    with ctx.session() as s:
        admin = s.get(m.User, ctx.users["admin"])
        user = crud.create_user(
            s, admin, username="sms-obs", password="sms-obs-pass", role="observer",
            full_name=name, phone=phone,
        )  # fmt: skip
        s.flush()
        acc = crud.request_accreditation(s, user, ctx.election_id, "CEC")
        crud.decide_accreditation(s, admin, acc.id, "accredited", None, None)
        crud.assign(s, admin, user.id, ctx.stations[0])
        s.commit()
        return user.id


def send_sms(ctx, sender: str, body: str, **extra):
    return ctx.client.post(
        "/api/sms/webhook",
        headers={"X-Pollwatch-Secret": "s3cret"},
        data={"sender": sender, "text": body, **extra},
    )


def incident(ctx, role: str, station: int, description: str, status: str | None) -> int:
    r = ctx.post("observer" if role == "observer" else role, "/api/incidents",
                 json=ctx.incident(station, description=description))  # fmt: skip
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    if status is not None:
        r = ctx.post("coordinator", f"/api/review/{sid}", json={"status": status, "reason": "x"})
        assert r.status_code == 200, r.text
    return sid


def export(ctx, out: Path, **kw) -> dict:
    return export_database(ctx.settings.database_url, ctx.settings.data_dir, out, **kw)


def bundle_text(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())


def bundle_entries(path: Path) -> list[dict]:
    with zipfile.ZipFile(path) as z:
        return [json.loads(x) for x in z.read("audit.jsonl").splitlines() if x.strip()]


def dossier_bundle(ctx, out: Path, station: int, **kw) -> dict:
    from pollwatch.fusion.dossier import station_dossier
    from pollwatch.service.sources.dossier import observer_reports_from_db, write_dossier_bundle

    with ctx.session() as s:
        reports = observer_reports_from_db(s)
    dossier = station_dossier(
        station_code(ctx, station), election=svc.election(), observer_reports=reports
    )
    args = (ctx.settings.database_url, ctx.settings.data_dir)
    return write_dossier_bundle(*args, out, [dossier], **kw)


def observer_names(path: Path) -> set[str]:
    """The pseudonyms in a bundle's entries of observers' rows and in its signed manifest (the
    election's entries, the same in every bundle, name only the admin who imported it)."""
    with zipfile.ZipFile(path) as z:
        manifest = z.read("manifest.json").decode()
    rows = [json.dumps(e) for e in bundle_entries(path) if e["entity"] != "election"]
    return set(PSEUDONYM.findall(manifest + "\n".join(rows)))


def station_code(ctx, station_id: int) -> str:
    with ctx.session() as s:
        return s.get(m.Station, station_id).code


# -- item 5: bundles ---------------------------------------------------------------------------
def test_phone_cannot_be_recovered_from_an_sms_client_id(ctx, tmp_path):
    """The attack: the client id in a bundle was UUID5(constant namespace, "sender|text"), so
    trying every number of a mobile prefix finds the sender. Now it is an HMAC under the
    service's secret: no candidate matches, the true number included."""
    uid = sms_observer(ctx)
    body = f"IN{uid} BS S4 @box stuffed at 14:10"
    r = send_sms(ctx, PHONE, body)
    assert r.status_code == 200 and r.json()["ok"], r.text
    with ctx.session() as s:
        sub = s.scalar(select(m.Submission).where(m.Submission.channel == "sms"))
        client_id = sub.client_id
    ctx.post("coordinator", f"/api/review/{sub.id}", json={"status": "verified", "reason": "x"})
    out = tmp_path / "b.zip"
    export(ctx, out)
    assert client_id in bundle_text(out)  # the attacker holds it
    ns = uuid.UUID("5b1f0c1e-8a43-4d7e-9a55-0d1c7a6f3e21")  # the old, public namespace
    candidates = [f"+994 50 123 {i // 100:02d} {i % 100:02d}" for i in range(10_000)]
    assert PHONE in candidates
    found = [p for p in candidates if str(uuid.uuid5(ns, f"{p}|{body}")) == client_id]
    assert found == []


def test_gateway_retry_is_still_stored_once(ctx):
    uid = sms_observer(ctx)
    body = f"IN{uid} BS S4 @seen"
    for _ in range(2):  # the gateway retries with the same message id
        assert send_sms(ctx, PHONE, body, message_id="gw-77").json()["ok"]
    for _ in range(2):  # a gateway without message ids: sender and text still dedupe
        assert send_sms(ctx, PHONE, f"IN{uid} CR S2").json()["ok"]
    with ctx.session() as s:
        assert s.scalar(select(text("count(*)")).select_from(m.Submission.__table__)) == 2


def test_bundle_carries_no_raw_user_ids_nor_assignments(ctx, tmp_path):
    """The attack: user entries put the raw user id (what observers type in SMS, what the
    state reads off the air) next to the pseudonym, and assignment entries map pseudonyms to
    stations. A bundle now carries neither."""
    incident(ctx, "observer", ctx.stations[0], "seen", "verified")
    out = tmp_path / "b.zip"
    export(ctx, out)
    assert verify_bundle(out).ok
    entries = bundle_entries(out)
    assert entries and {e["entity"] for e in entries} <= {
        "election",
        "submission",
        "media",
        "camera_tally",
        "camera_log",
    }
    assert not any("pseudonym" in json.loads(e["payload"]) for e in entries)
    # the whole chain stays available, on purpose, for an auditor
    full = tmp_path / "full.zip"
    export(ctx, full, full=True)
    assert {"user", "assignment"} <= {e["entity"] for e in bundle_entries(full)}


def test_two_bundles_cannot_be_joined_on_an_observer(ctx, tmp_path):
    """The attack: the same observer's pseudonym in a bundle for station A and one for station
    B tells that one person covered both (with the assignments, who). Now each row has its own
    pseudonym in the chain and each bundle links its entries under a key of its own."""
    a, b = ctx.stations[0], ctx.stations[1]  # the observer is assigned to both
    incident(ctx, "observer", a, "at A", "verified")
    incident(ctx, "observer", a, "again at A", "verified")
    incident(ctx, "observer", b, "at B", "verified")
    out_a, out_b = tmp_path / "a.zip", tmp_path / "b.zip"
    man_a = dossier_bundle(ctx, out_a, a)  # the "top stations" bundle, one station each
    dossier_bundle(ctx, out_b, b)
    assert verify_bundle(out_a).ok and verify_bundle(out_b).ok
    names_a, names_b = (observer_names(p) for p in (out_a, out_b))
    assert names_a and names_b and not names_a & names_b
    # inside one bundle the reader still sees that both reports at A are the same observer's
    subs_a = [e for e in bundle_entries(out_a) if e["entity"] == "submission"]
    links = man_a["observers"]["by_entry"]
    assert len({links[str(e["seq"])] for e in subs_a}) == 1


def test_station_bundle_holds_only_that_stations_entries_with_proofs(ctx, tmp_path):
    """The attack: the 'top stations' bundle held the whole log of the deployment."""
    a, b = ctx.stations[0], ctx.stations[1]
    sid_a = incident(ctx, "observer", a, "at A", "verified")
    sid_b = incident(ctx, "observer", b, "at B", "verified")
    out = tmp_path / "a.zip"
    manifest = export(ctx, out, stations=[station_code(ctx, a)])
    res = verify_bundle(out)
    assert res.ok, res.problems
    assert manifest["selected"] and manifest["entries"] < manifest["chain_entries"]
    subs = {e["entity_id"] for e in bundle_entries(out) if e["entity"] == "submission"}
    assert subs == {sid_a} and sid_b not in subs


def test_dossier_bundle_holds_only_the_chosen_stations(ctx, tmp_path):
    """The attack: the 'top stations' bundle held the whole log of the deployment, and the
    unreviewed and rejected reports' text in the dossiers."""
    a, b = ctx.stations[0], ctx.stations[1]
    sid_a = incident(ctx, "observer", a, "stuffing at A", "verified")
    incident(ctx, "observer", a, "unreviewed rumour at A", None)
    incident(ctx, "observer", a, "rejected claim at A", "rejected")
    sid_b = incident(ctx, "observer", b, "stuffing at B", "verified")
    out = tmp_path / "top.zip"
    dossier_bundle(ctx, out, a)
    assert verify_bundle(out).ok
    subs = {e["entity_id"] for e in bundle_entries(out) if e["entity"] == "submission"}
    assert subs == {sid_a} and sid_b not in subs
    blob = bundle_text(out)
    assert "stuffing at A" in blob
    assert "unreviewed rumour" not in blob and "rejected claim" not in blob
    asked = tmp_path / "all.zip"
    dossier_bundle(ctx, asked, a, include_unreviewed=True)
    assert verify_bundle(asked).ok and "unreviewed rumour" in bundle_text(asked)


def test_unreviewed_and_rejected_text_stays_out_of_a_bundle(ctx, tmp_path):
    incident(ctx, "observer", ctx.stations[0], "verified account", "verified")
    incident(ctx, "observer", ctx.stations[0], "unreviewed rumour", None)
    incident(ctx, "observer", ctx.stations[0], "rejected claim", "rejected")
    out = tmp_path / "b.zip"
    export(ctx, out)
    blob = bundle_text(out)
    assert "verified account" in blob
    assert "unreviewed rumour" not in blob and "rejected claim" not in blob
    asked = tmp_path / "asked.zip"
    manifest = export(ctx, asked, include_unreviewed=True)
    assert manifest["unreviewed_included"] and verify_bundle(asked).ok
    assert "unreviewed rumour" in bundle_text(asked) and "rejected claim" in bundle_text(asked)


# -- item 8: data at rest, the public feed -----------------------------------------------------
def test_public_feed_does_not_link_an_observers_submissions(ctx):
    incident(ctx, "observer", ctx.stations[0], "first", "verified")
    incident(ctx, "observer", ctx.stations[1], "second", "verified")
    incident(ctx, "observer", ctx.stations[0], "not reviewed yet", None)
    feed = ctx.client.get("/api/public/submissions").json()
    assert len(feed) == 2 and len({p["observer"] for p in feed}) == 2
    assert "not reviewed yet" not in json.dumps(feed)  # free text only after review


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (40.0, 24.0, 36.0), 3: "E", 4: (49.0, 52.0, 12.0)})
    buf = io.BytesIO()
    Image.new("RGB", (32, 16), (10, 200, 10)).save(buf, format="JPEG", exif=exif)
    return buf.getvalue()


def upload(ctx, data: bytes):
    r = ctx.client.post(
        "/api/media",
        headers=ctx.headers["observer"],
        data={"client_id": ctx.new_id()},
        files={"file": ("p.jpg", data, "image/jpeg")},
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_gps_is_stripped_from_the_stored_original(ctx):
    """The attack: a seized server's media store gives each photo's GPS position."""
    photo = jpeg_with_gps()
    assert Image.open(io.BytesIO(photo)).getexif().get_ifd(0x8825)  # the upload has GPS
    meta = upload(ctx, photo)
    stored = ctx.app.state.store.get(meta["sha256"])
    assert not Image.open(io.BytesIO(stored)).getexif().get_ifd(0x8825)
    assert b"SecretCam" not in stored
    # the pixels are the same bytes (no re-encoding), and the upload's own hash was recorded
    assert stored[stored.index(b"\xff\xda") :] == photo[photo.index(b"\xff\xda") :]
    received = hashlib.sha256(photo).hexdigest()
    with ctx.session() as s:
        entry = s.scalars(
            select(m.AuditLog).where(m.AuditLog.entity == "media").order_by(m.AuditLog.seq)
        ).first()
    assert json.loads(entry.payload)["received_sha256"] == received
    assert verify_database(ctx.settings.database_url, ctx.settings.data_dir).ok


def test_originals_are_kept_as_received_when_the_organisation_opts_in(ctx):
    ctx.app.state.store.keep_original_metadata = True
    meta = upload(ctx, jpeg_with_gps())
    assert ctx.app.state.store.get(meta["sha256"]) == jpeg_with_gps()
    assert meta["received_sha256"] is None


def _database_text(ctx) -> str:
    """Every byte of the database that an attacker copying it gets, as text."""
    url = ctx.settings.database_url
    if url.startswith("sqlite"):
        ctx.app.state.engine.dispose()
        path = Path(url.removeprefix("sqlite:///"))
        files = [path, path.with_name(path.name + "-wal")]
        return b"".join(p.read_bytes() for p in files if p.exists()).decode("latin-1")
    with ctx.app.state.engine.connect() as c:  # PostgreSQL: every row of every table, as text
        tables = ["users", "sms_messages", "audit_log", "submissions"]
        return "\n".join(
            str(row)
            for t in tables
            for row in c.execute(text(f"SELECT * FROM {t}"))  # noqa: S608
        )


def test_phones_names_and_sms_are_not_in_the_database_in_the_clear(ctx):
    """The attack: a copy of the database (a seized disk, a backup, a dump) lists every
    observer's name and phone and every SMS sender and text."""
    uid = sms_observer(ctx)
    body = f"IN{uid} BS S4 @carousel voters bus 77"
    assert send_sms(ctx, PHONE, body).json()["ok"]
    assert send_sms(ctx, "+994 70 999 88 77", "hello from a stranger").status_code == 200
    blob = _database_text(ctx)
    for secret in ("1234567", "123 45 67", "9998877", NAME, "Mammadova", "hello from a stranger"):
        assert secret not in blob, secret
    with ctx.session() as s:
        found = crud.find_observer_by_phone(s, "00994501234567")  # another spelling
        assert found is not None and found.id == uid
        # stored normalised (privacy.normalise_phone, as the registration check compares it)
        assert crud.personal_data(s, found) == {"full_name": NAME, "phone": "+994501234567"}
        assert crud.find_observer_by_phone(s, "+994 50 000 00 00") is None
        row = s.scalars(select(m.SmsMessage).order_by(m.SmsMessage.id)).first()
        assert crud.sms_plaintext(s, row)[:2] == ("+994501234567", body)
        assert row.sender_index == crud.phone_lookup_key(s, "+994501234567")
    staff = ctx.get("admin", "/api/users").json()
    assert NAME in [u["full_name"] for u in staff]  # staff still read the name


def test_plaintext_rows_from_before_are_sealed(ctx):
    with ctx.app.state.engine.begin() as c:  # as an older version stored them
        c.execute(
            text("UPDATE users SET phone = :p, full_name = :n WHERE username = 'observer2'"),
            {"p": "+994 55 765 43 21", "n": "Old Name"},
        )
    from pollwatch.service.main import seal_plaintext

    assert seal_plaintext(ctx.app.state.sessions) == 1
    with ctx.session() as s:
        user = crud.find_observer_by_phone(s, "+994557654321")
        assert user is not None and user.phone is None and user.full_name == ""
        assert crud.personal_data(s, user)["full_name"] == "Old Name"
    assert verify_database(ctx.settings.database_url, ctx.settings.data_dir).ok


def test_sms_retention_wipes_text_and_sender_but_keeps_the_commitment(ctx):
    from pollwatch.evidence.keys import commitment_salt, text_commitment

    uid = sms_observer(ctx)
    body = f"IN{uid} BS S4 @old report"
    assert send_sms(ctx, PHONE, body).json()["ok"]
    with ctx.session() as s:
        row = s.scalars(select(m.SmsMessage)).one()
        commitment = row.text_commitment
        secret = s.info["pseudonym_secret"]
        assert commitment == text_commitment(secret, f"sms:{row.id}", body)
        assert crud.redact_sms_log(s, 1) == 0  # younger than a day: kept
        assert crud.redact_sms_log(s, 0) == 1
        s.commit()
    with ctx.session() as s:
        row = s.scalars(select(m.SmsMessage)).one()
        assert row.redacted_at is not None and row.text == "" and row.sender_enc is None
        assert row.sender_index is None and row.text_commitment == commitment
        assert crud.sms_plaintext(s, row) == ("", "", "")
    # the text can still be proved later by whoever kept it, with the salt the service reveals
    salt = commitment_salt(secret, f"sms:{row.id}")
    assert hashlib.sha256(salt + body.encode()).hexdigest() == commitment
    assert verify_database(ctx.settings.database_url, ctx.settings.data_dir).ok


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "TIFF"])
def test_metadata_stripped_losslessly_from_other_formats(fmt):
    from pollwatch.evidence.media import strip_original_metadata

    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    exif.get_ifd(0x8825).update({1: "N", 2: (40.0, 24.0, 36.0)})
    img = Image.new("RGB", (24, 12), (200, 30, 10))
    buf = io.BytesIO()
    kw = {"lossless": True} if fmt == "WEBP" else {}
    img.save(buf, format=fmt, exif=exif, **kw)
    data = buf.getvalue()
    assert b"SecretCam" in data
    clean = strip_original_metadata(data)
    assert clean is not None and b"SecretCam" not in clean
    out = Image.open(io.BytesIO(clean))
    assert not out.getexif().get_ifd(0x8825)
    assert out.convert("RGB").tobytes() == img.tobytes()  # same pixels


def test_cli_export_minimal_by_default_and_sms_redact(ctx, tmp_path, monkeypatch):
    """``pollwatch evidence export`` discloses the minimum unless told (--full,
    --include-unreviewed-and-rejected, --station); ``pollwatch sms redact`` applies retention."""
    from typer.testing import CliRunner

    from pollwatch.cli import app

    if not ctx.settings.database_url.startswith("sqlite"):
        pytest.skip("the CLI is the same on both backends")
    monkeypatch.setenv("POLLWATCH_DATABASE_URL", ctx.settings.database_url)
    monkeypatch.setenv("POLLWATCH_DATA_DIR", str(ctx.settings.data_dir))
    incident(ctx, "observer", ctx.stations[0], "verified account", "verified")
    incident(ctx, "observer", ctx.stations[1], "unreviewed rumour", None)
    uid = sms_observer(ctx)
    assert send_sms(ctx, PHONE, f"IN{uid} BS S4").json()["ok"]

    def run(*args):
        return CliRunner().invoke(app, list(args))

    out = tmp_path / "b.zip"
    r = run("evidence", "export", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert "unreviewed rumour" not in bundle_text(out) and "verified account" in bundle_text(out)
    r = run("evidence", "export", "--out", str(out), "--include-unreviewed-and-rejected")
    assert r.exit_code == 0 and "unreviewed rumour" in bundle_text(out)
    r = run(
        "evidence", "export", "--out", str(out), "--station", station_code(ctx, ctx.stations[1])
    )
    assert r.exit_code == 0 and "verified account" not in bundle_text(out)
    assert run("evidence", "export", "--out", str(out), "--station", "nope").exit_code == 2
    r = run("evidence", "export", "--out", str(out), "--full")
    assert r.exit_code == 0 and '"entity":"user"' in bundle_text(out)
    r = run("sms", "redact", "--days", "0")
    assert r.exit_code == 0 and "redacted 1 SMS log rows" in r.output, r.output
    assert run("evidence", "verify", "--database", ctx.settings.database_url).exit_code == 0


def test_data_key_from_the_environment_and_never_beside_the_data(tmp_path, monkeypatch):
    from pollwatch.service import privacy

    data = tmp_path / "data"
    data.mkdir()
    inside = data / "data.key"
    inside.write_text("11" * 32)
    monkeypatch.setenv(privacy.DATA_KEY_FILE_ENV, str(inside))
    with pytest.raises(privacy.DataKeyError, match="inside the data directory"):
        privacy.data_key_from_env(data)
    outside = tmp_path / "elsewhere.key"
    outside.write_text("22" * 32)
    monkeypatch.setenv(privacy.DATA_KEY_FILE_ENV, str(outside))
    assert privacy.data_key_from_env(data) == bytes.fromhex("22" * 32)
    sealed = privacy.seal(bytes.fromhex("22" * 32), NAME, "users.full_name")
    assert NAME not in sealed
    with pytest.raises(privacy.DataKeyError, match="wrong data key"):
        privacy.unseal(bytes(32), sealed, "users.full_name")
    monkeypatch.setenv(privacy.DATA_KEY_ENV, "short")
    with pytest.raises(privacy.DataKeyError, match="32-byte"):
        privacy.data_key_from_env(data)
