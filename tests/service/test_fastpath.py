"""The submission fast path answers exactly as FastAPI does: every request is sent to an app with
the fast path and to one without it (same database, same users), and the replies must agree in
status, headers and body (ids, client ids and timestamps aside). The fast path must have made
the replies it is meant to make, and left the others to FastAPI with the body intact."""

from __future__ import annotations

import asyncio
import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from pollwatch.service.api.fastpath import SubmissionFastPath, fast_route
from pollwatch.service.api.routes import incidents
from pollwatch.service.main import create_app, fast_routes

from .test_api import jpeg_with_gps  # noqa: TID252

VOLATILE = {"id", "client_id", "created_at", "updated_at"}


@pytest.fixture
def slow(ctx):
    """The same service without the fast path, on the same database."""
    app = create_app(ctx.settings, run_migrations=False, fast_path=False)
    client = TestClient(app)
    yield client
    client.close()
    app.state.engine.dispose()


def reply(r) -> tuple:
    body = r.json() if r.headers.get("content-type") == "application/json" else r.text
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in VOLATILE}
        if "receipt" in body:  # another entry, another checkpoint: both must have one or none
            body["receipt"] = body["receipt"] is not None
    headers = [(k, v) for k, v in r.headers.items() if k != "content-length"]
    return r.status_code, headers, body


def both(ctx, slow, role: str, path: str, make, once: bool = False, **kw):
    """``make()`` (a body with a fresh client id) posted to both apps, or one body to both when
    ``once`` (nothing is stored: validation errors echo the body); their replies agree."""
    headers = {**ctx.headers.get(role, {}), **kw.pop("headers", {})}
    body = make()
    fast = ctx.client.post(path, headers=headers, **_body(body, kw))
    other = slow.post(path, headers=headers, **_body(body if once else make(), kw))
    assert reply(fast) == reply(other)
    return fast


def _body(body, kw) -> dict:
    return {**kw, "json": body} if "content" not in kw else kw


def handled(ctx) -> int:
    return ctx.app.state.fast_path.handled


def test_submissions_and_their_refusals_match_fastapi(ctx, slow):
    st, other_st, unassigned = ctx.stations[0], ctx.stations[1], ctx.stations[3]
    ctx.get("observer", "/api/users/me")  # the middleware stack (and fast path) is built
    n = handled(ctx)
    cases = [
        ("observer", "/api/incidents", lambda: ctx.incident(st), 201),
        ("observer", "/api/incidents", lambda: ctx.incident(other_st, description="x\ty"), 201),
        ("observer", "/api/checklists", lambda: ctx.checklist(st), 201),
        (
            "observer",
            "/api/checklists",
            lambda: ctx.checklist(st, "voting", voters_by_noon=2000),
            201,
        ),
        ("observer", "/api/protocols", lambda: _protocol(st), 201),
        ("observer2", "/api/protocols", lambda: _protocol(st, extra_votes=10_000), 201),
        ("observer", "/api/protocols", lambda: {**_protocol(st), "votes": {"Gamma": 1}}, 422),
        ("observer", "/api/incidents", lambda: ctx.incident(unassigned), 403),
        ("observer", "/api/incidents", lambda: ctx.incident(10_000), 404),
        ("observer", "/api/incidents", lambda: ctx.incident(st, category="alien_landing"), 422),
        ("observer", "/api/checklists", lambda: ctx.checklist(st, "nonsense"), 422),
        ("observer", "/api/checklists", lambda: ctx.checklist(st, admitted="perhaps"), 422),
        ("analyst", "/api/incidents", lambda: ctx.incident(st), 403),
        ("public", "/api/checklists", lambda: ctx.checklist(st), 403),
        (  # not assigned to the station (issue 18 item 8)
            "camera_watcher",
            "/api/incidents",
            lambda: ctx.incident(st, category="camera_covered"),
            403,
        ),
    ]
    for role, path, make, status in cases:
        assert both(ctx, slow, role, path, make).status_code == status, (role, path)
    assert handled(ctx) == n + len(cases)  # all of them answered by the fast path


def test_retries_and_conflicts_match_fastapi(ctx, slow):
    st = ctx.stations[0]
    body = ctx.incident(st)
    first = ctx.post("observer", "/api/incidents", json=body)
    assert first.status_code == 201
    n = handled(ctx)
    # the retry: 200 with the stored row, as a read of it through FastAPI, and a receipt for
    # the same entry (the first reply, with its receipt, may be the one that was lost)
    seq = first.json()["receipt"].split(" ")[1]
    for client in (ctx.client, slow):
        again = client.post("/api/incidents", headers=ctx.headers["observer"], json=body)
        receipt = again.json()["receipt"]
        assert again.status_code == 200 and receipt.split(" ")[1] == seq
        assert {**again.json(), "receipt": None} == {**first.json(), "receipt": None}
        read = client.get(f"/api/incidents/{first.json()['id']}", headers=ctx.headers["observer"])
        assert {**again.json(), "receipt": None} == read.json()
    taken = ctx.post("observer2", "/api/incidents", json=body)
    other = slow.post("/api/incidents", headers=ctx.headers["observer2"], json=body)
    assert taken.status_code == 409 and reply(taken) == reply(other)
    assert handled(ctx) == n + 2


@pytest.mark.parametrize(
    "kw",
    [
        {"headers": {"Authorization": ""}},  # no token
        {"headers": {"Authorization": "Bearer not-a-token"}},
        {"headers": {"Authorization": "Basic dXNlcjpwYXNz"}},
        {"content": b'{"client_id": ', "headers": {"Content-Type": "application/json"}},
        {"content": b"", "headers": {"Content-Type": "application/json"}},
        {"content": b"[1, 2]", "headers": {"Content-Type": "application/json"}},
        {"content": b"{}", "headers": {"Content-Type": "text/plain"}},
        {"content": b"{}", "headers": {"Content-Type": "application/json; charset=utf-8"}},
    ],
)
def test_what_the_fast_path_leaves_to_fastapi_gets_fastapi_replies(ctx, slow, kw):
    ctx.get("observer", "/api/users/me")
    n = handled(ctx)
    r = both(ctx, slow, "observer", "/api/incidents", lambda: ctx.incident(ctx.stations[0]), **kw)
    assert r.status_code in (401, 422) or r.status_code == 201  # charset: FastAPI files it
    assert handled(ctx) == n


def test_invalid_bodies_get_fastapis_validation_errors(ctx, slow):
    st = ctx.stations[0]
    ctx.get("observer", "/api/users/me")
    n = handled(ctx)
    for make in (
        lambda: ctx.incident(st, severity=None, occurred_at="yesterday"),
        lambda: {k: v for k, v in ctx.incident(st).items() if k != "category"},
        lambda: ctx.incident(st, client_id="not-a-uuid"),
        lambda: ctx.incident(st, description="x" * 10_001),
        lambda: ctx.checklist(st, answers=None),
    ):
        r = both(ctx, slow, "observer", "/api/incidents", make, once=True)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"][0] == "body"
    assert handled(ctx) == n


def test_media_and_cookie_submissions_go_through_fastapi(ctx):
    st = ctx.stations[0]
    ctx.get("observer", "/api/users/me")
    n = handled(ctx)
    up = ctx.post(
        "observer",
        "/api/media",
        data={"client_id": ctx.new_id()},
        files={"file": ("a.jpg", jpeg_with_gps(), "image/jpeg")},
    )
    assert up.status_code == 201, up.text
    r = ctx.post("observer", "/api/incidents", json=ctx.incident(st, media_ids=[up.json()["id"]]))
    assert r.status_code == 201
    token = ctx.headers["observer"]["Authorization"].split()[1]
    cookie = TestClient(ctx.app, cookies={ctx.settings.session_cookie: token})
    assert cookie.post("/api/incidents", json=ctx.incident(st)).status_code == 201
    assert handled(ctx) == n


def test_a_body_in_several_chunks_is_read_whole_and_replayed_whole(ctx):
    """Straight through the middleware: a valid body in two chunks is filed by the fast path;
    an invalid one in two chunks reaches FastAPI whole (its error names the last position)."""
    ctx.get("observer", "/api/users/me")
    fast: SubmissionFastPath = ctx.app.state.fast_path
    token = ctx.headers["observer"]["Authorization"].encode()
    good = json.dumps(ctx.incident(ctx.stations[0])).encode()
    bad = good[:-1]  # the closing brace missing

    def call(body: bytes) -> tuple[int, dict]:
        parts = [body[:10], body[10:]]
        sent: list[dict] = []

        async def receive():
            chunk = parts.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(parts)}

        async def send(message):
            sent.append(message)

        scope = {
            "type": "http",
            "method": "POST",
            "path": "/api/incidents",
            "root_path": "",
            "query_string": b"",
            "scheme": "http",
            "server": ("test", 80),
            "app": ctx.app,
            "headers": [(b"authorization", token), (b"content-type", b"application/json")],
            "http_version": "1.1",
            "client": ("127.0.0.1", 1),
        }
        # in a thread of its own: a browser test earlier in the session may leave a loop running
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, fast(scope, receive, send)).result()
        return sent[0]["status"], json.loads(b"".join(m.get("body", b"") for m in sent[1:]))

    n = fast.handled
    status, body = call(good)
    assert status == 201 and body["description"] == "box stuffed" and fast.handled == n + 1
    status, body = call(bad)
    assert status == 422 and body["detail"][0]["type"] == "json_invalid"
    assert body["detail"][0]["loc"] == ["body", len(bad)] and fast.handled == n + 1


def test_routes_that_need_more_than_the_fast_path_provides_are_refused():
    assert set(fast_routes()) == {"/api/incidents", "/api/checklists", "/api/protocols"}
    listing = next(r for r in incidents.router.routes if r.methods == {"GET"})
    with pytest.raises(ValueError, match="parameters the fast path does not provide"):
        fast_route(listing)


def _protocol(station: int, extra_votes: int = 0) -> dict:
    return {
        "client_id": str(uuid.uuid4()),
        "station_id": station,
        "numbers": {"registered": 1000, "valid": 600, "invalid": 10},
        "votes": {"Alpha": 400 + extra_votes, "Beta": 200},
    }
