"""The station dossier and the review queue in the reader's language: the dossier is built in
the user's language (fusion's statements, the evidence table's strength/source/reading, the
official protocol's arithmetic, the forensic signals) and the submissions' flags are written
again from their numbers; English pages stay as they were."""

from __future__ import annotations

import pytest

from pollwatch.i18n import tooling
from pollwatch.service import models as m

from .test_dossier import file_incident_with_photo, stations_csv  # noqa: TID252
from .test_web import login  # noqa: TID252

# data and names on the page, not sentences: candidates, usernames, the checklist's form code
ALLOW = ("Alpha", "Beta", "ballot_stuffing", "box stuffed", "SHA-256", "POLLWATCH_ANALYSIS_DIR")


def _file_everything(ctx, station: int) -> None:
    """An incident with a photo, a protocol copy that differs from the official protocol and
    does not add up, and a checklist whose numbers contradict each other and the list."""
    file_incident_with_photo(ctx, station)
    body = {
        "client_id": ctx.new_id(),
        "station_id": station,
        "numbers": {
            "registered": 1000,
            "valid": 600,
            "invalid": 10,
            "ballots_mobile_box": 40,
            "ballots_stationary_box": 570,
        },
        "votes": {"Alpha": 450, "Beta": 200},
    }
    r = ctx.post("observer", "/api/protocols", json=body)
    assert r.status_code == 201 and r.json()["flags"], r.text
    r = ctx.post(
        "observer",
        "/api/checklists",
        json=ctx.checklist(station, "voting", voters_by_noon=1500, voters_by_17=300),
    )
    assert r.status_code == 201, r.text
    rules = {f["rule"] for f in r.json()["flags"]}
    assert rules == {"exceeds_registered", "turnout_decreased"}, rules


def _page(ctx, lang: str, url: str) -> str:
    with ctx.session() as s:
        s.get(m.User, ctx.users["coordinator"]).language = lang
        s.commit()
    ctx.client.cookies.clear()
    login(ctx.client, "coordinator")
    r = ctx.client.get(url)
    assert r.status_code == 200, r.text
    return r.text


@pytest.fixture
def filed(ctx, tmp_path, monkeypatch):
    st = ctx.stations[0]
    _file_everything(ctx, st)
    code = ctx.get("admin", f"/api/stations/{st}/dossier").json()["station_id"]
    stations_csv(tmp_path, code)
    monkeypatch.setenv("POLLWATCH_ANALYSIS_DIR", str(tmp_path))
    return ctx


def test_dossier_page_in_russian_has_no_english_sentence(filed):
    page = _page(filed, "ru", f"/stations/{filed.stations[0]}/dossier")
    assert '<html lang="ru">' in page
    assert tooling.leftover_english(page, "ru") == []
    assert tooling.english_runs(page, allow=ALLOW) == []
    # what was English before: the reading, the source, the forensic signals, the flags
    assert "указывает на нарушение" in page and "наблюдатели" in page.lower()
    assert "избирателей к 17:00 (300) &lt; к 12:00 (1500)" in page


def test_dossier_page_in_azerbaijani_differs_from_english(filed):
    en = _page(filed, "en", f"/stations/{filed.stations[0]}/dossier")
    az = _page(filed, "az", f"/stations/{filed.stations[0]}/dossier")
    assert "<td>hard</td>" in en and "voters by 17:00 (300) &lt; by 12:00 (1500)" in en
    assert "<td>hard</td>" not in az and "voters by 17:00" not in az
    assert tooling.leftover_english(az, "az") == []


def test_review_queue_flags_in_russian(filed):
    page = _page(filed, "ru", "/review")
    assert tooling.english_runs(page, allow=ALLOW) == [], tooling.english_runs(page, allow=ALLOW)
    # the question is named by its Russian label, the numbers kept
    assert "(1500) &gt; число избирателей в списке (1000)" in page
    en = _page(filed, "en", "/review")
    assert "voters_by_noon (1500) &gt; registered (1000)" in en  # as stored


def test_english_dossier_not_memoised_for_russian_readers(filed):
    """The camera comparison is not cached across languages: a Russian view first, then an
    English one, each in its own language."""
    ru = _page(filed, "ru", f"/stations/{filed.stations[0]}/dossier")
    en = _page(filed, "en", f"/stations/{filed.stations[0]}/dossier")
    assert tooling.english_runs(ru, allow=ALLOW) == []
    assert "Station" in en and "Участок" not in en


def test_a_live_flag_is_english_in_json_and_russian_when_said():
    """The quick-count page lists a quarantined copy's flags (FlagText): English in the JSON
    and in ``str``, Russian when the page says them."""
    import json

    from pollwatch.i18n.text import say
    from pollwatch.service.rules import FlagText, protocol_flags

    flags = protocol_flags(
        {"registered": 100, "valid": 90, "invalid": 5, "ballots_stationary_box": 80},
        {"A": 50, "B": 30},
        100,
    )
    texts = [FlagText(f) for f in flags]
    assert json.loads(json.dumps(texts)) == [f["message"] for f in flags]
    ru = [say(t, "ru") for t in texts]
    assert ru[0].endswith("ожидалось 80, найдено 95") and tooling.english_runs(f"<p>{ru}</p>") == []
