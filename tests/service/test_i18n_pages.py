"""The pages in Azerbaijani and Russian from the catalogues: protocol field labels, severity and
option values are labels, never stored codes; the login page follows ``Accept-Language``; SMS
reasons come in the observer's language."""

from __future__ import annotations

import html
import re

import pytest

from pollwatch.i18n import gettext, tooling
from pollwatch.service import models as m
from pollwatch.service.i18n import PROTOCOL_FIELD_LABELS, SEVERITY_LABELS
from pollwatch.service.rules import PROTOCOL_FIELDS
from pollwatch.service.sms import SmsProblem, parse_sms

from .test_web import login  # noqa: TID252


def _as(ctx, lang: str) -> None:
    with ctx.session() as s:
        s.get(m.User, ctx.users["observer"]).language = lang
        s.commit()
    login(ctx.client, "observer")


def _labels(page: str) -> list[str]:
    return [html.unescape(x) for x in re.findall(r"<label [^>]*>([^<]*)</label>", page)]


@pytest.mark.parametrize("lang", ["az", "ru"])
def test_protocol_form_labels_every_line(ctx, lang):
    _as(ctx, lang)
    page = ctx.client.get(f"/file/protocol?station={ctx.stations[0]}").text
    assert f'<html lang="{lang}">' in page
    labels = _labels(page)
    for field in PROTOCOL_FIELDS:
        want = gettext(PROTOCOL_FIELD_LABELS[field], lang)
        assert want != PROTOCOL_FIELD_LABELS[field]  # translated, not the English
        assert want in labels, field
        assert field not in labels  # the code (ballots_issued_early) is no label any more
    assert 'name="n.ballots_issued_early"' in page  # what is posted is still the code


def test_protocol_form_in_russian_reads_russian(ctx):
    _as(ctx, "ru")
    page = ctx.client.get(f"/file/protocol?station={ctx.stations[0]}").text
    assert "Бюллетеней выдано досрочно проголосовавшим" in page
    assert "Копия протокола" in page and "Отправить" in page


@pytest.mark.parametrize("lang", ["az", "ru"])
def test_incident_severity_and_checklist_options_translated(ctx, lang):
    _as(ctx, lang)
    page = ctx.client.get(f"/file/incident?station={ctx.stations[0]}").text
    options = dict(re.findall(r'<option value="(\w+)"(?: selected)?>([^<]*)</option>', page))
    for code, english in SEVERITY_LABELS.items():
        assert options[code] == gettext(english, lang) != english
    counting = ctx.client.get(f"/file/checklist/counting?station={ctx.stations[0]}").text
    options = dict(re.findall(r'<option value="(\w+)">([^<]*)</option>', counting))
    assert options["not_asked"] == gettext("Not asked", lang) != "Not asked"
    assert gettext("Were you given a certified copy of the protocol?", lang) in html.unescape(
        counting
    )


@pytest.mark.parametrize(
    "header,lang,word",
    [
        ("ru-RU,ru;q=0.9,en-US;q=0.8", "ru", "Имя пользователя"),
        ("az-Latn-AZ,az;q=0.9", "az", "İstifadəçi adı"),
        ("de-DE,de;q=0.9,ru;q=0.3", "ru", "Имя пользователя"),
        ("en-GB,ru;q=0.9", "en", "Username"),
        ("fr-FR", "en", "Username"),
    ],
)
def test_login_page_negotiates_accept_language(ctx, header, lang, word):
    page = ctx.client.get("/login", headers={"Accept-Language": header}).text
    assert f'<html lang="{lang}">' in page and word in page


def test_sms_reason_in_the_observers_language():
    problem = parse_sms("VT1 C5")  # C is a yes/no question
    assert problem.key == "bad_value"
    assert problem.reply("en").endswith("expected yes or no.")
    assert "ожидалось «да» или «нет»" in problem.reply("ru")
    assert "bəli və ya xeyr gözlənilirdi" in problem.reply("az")


def test_no_station_reply_uses_russian_plurals():
    assert "у вас 2 участка;" in SmsProblem("no_station", {"n": 2}).reply("ru")
    assert "у вас 5 участков;" in SmsProblem("no_station", {"n": 5}).reply("ru")
    assert "у вас 21 участок;" in SmsProblem("no_station", {"n": 21}).reply("ru")
    assert "you have 1 station;" in SmsProblem("no_station", {"n": 1}).reply("en")


def _pages_of(ctx, role: str, lang: str) -> dict[str, str]:
    if role == "camera_watcher":  # the fixture assigns observers only
        r = ctx.post(
            "admin",
            "/api/assignments",
            json={"user_id": ctx.users[role], "station_id": ctx.stations[0]},
        )
        assert r.status_code == 201, r.text
    with ctx.session() as s:
        s.get(m.User, ctx.users[role]).language = lang
        s.commit()
    ctx.client.cookies.clear()
    login(ctx.client, role)
    st = ctx.stations[0]
    urls = {
        "observer": [
            "/stations",
            f"/file/protocol?station={st}",
            f"/file/incident?station={st}",
            *(f"/file/checklist/{f}?station={st}" for f in ("opening", "voting", "counting")),
        ],
        "coordinator": ["/dashboard", "/review", f"/stations/{st}/dossier", "/quickcount"],
        "camera_watcher": [f"/watch?station={st}"],
        "admin": ["/people", "/census", "/dashboard", "/review"],
    }[role]
    pages = {}
    for url in urls:
        r = ctx.client.get(url)
        assert r.status_code == 200, (url, r.status_code)
        pages[url] = r.text
    return pages


@pytest.mark.parametrize("lang", ["az", "ru"])
# (not admin: its pages show the fixture's election, named "test", a word the catalogue has)
@pytest.mark.parametrize("role", ["observer", "coordinator", "camera_watcher"])
def test_no_catalogue_english_left_on_any_page(ctx, role, lang):
    """Every text on the pages that the catalogue translates is shown translated."""
    for url, page in _pages_of(ctx, role, lang).items():
        assert f'<html lang="{lang}">' in page, url
        assert tooling.leftover_english(page, lang) == [], url


def test_leftover_english_finds_an_untranslated_label():
    page = "<html><body><h1>Мои участки</h1><label>Ballots received by the commission</label>"
    assert tooling.leftover_english(page, "ru") == ["Ballots received by the commission"]
    assert tooling.leftover_english("<p>Log in</p><p title='Password'>x</p>", "az") == [
        "Log in",
        "Password",
    ]


@pytest.mark.parametrize("lang", ["az", "ru"])
def test_login_and_evidence_pages_translated(ctx, lang):
    for url in ("/login", "/evidence"):
        page = ctx.client.get(url, headers={"Accept-Language": lang}).text
        assert tooling.leftover_english(page, lang) == [], url


@pytest.mark.parametrize("role", ["observer", "coordinator", "camera_watcher", "admin"])
def test_no_english_sentence_left_on_a_russian_page(ctx, role):
    """Beyond the catalogue's own texts: no run of English words (a sentence a method or a rule
    wrote) on any page of a Russian user; data such as candidates' names aside."""
    allow = ("Alpha", "Beta", "SHA-256")
    for url, page in _pages_of(ctx, role, "ru").items():
        assert tooling.english_runs(page, allow=allow) == [], url
