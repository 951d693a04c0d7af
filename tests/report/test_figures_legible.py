"""Figures a journalist can publish (issue 17): full party names, no offset notation,
no overlapping text, the body of each distribution visible, legible at phone width."""

from __future__ import annotations

import html as _html
import itertools

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text
from matplotlib.ticker import ScalarFormatter

from pollwatch.forensics.run import analyze
from pollwatch.model import Election, ElectionMeta
from pollwatch.report import figures as figs
from pollwatch.report import write_all

PARTIES = [
    '1. Всероссийская политическая партия "ЕДИНАЯ РОССИЯ"',
    '2. Всероссийская политическая партия "ЕДИНСТВО И ОТЕЧЕСТВО"',
    "3. Политическая партия КОММУНИСТИЧЕСКАЯ ПАРТИЯ РОССИЙСКОЙ ФЕДЕРАЦИИ",
    '4. Всероссийская политическая партия "ЕДИНАЯ РОССИЯ — НАРОДНЫЙ ФРОНТ"',
    "5. Political party Democratic Alliance for Regional Development and Reform",
]


def _multi_party(n: int = 3000, seed: int = 11) -> Election:
    """Five parties with long names (two share their first 40 characters), a regional
    hierarchy, large registers (so counts run into the millions) and a 100 % turnout spike."""
    rng = np.random.default_rng(seed)
    reg = rng.lognormal(7.2, 0.5, n).astype(int) + 50
    t = np.clip(rng.normal(0.55, 0.08, n), 0.05, 0.95)
    full = rng.random(n) < 0.06  # the spike: every registered voter "voted"
    issued = np.where(full, reg, rng.binomial(reg, t))
    invalid = rng.binomial(issued, 0.015)
    valid = issued - invalid
    shares = rng.dirichlet([9, 3, 4, 3, 2], n)
    shares[full] = [0.9, 0.025, 0.025, 0.025, 0.025]
    votes = np.array([rng.multinomial(v, p) for v, p in zip(valid, shares, strict=True)])
    return Election.from_arrays(
        registered=reg,
        valid=valid,
        invalid=invalid,
        votes={name: votes[:, i] for i, name in enumerate(PARTIES)},
        hierarchy={
            "region": rng.choice([f"Region {i}" for i in range(12)], n),
            "district": rng.choice([f"D{i}" for i in range(40)], n),
        },
        fields={"ballots_issued_station": issued, "ballots_stationary_box": issued},
        meta=ElectionMeta(name="Simulated multi-party election", country="XX", date="2021-09-19"),
    )


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    """The report written once, with every matplotlib figure it drew kept for inspection."""
    kept: list = []
    original = figs._svg
    figs._svg = lambda fig: (kept.append(fig), original(fig))[1]
    try:
        out = tmp_path_factory.mktemp("legible")
        paths = write_all(analyze(_multi_party(), seed=1), out)
    finally:
        figs._svg = original
    return kept, paths["report.html"].read_text(encoding="utf-8")


def _all_axes(fig):
    return [ax for ax in fig.get_axes() if ax.get_visible()]


def test_no_offset_notation(drawn):
    kept, _ = drawn
    assert kept
    for fig in kept:
        fig.canvas.draw()
        for ax in _all_axes(fig):
            for axis in (ax.xaxis, ax.yaxis):
                fmt = axis.get_major_formatter()
                if isinstance(fmt, ScalarFormatter):
                    assert not fmt.get_useOffset(), (fig, ax)
                off = axis.get_offset_text()
                assert not (off.get_visible() and off.get_text().strip()), off.get_text()
                for lab in axis.get_ticklabels():
                    assert "e+" not in lab.get_text() and "1e" not in lab.get_text()


def _texts(fig):
    """Every non-empty visible text the figure draws: tick labels only of the ticks inside
    the view limits (matplotlib keeps others as artists but does not draw them)."""
    out, tick_labels = [], set()
    for ax in _all_axes(fig):
        for axis in (ax.xaxis, ax.yaxis):
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                tick_labels.update({id(tick.label1), id(tick.label2)})
            for tick in axis._update_ticks():
                out += [tick.label1, tick.label2]
    for t in fig.findobj(match=Text):
        if id(t) not in tick_labels:
            out.append(t)
    seen: set[int] = set()
    return [
        t
        for t in out
        if t.get_visible() and str(t.get_text()).strip() and not (id(t) in seen or seen.add(id(t)))
    ]


def test_no_overlapping_text(drawn):
    kept, _ = drawn
    for fig in kept:
        if not hasattr(fig.canvas, "get_renderer"):
            FigureCanvasAgg(fig)  # a closed pyplot figure has lost its Agg canvas
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        boxes = [(t, t.get_window_extent(renderer)) for t in _texts(fig)]
        for (a, ba), (b, bb) in itertools.combinations(boxes, 2):
            if a is b:
                continue
            assert not ba.overlaps(bb), f"{a.get_text()!r} overlaps {b.get_text()!r}"


def test_every_full_party_name_in_page(drawn):
    _, page = drawn
    text = _html.unescape(page)
    for name in PARTIES:
        assert name in text, name
    # and with the figure that draws each party's curve, not only in some table further down
    start = page.index("data-figure='shpilkin'") if "data-figure='shpilkin'" in page else None
    if start is None:
        start = page.index('data-figure="shpilkin"')
    block = _html.unescape(page[start : page.index("</figure>", start)])
    for name in PARTIES:
        assert name in block, name


def test_turnout_histogram_clips_the_spike(drawn):
    kept, _ = drawn
    hist = kept[0]  # the first figure of the report: turnout over leader share
    ax = hist.get_axes()[0]
    # the stairs artist keeps the counts; the tallest bin is the 100 % spike
    stairs = [a for a in ax.get_children() if type(a).__name__ == "StepPatch"]
    counts = stairs[0].get_data().values
    top = counts.max()
    assert np.argmax(counts) >= len(counts) - 2  # it is at 100 %
    assert ax.get_ylim()[1] < top
    notes = [t.get_text() for t in ax.texts]
    assert any(f"{int(top):,}" in s for s in notes), notes


def test_legible_at_phone_width(drawn):
    """Every text at least 8 CSS px high when the figure is shrunk to a 400 px screen
    (368 px of content), and no figure wider than it needs: sizes follow the width."""
    kept, _ = drawn
    for fig in kept:
        width_pt = fig.get_figwidth() * 72
        scale = min(1.0, 368 / (fig.get_figwidth() * 96))
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        for t in _texts(fig):
            px = t.get_fontsize() * 96 / 72 * scale
            assert px >= 8, (t.get_text(), t.get_fontsize(), width_pt)
            # inside the figure: the saved SVG (tight bbox) is no wider than the figure
            box = t.get_window_extent(renderer)
            assert box.x0 >= -1 and box.x1 <= fig.bbox.width + 1, (t.get_text(), box)


@pytest.fixture
def capture(monkeypatch):
    kept: list = []
    original = figs._svg
    monkeypatch.setattr(figs, "_svg", lambda fig: (kept.append(fig), original(fig))[1])
    return kept


def _assert_clean(fig) -> None:
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [(t, t.get_window_extent(renderer)) for t in _texts(fig)]
    for (a, ba), (b, bb) in itertools.combinations(boxes, 2):
        assert not ba.overlaps(bb), f"{a.get_text()!r} overlaps {b.get_text()!r}"
    for ax in _all_axes(fig):
        for axis in (ax.xaxis, ax.yaxis):
            assert not axis.get_offset_text().get_text().strip()


def test_short_names_distinct_and_short():
    short = figs.short_names(PARTIES + ["Incumbent"])
    assert len(set(short)) == len(short)
    assert all(len(s) <= 28 for s in short)
    assert short[-1] == "Incumbent"
    assert short[0] == "1. ЕДИНАЯ РОССИЯ"
    assert figs.short_names(["Путин Владимир Владимирович"]) == ["Путин В. В."]
    same = figs.short_names(["Party of the Very Long Name A1", "Party of the Very Long Name A1"])
    assert same[0] != same[1]


def test_regional_bars_in_millions_are_plain(capture):
    names = [f"{PARTIES[i % 5]} region {i}" for i in range(12)]
    figs.regional_bars(names, np.linspace(1.2e6, 4.8e6, 12))
    (fig,) = capture
    _assert_clean(fig)
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_text()]
    assert any("," in s and s.replace(",", "").isdigit() for s in labels), labels
    ylabels = " ".join(t.get_text().replace("\n", " ") for t in fig.axes[0].get_yticklabels())
    assert all(f"{n}" in ylabels for n in names)  # wrapped, never cut


def test_fingerprint_two_panels_long_leader(capture):
    rng = np.random.default_rng(3)
    t, s = rng.uniform(0.3, 0.9, 5000), rng.uniform(0.2, 0.8, 5000)
    model = np.histogram2d(t, s, bins=[(np.arange(102) - 0.5) / 100] * 2)[0]
    figs.fingerprint(t, s, model=model, leader=PARTIES[3])
    (fig,) = capture
    _assert_clean(fig)


_FIGURE_TEXT = r"""
figs => figs.map(f => {
  const svg = f.querySelector('svg').getBoundingClientRect();
  const els = [...f.querySelectorAll('svg text')];
  const texts = els.map(t => t.getBoundingClientRect());
  // a text's height across its baseline: the box's width when the text is turned on its side
  const sizes = els.map((t, i) => /rotate\((-?90|270)/.test(t.getAttribute('transform') || '')
    ? texts[i].width : texts[i].height).filter(h => h > 0);
  let overlaps = 0;
  for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++) {
    const a = texts[i], b = texts[j];
    const dx = Math.min(a.right, b.right) - Math.max(a.left, b.left);
    const dy = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    if (dx > 1 && dy > 1) overlaps++;
  }
  return {key: f.dataset.figure, svgRight: svg.right, page: document.documentElement.clientWidth,
          smallest: Math.min(...sizes), overlaps};
})
"""


@pytest.mark.browser
@pytest.mark.parametrize("width", [400, 1400])
def test_figures_in_chromium(drawn, browser, tmp_path_factory, width):
    """The figures at phone and desktop width: inside the page, text at least 8 px, no two
    texts overlapping, every full party name on the page; a screenshot of each figure."""
    _, page_html = drawn
    out = tmp_path_factory.mktemp(f"figures-{width}")
    path = out / "report.html"
    path.write_text(page_html, encoding="utf-8")
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    found = page.eval_on_selector_all("figure[data-figure]", _FIGURE_TEXT)
    assert {"histograms", "fingerprint", "shpilkin"} <= {f["key"] for f in found}
    for f in found:
        assert f["svgRight"] <= f["page"] + 1, f
        assert f["smallest"] >= 8, f
        assert f["overlaps"] == 0, f
    text = page.inner_text("body")
    for name in PARTIES:
        assert name in text, name
    for i, el in enumerate(page.query_selector_all("figure[data-figure]")):
        el.screenshot(path=str(out / f"figure-{i}.png"))
    page.close()


def test_regional_fingerprints_small_multiples(drawn):
    """The largest regions' fingerprints, one panel each, titled with name and station count."""
    kept, page = drawn
    assert 'data-figure="fingerprint-regions"' in page
    (fig,) = [
        f for f in kept if any(ax.get_title(loc="left").startswith("Region ") for ax in f.axes)
    ]
    titles = [ax.get_title(loc="left") for ax in fig.axes if ax.get_title(loc="left")]
    assert len(titles) == 6 and all(t.startswith("Region ") for t in titles)
    _assert_clean(fig)


def test_no_regional_fingerprints_without_regions():
    t = np.full(10, 0.5)
    assert figs.regional_fingerprints(t, t, np.array(["only"] * 10)) is None


def test_regional_fingerprints_long_region_names(capture):
    rng = np.random.default_rng(4)
    names = [
        "Краснодарский край",
        "Ростовская область",
        "Республика Татарстан (Татарстан)",
        "Республика Башкортостан",
        "Город Москва",
        "Московская область",
    ]
    regions = rng.choice(names, 6000)
    t, s = rng.uniform(0.3, 0.9, 6000), rng.uniform(0.2, 0.8, 6000)
    figs.regional_fingerprints(t, s, regions, leader="Путин Владимир Владимирович")
    (fig,) = capture
    _assert_clean(fig)
    titles = " ".join(ax.get_title(loc="left").replace("\n", " ") for ax in fig.axes)
    assert all(n in titles for n in names)


def test_regional_bars_russian_regions_ticks_apart(capture):
    names = [
        "Республика Татарстан (Татарстан)",
        "Чувашская Республика - Чувашия",
        "99 Территория за пределами РФ",
        "Республика Башкортостан",
    ] * 6
    figs.regional_bars(names, np.linspace(1.0e6, 7e4, len(names)))
    (fig,) = capture
    _assert_clean(fig)


_WIDEST = """
() => {
  const w = document.documentElement.clientWidth;
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.right > w + 1 && !el.closest('.tablewrap')) {
      wide.push(el.tagName + (el.className ? '.' + el.className : '') + ' ' + Math.round(r.right));
    }
  }
  return {scroll: document.documentElement.scrollWidth, width: w, wide: wide.slice(0, 10)};
}
"""


@pytest.fixture(scope="module")
def report_from_file(tmp_path_factory):
    """A report as a user gets it: a results file read from disk (so the reproducibility table
    carries the input's SHA-256, the row that widened the 2012 page to 734 px at 400 px)."""
    from pollwatch import analyze, read_election, simulate_election, write_all

    d = tmp_path_factory.mktemp("from-file")
    paths = simulate_election(3000, seed=2, layout="russia").write(d)
    fast = ["fingerprint", "regression", "integer_percentages", "shpilkin", "digits", "carousel"]
    analysis = analyze(read_election(paths["results.csv"]), seed=0, methods=fast)
    return write_all(analysis, d / "out")["report.html"]


@pytest.mark.browser
@pytest.mark.parametrize("width", [400, 1400])
def test_page_never_scrolls_sideways(report_from_file, browser, width):
    """Issue 17: no horizontal scrolling at 400 px or 1,400 px, except inside a table that
    scrolls on its own; a screenshot of the whole page at each width beside the report."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(report_from_file.as_uri())
    page.wait_for_load_state("load")
    found = page.evaluate(_WIDEST)
    page.screenshot(path=str(report_from_file.with_name(f"report-{width}.png")), full_page=True)
    page.close()
    assert found["scroll"] <= found["width"], found
