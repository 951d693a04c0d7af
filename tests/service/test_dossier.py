"""Station dossier in the service: roles, 404, observers' evidence with media hashes, the
attached analysis, the page, and the page in headless Chromium."""

from __future__ import annotations

import io

import polars as pl
import pytest
from PIL import Image

from .conftest import make_ctx  # noqa: TID252
from .test_server import Server  # noqa: TID252
from .test_web import login  # noqa: TID252


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (10, 10), (0, 120, 250)).save(buf, format="PNG")
    return buf.getvalue()


def stations_csv(directory, code: str) -> None:
    """A minimal ``pollwatch analyze`` stations table in which ``code`` ranks first."""
    pl.DataFrame(
        {
            "station_id": [code, "other"],
            "turnout": [0.97, 0.5],
            "leader_share": [0.98, 0.6],
            "extreme": [True, False],
            "above_peak": [True, False],
            "integer": [False, True],
            "points": [3.0, 1.0],
            "rank": [1, 2],
        }
    ).write_csv(directory / "stations.csv")


def file_incident_with_photo(ctx, station: int) -> str:
    r = ctx.client.post(
        "/api/media",
        headers=ctx.headers["observer"],
        data={"client_id": ctx.new_id()},
        files={"file": ("p.png", png(), "image/png")},
    )
    assert r.status_code in (200, 201), r.text
    media = r.json()
    r = ctx.post("observer", "/api/incidents", json=ctx.incident(station, media_ids=[media["id"]]))
    assert r.status_code == 201, r.text
    return media["sha256"]


@pytest.mark.parametrize(
    "role,status",
    [
        ("admin", 200),
        ("coordinator", 200),
        ("analyst", 200),
        ("observer", 403),
        ("camera_watcher", 403),
        ("public", 403),
    ],
)
def test_roles(ctx, role, status):
    assert ctx.get(role, f"/api/stations/{ctx.stations[0]}/dossier").status_code == status


def test_unknown_station_and_no_login(ctx):
    assert ctx.get("coordinator", "/api/stations/999999/dossier").status_code == 404
    assert ctx.client.get(f"/api/stations/{ctx.stations[0]}/dossier").status_code == 401


def test_observer_evidence_and_media_hashes(ctx):
    sha = file_incident_with_photo(ctx, ctx.stations[0])
    d = ctx.get("analyst", f"/api/stations/{ctx.stations[0]}/dossier").json()
    assert d["service_station_id"] == ctx.stations[0]
    assert d["media_hashes"] == [sha]
    assert "observers' reports" in d["agree"] and "forensics" in d["silent"]
    inc = [r for r in d["observer_reports"] if r["kind"] == "incident"]
    assert inc[0]["form"] == "ballot_stuffing" and inc[0]["media"][0]["sha256"] == sha
    assert "Observers reported fraud" in d["text"]
    # another station has no evidence at all
    other = ctx.get("analyst", f"/api/stations/{ctx.stations[3]}/dossier").json()
    assert other["agree"] == [] and other["media_hashes"] == []


def test_attached_analysis(ctx, tmp_path, monkeypatch):
    code = ctx.get("admin", f"/api/stations/{ctx.stations[1]}/dossier").json()["station_id"]
    d0 = ctx.get("admin", f"/api/stations/{ctx.stations[1]}/dossier").json()
    assert d0["forensic"] is None and any("POLLWATCH_ANALYSIS_DIR" in n for n in d0["notes"])
    stations_csv(tmp_path, code)
    monkeypatch.setenv("POLLWATCH_ANALYSIS_DIR", str(tmp_path))
    d = ctx.get("admin", f"/api/stations/{ctx.stations[1]}/dossier").json()
    assert d["forensic"]["rank"] == 1 and set(d["forensic"]["signals"]) == {"extreme", "above_peak"}
    assert "forensics" in d["agree"] and d["forensic"]["values"]["turnout"] == pytest.approx(0.97)
    # the official turnout is the stored protocol's (cast 520 of 800), not the analysis file's
    assert d["official"]["turnout"] == pytest.approx(520 / 800)


def test_page_roles(ctx):
    sha = file_incident_with_photo(ctx, ctx.stations[0])
    login(ctx.client, "coordinator")
    page = ctx.client.get(f"/stations/{ctx.stations[0]}/dossier")
    # the incident named by its category (the code stays in the JSON)
    assert page.status_code == 200 and sha in page.text and "Ballot stuffing" in page.text
    ctx.client.post("/logout")
    ctx.client.cookies.clear()
    assert (
        ctx.client.get(f"/stations/{ctx.stations[0]}/dossier", follow_redirects=False).status_code
        == 303
    )
    login(ctx.client, "observer")
    assert ctx.client.get(f"/stations/{ctx.stations[0]}/dossier").status_code == 403


@pytest.mark.browser
@pytest.mark.slow
def test_browser_dossier_page(browser, tmp_path, monkeypatch):
    ctx = make_ctx(tmp_path)
    sha = file_incident_with_photo(ctx, ctx.stations[0])
    code = ctx.get("admin", f"/api/stations/{ctx.stations[0]}/dossier").json()["station_id"]
    ctx.client.close()
    ctx.app.state.engine.dispose()
    stations_csv(tmp_path, code)
    monkeypatch.setenv("POLLWATCH_ANALYSIS_DIR", str(tmp_path))
    server = Server(ctx.settings).start()
    try:
        page = browser.new_context().new_page()
        page.goto(f"{server.url}/login")
        page.fill("#username", "analyst")
        page.fill("#password", "analyst-pass")
        page.click("button[type=submit]")
        page.goto(f"{server.url}/stations/{ctx.stations[0]}/dossier")
        assert page.locator("h1").inner_text() == f"Station {code}"
        summary = page.locator("#dossier-summary").inner_text()
        assert "Observers reported fraud" in summary and "forensic" in summary
        assert page.locator("#evidence tr").count() >= 3
        assert sha in page.locator("#submissions").inner_text()
    finally:
        server.kill()
