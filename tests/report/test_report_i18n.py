"""The report in Azerbaijani and Russian (``build_report(lang=)``, ``pollwatch analyze --lang``):
``<html lang>``, translated section headings, no English left that the catalogue translates,
numbers in the language's notation; the exports keep their codes."""

from __future__ import annotations

import re

import pytest

from pollwatch.forensics.run import analyze
from pollwatch.i18n import format_pct, gettext, tooling, use_language
from pollwatch.report import build_report, render, results_section, write_all
from pollwatch.report.glossary import SECTIONS
from pollwatch.results import Summary
from pollwatch.simulate import simulate_election
from pollwatch.simulate.config import Carousel, FraudConfig, Rounding, Stuffing


@pytest.fixture(scope="module")
def analysis():
    sim = simulate_election(3000, seed=3)
    return analyze(sim.election, seed=1)


@pytest.fixture(scope="module")
def pages(analysis) -> dict[str, str]:
    return {lang: render(build_report(analysis, lang=lang)) for lang in ("en", "az", "ru")}


@pytest.mark.parametrize("lang", ["az", "ru"])
def test_report_in_language(pages, analysis, lang):
    page = pages[lang]
    assert f'<html lang="{lang}">' in page
    headings = [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<h2[^>]*>(.*?)</h2>", page)]
    assert len(headings) >= 8
    for key, term in SECTIONS.items():
        if f'<section id="{key}">' not in page:
            continue
        want = gettext(term.source_name, lang)
        assert want != term.source_name and want in headings, key
        assert term.source_name not in headings, key

    # the whole page, the methods' summaries included (their sentences, values and notes)
    assert "<div class='pw-summary'><h4>" in page
    assert tooling.leftover_english(page, lang) == []
    # the report's own numbers in the language's notation; the methods' sentences, values and
    # notes keep the notation they were written in, so they are left out of this one check
    own = re.sub(
        r"<div class='pw-summary'>.*?</div>",
        lambda m: re.sub(
            r"<p>.*?</p>|<td>.*?</td>|<ul class='notes'>.*?</ul>", "", m[0], flags=re.S
        ),
        page,
        flags=re.S,
    )
    # the official turnout in the language's notation (decimal comma in az and ru)
    turnout = analysis.doc["election"]["turnout"]
    assert format_pct(turnout, 1, lang) in own and format_pct(turnout, 1, "en") not in own


def test_english_report_unchanged_by_the_catalogues(pages):
    page = pages["en"]
    assert '<html lang="en">' in page and "How we got these numbers" in page
    assert tooling.leftover_english(page, "ru")  # the check would see English if it were there


def test_leftover_check_catches_an_untranslated_heading(pages):
    page = pages["ru"].replace(gettext("Data quality", "ru"), "Data quality", 1)
    assert "Data quality" in tooling.leftover_english(page, "ru")


def test_write_all_lang_keeps_codes_in_exports(analysis, tmp_path):
    paths = write_all(analysis, tmp_path, lang="ru")
    html = paths["report.html"].read_text(encoding="utf-8")
    assert '<html lang="ru">' in html
    csv_head = paths["stations.csv"].read_text(encoding="utf-8").splitlines()[0]
    assert "station_id" in csv_head  # codes, not translations


class _Result:
    def summary(self) -> Summary:
        return Summary("Quick count (PVT)", "12 stations reported.", [("stations reported", "12")])


def test_source_sections_summaries_translated():
    with use_language("ru"):
        section = results_section("pvt", gettext("Quick count (PVT)"), [_Result()])
    assert "<h4>Параллельный подсчёт (PVT)</h4>" in section.html
    assert "<th>сообщили участков</th>" in section.html
    assert "12 stations reported." in section.html  # the method's own sentence: English still


# -- no English left a reader sees (issue 22) ---------------------------------------------------
def english_runs(page: str, data: set[str]) -> list[str]:
    """Runs of 3+ Latin words a reader of ``page`` sees, after taking out the election's own
    data (its name, candidates, regions, station ids: ``data``), the sources' proper names and
    paths to ``docs/`` (:func:`pollwatch.i18n.tooling.english_runs`)."""
    return tooling.english_runs(page, allow=data)


@pytest.fixture(scope="module")
def fraud():
    """A Russian-layout election with stuffing, carousel voting and rounded protocols: it
    makes the methods write their notes (merged units, small strata, absentee lines)."""
    sim = simulate_election(
        3000,
        seed=4,
        fraud=FraudConfig(stuffing=Stuffing(0.2), carousel=Carousel(0.1), rounding=Rounding(0.1)),
        layout="russia",
    )
    analysis = analyze(sim.election, seed=1)
    e = analysis.election
    data = {str(e.meta.name)} | {c.name for c in e.candidates}
    data |= {str(x) for x in e.table["station_id"].unique().to_list()}
    for level in e.meta.hierarchy:
        data |= {str(x) for x in set(e.level(level).tolist())}
    return analysis, {x for x in data if re.search("[A-Za-z]", x)}


def test_russian_report_of_a_fraudulent_election_has_no_english_left(fraud):
    """Every sentence, note, table value, source and calibration line of a Russian report is
    Russian: the notes the methods wrote at analysis time are said again from their parts."""
    analysis, data = fraud
    en = render(build_report(analysis, lang="en"))
    ru = render(build_report(analysis, lang="ru"))
    assert len(english_runs(en, data)) > 100  # the check reads the English report's text
    left = english_runs(ru, data)
    assert left == [], left


def test_english_run_check_sees_a_note(fraud):
    """A note left in English (the carousel's absentee-certificate caveat) is found."""
    analysis, data = fraud
    ru = render(build_report(analysis, lang="ru"))
    said = gettext(
        "Russian absentee certificates are valid anywhere in the country, so only the "
        "national balance is an identity; per-constituency excesses show travel too",
        "ru",
    )
    assert said in ru
    english = "Russian absentee certificates are valid anywhere in the country"
    assert english in english_runs(ru.replace(said, english + "."), data)


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["az", "ru"])
def test_translated_report_fits_a_phone(analysis, browser, tmp_path, lang):
    """Azerbaijani and Russian run longer than English: the page still never scrolls sideways
    at 400 px (issue 17's rule); a full-page screenshot is saved beside the report."""
    path = write_all(analysis, tmp_path, lang=lang)["report.html"]
    page = browser.new_page(viewport={"width": 400, "height": 900})
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    scroll, width = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    page.screenshot(path=str(path.with_name(f"report-{lang}-400.png")), full_page=True)
    page.close()
    assert scroll <= width, (lang, scroll, width)
