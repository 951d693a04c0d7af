"""Issue 18 item 7: malformed input gave 500s. Every field is bounded and validated the same
way on the API (``schemas``: path, query and body), the web forms and SMS; each malformed
input of the issue is a 4xx with a message, on SQLite and PostgreSQL (where over-long strings,
NUL and 32-bit overflows are the database's errors)."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

BIG = 2**64  # beyond 64 bits
INT4 = 2**40  # beyond PostgreSQL INTEGER
SUR = "\ud800"  # a lone surrogate
WHEN = "2026-03-01T08:00:00"


def raw(ctx, role: str, method: str, path: str, body=None, **kw):
    """``body`` as JSON with non-ASCII escaped (a lone surrogate travels as ``\\ud800``)."""
    headers = dict(ctx.headers.get(role, {}))
    if body is not None:
        headers["Content-Type"] = "application/json"
        kw["content"] = json.dumps(body, ensure_ascii=True)
    return ctx.client.request(method, path, headers=headers, **kw)


def cid() -> str:
    return str(uuid.uuid4())


def tally(st_, **kw):
    return {"client_id": cid(), "station_id": st_, "window_start": WHEN,
            "window_end": "2026-03-01T08:10:00", "count": 3, **kw}  # fmt: skip


def log(st_, **kw):
    return {"client_id": cid(), "station_id": st_, "kind": "status", "value": "online",
            "at": WHEN, **kw}  # fmt: skip


def user(**kw):
    return {"username": "someone", "password": "long-enough", "role": "observer", **kw}


# (name, role, method, path template, body maker): {s} is an assigned station, {e} the election
BODIES = [
    ("station_id>64bit", "observer", "POST", "/api/incidents", lambda c, s: c.incident(BIG)),
    ("station_id>int4", "observer", "POST", "/api/incidents", lambda c, s: c.incident(INT4)),
    ("station_id<1", "observer", "POST", "/api/incidents", lambda c, s: c.incident(-1)),
    ("media_ids>64bit", "observer", "POST", "/api/incidents",
     lambda c, s: c.incident(s, media_ids=[BIG])),
    ("checklist station_id", "observer", "POST", "/api/checklists",
     lambda c, s: c.checklist(BIG)),
    ("count>64bit", "coordinator", "POST", "/api/camera/tallies", lambda c, s: tally(s, count=BIG)),
    ("count>int4", "coordinator", "POST", "/api/camera/tallies", lambda c, s: tally(s, count=INT4)),
    ("count<0", "coordinator", "POST", "/api/camera/tallies", lambda c, s: tally(s, count=-1)),
    ("tally station", "coordinator", "POST", "/api/camera/tallies", lambda c, s: tally(BIG)),
    ("assignment ids", "coordinator", "POST", "/api/assignments",
     lambda c, s: {"user_id": BIG, "station_id": s}),
    ("accreditation election", "camera_watcher", "POST", "/api/accreditations",
     lambda c, s: {"election_id": BIG}),
    ("description NUL", "observer", "POST", "/api/incidents",
     lambda c, s: c.incident(s, description="a\x00b")),
    ("description surrogate", "observer", "POST", "/api/incidents",
     lambda c, s: c.incident(s, description=f"a{SUR}b")),
    ("description too long", "observer", "POST", "/api/incidents",
     lambda c, s: c.incident(s, description="x" * 10001)),
    ("category NUL", "observer", "POST", "/api/incidents",
     lambda c, s: c.incident(s, category="carousel\x00")),
    ("category too long", "observer", "POST", "/api/incidents",
     lambda c, s: c.incident(s, category="c" * 500)),
    ("answer key surrogate", "observer", "POST", "/api/checklists",
     lambda c, s: {**c.checklist(s), "answers": {SUR: 1}}),
    ("answer value NUL", "observer", "POST", "/api/checklists",
     lambda c, s: c.checklist(s, "voting", notes="a\x00")),
    ("answer value >64bit", "observer", "POST", "/api/checklists",
     lambda c, s: c.checklist(s, "voting", voters_by_noon=BIG)),
    ("protocol number >64bit", "observer", "POST", "/api/protocols",
     lambda c, s: {"client_id": cid(), "station_id": s, "numbers": {"registered": BIG}}),
    ("review reason surrogate", "coordinator", "POST", "/api/review/1",
     lambda c, s: {"status": "verified", "reason": SUR}),
    ("accreditation body too long", "camera_watcher", "POST", "/api/accreditations",
     lambda c, s: {"election_id": c.election_id, "body": "x" * 201}),
    ("user full_name too long", "admin", "POST", "/api/users",
     lambda c, s: user(full_name="x" * 201)),
    ("username NUL", "admin", "POST", "/api/users", lambda c, s: user(username="a\x00")),
    ("phone too long", "admin", "POST", "/api/users", lambda c, s: user(phone="1" * 41)),
    ("log note surrogate", "coordinator", "POST", "/api/camera/logs",
     lambda c, s: log(s, note=SUR)),
    ("log value too long", "coordinator", "POST", "/api/camera/logs",
     lambda c, s: log(s, value="v" * 41)),
    ("tally reason NUL", "coordinator", "POST", "/api/camera/tallies",
     lambda c, s: tally(s, reason="\x00")),
    *[
        (f"occurred_at {t}", "observer", "POST", "/api/incidents",
         lambda c, s, t=t: c.incident(s, occurred_at=t))
        for t in ("0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00",
                  "0001-01-01T00:00:00", "9999-12-31T23:59:59", "1850-01-01T00:00:00")
    ],
    ("tally window at the edge", "coordinator", "POST", "/api/camera/tallies",
     lambda c, s: tally(s, window_start="0001-01-01T00:00:00+05:00",
                        window_end="0001-01-01T00:10:00+05:00")),
    ("log at the edge", "coordinator", "POST", "/api/camera/logs",
     lambda c, s: log(s, at="9999-12-31T23:59:59-05:00")),
]  # fmt: skip

PATH_IDS = ["/api/incidents/{}", "/api/checklists/{}", "/api/protocols/{}", "/api/media/{}",
            "/api/camera/tallies/{}", "/api/camera/logs/{}", "/api/elections/{}",
            "/api/elections/{}/stations", "/api/protocols/reconciled/{}",
            "/api/stations/{}/dossier", "/api/roster/{}"]  # fmt: skip
LISTS = ["/api/incidents", "/api/checklists", "/api/protocols", "/api/camera/tallies",
         "/api/camera/logs"]  # fmt: skip
QUERIES = [f"limit={BIG}", f"offset={BIG}", "offset=-1", "limit=-1", "limit=0",
           f"limit={INT4}", f"offset={INT4}", f"station_id={BIG}", f"station_id={INT4}"]  # fmt: skip


def _detail(r) -> str:
    return json.dumps(r.json()["detail"])


@pytest.mark.parametrize("name,role,method,path,make", BODIES, ids=[b[0] for b in BODIES])
def test_malformed_bodies_are_422(ctx, name, role, method, path, make):
    r = raw(ctx, role, method, path, make(ctx, ctx.stations[0]))
    assert r.status_code == 422, (r.status_code, r.text[:300])
    assert _detail(r)


def test_422_quoting_a_lone_surrogate_encodes(ctx):
    """The validation error quotes the input: it must still be sent (it was the 500)."""
    r = raw(ctx, "observer", "POST", "/api/incidents", ctx.incident(ctx.stations[0], severity=SUR))
    assert r.status_code == 422 and "\\ud800" in r.text


@pytest.mark.parametrize("path", PATH_IDS)
@pytest.mark.parametrize("value", [BIG, INT4, 0, -1])
def test_path_ids_out_of_range_are_422(ctx, path, value):
    r = raw(ctx, "coordinator", "GET", path.format(value))
    assert r.status_code == 422 and _detail(r), r.text[:200]


def test_path_ids_in_writes_are_422(ctx):
    for method, path, body in [
        ("POST", f"/api/review/{BIG}", {"status": "verified"}),
        ("POST", f"/api/review/{BIG}/quarantine", {"quarantined": True}),
        ("PATCH", f"/api/accreditations/{BIG}", {"status": "revoked"}),
        ("PATCH", f"/api/incidents/{BIG}", {"severity": "low"}),
    ]:
        r = raw(ctx, "coordinator", method, path, body)
        assert r.status_code == 422, (path, r.status_code)


@pytest.mark.parametrize(
    "path,body",
    [("/api/users/{}/deactivate", None), ("/api/users/{}/activate", None),
     ("/api/users/{}/revoke-tokens", None), ("/api/users/{}/role", {"role": "analyst"}),
     ("/api/users/{}/password", {"password": "long-enough"})],
)  # fmt: skip
@pytest.mark.parametrize("value", [BIG, INT4, 0, -1])
def test_user_administration_ids_are_422(ctx, path, body, value):
    """The sessions lane's user administration takes the same bounded path ids."""
    r = raw(ctx, "admin", "POST", path.format(value), body)
    assert r.status_code == 422 and _detail(r), r.text[:200]


@pytest.mark.parametrize(
    "path,body",
    [("/api/users", user(password=f"long-enough{SUR}")), ("/api/users", user(password="a\x00" * 8)),
     ("/api/users/{}/password", {"password": f"long-enough{SUR}"}),
     ("/api/users/{}/role", {"role": "analyst\x00"}), ("/api/users/{}/role", {"role": "r" * 21})],
)  # fmt: skip
def test_passwords_and_roles_are_bounded(ctx, path, body):
    r = raw(ctx, "admin", "POST", path.format(ctx.users["analyst"]), body)
    assert r.status_code == 422 and _detail(r), r.text[:200]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("query", QUERIES)
def test_list_bounds_are_422(ctx, path, query):
    r = raw(ctx, "coordinator", "GET", f"{path}?{query}")
    assert r.status_code == 422 and _detail(r), r.text[:200]


@pytest.mark.parametrize(
    "path",
    [f"/api/public/submissions?limit={BIG}", f"/api/review?limit={BIG}", "/api/review?limit=-1",
     "/api/public/submissions?kind=%00", "/api/incidents?status=%00",
     "/api/public/submissions?kind=" + "k" * 41],
)  # fmt: skip
def test_other_queries_are_422(ctx, path):
    assert raw(ctx, "coordinator", "GET", path).status_code == 422


def test_valid_bounds_still_work(ctx):
    assert raw(ctx, "coordinator", "GET", "/api/incidents?limit=1000&offset=0").status_code == 200
    body = ctx.incident(
        ctx.stations[0], description="é" * 10000, occurred_at="2026-03-01T14:10+04:00"
    )
    assert raw(ctx, "observer", "POST", "/api/incidents", body).status_code == 201


# ---- the SMS webhook -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"{bad", b"[1, 2]", b'{"sender": 5, "text": "x"}', b'{"sender": "+1", "text": ["x"]}',
     b"\xff\xfe", b'{"a":' * 10000, b"[" * 10000],
)  # fmt: skip
def test_sms_webhook_malformed_json_is_422(ctx, body):
    """(Nesting far beyond the parser's recursion limit, within the webhook's body limit,
    ``max_sms_bytes``: a larger body is a 413 before it is parsed.)"""
    r = ctx.client.post(
        "/api/sms/webhook",
        content=body,
        headers={"X-Pollwatch-Secret": "s3cret", "Content-Type": "application/json"},
    )
    assert r.status_code == 422 and r.json()["detail"]


@pytest.mark.parametrize("text", ["IN{obs} BS @a\x00b", "IN{obs} BS @a\ud800b", "\x00", "\udfff"])
def test_sms_text_nul_and_surrogates_stored_cleanly(ctx, text):
    """The gateway's text is the observer's message: NUL dropped, a surrogate replaced, both
    databases store it (PostgreSQL refused both)."""
    body = {"sender": "+994500000002", "text": text.format(obs=ctx.users["observer2"])}
    r = ctx.client.post(
        "/api/sms/webhook",
        content=json.dumps(body),
        headers={"X-Pollwatch-Secret": "s3cret", "Content-Type": "application/json"},
    )
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "message_id,status",
    [({"a": 1}, 422), ([1], 422), (True, 422), (12345, 200), (f"m{SUR}\x00" * 80, 200)],
)
def test_sms_message_id_bounded(ctx, message_id, status):
    """The gateway's message id (disclosure lane: it names retries in the client id) is a
    string or a number; NUL and surrogates cleaned, at most 100 characters used."""
    body = {"sender": "+994500000002", "text": f"IN{ctx.users['observer2']} BS",
            "message_id": message_id}  # fmt: skip
    r = ctx.client.post(
        "/api/sms/webhook",
        content=json.dumps(body),
        headers={"X-Pollwatch-Secret": "s3cret", "Content-Type": "application/json"},
    )
    assert r.status_code == status, r.text


# ---- the no-JavaScript web forms -------------------------------------------------------------


def _login(ctx, name: str = "observer") -> None:
    """Log in with the cookie, and send the session's CSRF token (sessions lane) on each form,
    so that the bounds, not the CSRF check, answer."""
    import re

    r = ctx.client.post(
        "/login", data={"username": name, "password": f"{name}-pass"}, follow_redirects=False
    )
    assert r.status_code == 303
    page = ctx.client.get("/").text
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page).group(1)
    ctx.client.headers["X-CSRF-Token"] = token


def _stored(ctx) -> list[tuple[str, str]]:
    from sqlalchemy import select

    from pollwatch.service import models as m

    with ctx.session() as s:
        return [tuple(r) for r in s.execute(select(m.Submission.kind, m.Submission.form))]


def test_web_form_stores_no_other_kind(ctx):
    _login(ctx)
    form = {"station_id": str(ctx.stations[0]), "n.registered": "5"}
    r = ctx.client.post("/file/zzz", data=form)
    assert r.status_code == 404
    assert _stored(ctx) == []


@pytest.mark.parametrize(
    "path,fields",
    [
        ("/file/incident", {"category": "carousel", "description": "x" * 10001}),
        ("/file/incident", {"category": "carousel", "description": "a\x00b"}),
        ("/file/incident", {"category": "carousel", "station_id": str(BIG)}),
        ("/file/incident", {"category": "carousel", "station_id": str(INT4)}),
        ("/file/incident", {"category": "carousel", "occurred_at": "0001-01-01T00:00+05:00"}),
        ("/file/incident", {"category": "carousel", "occurred_at": "9999-12-31T23:59"}),
        ("/file/incident", {"category": "c" * 41}),
        ("/file/incident", {"category": "carousel", "severity": "s" * 11}),
        ("/file/incident", {"category": "carousel", "client_id": "x" * 100}),
        ("/file/protocol", {"n.registered": "9" * 30}),
        ("/file/checklist/opening", {"a.arrived_at": "\x00"}),
    ],
)
def test_web_form_fields_bounded_like_the_api(ctx, path, fields):
    _login(ctx)
    r = ctx.client.post(path, data={"station_id": str(ctx.stations[0]), **fields})
    assert r.status_code in (404, 422), (r.status_code, r.text[:200])
    assert _stored(ctx) == []


def test_web_pages_bounded(ctx):
    _login(ctx)
    for path in (f"/file/incident?station={BIG}", f"/watch?station={BIG}",
                 f"/stations/{BIG}/dossier"):  # fmt: skip
        assert ctx.client.get(path).status_code == 422, path
    _login(ctx, "coordinator")
    r = ctx.client.post(f"/review/{BIG}", data={"status": "verified"})
    assert r.status_code == 422
    r = ctx.client.post(
        "/watch/tally",
        data={"client_id": cid(), "station_id": str(ctx.stations[0]), "window_start": "08:00",
              "count": str(BIG)},
    )  # fmt: skip
    assert r.status_code == 422
    r = ctx.client.post(
        "/watch/log",
        data={"client_id": cid(), "station_id": str(ctx.stations[0]), "at": "08:00",
              "value": "online", "note": "\x00"},
    )  # fmt: skip
    assert r.status_code == 422


# ---- fuzz: never a 500 -------------------------------------------------------------------------

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
ints = st.one_of(st.integers(), st.integers(-(2**70), 2**70), st.sampled_from([0, -1, BIG, INT4]))
texts = st.one_of(st.text(max_size=50), st.text(st.characters(codec=None), max_size=20))


@FUZZ
@given(station=ints, category=texts, severity=texts, description=texts,
       occurred_at=st.one_of(texts, st.datetimes().map(str), st.integers()))  # fmt: skip
def test_fuzz_incident_never_500(ctx, station, category, severity, description, occurred_at):
    body = {"client_id": cid(), "station_id": station, "category": category,
            "severity": severity, "description": description, "occurred_at": occurred_at}  # fmt: skip
    assert raw(ctx, "observer", "POST", "/api/incidents", body).status_code < 500


@FUZZ
@given(limit=ints, offset=ints, station=ints, status=texts)
def test_fuzz_lists_never_500(ctx, limit, offset, station, status):
    params = {"limit": limit, "offset": offset, "station_id": station, "status": status}
    r = ctx.client.get("/api/incidents", params=params, headers=ctx.headers["coordinator"])
    assert r.status_code < 500
    assert raw(ctx, "coordinator", "GET", f"/api/checklists/{station}").status_code < 500


@FUZZ
@given(sender=texts, text=texts, count=ints, reason=texts)
def test_fuzz_sms_and_tallies_never_500(ctx, sender, text, count, reason):
    ctx.app.state.settings.sms_unregistered_limit = 10**6
    ctx.app.state.settings.sms_rate_limit = 10**6
    body = {"sender": sender, "text": text}
    r = ctx.client.post(
        "/api/sms/webhook",
        content=json.dumps(body),
        headers={"X-Pollwatch-Secret": "s3cret", "Content-Type": "application/json"},
    )
    assert r.status_code < 500
    r = raw(
        ctx,
        "coordinator",
        "POST",
        "/api/camera/tallies",
        tally(ctx.stations[0], count=count, reason=reason),
    )
    assert r.status_code < 500


def test_database_refusals_are_4xx(ctx):
    """Behind the types: a value the database refuses (here NUL in a login name, a route of
    the sessions lane, which PostgreSQL refused with a 500) is answered 4xx."""
    r = ctx.client.post("/api/login/access-token", data={"username": "a\x00", "password": "x"})
    assert 400 <= r.status_code < 500
