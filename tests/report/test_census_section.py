"""The "Tally-sheet census" section of the analysis report and the census block of results.json
(issue 21), on a simulated census night: altered official results, sheets collected urban first."""

from __future__ import annotations

import copy
import html as _html
import json
import re

import jsonschema
import pytest
from typer.testing import CliRunner

from pollwatch.census import census_check
from pollwatch.census.sheets import SheetFinding
from pollwatch.census.simulation import simulate_census
from pollwatch.claims.model import Claim
from pollwatch.cli import app
from pollwatch.forensics.run import analyze
from pollwatch.report import write_all
from pollwatch.report.glossary import CENSUS, coded_codes
from pollwatch.report.schema import results_schema
from pollwatch.results import jsonable


def _claim(q: str, value: float, unit: str = "%") -> Claim:
    return Claim(source="CEC", speaker="", quantity=q, value=value, unit=unit)


@pytest.fixture(scope="module")
def night():
    return simulate_census(3, stations=600, regions=4)


@pytest.fixture(scope="module")
def check(night):
    b_on_sheets = int(night.sheets.usable["Candidate B"].sum())
    claims = [
        # fewer votes for B than the sheets alone show: impossible whatever lies outside them
        _claim("candidate_votes:Candidate B", b_on_sheets - 1000, unit="count"),
        _claim("candidate_share:Candidate A", 42.4),  # inside the corrected interval
        _claim("winner_share", 99.0),  # above the worst case
    ]
    return census_check(night.sheets, night.official, claims)


@pytest.fixture(scope="module")
def written(night, check, tmp_path_factory):
    analysis = analyze(night.official, seed=0, methods=["fingerprint"])
    with_census = tmp_path_factory.mktemp("with")
    without = tmp_path_factory.mktemp("without")
    return (
        write_all(analysis, with_census, census=check, census_source="sheets.csv"),
        write_all(analysis, without),
    )


def _section(page: str) -> str:
    i = page.index('<section id="census"')
    return page[i : page.index("</section>", i)]


def _text(fragment: str) -> str:
    return _html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)))


def test_the_section_shows_coverage_totals_estimate_and_verdicts(written, check):
    page = written[0]["report.html"].read_text(encoding="utf-8")
    text = _text(_section(page))
    ov = check.coverage["overall"]
    assert (
        f"Sheets were collected at {ov['collected']:,} of {ov['stations']:,} polling stations"
        in text
    )
    assert "Coverage by region" in text
    for g in check.coverage["by_region"]:
        assert g in text
    for name, votes in check.totals.items():
        assert f"{name} {votes:,}" in text
    # the estimate with its interval and its assumption in words
    a = check.estimate["share:Candidate A"]
    assert f"{100 * a.estimate:.2f} %" in text and f"{100 * a.interval.low:.2f} %" in text
    assert "It assumes that within each post-stratum" in text
    assert "Selection check:" in text
    assert f"at most {check.bound.uncollected_max:,} more could exist" in text
    # each claim's verdict in words, with its reason
    assert [c.verdict for c in check.claims] == ["impossible", "consistent", "impossible"]
    raw = page[page.index("id='census-claims'") :].split("</table>", 1)[0]
    badges = re.findall(r"<strong class='census-verdict c-(\w+)'[^>]*>([^<]+)</strong>", raw)
    assert badges == [(c.verdict, CENSUS[c.verdict].name) for c in check.claims]
    table = _text(raw)
    for c in check.claims:
        assert _text(_html.escape(c.reason)) in table
    # the stations whose official figure is below the signed sheet
    above = {f["station_id"] for f in check.findings if f["kind"] == "sheet_above_official"}
    assert above, "the simulation moves votes away from B and C: some sheet is above official"
    assert f"At {len(above):,} stations a candidate has fewer votes in the official table" in text
    rows = re.findall(r"<tr><td>([^<]+)</td>", _section(page).split("id='census-above'")[1])
    assert set(rows) <= above and len(rows) == min(
        200, sum(f["kind"] == "sheet_above_official" for f in check.findings)
    )


def test_no_code_in_the_section(written):
    page = written[0]["report.html"].read_text(encoding="utf-8")
    text = _text(_section(page))
    for code in (*coded_codes(), "candidate_share", "candidate_votes", "winner_share"):
        assert not re.search(rf"(?<![\w/]){re.escape(code)}(?![\w/])", text), code
    # the census codes are in the glossary's code column
    glossary = page[page.index('<section id="glossary">') :]
    for code in ("sheet_above_official", "impossible", "unverifiable"):
        assert f"<code>{code}</code>" in glossary


def test_the_test_would_catch_a_code(written):
    page = written[0]["report.html"].read_text(encoding="utf-8")
    text = _text(_section(page)) + " sheet_above_official"
    assert re.search(r"(?<![\w/])sheet_above_official(?![\w/])", text)


def test_every_finding_kind_and_verdict_has_a_glossary_entry(check):
    kinds = {f["kind"] for f in check.findings} | {c.verdict for c in check.claims}
    assert kinds <= set(CENSUS) | {"arithmetic"}
    assert {"impossible", "consistent", "unverifiable"} <= set(CENSUS)


def test_every_sheet_finding_kind_is_named_and_in_the_schema():
    """The kinds census.sheets documents (SheetFinding) and the comparison kinds: each has a
    glossary entry and is allowed by the schema (a new kind fails here, not in a reader's hands)."""
    doc = SheetFinding.__doc__ or ""
    kinds = set(re.findall(r"``(\w+)`` \(", doc.split("``kind``", 1)[1]))
    assert {"duplicate", "conflict", "incomplete", "arithmetic", "unknown_station"} <= kinds
    kinds |= {"sheet_above_official", "official_above_sheet"}
    assert kinds - {"arithmetic"} <= set(CENSUS)
    schema = results_schema()["$defs"]["census"]["properties"]["findings"]["items"]
    assert kinds <= set(schema["properties"]["kind"]["enum"])
    assert "sheet_id_reused" in schema["properties"]["kind"]["enum"]  # on main's census.sheets


def test_results_json_census_block_follows_the_schema(written, check):
    doc = json.loads(written[0]["results.json"].read_text(encoding="utf-8"))
    assert doc["census"] == json.loads(json.dumps(jsonable(check.to_json())))
    v = jsonschema.Draft202012Validator(results_schema())
    assert [e.message for e in v.iter_errors(doc)] == []
    bad = copy.deepcopy(doc)
    bad["census"]["undocumented_key"] = 1
    assert any("undocumented_key" in e.message for e in v.iter_errors(bad))
    bad = copy.deepcopy(doc)
    bad["census"]["claims"][0]["verdict"] = "probably"
    assert list(v.iter_errors(bad))


def test_without_census_the_section_and_block_are_left_out(written):
    page = written[1]["report.html"].read_text(encoding="utf-8")
    assert '<section id="census"' not in page
    assert "census" not in json.loads(written[1]["results.json"].read_text(encoding="utf-8"))


def test_analyze_census_option(night, tmp_path):
    sheets = tmp_path / "sheets.csv"
    night.sheets.table.drop(["line", "usable", "ballots"]).write_csv(sheets)
    official, mapping = night.write_official(tmp_path)
    claims = tmp_path / "claims.yaml"
    claims.write_text(
        "claims:\n"
        '  - {source: CEC, quantity: "candidate_votes:Candidate B", value: "1", unit: count}\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    args = ["analyze", str(official), "--mapping", str(mapping), "--methods", "fingerprint"]
    args += ["--census", str(sheets), "--claims", str(claims), "--out", str(out), "--quiet"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert doc["census"]["sheets"]["usable"] == night.sheets.n_usable
    assert [c["verdict"] for c in doc["census"]["claims"]] == ["impossible"]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<section id="census"' in page and "Published claims" in page
    # a sheets file that cannot be read: exit 1 naming it, no report
    bad = tmp_path / "bad.csv"
    bad.write_text("station,votes\n1,2\n", encoding="utf-8")
    res = CliRunner().invoke(app, [*args[:6], "--census", str(bad), "--out", str(tmp_path / "o2")])
    assert res.exit_code == 1 and "bad.csv" in res.output
    assert not (tmp_path / "o2" / "report.html").exists()


@pytest.mark.browser
def test_the_section_in_chromium(written, browser, tmp_path):
    """The section renders: its tables are visible, fit a 400 px phone (they scroll inside their
    wrapper, the page does not), and the verdict badges carry their meaning as a tooltip."""
    page = browser.new_page(viewport={"width": 400, "height": 900})
    page.goto(written[0]["report.html"].as_uri())
    sec = page.locator("section#census")
    assert sec.is_visible()
    for tid in ("census-coverage-region", "census-totals", "census-estimate", "census-claims"):
        assert page.locator(f"#{tid}").is_visible(), tid
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    badge = page.locator("#census-claims .census-verdict").first
    assert badge.get_attribute("title") == CENSUS["impossible"].explanation
    assert badge.is_visible() and badge.inner_text() == CENSUS["impossible"].name
    # readable: the text colour differs from its background (a badge style would hide it)
    colours = badge.evaluate(
        "e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]"
    )
    assert colours[0] != colours[1] and colours[0] != "rgb(255, 255, 255)", colours
    page.locator("#census-claims").scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "census.png"))
    page.close()
