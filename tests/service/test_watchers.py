"""Camera watchers in the service: every endpoint and role (403, 404 for other watchers' rows),
idempotent retries, validation, the audit chain; the loader gives the estimator exactly what the
CSV reader gives; the dossier shows the official protocol, the copies' mismatches and the camera
estimate. SQLite and PostgreSQL (``ctx`` is parametrised in conftest)."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from pollwatch.cameras import (
    estimate_turnout,
    read_status_log,
    read_tallies,
    simulate_cameras,
    watcher_agreement,
)
from pollwatch.cameras.data import format_time
from pollwatch.cameras.doublecount import selected
from pollwatch.service import crud
from pollwatch.service import models as m
from pollwatch.service.crud import cameras as cam_crud
from pollwatch.service.sources.cameras import camera_data_from_database
from pollwatch.service.sources.evidence import verify_database

DAY = dt.datetime(2026, 3, 1)


def at(minutes: float) -> str:
    return (DAY + dt.timedelta(minutes=minutes)).isoformat()


def tally(ctx, station: int, start: float, count: int | None, length: float = 15, **kw) -> dict:
    return {
        "client_id": ctx.new_id(),
        "station_id": station,
        "window_start": at(start),
        "window_end": at(start + length),
        "count": count,
        **kw,
    }


def log(
    ctx, station: int, minutes: float, value: str, kind: str = "status", note: str = ""
) -> dict:
    return {
        "client_id": ctx.new_id(),
        "station_id": station,
        "kind": kind,
        "value": value,
        "at": at(minutes),
        "note": note,
    }


def assign(ctx, user: str, station: int) -> None:
    r = ctx.post(
        "admin", "/api/assignments", json={"user_id": ctx.users[user], "station_id": station}
    )
    assert r.status_code == 201, r.text


def second_watcher(ctx, accredited: bool = True) -> dict:
    """Another camera watcher (accredited or not), assigned to station 1; returns its headers."""
    with ctx.session() as s:
        admin = s.get(m.User, ctx.users["admin"])
        u = crud.create_user(
            s, admin, username="watcher2", password="watcher2-pass", role="camera_watcher"
        )
        s.flush()
        if accredited:
            acc = crud.request_accreditation(s, u, ctx.election_id, "CEC")
            crud.decide_accreditation(s, admin, acc.id, "accredited", None, None)
        crud.assign(s, admin, u.id, ctx.stations[0])
        token = crud.issue_token(s, u)
        s.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def wctx(ctx):
    assign(ctx, "camera_watcher", ctx.stations[0])
    assign(ctx, "camera_watcher", ctx.stations[3])
    return ctx


# ---- roles -------------------------------------------------------------------------------------

FILE_STATUS = [
    ("camera_watcher", 201),
    ("admin", 201),
    ("coordinator", 201),
    ("observer", 403),
    ("observer2", 403),
    ("analyst", 403),
    ("public", 403),
]


@pytest.mark.parametrize("role,status", FILE_STATUS)
def test_file_tally_roles(wctx, role, status):
    r = wctx.post(role, "/api/camera/tallies", json=tally(wctx, wctx.stations[0], 480, 12))
    assert r.status_code == status, r.text
    if status == 201:
        assert r.json()["count"] == 12 and r.json()["usable"] is True


@pytest.mark.parametrize("role,status", FILE_STATUS)
def test_file_log_roles(wctx, role, status):
    r = wctx.post(role, "/api/camera/logs", json=log(wctx, wctx.stations[0], 480, "turned_away"))
    assert r.status_code == status, r.text


def test_no_token(wctx):
    assert (
        wctx.client.post(
            "/api/camera/tallies", json=tally(wctx, wctx.stations[0], 480, 1)
        ).status_code
        == 401
    )
    assert wctx.client.get("/api/camera/logs").status_code == 401


def test_watcher_only_at_assigned_stations_and_when_accredited(wctx):
    r = wctx.post(
        "camera_watcher", "/api/camera/tallies", json=tally(wctx, wctx.stations[1], 480, 5)
    )
    assert r.status_code == 403 and "not assigned" in r.text
    h = second_watcher(wctx, accredited=False)
    r = wctx.client.post(
        "/api/camera/logs", headers=h, json=log(wctx, wctx.stations[0], 480, "online")
    )
    assert r.status_code == 403 and "not accredited" in r.text
    assert (
        wctx.post(
            "camera_watcher", "/api/camera/tallies", json=tally(wctx, 999999, 480, 5)
        ).status_code
        == 404
    )


@pytest.mark.parametrize("kind", ["tallies", "logs"])
def test_reading_own_all_or_nothing(wctx, kind):
    body = (
        tally(wctx, wctx.stations[0], 480, 7)
        if kind == "tallies"
        else log(wctx, wctx.stations[0], 480, "covered")
    )
    mine = wctx.post("camera_watcher", f"/api/camera/{kind}", json=body).json()
    other_h = second_watcher(wctx)
    body2 = (
        tally(wctx, wctx.stations[0], 495, 9)
        if kind == "tallies"
        else log(wctx, wctx.stations[0], 500, "online")
    )
    theirs = wctx.client.post(f"/api/camera/{kind}", headers=other_h, json=body2).json()
    # a watcher sees only their own, and another's row does not exist for them
    lst = wctx.get("camera_watcher", f"/api/camera/{kind}").json()
    assert lst["count"] == 1 and lst["data"][0]["id"] == mine["id"]
    assert wctx.get("camera_watcher", f"/api/camera/{kind}/{mine['id']}").status_code == 200
    assert wctx.get("camera_watcher", f"/api/camera/{kind}/{theirs['id']}").status_code == 404
    assert wctx.client.get(f"/api/camera/{kind}/{mine['id']}", headers=other_h).status_code == 404
    for role in ("admin", "coordinator", "analyst"):
        assert wctx.get(role, f"/api/camera/{kind}").json()["count"] == 2
        assert wctx.get(role, f"/api/camera/{kind}/{theirs['id']}").status_code == 200
        f = wctx.get(role, f"/api/camera/{kind}", params={"station_id": wctx.stations[3]}).json()
        assert f["count"] == 0
    for role in ("observer", "public"):
        assert wctx.get(role, f"/api/camera/{kind}").status_code == 403
        assert wctx.get(role, f"/api/camera/{kind}/{mine['id']}").status_code == 403
    assert wctx.get("admin", f"/api/camera/{kind}/999999").status_code == 404


# ---- idempotency, validation, audit ----------------------------------------------------------


@pytest.mark.parametrize("kind", ["tallies", "logs"])
def test_retry_is_stored_once(wctx, kind):
    body = (
        tally(wctx, wctx.stations[0], 480, 3)
        if kind == "tallies"
        else log(wctx, wctx.stations[0], 480, "offline")
    )
    model = m.CameraTally if kind == "tallies" else m.CameraLog
    with wctx.session() as s:
        audit0 = s.scalar(select(func.count()).select_from(m.AuditLog))
    first = wctx.post("camera_watcher", f"/api/camera/{kind}", json=body)
    again = wctx.post("camera_watcher", f"/api/camera/{kind}", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    # the same client id from someone else is a conflict, not a second row
    assert wctx.post("admin", f"/api/camera/{kind}", json=body).status_code == 409
    with wctx.session() as s:
        assert s.scalar(select(func.count()).select_from(model)) == 1
        assert s.scalar(select(func.count()).select_from(m.AuditLog)) == audit0 + 1


def test_concurrent_retries_are_stored_once(wctx):
    body = tally(wctx, wctx.stations[0], 480, 11)
    with ThreadPoolExecutor(5) as pool:
        codes = sorted(
            pool.map(
                lambda _: wctx.post("camera_watcher", "/api/camera/tallies", json=body).status_code,
                range(5),
            )
        )
    assert codes == [200, 200, 200, 200, 201]
    with wctx.session() as s:
        assert s.scalar(select(func.count()).select_from(m.CameraTally)) == 1


@pytest.mark.parametrize(
    "body,field",
    [
        ({"window_start": at(480), "window_end": at(470), "count": 3}, "window_end"),
        ({"window_start": at(480), "window_end": at(480 + 300), "count": 3}, "window_end"),
        ({"window_start": at(480), "window_end": at(495), "count": -1}, "count"),
        ({"window_start": at(480), "window_end": at(495), "usable": True}, "count"),
    ],
)
def test_bad_tally(wctx, body, field):
    r = wctx.post(
        "camera_watcher",
        "/api/camera/tallies",
        json={"client_id": wctx.new_id(), "station_id": wctx.stations[0], **body},
    )
    assert r.status_code == 422 and field in json.dumps(r.json()["detail"])


def test_unusable_window_without_count(wctx):
    r = wctx.post(
        "camera_watcher",
        "/api/camera/tallies",
        json=tally(wctx, wctx.stations[0], 480, None, reason="box hidden"),
    )
    assert r.status_code == 201 and r.json()["usable"] is False and r.json()["count"] is None


@pytest.mark.parametrize(
    "kind,value,status",
    [
        ("status", "turned_away", 201),
        ("status", "Audio muted", 201),
        ("event", "stuffing_seen", 201),
        ("status", "stuffing_seen", 422),
        ("event", "on_fire", 422),
        ("weather", "rain", 422),
    ],
)
def test_log_vocabulary(wctx, kind, value, status):
    r = wctx.post(
        "camera_watcher", "/api/camera/logs", json=log(wctx, wctx.stations[0], 600, value, kind)
    )
    assert r.status_code == status, r.text


def test_filings_are_in_the_audit_chain_and_tampering_shows(wctx):
    t = wctx.post(
        "camera_watcher", "/api/camera/tallies", json=tally(wctx, wctx.stations[0], 480, 21)
    ).json()
    wctx.post(
        "camera_watcher", "/api/camera/logs", json=log(wctx, wctx.stations[0], 490, "covered")
    )
    res = verify_database(wctx.settings.database_url, wctx.settings.data_dir)
    assert res.ok, res.problems
    with wctx.session() as s:
        entry = s.scalar(select(m.AuditLog).where(m.AuditLog.entity == "camera_tally"))
        assert entry.entity_id == t["id"] and json.loads(entry.payload)["count"] == 21
        assert "watcher_id" in json.loads(entry.payload)  # pseudonymous, never the user id
        assert json.loads(entry.payload)["watcher_id"] != wctx.users["camera_watcher"]
    with wctx.app.state.engine.begin() as c:
        c.execute(text("UPDATE camera_tallies SET count = 5"))
    res = verify_database(wctx.settings.database_url, wctx.settings.data_dir)
    assert not res.ok and any("camera_tally" in p for p in res.problems)


def test_official_protocol_tampering_shows(wctx):
    with wctx.app.state.engine.begin() as c:
        c.execute(
            text(
                "UPDATE official_protocols SET votes = :v WHERE id = (SELECT min(id) FROM official_protocols)"
            ),
            {"v": json.dumps({"cand_00": 1, "cand_01": 1})},
        )
    res = verify_database(wctx.settings.database_url, wctx.settings.data_dir)
    assert not res.ok and any("election" in p for p in res.problems)


# ---- from the database to the estimator: the same as from CSV --------------------------------


def _csv(df, cols) -> io.StringIO:
    t = df.with_columns(*(df[c].map_elements(format_time, return_dtype=str) for c in cols))
    return io.StringIO(t.write_csv())


@pytest.mark.filterwarnings("ignore::pollwatch.errors.SmallSampleWarning")
def test_tallies_filed_through_the_api_estimate_like_the_csv(ctx, tmp_path):
    from pollwatch.service.importer import import_election
    from pollwatch.simulate import simulate_election

    sim = simulate_cameras(10, seed=5, window_minutes=60, double_share=0.3, outage_rate=0.7)
    codes = sorted(sim.tallies["station_id"].unique().to_list())
    official = np.array([sim.official[c] for c in codes])
    election = simulate_election(len(codes), seed=1).election
    table = election.table.with_columns(station_id=np.array(codes))
    el = type(election)(table, election.meta)
    with ctx.session() as s:
        row = import_election(s, el, actor_id=ctx.users["admin"], name="cameras")
        ids = dict(
            s.execute(
                select(m.Station.code, m.Station.id).where(m.Station.election_id == row.id)
            ).all()
        )
        s.commit()
    watchers = {}
    for w in sorted(sim.tallies["watcher"].unique().to_list()):
        r = ctx.post(
            "admin",
            "/api/users",
            json={"username": f"cam-{w}", "password": "watcher-pass", "role": "camera_watcher"},
        )
        uid = r.json()["id"]
        login = ctx.client.post(
            "/api/login/access-token", data={"username": f"cam-{w}", "password": "watcher-pass"}
        )
        h = {"Authorization": f"Bearer {login.json()['access_token']}"}
        acc = ctx.client.post(
            "/api/accreditations", headers=h, json={"election_id": row.id, "body": "CEC"}
        ).json()
        ctx.patch("admin", f"/api/accreditations/{acc['id']}", json={"status": "accredited"})
        for c in codes:
            ctx.post("admin", "/api/assignments", json={"user_id": uid, "station_id": ids[c]})
        watchers[w] = (uid, h)
    for r in sim.tallies.iter_rows(named=True):
        uid, h = watchers[r["watcher"]]
        body = {
            "client_id": ctx.new_id(),
            "station_id": ids[r["station_id"]],
            "window_start": at(r["window_start"]),
            "window_end": at(r["window_end"]),
            "count": r["count"],
            "usable": r["usable"],
            "reason": r["reason"] or "",
        }
        assert ctx.client.post("/api/camera/tallies", headers=h, json=body).status_code == 201
    first = next(iter(watchers.values()))[1]
    for r in sim.status.iter_rows(named=True):
        body = {
            "client_id": ctx.new_id(),
            "station_id": ids[r["station_id"]],
            "kind": "status",
            "value": r["status"],
            "at": at(r["time"]),
        }
        assert ctx.client.post("/api/camera/logs", headers=first, json=body).status_code == 201
    # the CSV: the same tallies, watchers named as the loader names them
    label = {w: f"watcher-{uid}" for w, (uid, _) in watchers.items()}
    csv_t = read_tallies(
        _csv(
            sim.tallies.with_columns(sim.tallies["watcher"].replace(label)).drop("source_sha256"),
            ["window_start", "window_end"],
        )
    )
    csv_s = read_status_log(_csv(sim.status, ["time"]))
    data = camera_data_from_database(ctx.settings.database_url, election="cameras")
    key = ["station_id", "window_start", "watcher"]
    assert data.tallies.sort(key).equals(csv_t.sort(key))
    assert data.status.sort("station_id", "time").equals(csv_s.sort("station_id", "time"))
    a = estimate_turnout(data.tallies, data.status, seed=3)
    b = estimate_turnout(csv_t, csv_s, seed=3)
    assert a.table().sort("station_id").equals(b.table().sort("station_id"))
    assert a.agreement.n_windows > 0  # double-counted windows: the watchers stayed distinct
    assert data.official == dict(zip(codes, (el.ballots_cast()).tolist(), strict=True))
    # the CLI reads the service like it reads the CSVs
    from pollwatch.cli import app

    (tmp_path / "t.csv").write_text(
        _csv(
            sim.tallies.with_columns(sim.tallies["watcher"].replace(label)).drop("source_sha256"),
            ["window_start", "window_end"],
        ).getvalue()
    )
    (tmp_path / "s.csv").write_text(_csv(sim.status, ["time"]).getvalue())
    (tmp_path / "o.csv").write_text(
        "station_id,official\n"
        + "".join(f"{c},{v}\n" for c, v in zip(codes, official, strict=True))
    )
    runner = CliRunner()
    from_db = runner.invoke(
        app,
        [
            "cameras",
            "estimate",
            "--database",
            ctx.settings.database_url,
            "--election",
            "cameras",
            "--official",
            str(tmp_path / "o.csv"),
            "--json",
        ],
    )
    from_csv = runner.invoke(
        app,
        [
            "cameras",
            "estimate",
            str(tmp_path / "t.csv"),
            "--status",
            str(tmp_path / "s.csv"),
            "--official",
            str(tmp_path / "o.csv"),
            "--json",
        ],
    )
    assert from_db.exit_code == 0, from_db.output
    assert json.loads(from_db.stdout) == json.loads(from_csv.stdout)
    # without --official the service's own protocols are the official figures
    own = runner.invoke(
        app,
        [
            "cameras",
            "estimate",
            "--database",
            ctx.settings.database_url,
            "--election",
            "cameras",
            "--json",
        ],
    )
    assert own.exit_code == 0, own.output
    assert json.loads(own.stdout)["comparison"]["official_total"] > 0
    bad = runner.invoke(app, ["cameras", "estimate", "--database", ctx.settings.database_url])
    assert bad.exit_code != 0 and "choose one election" in bad.output


# ---- the dossier: official protocol, copies against it, camera estimate ----------------------


def file_day(ctx, headers_role="camera_watcher") -> None:
    """Station 4 fully watched (w = 0.2, 0.3, 0.3, 0.2); station 1 counts 40, 66, –, 38 with the
    third window turned away: the method's test vector (W 0.7, C 144, V̂ 205.71)."""
    for i, c in enumerate((200, 300, 300, 200)):
        assert (
            ctx.post(
                headers_role,
                "/api/camera/tallies",
                json=tally(ctx, ctx.stations[3], 480 + 60 * i, c, length=60),
            ).status_code
            == 201
        )
    for i, c in enumerate((40, 66, 10, 38)):
        assert (
            ctx.post(
                headers_role,
                "/api/camera/tallies",
                json=tally(ctx, ctx.stations[0], 480 + 60 * i, c, length=60),
            ).status_code
            == 201
        )
    for minutes, value in (
        (480, "online"),
        (480, "audio_muted"),
        (600, "turned_away"),
        (660, "online"),
    ):
        ctx.post(headers_role, "/api/camera/logs", json=log(ctx, ctx.stations[0], minutes, value))
    ctx.post(
        headers_role,
        "/api/camera/logs",
        json=log(ctx, ctx.stations[0], 615, "stuffing_seen", "event", "a bundle of ballots"),
    )


def test_dossier_official_protocol_copies_and_camera(wctx):
    # observer's copy disagrees with the published protocol on valid votes and on Beta
    copy = {
        "client_id": wctx.new_id(),
        "station_id": wctx.stations[0],
        "numbers": {"registered": 1000, "valid": 650, "invalid": 10},
        "votes": {"Alpha": 400, "Beta": 250},
    }
    assert wctx.post("observer", "/api/protocols", json=copy).status_code == 201
    file_day(wctx)
    d = wctx.get("analyst", f"/api/stations/{wctx.stations[0]}/dossier").json()
    assert d["official"]["valid"] == 600 and d["official"]["votes"] == {"Alpha": 400, "Beta": 200}
    assert d["arithmetic"] == []
    mism = {x["field"]: (x["copy"], x["official"]) for x in d["mismatches"]}
    assert mism == {"valid": (650, 600), "Beta": (250, 200)}
    assert "observers' protocol copy" in d["agree"]
    rows = {r[0]: r[3] for r in d["protocol_copies"][0]["rows"]}
    assert rows == {
        "registered": False,
        "valid": True,
        "invalid": False,
        "Alpha": False,
        "Beta": True,
    }
    cam = d["camera"]
    assert cam["estimate"] == pytest.approx(144 / 0.7, rel=1e-9)
    assert cam["coverage"] == pytest.approx(0.7) and cam["counted"] == 144
    assert cam["low95"] < cam["estimate"] < cam["high95"] < cam["official"] == 610
    # the protocol here has only valid + invalid (ballots cast), which include mobile-box and
    # early ballots a camera never sees: like with like is impossible, so the official figure
    # above the camera count is a one-sided bound and not a flag (docs/cameras.md)
    assert cam["bound"] is True and not cam["flagged"]
    kinds = [(e.get("status") or e.get("event")) for e in d["camera_events"]]
    assert kinds == ["online", "audio_muted", "turned_away", "stuffing_seen", "online"]
    assert any(
        e["strength"] == "testimony" and "stuffing seen on camera" in e["text"]
        for e in d["evidence"]
    )
    # a station the cameras did not watch, with protocol arithmetic broken (station 3: zero everywhere is fine;
    # station 5 has 0 invalid): silent cameras, protocol shown
    other = wctx.get("analyst", f"/api/stations/{wctx.stations[4]}/dossier").json()
    assert (
        other["camera"] is None
        and "cameras" in other["silent"]
        and other["official"]["valid"] == 300
    )


def test_dossier_page_shows_it(wctx):
    from .test_web import login  # noqa: TID252

    file_day(wctx)
    copy = {
        "client_id": wctx.new_id(),
        "station_id": wctx.stations[0],
        "numbers": {"valid": 650},
        "votes": {},
    }
    wctx.post("observer", "/api/protocols", json=copy)
    login(wctx.client, "coordinator")
    page = wctx.client.get(f"/stations/{wctx.stations[0]}/dossier").text
    assert 'id="official"' in page and 'class="flag mismatch"' in page
    assert "206" in page and "share of the day watched" in page and "Ballot stuffing seen" in page


def test_dossier_camera_insufficient_coverage(wctx):
    for i, c in enumerate((200, 300, 300, 200)):
        wctx.post(
            "camera_watcher",
            "/api/camera/tallies",
            json=tally(wctx, wctx.stations[3], 480 + 60 * i, c, length=60),
        )
    wctx.post(
        "camera_watcher",
        "/api/camera/tallies",
        json=tally(wctx, wctx.stations[0], 480, 40, length=60),
    )
    for i in (1, 2, 3):
        wctx.post(
            "camera_watcher",
            "/api/camera/tallies",
            json=tally(wctx, wctx.stations[0], 480 + 60 * i, None, length=60),
        )
    d = wctx.get("coordinator", f"/api/stations/{wctx.stations[0]}/dossier").json()
    assert d["camera"]["estimate"] is None and d["camera"]["status"] == "insufficient coverage"
    assert "cameras" in d["silent"] and any("not zero voters" in e["text"] for e in d["evidence"])


# ---- the phone page ---------------------------------------------------------------------------


def test_watch_page_files_without_javascript(wctx):
    from .test_web import login  # noqa: TID252

    login(wctx.client, "camera_watcher")
    assert f"/watch?station={wctx.stations[0]}" in wctx.client.get("/stations").text
    page = wctx.client.get(f"/watch?station={wctx.stations[0]}")
    assert page.status_code == 200 and 'name="window_start"' in page.text
    cid = wctx.new_id()
    form = {
        "client_id": cid,
        "station_id": str(wctx.stations[0]),
        "window_start": "09:00",
        "window_minutes": "15",
        "count": "17",
    }
    r = wctx.client.post("/watch/tally", data=form, follow_redirects=False)
    assert r.status_code == 303
    wctx.client.post("/watch/tally", data=form, follow_redirects=False)  # a double tap
    r = wctx.client.post(
        "/watch/log",
        data={
            "client_id": wctx.new_id(),
            "station_id": str(wctx.stations[0]),
            "at": "09:20",
            "value": "angle_change",
            "note": "now faces the wall",
        },
        follow_redirects=True,
    )
    assert r.status_code == 200 and "Received" in r.text and "09:00–09:15" in r.text
    lst = wctx.get("coordinator", "/api/camera/tallies").json()
    assert (
        lst["count"] == 1 and lst["data"][0]["count"] == 17 and lst["data"][0]["channel"] == "web"
    )
    ev = wctx.get("coordinator", "/api/camera/logs").json()["data"][0]
    assert (ev["kind"], ev["value"]) == ("event", "angle_change")
    r = wctx.client.post("/watch/tally", data={**form, "client_id": wctx.new_id(), "count": ""})
    assert r.status_code == 422 and "count" in r.text
    # not assigned here; and other roles cannot open the page
    assert wctx.client.get(f"/watch?station={wctx.stations[1]}").status_code == 403
    wctx.client.post("/logout")
    wctx.client.cookies.clear()
    login(wctx.client, "observer")
    assert wctx.client.get(f"/watch?station={wctx.stations[0]}").status_code == 403


def test_watch_page_in_azerbaijani(wctx):
    from .test_web import login  # noqa: TID252

    with wctx.session() as s:
        s.get(m.User, wctx.users["camera_watcher"]).language = "az"
        s.commit()
    login(wctx.client, "camera_watcher")
    page = wctx.client.get(f"/watch?station={wctx.stations[0]}").text
    assert "Kamera müşahidəsi" in page and "Qutudan yayındırılıb" in page


def test_bulk_filing_keeps_the_rules(wctx):
    from pollwatch.service.crud import cameras as watchers
    from pollwatch.service.errors import Forbidden, NotFound

    def rows(station, n=3):
        return [
            {
                "client_id": wctx.new_id(),
                "station_id": station,
                **watchers.clean_tally(
                    DAY + dt.timedelta(minutes=480 + 15 * i),
                    DAY + dt.timedelta(minutes=495 + 15 * i),
                    10 + i,
                    None,
                ),
            }
            for i in range(n)
        ]

    mine = rows(wctx.stations[0])
    with wctx.session() as s:
        u = s.get(m.User, wctx.users["camera_watcher"])
        assert watchers.create_many(s, u, m.CameraTally, mine) == 3
        s.commit()
        assert watchers.create_many(s, u, m.CameraTally, mine) == 0  # a re-run files nothing twice
        with pytest.raises(Forbidden):
            watchers.create_many(s, u, m.CameraTally, rows(wctx.stations[1]))
        with pytest.raises(NotFound):
            watchers.create_many(s, u, m.CameraTally, rows(999999))
        with pytest.raises(Forbidden):
            watchers.create_many(
                s, s.get(m.User, wctx.users["observer"]), m.CameraTally, rows(wctx.stations[0])
            )
        s.rollback()
        assert s.scalar(select(func.count()).select_from(m.CameraTally)) == 3
        assert (
            s.scalar(
                select(func.count())
                .select_from(m.AuditLog)
                .where(m.AuditLog.entity == "camera_tally")
            )
            == 3
        )
    assert verify_database(wctx.settings.database_url, wctx.settings.data_dir).ok
    got = wctx.get("camera_watcher", "/api/camera/tallies").json()
    assert [r["count"] for r in got["data"]] == [10, 11, 12]


def test_dossier_of_an_election_imported_without_protocols(wctx):
    # a database from before official protocols were stored at import
    with wctx.app.state.engine.begin() as c:
        c.execute(text("DELETE FROM official_protocols"))
    file_day(wctx)
    d = wctx.get("coordinator", f"/api/stations/{wctx.stations[0]}/dossier").json()
    assert any("without its official protocols" in n for n in d["notes"])
    assert d["official"] == {"registered": 1000} and d["camera"] is None
    assert [e.get("status") or e.get("event") for e in d["camera_events"]][-2:] == [
        "stuffing_seen",
        "online",
    ]


# ---- blind re-counts (the double-counting design) ---------------------------------------------


def _recount_section(html: str) -> str:
    a = html.find('<section id="recounts">')
    return html[a : html.find("</section>", a)] if a >= 0 else ""


def test_watch_page_assigns_blind_recounts(wctx):
    """The first watcher files a day at station 4; the design picks its share of windows and the
    only other watcher in the pool gets them on the watch page, without the first count; a filed
    re-count pairs with the first in the estimator's agreement; nobody re-counts themself."""
    from .test_web import login  # noqa: TID252

    st1, st4 = wctx.stations[0], wctx.stations[3]
    second_watcher(wctx)  # watcher2: accredited, assigned to station 1 only
    counts = [900 + i for i in range(48)]  # distinctive, so a leak onto the page would show
    for i, c in enumerate(counts):
        r = wctx.post(
            "camera_watcher", "/api/camera/tallies", json=tally(wctx, st4, 480 + 15 * i, c)
        )
        assert r.status_code == 201
    settings = wctx.app.state.settings
    share, seed = settings.camera_recount_share, settings.camera_recount_seed
    assert share == 0.10
    with wctx.session() as s:
        code4 = s.get(m.Station, st4).code
        plan = cam_crud.recount_plan(s, wctx.election_id, share=share, seed=seed)
        w2 = s.scalar(select(m.User.id).where(m.User.username == "watcher2"))
    picked = [r for r in plan.recounts if r.station_id == code4]
    assert len(picked) in (4, 5)  # 10 % of 48 windows, systematic sample
    assert all(r.first == f"watcher-{wctx.users['camera_watcher']}" for r in picked)
    assert all(r.second == f"watcher-{w2}" and not r.done for r in picked)
    assert all(
        selected(cam_crud.recount_seed(wctx.election_id, seed), code4, r.start, r.end, share)
        for r in picked
    )

    # the first watcher is never asked to re-count their own windows
    login(wctx.client, "camera_watcher")
    assert _recount_section(wctx.client.get(f"/watch?station={st4}").text) == ""
    first = picked[0]
    hhmm = format_time(first.start)
    own = {
        "client_id": wctx.new_id(),
        "station_id": str(st4),
        "back": str(st4),
        "window_start": f"{DAY.date()}T{hhmm}:00",
        "window_end": f"{DAY.date()}T{format_time(first.end)}:00",
        "count": "5",
    }
    assert wctx.client.post("/watch/recount", data=own).status_code == 403
    wctx.client.post("/logout")
    wctx.client.cookies.clear()

    # the second watcher sees them on their own station's page: station and window, no count
    login(wctx.client, "watcher2")
    section = _recount_section(wctx.client.get(f"/watch?station={st1}").text)
    assert section.count('class="recount-form"') == len(picked)
    assert f"{code4} · {hhmm}" in section
    visible = re.sub(r'(value|name|id|for)="[^"]*"', "", section)
    assert not any(re.search(rf"\b{c}\b", visible) for c in counts), visible
    # a window the design did not pick cannot be filed as a re-count
    other = next(480 + 15 * i for i in range(48) if 480 + 15 * i not in {r.start for r in picked})
    bad = {
        **own,
        "client_id": wctx.new_id(),
        "back": str(st1),
        "window_start": f"{DAY.date()}T{format_time(other)}:00",
        "window_end": f"{DAY.date()}T{format_time(other + 15)}:00",
    }
    assert wctx.client.post("/watch/recount", data=bad).status_code == 403
    form = {**own, "client_id": wctx.new_id(), "back": str(st1), "count": "908"}
    r = wctx.client.post("/watch/recount", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/watch?station={st1}&saved=1"
    wctx.client.post("/watch/recount", data=form)  # a double tap is stored once
    section = _recount_section(wctx.client.get(f"/watch?station={st1}").text)
    assert section.count('class="recount-form"') == len(picked) - 1

    second = picked[1]
    form2 = {
        **form,
        "client_id": wctx.new_id(),
        "window_start": f"{DAY.date()}T{format_time(second.start)}:00",
        "window_end": f"{DAY.date()}T{format_time(second.end)}:00",
        "count": str(counts[int((second.start - 480) // 15)]),
    }
    assert wctx.client.post("/watch/recount", data=form2, follow_redirects=False).status_code == 303
    stored = [
        t
        for t in wctx.get("coordinator", "/api/camera/tallies?limit=1000").json()["data"]
        if t["channel"] == "recount"
    ]
    assert sorted(t["count"] for t in stored)[0] == 908 and len(stored) == 2
    assert {t["station_id"] for t in stored} == {st4}
    # the estimator pairs them with the first counts: watcher error is measured
    data = camera_data_from_database(wctx.settings.database_url)
    agree = watcher_agreement(data.tallies)
    assert agree.n_windows == 2 and agree.error_per_count > 0
    with wctx.session() as s:
        plan = cam_crud.recount_plan(s, wctx.election_id, share=share, seed=seed)
    assert sum(r.done for r in plan.recounts) == 2


@pytest.mark.parametrize(
    "field,value",
    [
        ("count", str(2**40)),
        ("count", "-3"),
        ("window_start", "not a time"),
        ("window_end", "2026-03-01T07:00:00"),  # ends before it starts
        ("reason", "a\x00b"),
    ],
)
def test_recount_form_bad_input_is_422_and_stores_nothing(wctx, field, value):
    from .test_web import login  # noqa: TID252

    login(wctx.client, "camera_watcher")
    form = {
        "client_id": wctx.new_id(),
        "station_id": str(wctx.stations[0]),
        "back": str(wctx.stations[0]),
        "window_start": "2026-03-01T08:00:00",
        "window_end": "2026-03-01T08:15:00",
        "count": "3",
        field: value,
    }
    assert wctx.client.post("/watch/recount", data=form).status_code == 422
    with wctx.session() as s:
        assert s.scalar(select(func.count()).select_from(m.CameraTally)) == 0
