"""Headless Chromium and the offline observer app (docs/offline.md): the service worker opens a
form without a connection, the IndexedDB outbox keeps a report with a downscaled 12-megapixel
photo and sends it once over an emulated slow 3G link (DevTools ``Network.
emulateNetworkConditions``), keeps it across an ended session, and a report the phone cannot
keep stays in the form with a message."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import time

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select, text

from pollwatch.service import models as m

from .conftest import make_ctx  # noqa: TID252
from .test_server import Server  # noqa: TID252
from .test_web import csp_violations, wait_until  # noqa: TID252

# Chrome DevTools' "Slow 3G" preset: 500 kbit/s down and up (x 0.8), 400 ms latency (x 5)
SLOW_3G = {
    "offline": False,
    "latency": 2000,
    "downloadThroughput": 500 * 1024 / 8 * 0.8,
    "uploadThroughput": 500 * 1024 / 8 * 0.8,
}
OFFLINE = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}


def outbox(page) -> int:
    return page.evaluate("PollwatchOutbox.count()")


def throttle_workers(browser, conditions: dict) -> None:
    """The same network conditions for the service worker, whose own requests (background
    sync) the page's DevTools session does not govern: through a browser session attached to
    the worker's target (not flattened, so Playwright's session object can carry it)."""
    cdp = browser.new_browser_cdp_session()
    targets = cdp.send("Target.getTargets")["targetInfos"]
    workers = [t for t in targets if t["type"] == "service_worker"]
    assert workers, targets
    for t in workers:
        sid = cdp.send("Target.attachToTarget", {"targetId": t["targetId"], "flatten": False})
        for i, (method, params) in enumerate(
            [("Network.enable", {}), ("Network.emulateNetworkConditions", conditions)]
        ):
            message = json.dumps({"id": i + 1, "method": method, "params": params})
            cdp.send(
                "Target.sendMessageToTarget", {"sessionId": sid["sessionId"], "message": message}
            )


def phone_photo(path) -> tuple[int, int]:
    """A 4000x3000 JPEG as a phone takes it, lying on its side: EXIF Orientation 6 says
    "turn 90 degrees clockwise to show", so it is seen as 3000x4000 (portrait)."""
    rng = np.random.default_rng(1)
    y, x = np.mgrid[0:3000, 0:4000]
    pixels = np.stack([x % 256, y % 256, (x + y) % 256], axis=-1).astype(np.int16)
    pixels += rng.integers(-20, 20, size=pixels.shape, dtype=np.int16)
    img = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    exif[0x010F] = "PhoneMaker"  # Make: metadata the phone's re-encoding must drop
    img.save(path, "JPEG", quality=92, exif=exif.tobytes())
    return img.size


def log_in(page, url: str) -> None:
    page.goto(f"{url}/login")
    page.fill("#username", "observer")
    page.fill("#password", "observer-pass")
    page.click("button[type=submit]")
    page.wait_for_url("**/stations")


def start(tmp_path):
    ctx = make_ctx(tmp_path)
    ctx.client.close()
    ctx.app.state.engine.dispose()
    return ctx, Server(ctx.settings).start()


@pytest.mark.browser
@pytest.mark.slow
def test_form_opens_offline_and_a_12_mp_photo_is_sent_once_over_slow_3g(browser, tmp_path):
    ctx, server = start(tmp_path)
    photo = tmp_path / "phone.jpg"
    assert phone_photo(photo) == (4000, 3000)
    assert photo.stat().st_size > 3_000_000  # a phone photo's size: too big for localStorage
    form = f"/file/incident?station={ctx.stations[0]}"
    try:
        context = browser.new_context()
        page = context.new_page()
        violations = csp_violations(page)
        log_in(page, server.url)
        # the worker takes the page over and keeps the forms the station list links to
        wait_until(page, "navigator.serviceWorker.controller !== null")
        wait_until(page, f"caches.match('{form}').then(r => !!r)")
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        # no connection at all (the page's and the worker's requests): the form still opens
        context.set_offline(True)
        cdp.send("Network.emulateNetworkConditions", OFFLINE)
        resp = page.goto(f"{server.url}{form}")
        assert resp is not None and resp.from_service_worker
        assert page.locator("#description").is_visible()
        assert page.evaluate("navigator.onLine") is False
        page.select_option("#category", "ballot_stuffing")
        page.fill("#description", "stuffing seen, filed offline")
        page.set_input_files("#photo", str(photo))
        page.click("button[type=submit]")
        wait_until(page, "document.getElementById('msg').textContent.includes('Offline')")
        assert outbox(page) == 1
        # where the browser has it, background sync is asked to send it too
        tags = page.evaluate("navigator.serviceWorker.ready.then(r => r.sync.getTags())")
        assert tags == ["pollwatch-outbox"]
        queued = page.evaluate(
            "PollwatchOutbox.all().then(xs => createImageBitmap(xs[0].photo).then("
            "b => [b.width, b.height, xs[0].photo.size, xs[0].photo.type]))"
        )
        assert queued[:2] == [1536, 2048], queued  # turned upright, long side 2048 px
        assert queued[2] < 1_500_000 and queued[3] == "image/jpeg", queued
        assert page.input_value("#description") == ""  # kept on the phone: the form is free
        # the connection comes back, slow: the report goes out once, with its photo
        # (the throttle first: Playwright's offline switch and this session's conditions add
        # up, so no request slips out unthrottled in between)
        cdp.send("Network.emulateNetworkConditions", SLOW_3G)
        throttle_workers(browser, SLOW_3G)
        context.set_offline(False)
        t0 = time.monotonic()
        page.evaluate("window.dispatchEvent(new Event('online'))")
        wait_until(page, "PollwatchOutbox.count().then(n => n === 0)", timeout=120)
        took = time.monotonic() - t0
        # the throttle was in force: the photo alone takes size / 51 kB/s (measured 15.5 s)
        assert took > 0.8 * queued[2] / SLOW_3G["uploadThroughput"], took
        wait_until(page, "document.getElementById('msg').textContent.includes('Received')")
        page.evaluate("window.dispatchEvent(new Event('online'))")  # sends nothing more
        time.sleep(1)
        with ctx.session() as s:
            rows = s.scalars(
                select(m.Submission).where(
                    m.Submission.description == "stuffing seen, filed offline"
                )
            ).all()
            assert len(rows) == 1
            media = s.scalars(select(m.Media).where(m.Media.submission_id == rows[0].id)).all()
            assert len(media) == 1
            stored = ctx.app.state.store.get(media[0].sha256)
        img = Image.open(io.BytesIO(stored))
        assert img.size == (1536, 2048)
        assert not img.getexif()  # no Make, no orientation: the phone re-encoded it
        # logging out leaves no outbox, no cached page, no worker on the phone
        cdp.send("Network.emulateNetworkConditions", {**SLOW_3G, "latency": 0})
        page.click("nav button")
        page.wait_for_url("**/login")
        assert page.evaluate("caches.keys()") == []
        assert page.evaluate("indexedDB.databases().then(d => d.map(x => x.name))") == []
        assert violations == []
    finally:
        server.kill()


@pytest.mark.browser
def test_a_queued_report_waits_through_a_401_until_the_next_login(browser, tmp_path):
    ctx, server = start(tmp_path)
    try:
        page = browser.new_context().new_page()
        log_in(page, server.url)
        page.goto(f"{server.url}/file/incident?station={ctx.stations[0]}")
        with ctx.app.state.engine.begin() as conn:  # the session expires
            conn.execute(
                text("UPDATE tokens SET expires_at = :t WHERE kind = 'session'"),
                {"t": m.utcnow() - dt.timedelta(seconds=1)},
            )
        page.fill("#description", "filed after the session ended")
        page.click("button[type=submit]")
        wait_until(page, "document.getElementById('msg').textContent.includes('log in again')")
        assert outbox(page) == 1
        page.evaluate("window.dispatchEvent(new Event('online'))")  # tried again: a 401 again
        time.sleep(1)
        assert outbox(page) == 1
        with ctx.session() as s:
            assert (
                s.scalar(select(m.Submission).where(m.Submission.description.like("filed%")))
                is None
            )
        log_in(page, server.url)
        wait_until(page, "PollwatchOutbox.count().then(n => n === 0)")
        with ctx.session() as s:
            rows = s.scalars(
                select(m.Submission).where(
                    m.Submission.description == "filed after the session ended"
                )
            ).all()
        assert len(rows) == 1
    finally:
        server.kill()
        ctx.app.state.engine.dispose()


# IndexedDB refuses the write as a full disk would (Chromium raises QuotaExceededError)
FAIL_PUT = """
IDBObjectStore.prototype.put = function () {
  throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
};
"""
# the browser says the origin's quota is nearly used up
FULL_ESTIMATE = """
navigator.storage.estimate = () => Promise.resolve({usage: 999990, quota: 1000000});
"""


@pytest.mark.browser
@pytest.mark.parametrize("script", [FAIL_PUT, FULL_ESTIMATE], ids=["put-fails", "estimate-full"])
def test_a_report_the_phone_cannot_keep_stays_in_the_form(browser, tmp_path, script):
    ctx, server = start(tmp_path)
    try:
        context = browser.new_context()
        page = context.new_page()
        log_in(page, server.url)
        page.add_init_script(script)
        page.goto(f"{server.url}/file/incident?station={ctx.stations[0]}")
        context.set_offline(True)
        page.fill("#description", "must not be lost")
        page.click("button[type=submit]")
        wait_until(page, "document.getElementById('msg').textContent.includes('Not saved')")
        message = page.locator("#msg").inner_text()
        assert "QuotaExceededError" in message and "still in the form" in message
        assert page.input_value("#description") == "must not be lost"
        assert page.locator("button[type=submit]").is_enabled()
        assert outbox(page) == 0
    finally:
        server.kill()


@pytest.mark.browser
def test_the_old_localstorage_outbox_moves_once_and_a_refused_report_says_why(browser, tmp_path):
    """Two reports left by the previous version in localStorage: both move to IndexedDB on the
    first page after login; the valid one (with its photo) is stored, the one the service
    refuses for good (422: no such category) leaves the phone with a message naming the cause."""
    ctx, server = start(tmp_path)
    station = ctx.stations[0]
    good = {
        "client_id": ctx.new_id(),
        "station_id": station,
        "category": "ballot_stuffing",
        "severity": "high",
        "description": "left in localStorage",
        "occurred_at": "2026-12-05T09:30",
    }
    bad = {
        **good,
        "client_id": ctx.new_id(),
        "category": "no_such_category",
        "description": "refused",
    }
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 200, 30)).save(buf, format="JPEG")
    photo = "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()
    old = [
        {"api": "/api/incidents", "body": good, "photo": photo, "photoId": ctx.new_id()},
        {"api": "/api/incidents", "body": bad},
    ]
    try:
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{server.url}/login")
        page.evaluate(
            "items => localStorage.setItem('pollwatch-outbox', JSON.stringify(items))", old
        )
        log_in(page, server.url)
        wait_until(page, "PollwatchOutbox.count().then(n => n === 0)")
        wait_until(page, "document.getElementById('msg').textContent.includes('refused')")
        assert "category" in page.locator("#msg").inner_text(), page.locator("#msg").inner_text()
        assert page.evaluate("localStorage.getItem('pollwatch-outbox')") is None
        with ctx.session() as s:
            rows = s.scalars(select(m.Submission).where(m.Submission.station_id == station)).all()
            assert [r.description for r in rows] == ["left in localStorage"], page.locator(
                "#msg"
            ).inner_text()
            assert s.scalar(select(m.Media).where(m.Media.submission_id == rows[0].id))
    finally:
        server.kill()


@pytest.mark.browser
def test_logout_warns_about_unsent_reports_then_deletes_them(browser, tmp_path):
    """A seized phone keeps no reports after logout: with one still queued (the session
    ended), logging out asks first; cancelled, it stays; confirmed, the outbox, the caches and
    the worker are gone."""
    ctx, server = start(tmp_path)
    try:
        page = browser.new_context().new_page()
        log_in(page, server.url)
        wait_until(page, "navigator.serviceWorker.controller !== null")
        page.goto(f"{server.url}/file/incident?station={ctx.stations[0]}")
        with ctx.app.state.engine.begin() as conn:
            conn.execute(
                text("UPDATE tokens SET expires_at = :t WHERE kind = 'session'"),
                {"t": m.utcnow() - dt.timedelta(seconds=1)},
            )
        page.fill("#description", "queued at logout")
        page.click("button[type=submit]")
        wait_until(page, "document.getElementById('msg').textContent.includes('log in again')")
        asked: list[str] = []

        def answer(accept: bool):
            def on_dialog(dialog) -> None:
                asked.append(dialog.message)
                dialog.accept() if accept else dialog.dismiss()

            return on_dialog

        page.once("dialog", answer(False))
        page.click("nav button")
        page.wait_for_timeout(1000)  # (Playwright delivers the dialog event while it waits)
        assert asked and "1 report(s)" in asked[0], asked
        assert "/file/incident" in page.url and outbox(page) == 1
        page.once("dialog", answer(True))
        page.click("nav button")
        page.wait_for_url("**/login")
        assert len(asked) == 2
        assert page.evaluate("caches.keys()") == []
        assert page.evaluate("indexedDB.databases().then(d => d.map(x => x.name))") == []
        assert page.evaluate("navigator.serviceWorker.getRegistrations()") == []
    finally:
        server.kill()
