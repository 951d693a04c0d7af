"""People from CSV with a dry run, and the submissions export (issue 22): every line checked
before anything is written, passwords only in a 0600 file, each creation audited; exports as
each role reads the submissions, people as pseudonyms, spreadsheet-safe cells."""

from __future__ import annotations

import csv
import io
import json
import os
import stat

import openpyxl
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from pollwatch.cli import app as cli
from pollwatch.service import models as m
from pollwatch.service.crud.exports import spreadsheet_safe

from .test_web import login  # noqa: TID252

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def env(ctx, monkeypatch):
    # the commands export their options to POLLWATCH_*; monkeypatch restores them
    monkeypatch.setenv("POLLWATCH_DATABASE_URL", ctx.settings.database_url)
    monkeypatch.setenv("POLLWATCH_DATA_DIR", str(ctx.settings.data_dir))
    return ctx


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def codes(ctx) -> list[str]:
    with ctx.session() as s:
        return list(s.scalars(select(m.Station.code).where(m.Station.id.in_(ctx.stations)).order_by(m.Station.code)))  # fmt: skip


def counts(ctx) -> tuple[int, int, int, int]:
    with ctx.session() as s:
        return tuple(s.scalar(select(func.count()).select_from(t)) for t in (m.User, m.Assignment, m.Accreditation, m.AuditLog))  # fmt: skip


def test_people_csv_dry_run_then_import_with_audited_creations(env, tmp_path):
    ctx = env
    c = codes(ctx)
    people = tmp_path / "people.csv"
    people.write_text(
        "username,role,full_name,phone,language,stations,accreditation\n"
        f"ali,observer,Ali Aliyev,+994 50 111 22 33,az,{c[0]};{c[2]},CEC\n"
        f"olga,observer,Olga P,+994501112234,ru,{c[3]},\n"
        "tina,transcriber,,,en,,\n"
        f"observer,observer,,+994509999999,en,{c[0]};{c[4]},\n",  # exists: assigned to c[0] already
        encoding="utf-8",
    )
    before = counts(ctx)
    r = run("users", "import", people, "--as", "coordinator", "--dry-run")
    assert r.exit_code == 0, r.output
    assert f"would line 2: create observer 'ali'; assign {c[0]}, {c[2]}; accredit by 'CEC'" in r.output  # fmt: skip
    assert f"would line 5: keep observer 'observer'; assign {c[4]}; its phone not changed" in r.output  # fmt: skip
    assert "dry run, nothing written: create 3, assign 4, accredit 1, unchanged 0" in r.output
    assert counts(ctx) == before  # the dry run wrote nothing
    assert "+994" not in r.output and "Aliyev" not in r.output  # personal data stays out

    r = run("users", "import", people, "--as", "coordinator")
    assert r.exit_code == 0, r.output
    out = tmp_path / "people.passwords.csv"
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    pw = dict(csv.reader(io.StringIO(out.read_text())))
    assert set(pw) == {"username", "ali", "olga", "tina"} and len(pw["ali"]) >= 16
    assert pw["ali"] not in r.output
    after = counts(ctx)
    assert after[:3] == (before[0] + 3, before[1] + 4, before[2] + 1)
    # every write through the audited crud path: 3 users, 4 assignments, accreditation x2
    assert after[3] - before[3] == 3 + 4 + 2
    login = ctx.client.post(
        "/api/login/access-token", data={"username": "ali", "password": pw["ali"]}
    )
    assert login.status_code == 200, login.text
    with ctx.session() as s:
        ali = s.scalar(select(m.User).where(m.User.username == "ali"))
        assert ali.phone is None and ali.phone_enc is not None and ali.language == "az"
    # importing again changes nothing and refuses to overwrite the passwords file
    assert run("users", "import", people, "--as", "coordinator").exit_code == 1


def test_people_csv_every_problem_reported_nothing_written(env, tmp_path):
    ctx = env
    c = codes(ctx)
    people = tmp_path / "bad.csv"
    people.write_text(
        "username,role,phone,language,stations\n"
        f"a1,observer,+994500000009,az,{c[0]}\n"
        f"a1,observer,,en,{c[1]}\n"
        "b2,overlord,,en,\n"
        "c3,observer,call me,en,\n"
        "d4,observer,+994 50 000 0009,xx,NOPE\n"
        "e5,admin,,en,\n"
        "f6,observer,+994500000001,en,\n",
        encoding="utf-8",
    )
    before = counts(ctx)
    r = run("users", "import", people, "--as", "coordinator")
    assert r.exit_code == 1
    text = " ".join(r.output.split())
    for expected in (
        "line 3, column username: 'a1' also on line 2",
        "line 4, column role: 'overlord' is not one of",
        "line 5, column phone: not a phone number",
        "line 6, column language: 'xx' is not one of",
        "line 6, column phone: the same number as line 2",
        "line 6, column stations: unknown station code(s) ['NOPE']",
        "line 7, column role: a coordinator may not create a admin",
        "line 8, column phone: this number is already registered",
        "nothing was written",
    ):
        assert expected in text, (expected, text)
    assert counts(ctx) == before


def test_people_api_dry_run_default_and_observer_refused(ctx):
    c = codes(ctx)
    body = f"username,stations\nzed,{c[1]}\n".encode()
    url = f"/api/users/import?election_id={ctx.election_id}"
    r = ctx.post("observer", url, files={"file": ("p.csv", body, "text/csv")})
    assert r.status_code == 403
    r = ctx.post("admin", url, files={"file": ("p.csv", body, "text/csv")})
    assert r.status_code == 200, r.text
    assert r.json()["dry_run"] is True and "passwords" not in r.json()
    r = ctx.post("admin", url + "&dry_run=false", files={"file": ("p.csv", body, "text/csv")})
    assert r.status_code == 200 and set(r.json()["passwords"]) == {"zed"}
    r = ctx.post("admin", url, files={"file": ("p.csv", b"username,stations\nzz,NOPE\n", "text/csv")})  # fmt: skip
    assert r.status_code == 422 and "unknown station code(s) ['NOPE']" in r.text


def file_some(ctx):
    r = ctx.post("observer", "/api/checklists", json=ctx.checklist(ctx.stations[0]))
    assert r.status_code in (200, 201), r.text
    r = ctx.post("observer2", "/api/incidents", json=ctx.incident(ctx.stations[0], description="=HYPERLINK(\"http://x\")"))  # fmt: skip
    assert r.status_code in (200, 201), r.text
    with ctx.session() as s:
        st = s.get(m.Station, ctx.stations[0])
        st.lat, st.lon = 40.41, 49.87
        s.commit()


def test_exports_by_role_pseudonymised_and_spreadsheet_safe(ctx):
    file_some(ctx)
    r = ctx.get("coordinator", "/api/export/submissions?format=csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [x["kind"] for x in rows] == ["checklist", "incident"]
    assert rows[1]["description"] == '\'=HYPERLINK("http://x")'  # not a formula
    assert rows[0]["answer.ballots_received"] == "900"
    assert rows[0]["observer"].startswith("p-") and rows[0]["observer"] != rows[1]["observer"]
    assert "observer" not in {v for x in rows for v in x.values() if v != rows[0]["observer"]} - {"observer"}  # fmt: skip
    assert not any("observer2" in v or "+994" in v for x in rows for v in x.values())
    # an observer exports only their own submissions
    r = ctx.get("observer", "/api/export/submissions?format=csv")
    mine = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [x["kind"] for x in mine] == ["checklist"]
    assert ctx.get("public", "/api/export/submissions").status_code == 403
    # XLSX: the same rows, the formula kept as text
    r = ctx.get("analyst", "/api/export/submissions?format=xlsx")
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).active
    values = list(ws.values)
    head = list(values[0])
    assert len(values) == 3
    cell = ws.cell(3, head.index("description") + 1)
    assert cell.data_type == "s" and cell.value.startswith("'=")
    # GeoJSON: the station's point, lon first
    r = ctx.get("coordinator", "/api/export/submissions?format=geojson&kind=incident")
    doc = json.loads(r.content)
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 1
    assert doc["features"][0]["geometry"] == {"type": "Point", "coordinates": [49.87, 40.41]}
    assert "0 of 1 submissions are at stations without coordinates" in doc["note"]
    assert ctx.get("coordinator", "/api/export/submissions?format=pdf").status_code == 422


def test_cli_export_as_observer_is_limited_to_own(env, tmp_path):
    ctx = env
    file_some(ctx)
    out = tmp_path / "mine.csv"
    r = run("export", "submissions", "--as", "observer2", "--format", "csv", "-o", out)
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [x["kind"] for x in rows] == ["incident"]
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    r = run("export", "submissions", "--as", "coordinator", "--format", "geojson", "-o", tmp_path / "all.geojson")  # fmt: skip
    assert r.exit_code == 0 and len(json.loads((tmp_path / "all.geojson").read_text())["features"]) == 2  # fmt: skip


@pytest.mark.parametrize("value,safe", [("=1+1", "'=1+1"), ("+7", "'+7"), ("-x", "'-x"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("ok", "ok"), (-5, -5), (None, None)])  # fmt: skip
def test_spreadsheet_safe(value, safe):
    assert spreadsheet_safe(value) == safe


def test_import_page_and_dashboard_export_links(ctx):
    c = codes(ctx)
    login(ctx.client, "observer")
    assert ctx.client.get("/people").status_code == 403
    ctx.client.cookies.clear()
    login(ctx.client, "coordinator")
    page = ctx.client.get("/people")
    assert page.status_code == 200 and 'id="people-import"' in page.text
    assert 'id="forms-import"' not in page.text  # checklists: admins only
    body = f"username,stations,accreditation\nnew1,{c[1]},CEC\n".encode()
    post = {"election_id": str(ctx.election_id), "dry_run": "1"}
    r = ctx.client.post("/people/import", data=post, files={"file": ("p.csv", body, "text/csv")})
    assert r.status_code == 200 and f"create observer &#39;new1&#39;; assign {c[1]}" in r.text
    assert 'id="passwords"' not in r.text
    r = ctx.client.post("/people/import", data={"election_id": str(ctx.election_id)}, files={"file": ("p.csv", body, "text/csv")})  # fmt: skip
    assert r.status_code == 200 and 'id="passwords"' in r.text
    r = ctx.client.post("/people/import", data=post, files={"file": ("p.csv", b"username,role\nx9,admin\n", "text/csv")})  # fmt: skip
    assert r.status_code == 422 and "line 2, column role: a coordinator may not create a admin" in r.text  # fmt: skip
    dash = ctx.client.get("/dashboard")
    assert 'href="/api/export/submissions?format=xlsx"' in dash.text
    assert ctx.client.get("/api/export/submissions?format=csv").status_code == 200  # by cookie
