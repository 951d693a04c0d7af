"""The HTML report: self-contained, every figure present, sortable stations table, no network."""

from __future__ import annotations

import re

import numpy as np
import pytest

from pollwatch.forensics.run import analyze
from pollwatch.model import Election, ElectionMeta
from pollwatch.report import write_all


def _stuffed_election(n: int = 3000, seed: int = 5) -> Election:
    """A small election with stuffing at 8 % of stations (binomial counts, known fraud)."""
    rng = np.random.default_rng(seed)
    reg = rng.lognormal(7.0, 0.5, n).astype(int) + 50
    t = np.clip(rng.normal(0.55, 0.08, n), 0.05, 0.95)
    s = np.clip(rng.normal(0.45, 0.08, n), 0.02, 0.95)
    issued = rng.binomial(reg, t)
    stuffed = rng.random(n) < 0.08
    extra = np.where(stuffed, rng.binomial(reg - issued, 0.6), 0)
    invalid = rng.binomial(issued, 0.015)
    valid = issued - invalid
    lead = rng.binomial(valid, s) + extra
    valid = valid + extra
    other = valid - lead
    b = rng.binomial(other, 0.6)
    fields = {
        "ballots_issued_station": issued + extra,
        "ballots_stationary_box": valid + invalid,
        "ballots_received": reg + 100,
    }
    return Election.from_arrays(
        registered=reg,
        valid=valid,
        invalid=invalid,
        votes={"Incumbent": lead, "Challenger B": b, "Challenger C": other - b},
        hierarchy={
            "region": rng.choice(["North", "South", "East", "West"], n),
            "district": rng.choice([f"D{i}" for i in range(30)], n),
        },
        fields=fields,
        meta=ElectionMeta(name="Simulated test election", country="XX", date="2024-02-07"),
    )


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    analysis = analyze(_stuffed_election(), seed=1)
    paths = write_all(analysis, out)
    return out, paths, analysis


def test_exports_written(report_dir):
    out, paths, analysis = report_dir
    for name in ("report.html", "results.json", "stations.csv", "stations.parquet"):
        assert paths[name].exists() and paths[name].stat().st_size > 0


def test_html_has_no_external_references(report_dir):
    html = report_dir[1]["report.html"].read_text(encoding="utf-8")
    # no src/href pointing anywhere but the page itself; no @import or url() fetches
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "@import" not in html and "url(http" not in html


@pytest.mark.browser
def test_report_in_chromium(report_dir, browser, tmp_path):
    out, paths, analysis = report_dir
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(paths["report.html"].as_uri())
    page.wait_for_load_state("load")
    assert errors == []
    assert [u for u in requests if not u.startswith("file://")] == []
    keys = page.eval_on_selector_all("figure[data-figure]", "els => els.map(e => e.dataset.figure)")
    assert {"histograms", "fingerprint", "shpilkin"} <= set(keys)
    assert all(
        page.eval_on_selector_all(
            "figure[data-figure]", "els => els.map(e => !!e.querySelector('svg'))"
        )
    )
    # sort by station id descending, then ascending: the table must follow
    # the station comes first (key columns first: station, place, points, signals, turnout, share)
    cols = page.eval_on_selector_all("#station-table th", "ths => ths.map(t => t.dataset.col)")
    assert cols[0] == "station_id" and cols.index("points") < cols.index("turnout")
    header = page.locator("#station-table th[data-col=station_id]")
    header.click()
    first = page.eval_on_selector_all(
        "#station-table tbody tr", "rows => rows.map(r => r.cells[0].textContent)"
    )
    assert first == sorted(first)
    header.click()
    second = page.eval_on_selector_all(
        "#station-table tbody tr", "rows => rows.map(r => r.cells[0].textContent)"
    )
    assert second == sorted(first, reverse=True)
    page.fill("#station-filter", "zzzz-no-such-station")
    visible = page.eval_on_selector_all(
        "#station-table tbody tr", "rows => rows.filter(r => r.style.display !== 'none').length"
    )
    assert visible == 0
    page.fill("#station-filter", "")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(tmp_path / "report.png"), full_page=False)
    assert (tmp_path / "report.png").stat().st_size > 10_000
    page.close()


def _check_in_browser(browser, html_path, tmp_path, figures: set[str]) -> None:
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(html_path.as_uri())
    assert errors == [] and [u for u in requests if not u.startswith("file://")] == []
    keys = set(
        page.eval_on_selector_all("figure[data-figure]", "els => els.map(e => e.dataset.figure)")
    )
    assert figures <= keys, keys
    page.locator("#station-table th[data-col=points]").click()
    col = page.eval_on_selector_all(
        "#station-table th", "ths => ths.map(t => t.dataset.col)"
    ).index("points")
    pts = page.eval_on_selector_all(
        "#station-table tbody tr",
        f"rows => rows.map(r => parseFloat(r.cells[{col}].dataset.v))",
    )
    assert pts == sorted(pts)
    page.screenshot(path=str(tmp_path / "report.png"))
    page.close()


@pytest.mark.realdata
@pytest.mark.browser
@pytest.mark.slow
def test_report_on_2012_data_in_chromium(ru2012, browser, tmp_path):
    analysis = analyze(
        ru2012,
        seed=0,
        methods=[
            "fingerprint",
            "regression",
            "integer_percentages",
            "shpilkin",
            "klimek",
            "digits",
            "carousel",
        ],
    )
    paths = write_all(analysis, tmp_path)
    assert paths["report.html"].stat().st_size < 10e6
    _check_in_browser(
        browser,
        paths["report.html"],
        tmp_path,
        {"histograms", "fingerprint", "shpilkin", "integers", "regions"},
    )


@pytest.mark.browser
def test_choropleth_from_geojson(browser, tmp_path):
    import json

    from typer.testing import CliRunner

    from pollwatch.cli import app
    from pollwatch.simulate import FraudConfig, Stuffing, simulate_election

    sim = simulate_election(
        2000, seed=4, fraud=FraudConfig(stuffing=Stuffing(0.2)), layout="generic"
    )
    files = sim.write(tmp_path / "sim")
    regions = sorted(set(sim.election.level("region")))
    feats = [
        {
            "type": "Feature",
            "properties": {"name": r},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[i, 0], [i + 1, 0], [i + 1, 1], [i, 1], [i, 0]]],
            },
        }
        for i, r in enumerate(regions)
    ]
    geo = tmp_path / "regions.geojson"
    geo.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    out = tmp_path / "out"
    r = CliRunner().invoke(
        app,
        [
            "analyze",
            str(files["results.csv"]),
            "--mapping",
            str(files["mapping.toml"]),
            "--out",
            str(out),
            "--quiet",
            "--regions",
            str(geo),
            "--methods",
            "integer_percentages,shpilkin,digits",
        ],
    )
    assert r.exit_code == 0, r.output
    _check_in_browser(browser, out / "report.html", tmp_path, {"map", "regions", "integers"})


def test_methods_section_states_calibration(report_dir):
    html = report_dir[1]["report.html"].read_text(encoding="utf-8")
    assert html.count("Calibration: false-positive rate") >= 4


def test_regional_table(report_dir):
    html = report_dir[1]["report.html"].read_text(encoding="utf-8")
    section = html[html.index('id="regions"') : html.index('id="stations"')]
    for region in ("North", "South", "East", "West"):
        assert f"<td>{region}</td>" in section
