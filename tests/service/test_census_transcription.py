"""Double-blind transcription of protocol photos in the service (issue 21): upload, blind
typing by two volunteers, agreement or arbitration, the audit chain, the export that
``pollwatch census check`` reads; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import uuid

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from pollwatch.census.layouts import layout
from pollwatch.census.sheets import read_sheets
from pollwatch.census.synthetic import draw_sheet
from pollwatch.cli import app as cli_app
from pollwatch.service import crud, permissions
from pollwatch.service import models as m
from pollwatch.service.sources.evidence import verify_database

LAY = layout("azerbaijan")
CANDS = ("Alpha", "Beta")
TRUE = {
    "registered": 1000, "ballots_received": 1000, "ballots_issued_station": 600,
    "ballots_issued_mobile": 10, "ballots_cancelled": 390, "ballots_mobile_box": 10,
    "ballots_stationary_box": 600, "valid": 600, "invalid": 10, "Alpha": 400, "Beta": 200,
}  # fmt: skip
FIELDS = LAY.fields(CANDS)


def photo(station: str, seed: int, values: dict | None = None, qr: bool = False) -> bytes:
    return draw_sheet(LAY, CANDS, values or TRUE, station_id=station, sheet_id=f"S{seed}", seed=seed, qr=qr, hand="handwritten").image  # fmt: skip


def add_transcribers(ctx, *names: str) -> None:
    with ctx.session() as s:
        admin = s.get(m.User, ctx.users["admin"])
        for n in names:
            u = crud.create_user(s, admin, username=n, password=f"{n}-pass", role="transcriber")
            s.flush()
            ctx.users[n] = u.id
            ctx.headers[n] = {"Authorization": f"Bearer {crud.issue_token(s, u)}"}
        s.commit()


def upload(ctx, who: str, data: bytes, station: int | None = None, **form):
    if station is not None:
        form["station_id"] = str(station)
    return ctx.post(
        who,
        f"/api/census/{ctx.election_id}/sheets",
        files=[("files", ("p.jpg", data, "image/jpeg"))],
        data={"layout": "azerbaijan", **form},
    )


def typed(ctx, who: str, sheet: int, values: dict, client_id: str | None = None):
    body = {"client_id": client_id or str(uuid.uuid4()), "values": values}
    return ctx.post(who, f"/api/census/sheets/{sheet}/transcriptions", json=body)


def numbers_in(doc) -> set:
    """Every number anywhere in a JSON document."""
    if isinstance(doc, dict):
        return set().union(*(numbers_in(v) for v in doc.values())) if doc else set()
    if isinstance(doc, list):
        return set().union(*(numbers_in(v) for v in doc)) if doc else set()
    return {doc} if isinstance(doc, int | float) and not isinstance(doc, bool) else set()


def next_for(ctx, who: str):
    r = ctx.get(who, "/api/census/next")
    assert r.status_code == 200, r.text
    return r.json()["sheet"]


def test_full_flow_with_arbitration_and_export(ctx, tmp_path):
    add_transcribers(ctx, "t1", "t2", "t3")
    # the coordinator uploads without a station: the QR code names station "1"
    r = upload(ctx, "coordinator", photo("1", 1, qr=True))
    assert r.status_code == 201, r.text
    sheet = r.json()["data"][0]["id"]
    assert r.json()["data"][0]["station_id"] == ctx.stations[0]
    again = upload(ctx, "coordinator", photo("1", 1, qr=True))  # the same photo: one sheet
    assert again.status_code == 200 and again.json()["data"][0]["id"] == sheet
    got = next_for(ctx, "t1")
    assert got["sheet_id"] == sheet and [b["field"] for b in got["boxes"]] == list(FIELDS)
    assert ctx.get("t1", got["photo"]).headers["content-type"] == "image/jpeg"
    cid = str(uuid.uuid4())
    first = typed(ctx, "t1", sheet, TRUE, cid)
    assert first.status_code == 201, first.text
    retry = typed(ctx, "t1", sheet, TRUE, cid)  # a retry of the same submission
    assert retry.status_code == 200 and retry.json()["id"] == first.json()["id"]
    # the observer uploads station 2's sheet (assigned there); it will be typed alike
    r2 = upload(ctx, "observer", photo("2", 2), station=ctx.stations[1])
    assert r2.status_code == 201, r2.text
    sheet2 = r2.json()["data"][0]["id"]
    assert next_for(ctx, "t1")["sheet_id"] == sheet2  # never the same sheet twice

    got2 = next_for(ctx, "t2")
    assert got2["sheet_id"] == sheet  # half-typed sheets first
    assert not numbers_in(got2) & {400, 200} and "values" not in got2  # blind
    slip = {**TRUE, "Beta": 2000}
    assert typed(ctx, "t2", sheet, slip).status_code == 201
    assert next_for(ctx, "t3")["sheet_id"] == sheet2  # sheet 1 is settled

    # arbitration: the typists and observers may not; the coordinator sees the difference
    assert ctx.get("t1", f"/api/census/sheets/{sheet}/arbitration").status_code == 403
    assert ctx.get("observer", f"/api/census/sheets/{sheet}/arbitration").status_code == 403
    view = ctx.get("coordinator", f"/api/census/sheets/{sheet}/arbitration").json()
    assert view["status"] == "arbitration"
    assert [b["field"] for b in view["boxes"] if b["differs"]] == ["Beta"]
    beta = next(b for b in view["boxes"] if b["field"] == "Beta")
    assert beta["transcriptions"] == [200, 2000] and beta["machine"] == 200  # QR: confidence 1
    assert beta["machine_confidence"] == 1.0
    bad = ctx.post("coordinator", f"/api/census/sheets/{sheet}/arbitrate", json={"values": slip})
    assert bad.status_code == 422 and "fails its checks" in bad.text
    ok = ctx.post("coordinator", f"/api/census/sheets/{sheet}/arbitrate", json={"values": TRUE})
    assert ok.status_code == 200 and ok.json()["status"] == "accepted", ok.text

    # the second sheet: both agree, accepted without an arbiter
    for who in ("t2", "t3"):
        assert next_for(ctx, who)["sheet_id"] == sheet2
        assert typed(ctx, who, sheet2, TRUE).status_code == 201
    stats = ctx.get("coordinator", f"/api/census/{ctx.election_id}/stats").json()
    assert (stats["accepted"], stats["agreed"], stats["arbitrated"]) == (2, 1, 1)
    assert stats["share_without_arbitration"] == 0.5

    exp = ctx.get("coordinator", f"/api/census/{ctx.election_id}/export")
    assert exp.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exp.text)))
    assert [(r["station_id"], r["Alpha"], r["Beta"]) for r in rows] == [("1", "400", "200"), ("2", "400", "200")]  # fmt: skip
    path = tmp_path / "sheets.csv"
    path.write_text(exp.text, encoding="utf-8")
    sheets = read_sheets(path)
    assert sheets.candidates == CANDS and sheets.n_usable == 2

    # custody: every step is in the chain, and the chain checks out
    with ctx.session() as s:
        actions = [
            (e.entity, e.entity_id, e.action)
            for e in s.scalars(select(m.AuditLog).order_by(m.AuditLog.seq))
            if e.entity in ("census_sheet", "transcription")
        ]
        media_entry = s.scalars(select(m.AuditLog).where(m.AuditLog.entity == "media")).first()
    assert [a for a in actions if a[0] == "census_sheet" and a[1] == sheet] == [
        ("census_sheet", sheet, "create"),
        ("census_sheet", sheet, "to_arbitration"),
        ("census_sheet", sheet, "arbitrate"),
        ("census_sheet", sheet, "accept"),
    ]
    assert sum(1 for a in actions if a[0] == "transcription") == 4
    assert json.loads(media_entry.payload)["sha256"] in {r["image_sha256"] for r in rows} | {
        json.loads(media_entry.payload).get("received_sha256")
    }
    ctx.client.close()
    result = verify_database(ctx.settings.database_url, ctx.settings.data_dir)
    assert not result.problems, result.problems


def test_blind_and_own_and_twice(ctx):
    add_transcribers(ctx, "t1", "t2")
    ctx.app.state.settings.census_machine_reading = False  # no QR search: 3 s a photo
    # the coordinator files a sheet collected by t1: t1 may never type it
    r = upload(ctx, "coordinator", photo("1", 3), station=ctx.stations[0], collector_id=str(ctx.users["t1"]))  # fmt: skip
    sheet = r.json()["data"][0]["id"]
    assert next_for(ctx, "t1") is None
    own = typed(ctx, "t1", sheet, TRUE)
    assert own.status_code == 403 and "uploaded or collected" in own.text
    assert ctx.get("t1", f"/api/census/sheets/{sheet}/photo").status_code == 200  # collected it

    slip = {**TRUE, "Alpha": 4117}
    assert typed(ctx, "t2", sheet, slip).status_code == 201
    twice = typed(ctx, "t2", sheet, TRUE)  # a new submission, not a retry
    assert twice.status_code == 403 and "already" in twice.text
    assert ctx.get("t2", f"/api/census/sheets/{sheet}/photo").status_code == 403  # typed it
    # nothing a volunteer or analyst can read shows the typed numbers before acceptance
    for who in ("t2", "analyst"):
        for path in ("/api/census/next", f"/api/census/{ctx.election_id}/sheets",
                     f"/api/census/sheets/{sheet}/arbitration"):  # fmt: skip
            r = ctx.get(who, path)
            assert 4117 not in numbers_in(r.json()), (who, path)  # (not the text: timestamps)
    assert ctx.get("t2", f"/api/census/{ctx.election_id}/sheets").status_code == 403
    assert ctx.get("analyst", f"/api/census/sheets/{sheet}/arbitration").status_code == 403
    # uploads follow the protocol-copy rule: not at an unassigned station, not camera watchers
    assert upload(ctx, "observer", photo("3", 4), station=ctx.stations[2]).status_code == 403
    assert upload(ctx, "camera_watcher", photo("1", 5), station=ctx.stations[0]).status_code == 403
    assert upload(ctx, "t2", photo("1", 6), station=ctx.stations[0]).status_code == 403
    no_station = upload(ctx, "coordinator", photo("1", 7))  # nothing read, no station given
    assert no_station.status_code == 422 and "no station" in no_station.text


def test_agreeing_sheet_that_fails_its_checks_needs_a_reason(ctx, tmp_path):
    add_transcribers(ctx, "t1", "t2")
    ctx.app.state.settings.census_machine_reading = False
    wrong = {**TRUE, "Alpha": 450}  # 450 + 200 ≠ 600 valid: both type what the sheet says
    sheet = upload(ctx, "coordinator", photo("1", 8, wrong), station=ctx.stations[0]).json()["data"][0]["id"]  # fmt: skip
    for who in ("t1", "t2"):
        assert typed(ctx, who, sheet, wrong).status_code == 201
    view = ctx.get("coordinator", f"/api/census/sheets/{sheet}/arbitration").json()
    assert view["status"] == "arbitration" and not any(b["differs"] for b in view["boxes"])
    assert view["problems"] and view["problems"][0].startswith("arithmetic")
    url = f"/api/census/sheets/{sheet}/arbitrate"
    assert ctx.post("coordinator", url, json={"values": wrong}).status_code == 422
    ok = ctx.post("coordinator", url, json={"values": wrong, "reason": "the sheet says so"})
    assert ok.status_code == 200 and ok.json()["problems"][0].startswith("arithmetic")
    again = ctx.post("coordinator", url, json={"values": wrong, "reason": "x"})
    assert again.status_code == 409
    text = ctx.get("coordinator", f"/api/census/{ctx.election_id}/export").text
    assert "the sheet says so" in text
    (tmp_path / "s.csv").write_text(text, encoding="utf-8")
    sheets = read_sheets(tmp_path / "s.csv")
    assert [f.kind for f in sheets.findings] == ["arithmetic"] and sheets.n_usable == 0
    # a sheet the arbiter rejects (a reason is required) is kept and counted, never exported
    photo2 = photo("2", 13, wrong)
    second = upload(ctx, "coordinator", photo2, station=ctx.stations[1]).json()["data"][0]["id"]
    for who in ("t1", "t2"):
        assert typed(ctx, who, second, wrong).status_code == 201
    url2 = f"/api/census/sheets/{second}/arbitrate"
    assert ctx.post("coordinator", url2, json={"reject": True}).status_code == 422
    rej = ctx.post("coordinator", url2, json={"reject": True, "reason": "not this election's form"})
    assert rej.status_code == 200 and rej.json()["status"] == "rejected"
    stats = ctx.get("coordinator", f"/api/census/{ctx.election_id}/stats").json()
    assert (stats["rejected"], stats["accepted"], stats["arbitrated"]) == (1, 1, 1)
    assert ctx.get("coordinator", f"/api/census/{ctx.election_id}/export").text == text
    with ctx.session() as s:
        last = s.scalars(select(m.AuditLog).order_by(m.AuditLog.seq.desc())).first()
        assert (last.entity, last.entity_id, last.action) == ("census_sheet", second, "reject")


def test_cli_export_feeds_census_check(tmp_path):
    from .conftest import make_ctx  # noqa: TID252

    ctx = make_ctx(tmp_path)
    add_transcribers(ctx, "t1", "t2")
    ctx.app.state.settings.census_machine_reading = False
    sheet = upload(ctx, "coordinator", photo("1", 9), station=ctx.stations[0]).json()["data"][0]["id"]  # fmt: skip
    for who in ("t1", "t2"):
        typed(ctx, who, sheet, TRUE)
    ctx.client.close()
    ctx.app.state.engine.dispose()
    out = tmp_path / "sheets.csv"
    runner = CliRunner()
    args = ["census", "export", "--database", ctx.settings.database_url,
            "--data-dir", str(ctx.settings.data_dir), "-o", str(out)]  # fmt: skip
    r = runner.invoke(cli_app, args)
    assert r.exit_code == 0, r.output
    assert "1 accepted sheet" in r.output
    check = runner.invoke(cli_app, ["census", "check", str(out), "--json"])
    assert check.exit_code == 0, check.output
    doc = json.loads(check.output)
    assert doc["totals"] == {"Alpha": 400, "Beta": 200}
    assert doc["sheets"] == {"filed": 1, "stations": 1, "usable": 1}


@pytest.mark.parametrize("role", [r.value for r in m.Role])
def test_who_may_transcribe_and_arbitrate(role):
    user = m.User(id=7, role=role)
    sheet = m.CensusSheet(uploader_id=1, collector_id=2, status="transcribing")

    def outcome(fn):
        try:
            fn()
        except Exception as exc:  # noqa: BLE001
            return getattr(exc, "reason", type(exc).__name__)
        return None

    assert outcome(lambda: permissions.check_transcribe(user, sheet, [])) == (
        None if role in ("transcriber", "analyst") else "role"
    )
    assert outcome(lambda: permissions.check_arbitrate(user, sheet, [])) == (
        None if role in ("admin", "coordinator") else "role"
    )
    if role in ("transcriber", "analyst"):
        assert outcome(lambda: permissions.check_transcribe(user, sheet, [7])) == "typed"
        assert outcome(lambda: permissions.check_transcribe(user, sheet, [3, 4])) == "complete"
        own = m.CensusSheet(uploader_id=7, collector_id=2, status="transcribing")
        assert outcome(lambda: permissions.check_transcribe(user, own, [])) == "own_upload"
    if role in ("admin", "coordinator"):
        assert outcome(lambda: permissions.check_arbitrate(user, sheet, [7, 3])) == "typed"


def test_pages_label_the_boxes_in_the_users_language(tmp_path):
    from .conftest import make_ctx  # noqa: TID252
    from .test_web import csrf_of  # noqa: TID252

    ctx = make_ctx(tmp_path)
    add_transcribers(ctx, "t1")
    ctx.app.state.settings.census_machine_reading = False
    upload(ctx, "coordinator", photo("1", 12), station=ctx.stations[0])
    with ctx.session() as s:
        s.get(m.User, ctx.users["t1"]).language = "az"
        s.commit()
    r = ctx.client.post("/login", data={"username": "t1", "password": "t1-pass"})
    page = ctx.client.get("/census/transcribe")
    assert page.status_code == 200
    assert "Etibarlı seçki bülletenlərinin sayı" in page.text  # the sheet's own wording
    assert "Alpha" in page.text and 'value="' not in page.text.split('name="n_0"')[1][:80]
    with ctx.session() as s:
        s.get(m.User, ctx.users["t1"]).language = "en"
        s.commit()
    page = ctx.client.get("/census/transcribe")
    assert "Valid ballots" in page.text
    fields = {f"n_{i}": str(TRUE[f]) for i, f in enumerate(FIELDS)}
    client_id = page.text.split('name="client_id" value="')[1].split('"')[0]
    sheet = page.text.split('data-sheet="')[1].split('"')[0]
    body = {"csrf_token": csrf_of(page.text), "client_id": client_id, **fields}
    for _ in range(2):  # the form sent twice (a double click, a retry): one transcription
        r = ctx.client.post(f"/census/transcribe/{sheet}", data=body, follow_redirects=False)
        assert r.status_code == 303, r.text
    with ctx.session() as s:
        assert len(s.scalars(select(m.CensusTranscription)).all()) == 1
    assert "census-nothing" in ctx.client.get("/census/transcribe").text
    assert ctx.client.get("/census").status_code in (200, 303)


def test_volunteers_asking_at_once_get_different_sheets(tmp_path):
    from .conftest import make_ctx  # noqa: TID252

    ctx = make_ctx(tmp_path)
    names = [f"t{i}" for i in range(1, 5)]
    add_transcribers(ctx, *names)
    ctx.app.state.settings.census_machine_reading = False
    for seed in range(20, 28):
        assert upload(ctx, "coordinator", photo("1", seed), station=ctx.stations[0]).status_code == 201  # fmt: skip
    firsts = [next_for(ctx, n)["sheet_id"] for n in names]
    assert len(set(firsts)) >= 3, firsts
    # once one is half typed, everyone else is sent to finish it
    assert typed(ctx, "t1", firsts[0], TRUE).status_code == 201
    assert {next_for(ctx, n)["sheet_id"] for n in names[1:]} == {firsts[0]}


def test_one_photo_filed_for_two_stations_goes_to_the_arbiter(tmp_path):
    from PIL import Image

    from .conftest import make_ctx  # noqa: TID252

    ctx = make_ctx(tmp_path)
    add_transcribers(ctx, "t1", "t2")
    ctx.app.state.settings.census_machine_reading = False
    original = photo("1", 30)
    img = Image.open(io.BytesIO(original))
    out = io.BytesIO()  # the same photo, resized and re-encoded: other bytes
    img.resize((img.width // 2, img.height // 2)).save(out, format="JPEG", quality=70)
    assert upload(ctx, "coordinator", original, station=ctx.stations[0]).status_code == 201
    r = upload(ctx, "coordinator", out.getvalue(), station=ctx.stations[1])
    assert r.status_code == 201, r.text
    sheet = r.json()["data"][0]["id"]
    assert any(
        "looks like the photo of sheet #1 (station 1)" in n for n in r.json()["data"][0]["notes"]
    )
    for who in ("t1", "t2"):  # both type each alike, and the numbers add up
        assert typed(ctx, who, sheet, TRUE).status_code == 201
    rows = {r["id"]: r for r in ctx.get("coordinator", f"/api/census/{ctx.election_id}/sheets").json()["data"]}  # fmt: skip
    assert rows[sheet]["status"] == "accepted"  # station 1's sheet has no numbers yet
    for who in ("t1", "t2"):
        assert typed(ctx, who, 1, TRUE).status_code == 201
    sheet = 1  # the one settled second sees the other's numbers
    view = ctx.get("coordinator", f"/api/census/sheets/{sheet}/arbitration").json()
    assert view["status"] == "arbitration" and view["problems"][0].startswith("photo:")
    url = f"/api/census/sheets/{sheet}/arbitrate"
    assert ctx.post("coordinator", url, json={"values": TRUE}).status_code == 422
    ok = ctx.post("coordinator", url, json={"values": TRUE, "reason": "checked: both are real"})
    assert ok.status_code == 200 and ok.json()["problems"][0].startswith("photo:")
    # another sheet of the same form looks alike to the hash (clean drawings: 4-9 bits), but its
    # numbers differ: accepted when both volunteers agree
    other_values = {**TRUE, "Alpha": 300, "Beta": 300}
    r3 = upload(ctx, "coordinator", photo("3", 31, other_values), station=ctx.stations[2])
    third = r3.json()["data"][0]["id"]
    for who in ("t1", "t2"):
        assert typed(ctx, who, third, other_values).status_code == 201
    rows = {r["id"]: r for r in ctx.get("coordinator", f"/api/census/{ctx.election_id}/sheets").json()["data"]}  # fmt: skip
    assert rows[third]["status"] == "accepted" and rows[third]["resolution"] == "agreed"


def test_every_census_string_is_in_three_languages():
    """The census pages' strings, statuses and line names translate into az and ru (the
    catalogues: pollwatch.i18n; completeness of the whole catalogue is tests/i18n's)."""
    import re
    from pathlib import Path

    from pollwatch.i18n import gettext
    from pollwatch.service import models as models_
    from pollwatch.service.i18n import (
        CENSUS_RESOLUTION_LABELS,
        CENSUS_STATUS_LABELS,
        PROTOCOL_FIELD_LABELS,
    )

    templates = Path(models_.__file__).parent / "templates"
    texts = set()
    for name in ("census.html.j2", "census_transcribe.html.j2", "census_arbitrate.html.j2"):
        texts |= set(re.findall(r"""_\("((?:[^"\\]|\\.)+)"\)""", (templates / name).read_text()))
    assert len(texts) > 20
    assert {s.value for s in models_.SheetStatus} <= set(CENSUS_STATUS_LABELS)
    assert {"agreed", "arbitrated", "rejected"} <= set(CENSUS_RESOLUTION_LABELS)
    fields = {f for lay in ("azerbaijan", "russia") for _, _, f in layout(lay).lines}
    assert fields <= set(PROTOCOL_FIELD_LABELS)
    texts |= set(CENSUS_STATUS_LABELS.values()) | set(CENSUS_RESOLUTION_LABELS.values())
    texts |= {PROTOCOL_FIELD_LABELS[f] for f in fields}
    # a msgstr may equal its msgid ("Status" is Status in Azerbaijani): read the catalogues
    from babel.messages.pofile import read_po

    import pollwatch.i18n as i18n_

    locale = Path(i18n_.__file__).parent / "locale"
    for lang in ("az", "ru"):
        with (locale / lang / "LC_MESSAGES" / "pollwatch.po").open("rb") as fh:
            have = {m.id: m.string for m in read_po(fh) if m.id}
        assert {t for t in texts if not have.get(t)} == set(), lang
        assert gettext("Arbitrate", lang) != "Arbitrate"
