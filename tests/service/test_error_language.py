"""Error details in the reader's language (issue 22): the API's 4xx ``detail`` (a string, or
FastAPI-shaped items' ``msg``) comes in the authenticated user's language, else the one
``Accept-Language`` asks for, else English exactly as before; and every raise site in
``service`` gives a catalogue msgid, so nothing can slip back to an untranslatable f-string."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from pollwatch.i18n import translations
from pollwatch.service import errors, sms_intake
from pollwatch.service.errors import Invalid, Msg, NotFound, ServiceError, error_text, invalid

SERVICE = Path(errors.__file__).resolve().parent
RU = {"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}
CYRILLIC = re.compile(r"[\u0400-\u04ff]")


# ---- every raise site passes a msgid --------------------------------------------------------


def _service_error_names() -> set[str]:
    names, todo = set(), [ServiceError]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    assert "SmsRateLimited" in names and sms_intake  # the subclasses outside errors.py, too
    return names - {"Invalid"}  # Invalid takes items: their messages are invalid()'s


# the callable -> which argument is the message (position, keyword)
CHECKED = {name: (0, None) for name in _service_error_names()} | {
    "invalid": (1, None),
    "refused": (1, None),
    "HTTPException": (1, "detail"),
    "_unauthorised": (0, None),  # api/routes/sms.py: a 401 with its own header
    "Msg": (0, None),
    "RowProblem": (2, None),  # crud/people.py: a CSV line's problem
}
MARKED = {"N_", "Msg", "verbatim", "msg"}  # msg: RowProblem.msg(), a Msg of checked parts
# functions that pass their own message parameter on (their callers are the raise sites)
FORWARDERS = {"__init__", "__new__", "message", "_rebuild", "verbatim"}


def _func_name(call: ast.Call) -> str | None:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


def _message_arg(call: ast.Call, pos: int, key: str | None) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == key:
            return kw.value
    return call.args[pos] if len(call.args) > pos else None


def _module_constants(tree: ast.Module) -> set[str]:
    """Module-level names bound to ``N_("...")``."""
    out = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            if _func_name(node.value) == "N_":
                out |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return out


def _ok(arg: ast.expr, constants: set[str], forwarded: set[str]) -> bool:
    if isinstance(arg, ast.Call) and _func_name(arg) in MARKED:
        if _func_name(arg) == "N_":
            return len(arg.args) == 1 and isinstance(arg.args[0], ast.Constant)
        if _func_name(arg) == "Msg":
            return bool(arg.args) and _ok(arg.args[0], constants, forwarded)
        return True  # verbatim: another layer's text, deliberately shown as it is
    if isinstance(arg, ast.IfExp):
        return _ok(arg.body, constants, forwarded) and _ok(arg.orelse, constants, forwarded)
    if isinstance(arg, ast.Name):
        return arg.id in constants or arg.id in forwarded
    return False


def unmarked_messages(path: Path) -> list[str]:
    """``file:line: code`` of every checked call whose message is not a marked msgid. Inside a
    checked helper (``refused``, ``invalid``, ...) its own parameters may be passed on: the
    helper's callers are checked."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    constants = _module_constants(tree)
    bad: list[str] = []

    def visit(node: ast.AST, forwarded: set[str]) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            a = node.args
            params = {p.arg for p in a.posonlyargs + a.args + a.kwonlyargs}
            forwarded = params if node.name in CHECKED.keys() | FORWARDERS else set()
        if isinstance(node, ast.Call) and (name := _func_name(node)) in CHECKED:
            arg = _message_arg(node, *CHECKED[name])
            if arg is not None and not _ok(arg, constants, forwarded):
                rel = path.relative_to(SERVICE.parent)
                bad.append(f"{rel}:{node.lineno}: {ast.unparse(node)[:100]}")
        for child in ast.iter_child_nodes(node):
            visit(child, forwarded)

    visit(tree, set())
    return bad


def test_every_raise_site_gives_a_msgid():
    bad = [b for p in sorted(SERVICE.rglob("*.py")) for b in unmarked_messages(p)]
    assert not bad, f"{len(bad)} error messages without a catalogue msgid:\n" + "\n".join(bad)


def test_the_check_sees_fstrings_and_bare_literals(tmp_path):
    src = tmp_path / "service" / "x.py"
    src.parent.mkdir()
    src.write_text(
        "def f(kind):\n"
        "    raise NotFound(f'no {kind}')\n"
        "def g():\n"
        "    raise HTTPException(404, detail='Gone')\n"
        "def h(x):\n"
        "    return invalid(['body'], 'bad ' + x)\n"
        "def fine(kind):\n"
        "    raise NotFound(N_('no {kind}'), kind=kind)\n",
        encoding="utf-8",
    )
    global SERVICE
    saved, SERVICE = SERVICE, tmp_path / "service"
    try:
        bad = unmarked_messages(src)
    finally:
        SERVICE = saved
    assert [b.split(":")[1] for b in bad] == ["2", "4", "6"]


def _service_msgids() -> set[str]:
    """Every msgid the service marks with ``N_("...")``."""
    msgids: set[str] = set()
    for path in SERVICE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and _func_name(node) == "N_" and node.args:
                if isinstance(node.args[0], ast.Constant):
                    msgids.add(node.args[0].value)
    return msgids


def test_every_marked_service_message_is_translated():
    """Each msgid a raise site gives has a Russian and an Azerbaijani entry (the catalogue
    gate checks completeness; this ties it to the raise sites)."""
    msgids = _service_msgids()
    assert len(msgids) > 60
    for lang in ("ru", "az"):
        words = [s for s in msgids if re.search("[A-Za-z]", re.sub(r"\{\w+\}", "", s))]
        missing = [s for s in words if translations(lang).gettext(s) == s]
        assert not missing, f"{lang}: {missing[:5]}"


# ---- the messages themselves -----------------------------------------------------------------


def test_english_text_and_translation():
    exc = NotFound(errors.N_("Station not found"))
    assert str(exc) == exc.detail == "Station not found"
    assert exc.text("ru") == "Избирательный участок не найден"
    bad = Invalid([invalid(["query", "kind"], "kind {kind} is not one of {choices}",
                           kind="'x'", choices="['a']")])  # fmt: skip
    assert str(bad) == "query.kind: kind 'x' is not one of ['a']"
    assert CYRILLIC.search(bad.text("ru"))
    assert "'x'" in bad.text("ru") and "['a']" in bad.text("ru")
    m = Msg("{a} and {b}", a="1", b="2")
    assert m == "1 and 2" and isinstance(m, str)
    import copy
    import pickle

    assert pickle.loads(pickle.dumps(m)).params == {"a": "1", "b": "2"}
    assert copy.deepcopy(m).msgid == "{a} and {b}"


# ---- over HTTP ---------------------------------------------------------------------------------


def _ru(text: str) -> bool:
    return bool(CYRILLIC.search(text))


# ---- over HTTP ---------------------------------------------------------------------------------


def _set_language(ctx, name: str, lang: str) -> None:
    from pollwatch.service import models as m

    with ctx.session() as s:  # before the user's first request (the PostgreSQL token cache)
        s.get(m.User, ctx.users[name]).language = lang
        s.commit()


def _detail_text(r) -> str:
    d = r.json()["detail"]
    return d if isinstance(d, str) else "; ".join(item["msg"] for item in d)


def test_anonymous_errors_in_the_accept_language(ctx):
    # 401 before any user is known: the header's language, English without it
    r = ctx.client.get("/api/users/me", headers=RU)
    assert r.status_code == 401 and r.json()["detail"] == "Вход не выполнен"
    assert r.headers["www-authenticate"] == "Bearer"
    assert ctx.client.get("/api/users/me").json()["detail"] == "Not authenticated"
    # q-weights: Azerbaijani preferred over Russian
    az = {"Accept-Language": "ru;q=0.5, az-Latn-AZ"}
    assert ctx.client.get("/api/users/me", headers=az).json()["detail"] == "Giriş edilməyib"
    # FastAPI's own 422 (pydantic): a missing form field
    r = ctx.client.post("/api/login/access-token", data={"username": "x"}, headers=RU)
    assert r.status_code == 422
    assert [e["msg"] for e in r.json()["detail"]] == ["Обязательное поле"]
    r = ctx.client.post("/api/login/access-token", data={"username": "x"})
    assert [e["msg"] for e in r.json()["detail"]] == ["Field required"]
    # a wrong password: an HTTPException with a catalogue detail
    bad = {"username": "admin", "password": "wrong-pass"}
    r = ctx.client.post("/api/login/access-token", data=bad, headers=RU)
    assert r.status_code == 400 and r.json()["detail"] == "Неверное имя пользователя или пароль"


@pytest.mark.parametrize(
    ("kw", "english"),
    [
        ({"content": b"[1, 2]", "headers": {"content-type": "application/json"}},
         "Expected an object with sender and text"),
        ({"json": {"sender": 1, "text": "x"}}, "sender and text must be strings"),
        ({"json": {"sender": "1", "text": "x", "message_id": [1]}},
         "message_id must be a string or a number"),
        ({"content": b"{not json", "headers": {"content-type": "application/json"}},
         "Malformed JSON: "),
    ],
)  # fmt: skip
def test_sms_webhook_422s_in_the_accept_language(ctx, kw, english):
    url = "/api/sms/webhook"
    secret = {"X-Pollwatch-Secret": "s3cret"}
    kw = dict(kw)  # the parameter is shared by both backends
    headers = {**secret, **kw.pop("headers", {})}
    r_en = ctx.client.post(url, headers=headers, **kw)
    r_ru = ctx.client.post(url, headers={**headers, **RU}, **kw)
    assert r_en.status_code == r_ru.status_code == 422
    assert r_en.json()["detail"].startswith(english)
    assert _ru(r_ru.json()["detail"]) and r_ru.json()["detail"] != r_en.json()["detail"]
    # and the 401 of a wrong secret
    r = ctx.client.post(url, headers={"X-Pollwatch-Secret": "nope", **RU}, json={})
    assert r.status_code == 401 and r.json()["detail"] == "Неверный секрет SMS-шлюза"


def test_a_russian_user_gets_russian_details(ctx):
    """404, 409 and 422 from crud, on FastAPI's path and on the submission fast path, in the
    user's stored language whatever the header says; an English user's are unchanged."""
    _set_language(ctx, "observer", "ru")
    st, unassigned = ctx.stations[0], ctx.stations[3]
    ctx.get("observer2", "/api/users/me")  # the middleware stack (and fast path) is built
    fast = ctx.app.state.fast_path
    n = fast.handled

    r = ctx.get("observer", "/api/incidents/999999")  # FastAPI's path, crud NotFound
    assert r.status_code == 404 and r.json()["detail"] == "Сообщение не найдено"
    r = ctx.get(
        "observer2",
        "/api/incidents/999999",
    )
    assert r.json()["detail"] == "Submission not found"
    # the user's language wins over the header (an English user with a Russian browser)
    r = ctx.client.get("/api/incidents/999999", headers={**ctx.headers["observer2"], **RU})
    assert r.json()["detail"] == "Submission not found"

    # on the fast path: 404, 403, 409 and a crud 422
    r = ctx.post("observer", "/api/incidents", json=ctx.incident(10_000))
    assert r.status_code == 404 and r.json()["detail"] == "Избирательный участок не найден"
    r = ctx.post("observer", "/api/incidents", json=ctx.incident(unassigned))
    assert r.status_code == 403 and r.json()["detail"] == "Этот участок вам не назначен"
    taken = ctx.incident(st)
    assert ctx.post("observer2", "/api/incidents", json=taken).status_code == 201
    r = ctx.post("observer", "/api/incidents", json=taken)
    assert r.status_code == 409
    assert r.json()["detail"] == "client_id уже использован другим пользователем"
    r = ctx.post("observer", "/api/incidents", json=ctx.incident(st, category="alien_landing"))
    assert r.status_code == 422
    (item,) = r.json()["detail"]
    assert item["loc"] == ["body", "category"] and item["type"] == "value_error"
    assert item["msg"] == "неизвестная категория 'alien_landing'"
    assert fast.handled == n + 5  # all five answered by the fast path, with the app's handlers
    r = ctx.post("observer2", "/api/incidents", json=ctx.incident(st, category="alien_landing"))
    assert r.json()["detail"][0]["msg"] == "unknown category 'alien_landing'"


def test_a_russian_admin_gets_russian_409_and_422(ctx):
    _set_language(ctx, "admin", "ru")
    body = {"user_id": ctx.users["observer"], "station_id": ctx.stations[0]}
    r = ctx.post("admin", "/api/assignments", json=body)
    assert r.status_code == 409 and r.json()["detail"] == "Уже назначен"
    new = {"username": "observer", "password": "long-enough", "role": "observer"}
    r = ctx.post("admin", "/api/users", json=new)
    assert r.status_code == 409 and r.json()["detail"] == "Такое имя пользователя уже существует"
    r = ctx.post("admin", "/api/users", json={**new, "username": "n1", "role": "overlord"})
    assert r.status_code == 422
    msg = r.json()["detail"][0]["msg"]
    assert msg.startswith("роль 'overlord' не входит в [") and "'observer'" in msg
    r = ctx.get("analyst", "/api/users")  # an analyst (English) is refused in English
    assert r.status_code == 403 and r.json()["detail"] == "Not enough permissions"


def test_pages_show_errors_in_the_page_language(ctx):
    """A page renders a refused ``ServiceError`` into login.html.j2 in the page user's language
    (it showed ``str(exc)``: English)."""
    from pollwatch.service import models as m

    from .test_web import login  # noqa: TID252

    with ctx.session() as s:
        s.get(m.User, ctx.users["coordinator"]).language = "ru"
        s.commit()
    login(ctx.client, "coordinator")
    r = ctx.client.post("/review/999999", data={"status": "verified", "reason": ""})
    assert r.status_code == 404
    assert "Сообщение не найдено" in r.text and "Submission not found" not in r.text
    r = ctx.client.post("/review/999999", data={"status": "maybe", "reason": ""})
    assert r.status_code == 422
    assert "статус &#39;maybe&#39; не входит в" in r.text  # autoescaped quotes
    assert error_text(ValueError("bad time"), "ru") == "bad time"  # not ours: as it is


LATIN_RUN = re.compile(r"[A-Za-z]+(?:[^\w{}]+[A-Za-z]+){2,}")
# Latin words a Russian or Azerbaijani message keeps: field names, codes, a command, formats
ALLOWED_LATIN = {"pollwatch users set-role", "JPEG, PNG or PDF"}


def test_no_english_sentence_left_in_a_russian_error():
    """Each service msgid rendered in Russian (placeholders left out): no run of three Latin
    words (the issue's detector), except names of fields, commands and formats. (Azerbaijani
    is written in Latin script: ``test_every_marked_service_message_is_translated`` covers it.)"""
    lang = "ru"
    msgids = _service_msgids()
    left = {}
    for msgid in msgids:
        text = translations(lang).gettext(msgid)
        runs = [r for r in LATIN_RUN.findall(re.sub(r"\{\w+\}", " ", text))]
        runs = [r for r in runs if not any(a in r or r in a for a in ALLOWED_LATIN)]
        if runs:
            left[msgid] = runs
    assert not left, left


def test_the_detector_finds_english():
    assert LATIN_RUN.findall("ожидалось: not a phone number") == ["not a phone number"]
    assert not LATIN_RUN.findall("client_id уже использован другим пользователем")


@pytest.mark.browser
@pytest.mark.slow
def test_the_offline_app_says_why_a_report_was_refused_in_russian(browser, tmp_path):
    """The case the issue names: the observer app (outbox.js ``detail()``) shows the API's 422
    to a Russian-speaking observer when a queued report is refused for good."""
    from .test_offline_browser import log_in, start  # noqa: TID252
    from .test_web import wait_until  # noqa: TID252

    ctx, server = start(tmp_path)
    _set_language(ctx, "observer", "ru")
    bad = {
        "client_id": ctx.new_id(),
        "station_id": ctx.stations[0],
        "category": "no_such_category",
        "severity": "high",
        "description": "refused",
        "occurred_at": "2026-12-05T09:30",
    }
    try:
        page = browser.new_context(locale="en-US").new_page()  # the browser asks for English
        page.goto(f"{server.url}/login")
        page.evaluate(
            "items => localStorage.setItem('pollwatch-outbox', JSON.stringify(items))",
            [{"api": "/api/incidents", "body": bad}],
        )
        log_in(page, server.url)
        wait_until(page, "PollwatchOutbox.count().then(n => n === 0)")
        wait_until(page, "document.getElementById('msg').textContent.includes('отклонил')")
        msg = page.locator("#msg").inner_text()
        assert "неизвестная категория 'no_such_category'" in msg, msg
        assert "unknown category" not in msg, msg
    finally:
        server.kill()


def test_people_import_problems_in_the_users_language(ctx):
    """A people CSV's problems, one 422 item per line and column: the line and column words
    and the reason in the user's language, the data (usernames, codes) as they are."""
    url = f"/api/users/import?election_id={ctx.election_id}"
    body = b"username,role,stations\nzz,overlord,\nyy,observer,NOPE\n"
    r = ctx.post("admin", url, files={"file": ("p.csv", body, "text/csv")})
    english = [item["msg"] for item in r.json()["detail"]]
    assert "line 2, column role: 'overlord' is not one of ['admin'" in english[0]
    assert english[-1] == "line 3, column stations: unknown station code(s) ['NOPE'] in election 1"
    _set_language(ctx, "coordinator", "ru")
    r = ctx.post("coordinator", url, files={"file": ("p.csv", body, "text/csv")})
    russian = [item["msg"] for item in r.json()["detail"]]
    assert len(russian) == len(english)
    assert russian[0].startswith("строка 2, столбец role: 'overlord' не входит в ['admin'")
    assert russian[-1] == (
        "строка 3, столбец stations: неизвестные коды участков ['NOPE'] на выборах 1"
    )


def test_the_throttles_text_is_the_catalogues_msgid():
    """``TooManyAttempts`` writes its own English; main's handler looks it up in the catalogue
    (``main.THROTTLED`` marks it): the two must stay the same text."""
    from pollwatch.service import main
    from pollwatch.service.throttle import TooManyAttempts

    assert str(TooManyAttempts(3)) == main.THROTTLED
    assert _ru(translations("ru").gettext(main.THROTTLED))
    assert _ru(translations("ru").gettext(main.OUT_OF_RANGE))


def test_pydantic_messages_translated_only_when_the_english_matches():
    from pydantic import BaseModel, Field, ValidationError

    from pollwatch.service.errors import validation_errors

    class M(BaseModel):
        a: int
        b: str = Field(default="", max_length=3)
        c: int = Field(default=0, ge=0)
        d: str = Field(default="", max_length=1)

    with pytest.raises(ValidationError) as info:
        M(b="abcd", c=-1, d="xy")
    errors = info.value.errors()
    assert validation_errors(errors, "en") == errors
    ru = {e["type"] + str(e["loc"]): e["msg"] for e in validation_errors(errors, "ru")}
    assert ru == {
        "missing('a',)": "Обязательное поле",
        "string_too_long('b',)": "Строка должна содержать не более 3 символов",
        "greater_than_equal('c',)": "Значение должно быть не меньше 0",
        "string_too_long('d',)": "Строка должна содержать не более 1 символа",
    }
    # a wording the table does not reproduce stays as pydantic wrote it
    odd = [{"type": "missing", "loc": ["x"], "msg": "Field required (new wording)"}]
    assert validation_errors(odd, "ru") == odd
