"""The coordinator's quick-count page in the user's language (issue 22): the estimate's sentence,
the pre-registered verdict's reason, the early/late verdict and the notes are written by the
quick count, stored English in the status JSON, and shown in Azerbaijani or Russian."""

from __future__ import annotations

import html
import json
import re

import pytest
from typer.testing import CliRunner

from pollwatch.cli import app
from pollwatch.service import models as m

from . import test_quickcount_service as qcs  # noqa: TID252
from .conftest import make_ctx  # noqa: TID252
from .test_web import login  # noqa: TID252

LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z'’-]*(?:[\s,;:()]+[A-Za-z][A-Za-z'’-]*){2,}")


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _part(page: str, pattern: str) -> str:
    found = re.search(pattern, page, flags=re.S)
    assert found, pattern
    return _text(found.group(1))


def _page_as(ctx, eid: int, lang: str) -> str:
    with ctx.session() as s:
        s.get(m.User, ctx.users["analyst"]).language = lang
        s.commit()
    ctx.client.cookies.clear()
    login(ctx.client, "analyst")
    r = ctx.client.get(f"/quickcount?election={eid}")
    assert r.status_code == 200
    return r.text


@pytest.fixture
def live(ctx, tmp_path):
    """Seven of eight sampled stations reported (one more quarantined, one off-sample)."""
    eid, ids, e = qcs.big_election(ctx, tmp_path)
    filer = qcs.TestLive()  # its filing helper (not its tests)
    for k, code in enumerate(["B00", "B20", "B01", "B21", "B02", "B22", "B03"]):
        qcs.backdate(ctx, filer.file(ctx, e, ids, code), 20 * k)
    qcs.backdate(ctx, filer.file(ctx, e, ids, "B10"), 5)
    qcs.backdate(ctx, filer.file(ctx, e, ids, "B23", valid=1), 200)
    status = ctx.get("coordinator", f"/api/quickcount/{eid}/status").json()
    return eid, status


def _sentences(page: str) -> dict[str, str]:
    return {
        "verdict": _part(page, r'<p id="qc-verdict">(.*?)</p>'),
        "estimate": _part(page, r'<table id="qc-estimate">.*?</table>\s*<p>(.*?)</p>'),
        "early_late": _part(page, r'<p id="qc-early-late">(.*?)</p>'),
    }


def test_english_page_shows_the_status_sentences(ctx, live):
    eid, st = live
    page = _page_as(ctx, eid, "en")
    shown = _sentences(page)
    assert st["verdict"]["reason"] in shown["verdict"]  # the stored English, as before
    assert st["early_late"]["verdict"] in shown["early_late"]
    assert shown["estimate"].startswith("From 7 reported stations of a 40-station frame: Alpha")
    assert "Alpha ahead, verified." in shown["estimate"]


@pytest.mark.parametrize("lang", ["az", "ru"])
def test_quick_count_sentences_in_the_users_language(ctx, live, lang):
    eid, st = live
    # the API's status keeps the English sentences (scripts read them)
    assert st["verdict"]["verdict"] == "consistent"
    assert st["verdict"]["reason"].startswith("Consistent: the official Alpha's share")
    english = [st["verdict"]["reason"], st["early_late"]["verdict"]]
    page = _page_as(ctx, eid, lang)
    assert f'<html lang="{lang}">' in page
    shown = _sentences(page)
    for sentence in english:
        assert sentence not in page
    assert not shown["estimate"].startswith("From 7 reported stations")
    if lang == "ru":
        for name, text in shown.items():
            text = re.sub(r"\b(?:Alpha|Beta|PVT)\b", "#", text)
            assert LATIN_RUN.findall(text) == [], name
        assert "Согласуется: официальные доля Alpha" in shown["verdict"]
        assert "Alpha впереди, подтверждено." in shown["estimate"]
    else:
        assert "Uyğundur: Alpha namizədinin rəsmi payı" in shown["verdict"]
        assert "Alpha öndədir, təsdiqlənib." in shown["estimate"]


@pytest.fixture
def cli_ctx(tmp_path, monkeypatch):
    for var in ("POLLWATCH_DATABASE_URL", "POLLWATCH_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)  # the commands export their options
    c = make_ctx(tmp_path)
    yield c
    c.client.close()
    c.app.state.engine.dispose()


def test_status_command_in_russian(cli_ctx, tmp_path):
    """``pollwatch quickcount status --lang ru``: the status's text in Russian; --json English."""
    ctx = cli_ctx
    eid, ids, e = qcs.big_election(ctx, tmp_path)
    qcs.TestLive().file(ctx, e, ids, "B00")  # one report: no estimate yet
    assert ctx.get("coordinator", f"/api/quickcount/{eid}/status").json()["reported"] == 1
    db = ["--database", ctx.settings.database_url, "--data-dir", str(ctx.settings.data_dir)]

    def run(*args):
        r = CliRunner().invoke(app, ["quickcount", "status", "--election", "big", *args, *db])
        assert r.exit_code == 0, r.output
        return r.output

    en, ru = run(), run("--lang", "ru")
    assert "1 of 8 sampled stations reported (12.50 %)." in en
    assert "no estimate yet: fewer than 2 counted reports" in en
    assert "Сообщили 1 из 8 участков выборки (12.50 %)." in ru
    assert "оценки пока нет: учтённых сообщений меньше 2" in ru
    # "Note:" is Summary.as_text's own prefix (pollwatch.results), not the quick count's
    text = re.sub(r"^Note: ", "", ru, flags=re.M)
    assert LATIN_RUN.findall(text) == []
    doc = json.loads(run("--json", "--lang", "ru"))
    assert "no estimate yet: fewer than 2 counted reports" in doc["notes"]
    bad = CliRunner().invoke(app, ["quickcount", "status", "--lang", "fr", *db])
    assert bad.exit_code != 0 and "--lang" in bad.output
