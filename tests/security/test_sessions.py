"""Issue 18 item 6 (sessions) and the four-eyes part of item 8, one test per attack.

The service fixtures (``ctx``: an app with users of every role on SQLite, and on PostgreSQL
where the backend matters) are tests/service/conftest.py's, loaded from its file (the test
directories are not packages).
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
import statistics
import sys
import time
import types
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, text
from typer.testing import CliRunner

from pollwatch.cli import app as cli
from pollwatch.service import crud, security
from pollwatch.service import models as m
from pollwatch.service.sources.evidence import verify_database


def _load(name: str):
    """tests/service/<name>.py as a module of a package named ``_service_tests`` (their
    relative imports of each other work)."""
    pkg = "_service_tests"
    if pkg not in sys.modules:
        package = types.ModuleType(pkg)
        package.__path__ = [str(Path(__file__).resolve().parents[1] / "service")]
        sys.modules[pkg] = package
    return importlib.import_module(f"{pkg}.{name}")


_svc = _load("conftest")
ctx, pg, _fast_hashing = _svc.ctx, _svc.pg, _svc._fast_hashing  # fixtures, used by name
# ``ctx`` runs each test on SQLite and PostgreSQL (the token caches are PostgreSQL's); ``sq``
# only on SQLite, for defences that do not touch the database backend


@pytest.fixture
def sq(tmp_path):
    """The populated app on SQLite only (the defence does not depend on the backend)."""
    c = _svc.make_ctx(tmp_path)
    yield c
    c.client.close()
    c.app.state.engine.dispose()


def api_login(c, user: str, password: str, **kw):
    return c.client.post(
        "/api/login/access-token", data={"username": user, "password": password}, **kw
    )


def page_login(client, user: str, password: str | None = None):
    return client.post(
        "/login",
        data={"username": user, "password": password or f"{user}-pass"},
        follow_redirects=False,
    )


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', html).group(1)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def eventually(check, timeout: float = 5.0) -> bool:
    """PostgreSQL token caches of other connections hear a change within milliseconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


# ----------------------------------------------------------------------------------------------
# login throttling


class TestThrottling:
    def test_60_wrong_passwords_then_the_right_one_is_429(self, sq):
        codes = [api_login(sq, "observer", f"guess-{i}").status_code for i in range(60)]
        assert codes[:5] == [400] * 5 and codes[-1] == 429
        r = api_login(sq, "observer", "observer-pass")
        assert r.status_code == 429
        assert int(r.headers["Retry-After"]) >= 1

    def test_the_login_page_is_throttled_too(self, sq):
        for i in range(60):
            page_login(sq.client, "observer", f"guess-{i}")
        r = page_login(sq.client, "observer")
        assert r.status_code == 429 and "Retry-After" in r.headers
        assert "pollwatch_session" not in r.cookies

    def test_one_address_trying_many_accounts(self, sq):
        codes = [api_login(sq, f"nobody-{i}", "guess-guess").status_code for i in range(60)]
        assert codes[0] == 400 and codes[-1] == 429
        assert api_login(sq, "analyst", "analyst-pass").status_code == 429

    def test_many_addresses_guessing_one_account(self, sq):
        # behind a configured proxy, X-Forwarded-For names the client: 40 addresses, 2 guesses
        # each stay under the pair's limit, but the account's own counter locks it
        sq.settings.trusted_proxies = ["testclient"]
        for i in range(40):
            for _ in range(2):
                api_login(sq, "observer", "guess-guess", headers={"X-Forwarded-For": f"10.0.0.{i}"})
        r = api_login(sq, "observer", "observer-pass", headers={"X-Forwarded-For": "10.9.9.9"})
        assert r.status_code == 429
        # another account from those addresses is not locked
        r = api_login(sq, "analyst", "analyst-pass", headers={"X-Forwarded-For": "10.9.9.9"})
        assert r.status_code == 200

    def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(self, sq):
        for i in range(10):
            api_login(sq, "observer", "guess-guess", headers={"X-Forwarded-For": f"10.1.0.{i}"})
        r = api_login(sq, "observer", "observer-pass", headers={"X-Forwarded-For": "10.1.1.1"})
        assert r.status_code == 429  # the spoofed header did not make ten clients

    def test_right_passwords_are_never_throttled(self, sq):
        for _ in range(30):
            assert api_login(sq, "observer", "observer-pass").status_code == 200


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_throttle_backoff_grows_then_unlocks_and_forgets():
    from pollwatch.service.throttle import LoginThrottle, TooManyAttempts

    clock = Clock()
    t = LoginThrottle(free=2, account_free=100, address_free=100, max_backoff=8, clock=clock)
    waits = []
    for _ in range(8):
        try:
            t.attempt("alice", "1.2.3.4")
        except TooManyAttempts as exc:
            waits.append(exc.retry_after)
            clock.now += exc.retry_after  # the client waits as told, and fails again
            t.attempt("alice", "1.2.3.4")
    assert waits == [1, 2, 4, 8, 8]  # doubling, capped at max_backoff
    with pytest.raises(TooManyAttempts):
        t.attempt("Alice ", "1.2.3.4")  # the same account however it is typed
    t.attempt("alice", "5.6.7.8")  # another address: its own pair
    clock.now += 3601 + 8  # an hour without failures: forgotten
    for _ in range(2):
        t.attempt("alice", "1.2.3.4")
    t.succeeded("alice", "1.2.3.4")
    t.attempt("alice", "1.2.3.4")  # the success cleared the pair


def test_throttle_memory_is_bounded():
    from pollwatch.service.throttle import LoginThrottle

    t = LoginThrottle(max_keys=1000, clock=Clock())
    for i in range(5000):
        t.attempt(f"user-{i}", f"10.0.{i % 200}.1")
    assert len(t._counters) <= 1000 + 3


# ----------------------------------------------------------------------------------------------
# username enumeration by timing


class TestTiming:
    @pytest.fixture
    def slow_hash(self, sq, monkeypatch):
        """A hasher costly enough (~10 ms) for the difference to stand out of the noise; a user
        hashed with it (a password's cost is in its hash)."""
        monkeypatch.setattr(
            security, "_hasher", PasswordHasher(time_cost=2, memory_cost=16384, parallelism=1)
        )
        with sq.session() as s:
            admin = s.get(m.User, sq.users["admin"])
            crud.create_user(s, admin, username="real", password="real-password", role="observer")
            gone = crud.create_user(
                s, admin, username="gone", password="gone-password", role="observer"
            )
            gone.active = False
            s.commit()
        return sq

    def test_unknown_and_deactivated_users_take_as_long_as_a_wrong_password(self, slow_hash):
        times: dict[str, list[float]] = {"real": [], "nobody": [], "gone": []}
        with slow_hash.session() as s:
            for _ in range(9):
                for name in times:
                    t0 = time.perf_counter()
                    assert crud.authenticate(s, name, "wrong-password") is None
                    times[name].append(time.perf_counter() - t0)
        real = statistics.median(times["real"])
        for name in ("nobody", "gone"):
            ratio = statistics.median(times[name]) / real
            assert 0.25 < ratio < 4, (name, ratio, times)  # before the fix: ~0.01

    def test_the_dummy_hash_is_verified(self, sq, monkeypatch):
        calls = []
        real = security.verify_password
        monkeypatch.setattr(security, "verify_password", lambda h, p: calls.append(h) or real(h, p))
        with sq.session() as s:
            assert crud.authenticate(s, "nobody", "whatever-pw") is None
        assert len(calls) == 1 and calls[0].startswith("$argon2id$")


# ----------------------------------------------------------------------------------------------
# tokens: expiry, rotation, logout


class TestTokens:
    def test_tokens_expire(self, ctx):
        r = api_login(ctx, "observer", "observer-pass")
        token = r.json()["access_token"]
        with ctx.session() as s:
            row = s.scalar(select(m.Token).where(m.Token.token_hash == security.hash_token(token)))
            left = row.expires_at - m.utcnow()
        assert dt.timedelta(hours=11.9) < left <= dt.timedelta(hours=12)
        assert ctx.client.get("/api/users/me", headers=bearer(token)).status_code == 200
        with ctx.app.state.engine.begin() as c:  # twelve hours later
            c.execute(
                text("UPDATE tokens SET expires_at = :t WHERE token_hash = :h"),
                {"t": m.utcnow() - dt.timedelta(seconds=1), "h": security.hash_token(token)},
            )
        ctx.app.state.tokens and ctx.app.state.tokens.invalidate()  # (psql notifies nobody)
        assert ctx.client.get("/api/users/me", headers=bearer(token)).status_code == 401

    def test_a_cached_token_expires_on_time(self, ctx):
        with ctx.session() as s:
            user = s.get(m.User, ctx.users["observer"])
            token = crud.issue_token(s, user, lifetime=dt.timedelta(seconds=1.5))
            s.commit()
        assert ctx.client.get("/api/users/me", headers=bearer(token)).status_code == 200
        time.sleep(1.7)
        assert ctx.client.get("/api/users/me", headers=bearer(token)).status_code == 401

    def test_refresh_rotates_the_token(self, ctx):
        old = api_login(ctx, "observer", "observer-pass").json()["access_token"]
        r = ctx.client.post("/api/login/refresh", headers=bearer(old))
        assert r.status_code == 200
        new = r.json()["access_token"]
        assert new != old
        assert ctx.client.get("/api/users/me", headers=bearer(old)).status_code == 401
        assert ctx.client.get("/api/users/me", headers=bearer(new)).status_code == 200

    def test_logout_ends_the_cookie_session(self, ctx):
        assert page_login(ctx.client, "coordinator").status_code == 303
        cookie = ctx.client.cookies["pollwatch_session"]
        assert ctx.client.get("/api/users/me").status_code == 200  # the cookie works on the API
        r = ctx.client.post("/api/logout")  # the API's logout, with the cookie
        assert r.status_code == 204
        ctx.client.cookies.clear()
        stolen = {"Cookie": f"pollwatch_session={cookie}"}
        assert ctx.client.get("/api/users/me", headers=stolen).status_code == 401
        r = ctx.client.get("/dashboard", headers=stolen, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login"

    def test_page_logout_ends_the_cookie_session(self, ctx):
        page_login(ctx.client, "coordinator")
        cookie = ctx.client.cookies["pollwatch_session"]
        token = csrf_of(ctx.client.get("/dashboard").text)
        r = ctx.client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
        assert r.status_code == 303
        ctx.client.cookies.clear()
        stolen = {"Cookie": f"pollwatch_session={cookie}"}
        assert ctx.client.get("/api/users/me", headers=stolen).status_code == 401

    def test_the_migration_gives_old_tokens_twelve_hours(self, tmp_path):
        from alembic import command

        from pollwatch.service.db import alembic_config, make_engine

        url = f"sqlite:///{tmp_path}/old.db"
        command.upgrade(alembic_config(url), "0002")
        engine = make_engine(url)
        with engine.begin() as c:
            c.execute(
                text(
                    "INSERT INTO users (username, password_hash, role, full_name, language,"
                    " active, created_at) VALUES ('u', 'x', 'observer', '', 'en', 1, :t)"
                ),
                {"t": m.utcnow()},
            )
            c.execute(
                text(
                    "INSERT INTO tokens (user_id, token_hash, kind, created_at)"
                    " VALUES (1, 'h', 'api', :t)"
                ),
                {"t": m.utcnow() - dt.timedelta(days=300)},
            )
        command.upgrade(alembic_config(url), "head")
        with engine.begin() as c:
            expires = c.execute(text("SELECT expires_at FROM tokens")).scalar_one()
        engine.dispose()
        left = dt.datetime.fromisoformat(str(expires)) - m.utcnow()
        assert dt.timedelta(hours=11.9) < left <= dt.timedelta(hours=12)

    def test_login_rotates_a_planted_session_cookie(self, ctx):
        page_login(ctx.client, "observer")
        first = ctx.client.cookies["pollwatch_session"]
        page_login(ctx.client, "observer")
        assert ctx.client.cookies["pollwatch_session"] != first
        ctx.client.cookies.clear()
        stolen = {"Cookie": f"pollwatch_session={first}"}
        assert ctx.client.get("/api/users/me", headers=stolen).status_code == 401


# ----------------------------------------------------------------------------------------------
# user administration, audited


class TestAdministration:
    def verify(self, ctx):
        return verify_database(ctx.settings.database_url, ctx.settings.data_dir)

    def test_api_deactivate_revokes_and_verify_stays_green(self, ctx):
        uid = ctx.users["observer"]
        assert ctx.get("observer", "/api/users/me").status_code == 200  # cached on PostgreSQL
        r = ctx.post("admin", f"/api/users/{uid}/deactivate")
        assert r.status_code == 200 and r.json()["active"] is False
        assert ctx.get("observer", "/api/users/me").status_code == 401
        assert api_login(ctx, "observer", "observer-pass").status_code == 400
        res = self.verify(ctx)
        assert res.ok, res.problems
        assert ctx.post("admin", f"/api/users/{uid}/activate").status_code == 200
        assert api_login(ctx, "observer", "observer-pass").status_code == 200
        assert self.verify(ctx).ok

    def test_deactivating_by_sql_breaks_verify(self, ctx):
        with ctx.app.state.engine.begin() as c:
            c.execute(text("UPDATE users SET active = false WHERE username = 'observer'"))
        res = self.verify(ctx)
        assert not res.ok and any("changed outside the service" in p for p in res.problems)

    def test_set_role_reset_password_revoke_tokens(self, ctx):
        uid = ctx.users["observer"]
        r = ctx.post("admin", f"/api/users/{uid}/role", json={"role": "analyst"})
        assert r.status_code == 200 and r.json()["role"] == "analyst"
        assert ctx.get("observer", "/api/users/me").json()["role"] == "analyst"
        r = ctx.post("admin", f"/api/users/{uid}/password", json={"password": "new-password-1"})
        assert r.status_code == 200
        assert ctx.get("observer", "/api/users/me").status_code == 401  # its tokens went
        assert api_login(ctx, "observer", "observer-pass").status_code == 400
        token = api_login(ctx, "observer", "new-password-1").json()["access_token"]
        r = ctx.post("admin", f"/api/users/{uid}/revoke-tokens")
        assert r.status_code == 200 and r.json() == {"revoked": 1}
        assert ctx.client.get("/api/users/me", headers=bearer(token)).status_code == 401
        res = self.verify(ctx)
        assert res.ok, res.problems
        with ctx.session() as s:
            actions = [
                a
                for (a,) in s.execute(
                    # in chain order: the (entity, entity_id) index would give another
                    select(m.AuditLog.action)
                    .where(m.AuditLog.entity == "user")
                    .order_by(m.AuditLog.seq)
                ).all()
            ]
        assert actions[-3:] == ["set_role", "reset_password", "revoke_tokens"]

    @pytest.mark.parametrize("role", ["coordinator", "observer", "analyst"])
    def test_only_admins_administer(self, ctx, role):
        uid = ctx.users["observer2"]
        for path, body in (
            ("deactivate", None),
            ("role", {"role": "admin"}),
            ("password", {"password": "taken-over-1"}),
            ("revoke-tokens", None),
        ):
            assert ctx.post(role, f"/api/users/{uid}/{path}", json=body).status_code == 403

    def test_an_admin_cannot_deactivate_themself(self, ctx):
        uid = ctx.users["admin"]
        assert ctx.post("admin", f"/api/users/{uid}/deactivate").status_code == 403

    def test_cli_deactivate_then_verify(self, ctx, monkeypatch):
        url, data = ctx.settings.database_url, str(ctx.settings.data_dir)
        monkeypatch.setenv("POLLWATCH_DATABASE_URL", url)
        monkeypatch.setenv("POLLWATCH_DATA_DIR", data)
        run = CliRunner().invoke
        assert ctx.get("observer", "/api/users/me").status_code == 200
        r = run(cli, ["users", "deactivate", "observer", "--database", url, "--data-dir", data])
        assert r.exit_code == 0 and "deactivated 'observer'" in r.output, r.output
        assert eventually(lambda: ctx.get("observer", "/api/users/me").status_code == 401)
        for args in (
            ["set-role", "observer2", "analyst"],
            ["reset-password", "observer2", "--password", "another-pass-1"],
            ["revoke-tokens", "camera_watcher"],
        ):
            r = run(cli, ["users", *args])
            assert r.exit_code == 0, r.output
        assert eventually(lambda: ctx.get("camera_watcher", "/api/users/me").status_code == 401)
        res = self.verify(ctx)
        assert res.ok, res.problems
        r = run(cli, ["evidence", "verify", "--database", url, "--data-dir", data])
        assert r.exit_code == 0, r.output
        r = run(cli, ["users", "deactivate", "nobody"])
        assert r.exit_code == 1 and "User not found" in r.output


# ----------------------------------------------------------------------------------------------
# CSRF, security headers, /docs, cookies


class TestBrowser:
    def queue_item(self, c) -> int:
        r = c.post("observer", "/api/incidents", json=c.incident(c.stations[0]))
        assert r.status_code == 201
        return r.json()["id"]

    def test_a_cookie_form_without_the_csrf_token_is_refused(self, sq):
        sid = self.queue_item(sq)
        page_login(sq.client, "coordinator")
        form = {"status": "verified", "reason": ""}
        r = sq.client.post(f"/review/{sid}", data=form, follow_redirects=False)
        assert r.status_code == 403
        r = sq.client.post(f"/review/{sid}", data={**form, "csrf_token": "0" * 64})
        assert r.status_code == 403
        r = sq.client.post("/logout", follow_redirects=False)
        assert r.status_code == 403  # a forged logout neither
        token = csrf_of(sq.client.get("/review").text)
        r = sq.client.post(
            f"/review/{sid}", data={**form, "csrf_token": token}, follow_redirects=False
        )
        assert r.status_code == 303
        with sq.session() as s:
            assert s.get(m.Submission, sid).status == "verified"

    def test_another_origin_is_refused_on_cookie_requests(self, sq):
        sid = self.queue_item(sq)
        page_login(sq.client, "coordinator")
        token = csrf_of(sq.client.get("/review").text)
        evil = {"Origin": "https://evil.example"}
        r = sq.client.post(
            f"/review/{sid}", data={"status": "verified", "csrf_token": token}, headers=evil
        )
        assert r.status_code == 403
        r = sq.client.post(f"/api/review/{sid}", json={"status": "verified"}, headers=evil)
        assert r.status_code == 403
        r = sq.client.post(
            "/api/incidents",
            json=sq.incident(sq.stations[0]),
            headers={"Referer": "https://evil.example/page"},
        )
        assert r.status_code == 403
        # the same origin passes; bearer-token calls are not a browser's and are exempt
        same = {"Origin": "http://testserver"}
        assert sq.client.get("/api/users/me", headers=same).status_code == 200
        sq.client.cookies.clear()
        r = sq.client.post(
            "/api/incidents",
            json=sq.incident(sq.stations[0]),
            headers={**sq.headers["observer"], **evil},
        )
        assert r.status_code == 201
        # a server's POST without the session cookie (the SMS gateway's) is not a browser's
        r = sq.client.post("/api/sms", data={"from": "+1", "text": "x"}, headers=evil)
        assert "Cross-origin" not in r.text  # refused, if at all, for want of the SMS secret

    def test_login_csrf_from_another_origin_is_refused(self, sq):
        r = sq.client.post(
            "/login",
            data={"username": "observer", "password": "observer-pass"},
            headers={"Origin": "https://evil.example"},
            follow_redirects=False,
        )
        assert r.status_code == 403 and "pollwatch_session" not in r.cookies

    @pytest.mark.parametrize("path", ["/login", "/health", "/static/offline.js"])
    def test_security_headers(self, sq, path):
        h = sq.client.get(path).headers
        assert "default-src 'self'" in h["content-security-policy"]
        assert "frame-ancestors 'none'" in h["content-security-policy"]
        assert "unsafe-inline" not in h["content-security-policy"]
        assert h["x-frame-options"] == "DENY"
        assert h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "same-origin"

    def test_the_fast_path_answers_carry_the_headers(self, sq):
        r = sq.post("observer", "/api/incidents", json=sq.incident(sq.stations[0]))
        assert r.status_code == 201 and r.headers["x-content-type-options"] == "nosniff"

    def test_pages_have_no_inline_script_or_style(self, sq):
        page_login(sq.client, "camera_watcher")
        pages = [sq.client.get(f"/watch?station={sq.stations[0]}").text]
        page_login(sq.client, "coordinator")
        pages += [sq.client.get(p).text for p in ("/dashboard", "/review")]
        for html in pages:
            assert "<style" not in html and " style=" not in html
            assert not re.search(r"<script(?![^>]*\bsrc=)", html)

    def test_docs_do_not_load_a_cdn(self, sq):
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert sq.client.get(path).status_code == 404

    def test_docs_schema_only_when_configured(self, tmp_path):
        c = _svc.make_ctx(tmp_path)
        try:
            c.settings.docs = True
            from pollwatch.service.main import create_app

            app = create_app(c.settings, run_migrations=False)
            from fastapi.testclient import TestClient

            with TestClient(app) as client:
                assert client.get("/openapi.json").status_code == 200
                assert client.get("/docs").status_code == 404
            app.state.engine.dispose()
        finally:
            c.client.close()
            c.app.state.engine.dispose()

    def test_session_cookie_flags(self, sq):
        r = page_login(sq.client, "observer")
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie
        assert "max-age=43200" in cookie  # 12 hours
        sq.settings.behind_tls = True  # a TLS proxy in front: Secure although the hop is HTTP
        r = page_login(sq.client, "observer")
        assert "secure" in r.headers["set-cookie"].lower()
        sq.settings.behind_tls = False
        r = sq.client.post(
            "https://testserver/login",
            data={"username": "analyst", "password": "analyst-pass"},
            follow_redirects=False,
        )
        assert "secure" in r.headers["set-cookie"].lower()


# ----------------------------------------------------------------------------------------------
# four eyes


class TestFourEyes:
    def test_a_coordinator_cannot_verify_their_own_incident(self, ctx):
        r = ctx.post("coordinator", "/api/incidents", json=ctx.incident(ctx.stations[0]))
        assert r.status_code == 201
        sid = r.json()["id"]
        for status in ("verified", "rejected"):
            r = ctx.post(
                "coordinator",
                f"/api/review/{sid}",
                json={"status": status, "reason": "mine"},
            )
            assert r.status_code == 403, status
        public = ctx.client.get("/api/public/submissions").json()
        assert sid not in [i["id"] for i in public]
        for on in (True, False):  # nor keeps it out of, or lets it back into, the results
            r = ctx.post("coordinator", f"/api/review/{sid}/quarantine", json={"quarantined": on})
            assert r.status_code == 403
        r = ctx.post("admin", f"/api/review/{sid}", json={"status": "verified"})
        assert r.status_code == 200 and r.json()["status"] == "verified"  # another's eyes
        assert sid in [i["id"] for i in ctx.client.get("/api/public/submissions").json()]

    def test_nor_on_the_review_page(self, ctx):
        r = ctx.post("coordinator", "/api/incidents", json=ctx.incident(ctx.stations[0]))
        sid = r.json()["id"]
        page_login(ctx.client, "coordinator")
        token = csrf_of(ctx.client.get("/review").text)
        r = ctx.client.post(f"/review/{sid}", data={"status": "verified", "csrf_token": token})
        assert r.status_code == 403
        with ctx.session() as s:
            assert s.get(m.Submission, sid).status == "new"


@pytest.mark.browser
@pytest.mark.slow
def test_an_ended_session_keeps_the_phone_s_reports_queued(browser, tmp_path):
    """Tokens now expire: a report filed after the observer's session ended stays in the
    phone's outbox (it was dropped on a 4xx) and goes out after the next login."""
    server_mod = _load("test_server")
    c = _svc.make_ctx(tmp_path)
    c.client.close()
    c.app.state.engine.dispose()
    server = server_mod.Server(c.settings).start()
    try:
        page = browser.new_context().new_page()
        seen: list[str] = []
        page.on("console", lambda msg: "Content Security Policy" in msg.text and seen.append(1))
        page.goto(f"{server.url}/login")
        page.fill("#username", "observer")
        page.fill("#password", "observer-pass")
        page.click("button[type=submit]")
        page.wait_for_url("**/stations")
        page.goto(f"{server.url}/file/incident?station={c.stations[0]}")
        engine = c.app.state.engine  # disposed: reconnects for this statement
        with engine.begin() as conn:  # twelve hours later
            conn.execute(
                text("UPDATE tokens SET expires_at = :t WHERE kind = 'session'"),
                {"t": m.utcnow() - dt.timedelta(seconds=1)},
            )
        page.fill("#description", "filed after the session ended")
        page.click("button[type=submit]")
        deadline = time.monotonic() + 30
        while "log in again" not in page.evaluate("document.getElementById('msg').textContent"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert page.evaluate("PollwatchOutbox.count()") == 1
        page.goto(f"{server.url}/login")
        page.fill("#username", "observer")
        page.fill("#password", "observer-pass")
        page.click("button[type=submit]")
        page.wait_for_url("**/stations")
        deadline = time.monotonic() + 30
        while page.evaluate("PollwatchOutbox.count()"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        with c.session() as s:
            rows = s.scalars(
                select(m.Submission).where(
                    m.Submission.description == "filed after the session ended"
                )
            ).all()
        assert len(rows) == 1
        assert seen == []
    finally:
        server.kill()
        c.app.state.engine.dispose()
