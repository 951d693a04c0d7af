"""Server-rendered pages without JavaScript (TestClient) and in headless Chromium (offline path)."""

from __future__ import annotations

import io
import re
import time

import pytest
from PIL import Image
from sqlalchemy import select

from pollwatch.service import models as m

from .conftest import make_ctx  # noqa: TID252
from .test_server import Server  # noqa: TID252


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (12, 12), (250, 120, 0)).save(buf, format="PNG")
    return buf.getvalue()


def login(client, user: str) -> None:
    """Log in with the form; the session's CSRF token (read from a page's form) goes with every
    later request of ``client`` as ``X-CSRF-Token``."""
    r = client.post(
        "/login", data={"username": user, "password": f"{user}-pass"}, follow_redirects=False
    )
    assert r.status_code == 303
    client.headers["X-CSRF-Token"] = csrf_of(client.get("/").text)


def wait_until(page, expression: str, timeout: float = 30.0) -> None:
    """``page.wait_for_function`` without it: Playwright evaluates its predicate with ``eval``,
    which the pages' Content-Security-Policy forbids (``page.evaluate`` is not affected)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if page.evaluate(expression):
                return
        except Exception as exc:  # noqa: BLE001 - a navigation destroyed the context: again
            if "context was destroyed" not in str(exc):
                raise
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        time.sleep(0.05)


def csp_violations(page) -> list[str]:
    """The Content-Security-Policy violations Chromium reports on ``page`` from now on."""
    seen: list[str] = []
    page.on("console", lambda msg: "Content Security Policy" in msg.text and seen.append(msg.text))
    return seen


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', html).group(1)


class TestPages:
    def test_login_required_and_bad_password(self, ctx):
        assert ctx.client.get("/stations", follow_redirects=False).headers["location"] == "/login"
        r = ctx.client.post(
            "/login",
            data={"username": "observer", "password": "wrong"},
            headers={"Accept-Language": "ru"},
        )
        assert r.status_code == 400 and "Неверное имя пользователя" in r.text

    def test_observer_files_incident_with_photo_and_coordinator_reviews(self, ctx):
        login(ctx.client, "observer")
        page = ctx.client.get("/stations").text
        assert "Station 1" in page and "Station 2" in page and "Station 3" not in page
        form = ctx.client.get(f"/file/incident?station={ctx.stations[0]}").text
        assert "Journalist barred" in form and 'name="client_id"' in form
        r = ctx.client.post(
            "/file/incident",
            data={
                "client_id": ctx.new_id(),
                "station_id": str(ctx.stations[0]),
                "category": "carousel",
                "severity": "high",
                "occurred_at": "2026-03-01T11:20",
                "description": "two buses",
            },
            files={"photo": ("p.png", png(), "image/png")},
        )
        assert r.status_code == 200 and "Received" in r.text
        ctx.client.post("/logout")
        ctx.client.cookies.clear()
        login(ctx.client, "coordinator")
        queue = ctx.client.get("/review").text
        assert "two buses" in queue and "/published" in queue
        with ctx.session() as s:
            sid = s.scalar(select(m.Submission.id).where(m.Submission.description == "two buses"))
        r = ctx.client.post(
            f"/review/{sid}", data={"status": "verified", "reason": "photo"}, follow_redirects=False
        )
        assert r.status_code == 303
        assert "two buses" not in ctx.client.get("/review").text
        dash = ctx.client.get("/dashboard").text
        assert (
            "Carousel or group voting" in dash and "Verified" in dash
        )  # the status label, not the stored code

    def test_checklist_and_protocol_without_js(self, ctx):
        login(ctx.client, "observer")
        assert (
            "Opening of the station"
            in ctx.client.get(f"/file/checklist/opening?station={ctx.stations[0]}").text
        )
        r = ctx.client.post(
            "/file/checklist/opening",
            data={
                "client_id": ctx.new_id(),
                "station_id": str(ctx.stations[0]),
                "form": "opening",
                "a.arrived_at": "07:10",
                "a.admitted": "yes",
                "a.boxes_empty_sealed": "yes",
                "a.ballots_received": "1000",
                "a.opened_at": "08:00",
            },
        )
        assert r.status_code == 200
        r = ctx.client.post(
            "/file/protocol",
            data={
                "client_id": ctx.new_id(),
                "station_id": str(ctx.stations[0]),
                "n.valid": "600",
                "v.Alpha": "400",
                "v.Beta": "250",
            },
        )
        assert r.status_code == 200
        rows = ctx.get("coordinator", "/api/protocols").json()["data"]
        assert rows[0]["channel"] == "web" and rows[0]["flags"][0]["rule"] == "votes_ne_valid"
        assert ctx.get("coordinator", "/api/checklists").json()["data"][0]["complete"]

    def test_forbidden_pages(self, ctx):
        login(ctx.client, "observer")
        assert ctx.client.get("/review").status_code == 403
        assert ctx.client.get("/dashboard").status_code == 403
        r = ctx.client.post(
            "/file/incident",
            data={
                "client_id": ctx.new_id(),
                "station_id": str(ctx.stations[3]),
                "category": "other",
            },
        )
        assert r.status_code == 403 and "not assigned" in r.text

    @pytest.mark.parametrize(
        "lang,word", [("az", "Məntəqələrim"), ("ru", "Мои участки"), ("en", "My stations")]
    )
    def test_language_per_user(self, ctx, lang, word):
        with ctx.session() as s:
            s.get(m.User, ctx.users["observer"]).language = lang
            s.commit()
        login(ctx.client, "observer")
        assert word in ctx.client.get("/stations").text


@pytest.mark.browser
@pytest.mark.slow
def test_browser_incident_with_photo_and_offline_outbox(browser, tmp_path):
    ctx = make_ctx(tmp_path)
    ctx.client.close()
    ctx.app.state.engine.dispose()
    server = Server(ctx.settings).start()
    photo = tmp_path / "p.png"
    photo.write_bytes(png())
    try:
        page = browser.new_context().new_page()
        violations = csp_violations(page)
        page.goto(f"{server.url}/login")
        page.fill("#username", "observer")
        page.fill("#password", "observer-pass")
        page.click("button[type=submit]")
        page.wait_for_url("**/stations")
        page.click(f"a[href='/file/incident?station={ctx.stations[0]}']")
        page.select_option("#category", "ballot_stuffing")
        page.fill("#description", "stuffing seen from the door")
        page.set_input_files("#photo", str(photo))
        page.click("button[type=submit]")
        wait_until(page, "document.getElementById('msg').textContent.includes('Received')")
        # offline: the report is kept on the device, then sent once when the connection returns
        page.context.set_offline(True)
        page.evaluate("window.dispatchEvent(new Event('offline'))")
        page.select_option("#category", "vote_buying")
        page.fill("#description", "cash handed out offline")
        page.click("button[type=submit]")
        wait_until(page, "document.getElementById('msg').textContent.includes('Offline')")
        assert page.evaluate("PollwatchOutbox.count()") == 1
        page.context.set_offline(False)
        page.evaluate("window.dispatchEvent(new Event('online'))")
        wait_until(page, "PollwatchOutbox.count().then(n => n === 0)")
        page.evaluate("window.dispatchEvent(new Event('online'))")  # a second flush sends nothing
        time.sleep(0.5)
        coord = browser.new_context().new_page()
        coord.goto(f"{server.url}/login")
        coord.fill("#username", "coordinator")
        coord.fill("#password", "coordinator-pass")
        coord.click("button[type=submit]")
        coord.goto(f"{server.url}/review")
        text = coord.content()
        assert "stuffing seen from the door" in text and "cash handed out offline" in text
        assert coord.locator("img.photo").count() == 1
        assert violations == []  # no inline script or style left for the CSP to block
        with ctx.session() as s:
            rows = s.scalars(
                select(m.Submission).where(m.Submission.description == "cash handed out offline")
            ).all()
            assert len(rows) == 1
    finally:
        server.kill()
        ctx.app.state.engine.dispose()
