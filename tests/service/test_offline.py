"""The offline app's server side (docs/offline.md): the service worker script, the policy that
lets it run and nothing more, the logout that clears the phone, the outbox messages."""

from __future__ import annotations

import re

import pytest

from pollwatch.i18n import LANGS, gettext
from pollwatch.service import models as m
from pollwatch.service.pages import offline
from pollwatch.service.pages.offline import worker_script
from pollwatch.service.websecurity import CSP

from .test_web import login  # noqa: TID252

OUTBOX_KEYS = {"queue_failed": "{error}", "report_rejected": "{detail}", "logout_unsent": "{n}"}

# the outbox's messages (gettext msgids; the page hands them to offline.js)
MESSAGES = {
    "queued": "Offline: saved on this phone, will be sent when the connection returns.",
    "saved": "Received. Thank you.",
    "session_ended": "Your session has ended: log in again. Your reports are kept on this phone.",
    "queue_failed": "Not saved on this phone ({error}): the report is still in the form. Free some space on the phone or send it when you are online.",
    "report_rejected": "The service refused a saved report, so it was removed from this phone: {detail}",
    "logout_unsent": "{n} report(s) on this phone are not sent yet. Logging out deletes them. Log out anyway?",
}


def test_the_worker_is_served_from_the_root_with_its_version(ctx):
    r = ctx.client.get("/sw.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.headers["cache-control"] == "no-cache"  # a new release is seen on the next visit
    assert "__VERSION__" not in r.text
    version = re.search(r'var VERSION = "([0-9a-f]{16})"', r.text).group(1)
    assert f"/static/outbox.js?v={version}" in r.text
    assert r.headers["content-security-policy"] == CSP
    assert "service-worker-allowed" not in r.headers  # served at the root: scope "/" already


def test_the_worker_version_follows_the_cached_files(monkeypatch, tmp_path):
    """Changing a cached file changes the version, hence the cache names: the new worker's
    "activate" deletes the old caches."""
    for name in offline.VERSIONED:
        (tmp_path / name).write_bytes((offline.STATIC / name).read_bytes())
    monkeypatch.setattr(offline, "STATIC", tmp_path)
    worker_script.cache_clear()
    try:
        before = worker_script()
        (tmp_path / "style.css").write_text("body { color: red }")
        worker_script.cache_clear()
        after = worker_script()
    finally:
        worker_script.cache_clear()
    assert before != after


def test_the_policy_allows_this_origin_s_worker_and_nothing_looser():
    directives = dict(d.strip().split(" ", 1) for d in CSP.split(";"))
    assert directives["worker-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert "unsafe" not in CSP and "blob:" not in CSP and "*" not in CSP


def test_logout_tells_the_browser_to_clear_the_phone_s_copy(ctx):
    login(ctx.client, "observer")
    r = ctx.client.post("/logout", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["clear-site-data"] == '"cache", "storage"'


@pytest.mark.parametrize("key,slot", sorted(OUTBOX_KEYS.items()))
def test_outbox_messages_exist_in_every_language_with_their_slot(key, slot):
    for lang in LANGS:
        text = gettext(MESSAGES[key], lang)
        assert slot in text, (key, lang)
        assert lang == "en" or text != MESSAGES[key], (key, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_the_page_gives_the_script_its_messages_in_the_user_s_language(ctx, lang):
    with ctx.session() as s:
        user = s.get(m.User, ctx.users["observer"])
        user.language = lang
        uid = user.id
        s.commit()
    login(ctx.client, "observer")
    html = ctx.client.get("/stations").text
    script = re.search(r'<script src="/static/offline.js"([^>]*)>', html).group(1)
    assert f'data-user="{uid}"' in script
    attrs = {
        "queued": "queued",
        "saved": "saved",
        "session_ended": "login",
        "queue_failed": "queue-failed",
        "report_rejected": "rejected",
        "logout_unsent": "logout-unsent",
    }
    for key, attr in attrs.items():
        text = gettext(MESSAGES[key], lang).replace("'", "&#39;").replace('"', "&#34;")
        assert f'data-{attr}="{text}"' in script, (key, lang)
