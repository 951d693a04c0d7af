"""The per-process token cache (PostgreSQL): a user seen before is served without a lookup, and a
logout, a deactivation or a role change made through any process holds in every other one
within the notification time (well under a second), not after the TTL."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import event, select, text

from pollwatch.service import crud, security
from pollwatch.service import models as m
from pollwatch.service.main import create_app
from pollwatch.service.throughput import tokens

from .conftest import database_url, drop_database, make_ctx  # noqa: TID252

TTL = 3600.0  # far beyond every wait below: a revocation seen in time was not the TTL


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.postgres)])
def two(request, tmp_path):
    """Two apps on one PostgreSQL database, as two uvicorn workers would be."""
    from fastapi.testclient import TestClient

    a = make_ctx(tmp_path, database_url(request, tmp_path))
    b_app = create_app(a.settings, run_migrations=False)
    for app in (a.app, b_app):
        app.state.tokens = tokens.TokenCache(app.state.engine, ttl=TTL, poll=0.2)
    b = TestClient(b_app)
    yield a, b
    b.close()
    a.client.close()
    b_app.state.engine.dispose()
    a.app.state.engine.dispose()
    drop_database(request, a.settings.database_url)


def eventually(check, timeout: float = 5.0) -> float:
    """Seconds until ``check()`` held; fails after ``timeout``."""
    t0 = time.monotonic()
    while not check():
        assert time.monotonic() - t0 < timeout, "not within the notification time"
        time.sleep(0.01)
    return time.monotonic() - t0


def warm(client, headers, cache) -> None:
    """Requests until the user is served from ``cache`` (the listener connects asynchronously)."""
    digest = security.hash_token(headers["Authorization"][7:])

    def cached() -> bool:
        assert client.get("/api/users/me", headers=headers).status_code == 200
        return cache.get(digest) is not None

    eventually(cached)


def test_cached_user_is_served_without_a_lookup(two):
    a, _ = two
    h = a.headers["observer"]
    warm(a.client, h, a.app.state.tokens)
    seen = []
    engine = a.app.state.engine

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        r = a.client.get("/api/users/me", headers=h)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert r.status_code == 200 and r.json()["username"] == "observer"
    assert not any("tokens" in s for s in seen), seen


def test_logout_in_one_process_holds_in_the_other(two):
    a, b = two
    h = a.headers["observer"]
    warm(b, h, b.app.state.tokens)
    assert a.client.post("/api/logout", headers=h).status_code == 204
    took = eventually(lambda: b.get("/api/users/me", headers=h).status_code == 401)
    assert took < 1.0
    assert a.client.get("/api/users/me", headers=h).status_code == 401


def test_deactivation_and_role_change_hold_in_every_process(two):
    a, b = two
    obs, obs2 = a.headers["observer"], a.headers["observer2"]
    for client, cache in ((a.client, a.app.state.tokens), (b, b.app.state.tokens)):
        warm(client, obs, cache)
        warm(client, obs2, cache)
    with a.session() as s:  # as crud would: an ORM change, committed
        s.get(m.User, a.users["observer"]).active = False
        s.get(m.User, a.users["observer2"]).role = "analyst"
        s.commit()
    for client in (a.client, b):
        eventually(lambda c=client: c.get("/api/users/me", headers=obs).status_code == 401)
        eventually(
            lambda c=client: c.get("/api/users/me", headers=obs2).json()["role"] == "analyst"
        )
    # and the new role's permissions apply: analysts file nothing
    inc = a.incident(a.stations[0])
    assert b.post("/api/incidents", json=inc, headers=obs2).status_code == 403


def test_a_rolled_back_change_invalidates_nothing(two):
    a, b = two
    h = a.headers["observer"]
    cache = b.app.state.tokens
    warm(b, h, cache)
    generation = cache.generation
    with a.session() as s:
        s.get(m.User, a.users["observer"]).active = False
        s.flush()
        s.rollback()
    time.sleep(0.5)
    assert cache.generation == generation
    assert b.get("/api/users/me", headers=h).status_code == 200


def test_without_its_listener_the_cache_answers_nothing_until_it_is_back(two):
    a, _ = two
    cache = a.app.state.tokens
    h = a.headers["observer"]
    warm(a.client, h, cache)
    digest = security.hash_token(h["Authorization"][7:])
    with a.session() as s:  # the listener's backend goes away (server restart, network)
        s.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query LIKE 'LISTEN%'"
            )
        )
        s.commit()
    eventually(lambda: cache.get(digest) is None)
    # a token revoked while nobody listened is not served from an old entry
    with a.session() as s:
        crud.revoke_token(s, h["Authorization"][7:])
        s.commit()
    assert a.client.get("/api/users/me", headers=h).status_code == 401
    eventually(lambda: cache.live)  # it reconnects by itself
    warm(a.client, a.headers["observer2"], cache)


def test_a_lookup_that_raced_a_change_is_not_stored(two):
    a, _ = two
    cache = a.app.state.tokens
    warm(a.client, a.headers["admin"], cache)
    with a.session() as s:
        user = s.scalar(select(m.User).where(m.User.username == "observer"))
    before = cache.generation
    cache.invalidate()  # a notification between the lookup and the put
    cache.put("digest", user, before)
    assert cache.get("digest") is None
    cache.put("digest", user, cache.generation)
    assert cache.get("digest").username == "observer"


def test_sqlite_has_no_cache(tmp_path):
    c = make_ctx(tmp_path)
    try:
        assert c.app.state.tokens is None
        assert c.get("observer", "/api/users/me").status_code == 200
        assert c.post("observer", "/api/logout").status_code == 204
        assert c.get("observer", "/api/users/me").status_code == 401
    finally:
        c.client.close()
        c.app.state.engine.dispose()
