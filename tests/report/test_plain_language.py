"""The report a journalist can publish: a short linked headline, names instead of codes, a
glossary, safe links to official pages, sections that say when they do not apply, and one
carousel count (issue 17)."""

from __future__ import annotations

import html as _html
import json
import re
from html.parser import HTMLParser

import numpy as np
import polars as pl
import pytest

from pollwatch.forensics.run import METHODS as RUN_METHODS
from pollwatch.forensics.run import analyze
from pollwatch.forensics.scores import SIGNAL_SOURCES, WEIGHTS
from pollwatch.forensics.strength import RULE_METHODS
from pollwatch.ingest import read_election
from pollwatch.model import EXCLUSION_REASONS, FIELDS, SOURCE_URL, Election, ElectionMeta
from pollwatch.report import write_all
from pollwatch.report.build import safe_url
from pollwatch.report.glossary import READINGS, all_terms, coded_codes, plain
from pollwatch.simulate import FraudConfig, Stuffing, simulate_election
from pollwatch.validate import RULES

LONG_NAME = "Путин Владимир Владимирович"

#: hrefs the fixture puts in the file's URL column, one per station in turn
URLS = (
    "javascript:alert(1)",
    "https://cec.example/uik?a=1&b=2\"' onmouseover='x'",
    "  JaVaScRiPt:alert(2)",
    "data:text/html,<script>alert(3)</script>",
    "http://cec.example/uik/ok",
    "ftp://cec.example/x",
)


def _with_urls(e: Election) -> Election:
    urls = [URLS[i % len(URLS)] for i in range(e.n_stations)]
    out = Election(e.table.with_columns(pl.Series(SOURCE_URL, urls)), e.meta)
    out.ingest_report = e.ingest_report
    return out


@pytest.fixture(scope="module")
def sim_report(tmp_path_factory):
    """A simulated Russian-layout election with stuffing (carousel lines, regions) and a URL
    column of hostile and honest links."""
    sim = simulate_election(
        2500, seed=4, fraud=FraudConfig(stuffing=Stuffing(0.3)), layout="russia"
    )
    e = _with_urls(sim.election)
    methods = [m for m in RUN_METHODS if m != "coarse_shares"]  # slow, and no station signal
    analysis = analyze(e, seed=0, methods=methods)
    out = tmp_path_factory.mktemp("plain")
    paths = write_all(analysis, out)
    return analysis, paths, paths["report.html"].read_text(encoding="utf-8")


class _Text(HTMLParser):
    """Visible text and title attributes, leaving out scripts, styles, the glossary's code
    column and the <code> elements of the files section (the exports' own words)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict]] = []
        self.chunks: list[str] = []

    def _skipped(self) -> bool:
        for tag, attrs in self.stack:
            if tag in ("script", "style"):
                return True
            if tag == "td" and "code" in (attrs.get("class") or "").split():
                return True
            if tag == "section" and attrs.get("id") == "reproduce":
                if any(t == "code" for t, _ in self.stack):
                    return True
        return False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag not in ("br", "img", "input", "meta", "link", "hr", "wbr"):
            self.stack.append((tag, a))
        if not self._skipped() and a.get("title"):
            self.chunks.append(a["title"])

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if not self._skipped():
            self.chunks.append(data)


def _visible_text(page: str) -> str:
    p = _Text()
    p.feed(re.sub(r"<svg.*?</svg>", "", page, flags=re.S))
    return "\n".join(p.chunks)


# -- 1. headline -------------------------------------------------------------------------------
def _headline_html(page: str) -> str:
    return re.search(r'<div id="headline">(.*?)</div>', page, re.S).group(1)


def test_headline_at_most_three_sentences_every_number_linked(sim_report):
    analysis, _, page = sim_report
    hl = _headline_html(page)
    text = _html.unescape(re.sub(r"<[^>]+>", "", hl))
    # a sentence ends at ". " (or the end) after a letter, digit, ")" or "%"
    sentences = [s for s in re.split(r"(?<=[\w)%])\.(?:\s+|$)", text.strip()) if s.strip()]
    assert 1 <= len(sentences) <= 3, sentences
    assert len(text) < 420, text
    # every number sits inside a link, and every link's target exists in the page
    outside = re.sub(r"<a [^>]*>.*?</a>", "", hl)
    outside = _html.unescape(re.sub(r"<[^>]+>", "", outside))
    assert not re.search(r"\d", outside), outside
    targets = re.findall(r'<a href="#([^"]+)">([^<]*)</a>', hl)
    assert len(targets) >= 3
    for target, shown in targets:
        assert re.search(rf'id=["\']{re.escape(target)}["\']', page), target
        assert re.search(r"\d", shown)
    # it leads with the calibrated headline block
    statement = analysis.doc["headline"]["statement"]
    assert text.startswith(statement.split(":")[0].split(" for ")[0])


def test_how_we_got_these_numbers_holds_the_statement_and_rule(sim_report):
    analysis, _, page = sim_report
    how = page[page.index('<section id="how">') : page.index('<section id="figures">')]
    assert _html.escape(analysis.doc["headline"]["statement"], quote=False) in how.replace(
        "&#x27;", "'"
    )
    assert "strong = 3 or more" in how  # the strength rule moved here from the header
    header = page[: page.index("<nav")]
    assert "strong = 3 or more" not in header


@pytest.mark.browser
def test_headline_height_at_phone_width(sim_report, browser, tmp_path):
    """At 400 px the headline block is at most ~8 text lines (it was 13 lines of paragraph plus
    9 of rule on the 2012 report)."""
    analysis, paths, _ = sim_report
    # the longest headline: a falsified-votes figure with its interval
    assert analysis.doc["headline"]["falsified_votes"]["estimate"] is not None
    page = browser.new_page(viewport={"width": 400, "height": 900})
    page.goto(paths["report.html"].as_uri())
    m = page.evaluate(
        """() => { const h = document.getElementById('headline');
        const p = h.querySelector('p');
        return {h: h.getBoundingClientRect().height, lh: parseFloat(getComputedStyle(p).lineHeight)}; }"""
    )
    lines = m["h"] / m["lh"]
    print(f"headline at 400 px: {lines:.2f} lines")
    page.screenshot(path=str(tmp_path / "headline-400.png"))
    page.close()
    assert lines <= 8.2, f"headline is {lines:.1f} lines high at 400 px"


# -- 2. plain language -------------------------------------------------------------------------
def test_no_code_in_the_page_text(sim_report):
    """No code (a name with an underscore, which no English word has) appears in the page's
    text or tooltips outside the glossary's code column and the files section's <code>."""
    _, _, page = sim_report
    text = _visible_text(page)
    found = sorted(
        c for c in coded_codes() if re.search(rf"(?<![\w/]){re.escape(c)}(?![\w/])", text)
    )
    assert found == [], found
    assert "r(t, s) [" not in text
    # the codes are still in the glossary's code column
    for code in ("turnout_outlier", "boxes_le_issued", "mixture_by_region", "min_rv_1"):
        assert f"<code>{code}</code>" in page or f"{code}</code>" in page, code


def test_the_test_would_catch_a_code(sim_report):
    """The walker sees a code placed in ordinary text (so the test above can fail)."""
    _, _, page = sim_report
    broken = page.replace("</footer>", "<p>share_outlier</p></footer>")
    assert "share_outlier" in _visible_text(broken)
    assert plain("boxes_le_issued: 3") == "No more ballots in the boxes than were issued: 3"


def test_every_code_the_methods_emit_has_a_glossary_entry(sim_report):
    analysis, _, _ = sim_report
    e = analysis.election
    codes: set[str] = set(RUN_METHODS) | {m.json_key for m in RUN_METHODS.values()}
    for res in analysis.results.values():
        codes |= set(res.station_signals(e))
    codes |= set(WEIGHTS) | set(SIGNAL_SOURCES) | set(RULES) | {"nonnegative"}
    codes |= set(EXCLUSION_REASONS) | {f.name for f in FIELDS}
    codes |= {key for key, _ in RULE_METHODS.values()} | {run for _, run in RULE_METHODS.values()}
    codes |= set(analysis.doc["methods"]["correlation"]["variants"])
    codes |= set(analysis.doc["methods"]["carousel"]["shares"])
    codes |= set(analysis.doc["findings"])
    codes |= set(analysis.timings) - {"validate"} | {"validate"}
    terms = all_terms()
    missing = sorted(c for c in codes if c not in terms)
    assert missing == [], f"codes without a glossary entry: {missing}"
    assert set(analysis.doc["headline"]["readings"]) <= set(READINGS)
    for t in terms.values():
        assert t.name and t.explanation and "_" not in t.name, t


def test_sections_named_with_tooltips_and_in_the_glossary(sim_report):
    from pollwatch.report.glossary import SECTIONS

    _, _, page = sim_report
    heads = re.findall(r'<section id="([^"]+)">\s*<h2 title="([^"]+)">([^<]+)</h2>', page)
    assert len(heads) >= 8
    glossary = page[page.index('<section id="glossary">') :]
    for key, tip, name in heads:
        assert name == _html.escape(SECTIONS[key].name, quote=False) and tip
        assert f"<code>{key}</code>" in glossary, key


def test_station_cell_shows_its_own_number():
    from pollwatch.report.build import _station_cell

    cell = _station_cell(
        "Республика Татарстан/33 Казань/259", ["Республика Татарстан", "33 Казань"]
    )
    assert cell == "<td title='Республика Татарстан/33 Казань/259'>259</td>"
    assert _station_cell("C025/15", ["Region 04", "C025"]) == "<td>C025/15</td>"


def test_signals_in_words_with_tooltips(sim_report):
    _, _, page = sim_report
    table = page[page.index("id='station-table'") :]
    table = table[: table.index("</table>")]
    sigs = re.findall(r"<span class='sig' title='([^']+)'>([^<]+)</span>", table)
    assert sigs and all("_" not in name and tip for tip, name in sigs)
    assert "title='The sum of the points" in table  # "points" is explained
    assert 'id="glossary"' in page


def test_exports_keep_the_codes(sim_report):
    analysis, paths, _ = sim_report
    csv = pl.read_csv(paths["stations.csv"])
    assert csv.columns == analysis.stations_table().columns
    assert SOURCE_URL not in csv.columns
    assert csv["signals"].str.contains("above_peak").any()
    doc = json.loads(paths["results.json"].read_text(encoding="utf-8"))
    assert {"mixture_by_region", "shpilkin_permutation", "regional_excess_bounds"} <= set(
        doc["methods"]
    )


# -- 3. stations table and links ---------------------------------------------------------------
def test_key_columns_first(sim_report):
    _, _, page = sim_report
    cols = re.findall(r"data-col='([^']+)'", page)
    assert cols[:3] == ["station_id", "region", "constituency"]
    assert cols[3:7] == ["points", "signals", "turnout", "leader_share"]


def test_only_http_links_escaped_and_no_javascript(sim_report):
    analysis, _, page = sim_report
    assert "javascript:" not in page.lower()
    assert "data:text/html" not in page
    assert "ftp://" not in page
    links = re.findall(r"<a href='([^']*)' rel='([^']*)'>", page)
    assert links, "no station links"
    shown = {_html.unescape(h) for h, _ in links}
    assert shown <= {URLS[1], URLS[4]}
    assert all(rel == "noopener noreferrer nofollow" for _, rel in links)
    # the quote in the URL is escaped, so it cannot close the attribute
    assert "onmouseover='x'" not in page


def test_safe_url():
    assert safe_url("https://cec.example/a?b=1") == "https://cec.example/a?b=1"
    assert safe_url("HTTP://cec.example") == "HTTP://cec.example"
    for bad in (
        "javascript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "data:text/html,x",
        "vbscript:x",
        "//cec.example/a",
        "/local/path",
        "https://",
        "https://cec.example/a b",
        None,
        3,
    ):
        assert safe_url(bad) is None, bad


def test_ingest_sniffs_a_url_column(tmp_path):
    sim = simulate_election(200, seed=1)
    files = sim.write(tmp_path)
    df = pl.read_csv(files["results.csv"])
    urls = [f"https://cec.example/uik/{i}" for i in range(df.height)]
    df.with_columns(pl.Series("Protocol page", urls)).write_csv(tmp_path / "with_url.csv")
    e = read_election(tmp_path / "with_url.csv", mapping=files["mapping.toml"])
    assert e.table[SOURCE_URL].to_list() == urls
    assert [c.name for c in e.candidates] == [c.name for c in sim.election.candidates]
    # a text column that is not a link is not taken
    df.with_columns(pl.lit("see the protocol").alias("note")).write_csv(tmp_path / "note.csv")
    assert (
        SOURCE_URL
        not in read_election(tmp_path / "note.csv", mapping=files["mapping.toml"]).table.columns
    )


# -- 4. sections that do not apply -------------------------------------------------------------
def _small(votes: dict[str, np.ndarray], n: int, rng, hierarchy=None, name="Test") -> Election:
    reg = rng.integers(300, 1500, n)
    t = np.clip(rng.normal(0.6, 0.08, n), 0.1, 0.95)
    cast = rng.binomial(reg, t)
    invalid = rng.binomial(cast, 0.02)
    valid = cast - invalid
    return Election.from_arrays(
        registered=reg,
        valid=valid,
        invalid=invalid,
        votes=votes(valid),
        hierarchy=hierarchy,
        meta=ElectionMeta(name=name, country="XX", date="2024-02-07"),
    )


def test_referendum_without_regions(tmp_path):
    """A yes/no referendum with no regional hierarchy and few stations: every section either
    applies or says in one sentence why not."""
    rng = np.random.default_rng(3)

    def yes_no(valid):
        yes = rng.binomial(valid, 0.7)
        return {"Yes": yes, "No": valid - yes}

    e = _small(yes_no, 60, rng, name="Constitutional referendum")
    analysis = analyze(
        e, seed=0, methods=["fingerprint", "integer_percentages", "digits", "shpilkin", "carousel"]
    )
    page = write_all(analysis, tmp_path)["report.html"].read_text(encoding="utf-8")
    regions = page[page.index('<section id="regions">') : page.index('<section id="diagnostics">')]
    assert "Not shown: the file has no regions." in regions
    assert "<table" not in regions
    assert 'data-figure="regions"' not in page and 'data-figure="fingerprint-regions"' not in page
    assert "digit figures are left out" in page  # 60 stations: digit means are too noisy
    assert 'data-figure="digits' not in page
    assert "the file has no absentee, additional-list or mobile-box lines" in page
    assert "Yes" in _headline_html(page)
    text = _visible_text(page)
    assert not [c for c in coded_codes() if re.search(rf"(?<![\w/]){re.escape(c)}(?![\w/])", text)]


def test_one_region_says_so(tmp_path):
    rng = np.random.default_rng(5)

    def two(valid):
        a = rng.binomial(valid, 0.55)
        return {"A": a, "B": valid - a}

    n = 400
    e = _small(two, n, rng, hierarchy={"region": np.array(["Only"] * n)})
    analysis = analyze(e, seed=0, methods=["fingerprint", "shpilkin"])
    page = write_all(analysis, tmp_path)["report.html"].read_text(encoding="utf-8")
    assert "Not shown: all stations are in one region (Only)." in page
    assert 'data-figure="regions"' not in page and 'data-figure="fingerprint-regions"' not in page


def test_law_cited_for_a_country_name(sim_report):
    """``--country Russia`` cites the Russian law, a country without one says why none is."""
    from pollwatch.report.caveats import caveat_source, legal_source

    assert "67-FZ" in caveat_source("carousel", "Russia")
    assert legal_source("carousel", "Freedonia") is None
    _, _, page = sim_report  # country XX: no law on record, said in one sentence
    assert "no law is on record for this country" in page


# -- 5. carousel: one count, saying what it counts ---------------------------------------------
def test_carousel_one_count_matches_the_stations_table(sim_report):
    analysis, paths, page = sim_report
    block = page[page.index("id='carousel-summary'") :]
    block = block[: block.index("</div>")]
    csv = pl.read_csv(paths["stations.csv"])
    away = int(csv["carousel"].sum())
    mobile = int(csv["mobile_box"].sum())
    assert away > 0 and mobile > 0
    sentence = _html.unescape(re.search(r"<p>(.*?)</p>", block).group(1))
    counts = [
        int(x.replace(",", "")) for x in re.findall(r"(\d[\d,]*) stations are flagged", sentence)
    ]
    assert counts == [away, mobile] or counts == [away] and f"{mobile:,} stations" in sentence
    assert "strict" not in block and "floored" not in block


def test_carousel_mobile_only_never_says_zero_above_a_count(tmp_path):
    """A file with a mobile-box line but no away-voter line: the old summary said "0 stations"
    directly above "flagged N" (the N were mobile-box stations)."""
    rng = np.random.default_rng(8)
    n = 600
    reg = rng.integers(400, 1500, n)
    issued_station = rng.binomial(reg, 0.55)
    issued_mobile = rng.binomial(reg, 0.04)
    issued_mobile[:12] = (reg[:12] * 0.3).astype(int)  # a few stations with a huge mobile vote
    cast = issued_station + issued_mobile
    invalid = rng.binomial(cast, 0.02)
    valid = cast - invalid
    a = rng.binomial(valid, 0.6)
    e = Election.from_arrays(
        registered=reg,
        valid=valid,
        invalid=invalid,
        votes={"A": a, "B": valid - a},
        hierarchy={"district": rng.choice([f"D{i}" for i in range(10)], n)},
        fields={
            "ballots_issued_station": issued_station,
            "ballots_issued_mobile": issued_mobile,
            "ballots_mobile_box": issued_mobile,
            "ballots_stationary_box": issued_station,
        },
        meta=ElectionMeta(name="Mobile only", country="XX", date="2024-02-07"),
    )
    analysis = analyze(e, seed=0, methods=["carousel"])
    page = write_all(analysis, tmp_path)["report.html"].read_text(encoding="utf-8")
    block = page[page.index("id='carousel-summary'") :]
    block = _html.unescape(block[: block.index("</div>")])
    mobile = analysis.results["carousel"].shares["mobile"].n_flagged_floored
    assert mobile > 0
    assert "0 stations" not in block
    assert f"{mobile:,} stations are flagged for a large mobile-box vote" in block
