"""Headless Chromium: a camera watcher files a window count and a camera event on the phone page;
the analyst's dossier page then shows the camera estimate against the official turnout and the
observers' copy against the official protocol."""

from __future__ import annotations

import pytest

from .conftest import make_ctx  # noqa: TID252
from .test_server import Server  # noqa: TID252
from .test_watchers import assign, log, tally  # noqa: TID252


@pytest.mark.browser
@pytest.mark.slow
def test_watcher_files_on_the_page_and_the_dossier_shows_the_estimate(browser, tmp_path):
    ctx = make_ctx(tmp_path)
    st1, st4 = ctx.stations[0], ctx.stations[3]
    assign(ctx, "camera_watcher", st1)
    assign(ctx, "camera_watcher", st4)
    # earlier in the day, through the API: station 4 fully watched (the day profile), station 1's
    # later windows (the third one the camera was turned away); the observer's copy of station 1
    for i, c in enumerate((200, 300, 300, 200)):
        assert ctx.post("camera_watcher", "/api/camera/tallies",
                        json=tally(ctx, st4, 480 + 60 * i, c, length=60)).status_code == 201
    for i, c in ((1, 66), (2, None), (3, 38)):
        assert ctx.post("camera_watcher", "/api/camera/tallies",
                        json=tally(ctx, st1, 480 + 60 * i, c, length=60)).status_code == 201
    ctx.post("camera_watcher", "/api/camera/logs", json=log(ctx, st1, 600, "turned_away"))
    ctx.post("camera_watcher", "/api/camera/logs", json=log(ctx, st1, 660, "online"))
    copy = {"client_id": ctx.new_id(), "station_id": st1, "numbers": {"valid": 650, "invalid": 10}, "votes": {}}
    assert ctx.post("observer", "/api/protocols", json=copy).status_code == 201
    ctx.client.close()
    ctx.app.state.engine.dispose()
    server = Server(ctx.settings).start()
    try:
        page = browser.new_context().new_page()
        page.goto(f"{server.url}/login")
        page.fill("#username", "camera_watcher")
        page.fill("#password", "camera_watcher-pass")
        page.click("button[type=submit]")
        page.click(f"a[href='/watch?station={st1}']")
        page.fill("#window_start", "08:00")
        page.select_option("#window_minutes", "60")
        page.fill("#count", "40")
        page.click("#tally-form button[type=submit]")
        assert "Received" in page.locator("#msg").inner_text()
        assert "08:00–09:00" in page.locator("#my-tallies").inner_text()
        page.fill("#at", "10:15")
        page.select_option("#value", "stuffing_seen")
        page.fill("#note", "a bundle into the box")
        page.click("#log-form button[type=submit]")
        assert "Ballot stuffing seen" in page.locator("#my-logs").inner_text()
        page.click("nav button")  # log out
        page.goto(f"{server.url}/login")
        page.fill("#username", "analyst")
        page.fill("#password", "analyst-pass")
        page.click("button[type=submit]")
        page.goto(f"{server.url}/stations/{st1}/dossier")
        camera = page.locator("#camera").inner_text()
        # the method's test vector: W 0.7, C 144, estimate 205.71; official ballots cast 610
        assert "206" in camera and "610" in camera and "above the upper bound" in camera
        assert "70 % (3 of 4 windows; 144 voters counted)" in camera
        assert "Ballot stuffing seen" in page.locator("#camera-events").inner_text()
        assert page.locator("#copies tr.mismatch").count() == 1  # valid 650 against 600
        assert "600" in page.locator("#official").inner_text()
        summary = page.locator("#dossier-summary").inner_text()
        assert "cameras" in summary and "observers' protocol copy" in summary
    finally:
        server.kill()
