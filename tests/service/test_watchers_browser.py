"""Headless Chromium: a camera watcher files a window count on the phone page, and a camera event
with the connection down that arrives once when it returns;
the analyst's dossier page then shows the camera estimate against the official turnout and the
observers' copy against the official protocol."""

from __future__ import annotations

import pytest
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import select

from pollwatch.service import models as m

from .conftest import make_ctx  # noqa: TID252
from .test_server import Server  # noqa: TID252
from .test_watchers import assign, log, second_watcher, tally  # noqa: TID252
from .test_web import wait_until  # noqa: TID252


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
        assert (
            ctx.post(
                "camera_watcher",
                "/api/camera/tallies",
                json=tally(ctx, st4, 480 + 60 * i, c, length=60),
            ).status_code
            == 201
        )
    for i, c in ((1, 66), (2, None), (3, 38)):
        assert (
            ctx.post(
                "camera_watcher",
                "/api/camera/tallies",
                json=tally(ctx, st1, 480 + 60 * i, c, length=60),
            ).status_code
            == 201
        )
    ctx.post("camera_watcher", "/api/camera/logs", json=log(ctx, st1, 600, "turned_away"))
    ctx.post("camera_watcher", "/api/camera/logs", json=log(ctx, st1, 660, "online"))
    copy = {
        "client_id": ctx.new_id(),
        "station_id": st1,
        "numbers": {"valid": 650, "invalid": 10},
        "votes": {},
    }
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
        page.wait_for_url("**saved=1")
        assert "Received" in page.locator("#msg").inner_text()
        assert "08:00–09:00" in page.locator("#my-tallies").inner_text()
        # the connection drops: the event waits on the phone and arrives once when it returns
        page.context.set_offline(True)
        page.evaluate("window.dispatchEvent(new Event('offline'))")
        page.fill("#at", "10:15")
        page.select_option("#value", "stuffing_seen")
        page.fill("#note", "a bundle into the box")
        page.click("#log-form button[type=submit]")
        wait_until(page, "document.getElementById('msg').textContent.includes('Offline')")
        assert (
            page.evaluate("JSON.parse(localStorage.getItem('pollwatch-camera-outbox')).length") == 1
        )
        assert page.locator("#camera-unsent-count").inner_text() == "1"
        page.context.set_offline(False)
        # the browser fires "online" itself and the page may already be sending and navigating:
        # the extra event is only a nudge, and a navigation that wins the race is fine
        try:
            page.evaluate("window.dispatchEvent(new Event('online'))")
        except PlaywrightError as exc:
            assert "navigation" in str(exc) or "destroyed" in str(exc), exc
        page.wait_for_url("**saved=1")
        wait_until(
            page, "document.getElementById('my-logs').textContent.includes('Ballot stuffing seen')"
        )
        assert (
            page.evaluate("JSON.parse(localStorage.getItem('pollwatch-camera-outbox')).length") == 0
        )
        page.click("nav button")  # log out
        page.wait_for_url("**/login")  # the script clears the phone's copy first
        page.goto(f"{server.url}/login")
        page.fill("#username", "analyst")
        page.fill("#password", "analyst-pass")
        page.click("button[type=submit]")
        page.goto(f"{server.url}/stations/{st1}/dossier")
        camera = page.locator("#camera").inner_text()
        # the method's test vector: W 0.7, C 144, estimate 205.71; official ballots cast 610
        # ballots cast include the mobile box and early voters, which no camera sees: the
        # comparison is a one-sided bound, never a flag (docs/cameras.md, like with like)
        assert "206" in camera and "610" in camera and "above the upper bound" not in camera
        assert "one-sided bound" in page.locator("body").inner_text()
        assert "70 % (3 of 4 windows; 144 voters counted)" in camera
        assert page.locator("#camera-events").inner_text().count("Ballot stuffing seen") == 1
        assert page.locator("#copies tr.mismatch").count() == 1  # valid 650 against 600
        assert "600" in page.locator("#official").inner_text()
        summary = page.locator("#dossier-summary").inner_text()
        assert "cameras" in summary and "observers' protocol copy" in summary
    finally:
        server.kill()


@pytest.mark.browser
@pytest.mark.slow
def test_second_watcher_gets_a_blind_recount_in_the_browser(browser, tmp_path):
    """The design assigns a share of the first watcher's windows to the other watcher; in
    Chromium (JavaScript on) they see station and window but not the first count, file the
    re-count, and it leaves their list."""
    ctx = make_ctx(tmp_path)
    st1, st4 = ctx.stations[0], ctx.stations[3]
    assign(ctx, "camera_watcher", st4)
    second_watcher(ctx)  # watcher2, assigned to station 1
    for i in range(48):
        r = ctx.post(
            "camera_watcher", "/api/camera/tallies", json=tally(ctx, st4, 480 + 15 * i, 700 + i)
        )
        assert r.status_code == 201
    ctx.client.close()
    ctx.app.state.engine.dispose()
    server = Server(ctx.settings).start()
    try:
        page = browser.new_context().new_page()
        page.goto(f"{server.url}/login")
        page.fill("#username", "watcher2")
        page.fill("#password", "watcher2-pass")
        page.click("button[type=submit]")
        page.click(f"a[href='/watch?station={st1}']")
        forms = page.locator("form.recount-form")
        n = forms.count()
        assert n in (4, 5), n  # 10 % of 48 windows
        text = page.locator("#recounts").inner_text()
        assert not any(str(700 + i) in text for i in range(48)), text
        window = forms.first.locator(".recount-window").inner_text()
        forms.first.locator("input[name=count]").fill("31")
        forms.first.locator("button[type=submit]").click()
        page.wait_for_url("**saved=1")
        assert page.locator("form.recount-form").count() == n - 1
        assert window not in page.locator("#recounts").inner_text()
    finally:
        server.kill()
    with ctx.session() as s:
        got = s.scalars(select(m.CameraTally).where(m.CameraTally.channel == "recount")).all()
        assert [(t.count, t.station_id) for t in got] == [(31, st4)]
