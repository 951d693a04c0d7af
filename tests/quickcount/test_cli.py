"""``pollwatch quickcount size|design|estimate|compare`` end to end on a simulated election."""

from __future__ import annotations

import json

import polars as pl
import pytest
from typer.testing import CliRunner

from pollwatch.cli import app
from pollwatch.quickcount.simulation import alter_protocols, simulate_frame

MAPPING = """
[station]
id = ["station"]
hierarchy = ["region"]
[fields]
registered = "registered"
valid = "valid"
invalid = "invalid"
[candidates]
columns = ["Candidate A", "Candidate B", "Candidate C"]
"""

runner = CliRunner()


def _write(e, path):
    e.table.select(
        pl.col("region"),
        pl.col("station_id").alias("station"),
        "registered",
        "valid",
        "invalid",
        *[pl.col(c.id).alias(c.name) for c in e.candidates],
    ).write_csv(path)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("qc")
    e = simulate_frame(5, stations=1200, regions=5)
    _write(e, d / "e.csv")
    (d / "m.toml").write_text(MAPPING)
    return d, e


def _run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_design_estimate_compare(files):
    d, e = files
    r = _run(
        "quickcount",
        "design",
        d / "e.csv",
        "-m",
        d / "m.toml",
        "--size",
        120,
        "--strata",
        "region",
        "--seed",
        3,
        "--out",
        d / "s.csv",
    )
    assert r.exit_code == 0, r.output
    s = pl.read_csv(d / "s.csv", schema_overrides={"station_id": pl.Utf8})
    assert set(s.columns) >= {"station_id", "stratum", "role", "reserve_rank", "weight"}
    s = s.filter(pl.col("role") == "primary")
    assert s.height == 120
    r2 = _run(
        "quickcount",
        "design",
        d / "e.csv",
        "-m",
        d / "m.toml",
        "--size",
        120,
        "--strata",
        "region",
        "--seed",
        3,
        "--out",
        d / "s2.csv",
    )
    assert r2.exit_code == 0 and (d / "s.csv").read_text() == (d / "s2.csv").read_text()

    ids = s["station_id"]
    copies = e.table.filter(pl.col("station_id").is_in(ids.implode())).select(
        "station_id",
        "registered",
        "valid",
        "invalid",
        *[pl.col(c.id).alias(c.name) for c in e.candidates],
    )
    copies.write_csv(d / "copies.csv")
    r = _run(
        "quickcount",
        "estimate",
        d / "copies.csv",
        "--frame",
        d / "e.csv",
        "-m",
        d / "m.toml",
        "--strata",
        "region",
        "--seed",
        1,
        "--bootstrap",
        200,
        "--json",
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["n_reported"] == 120 and doc["bootstrap_reps"] == 200
    assert {q["name"] for q in doc["quantities"]} >= {"Candidate A", "turnout", "invalid_share"}

    altered = ids.to_list()[:4]
    _write(alter_protocols(e, altered, seed=1), d / "official.csv")
    r = _run(
        "quickcount",
        "compare",
        d / "copies.csv",
        "--official",
        d / "official.csv",
        "-m",
        d / "m.toml",
        "--strata",
        "region",
        "--json",
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert sorted({m["station_id"] for m in doc["protocols"]["mismatches"]}) == sorted(altered)
    r = _run(
        "quickcount",
        "compare",
        d / "copies.csv",
        "--official",
        d / "official.csv",
        "-m",
        d / "m.toml",
    )
    assert "tabulation, not turnout" in r.output


def test_size(files):
    r = _run(
        "quickcount", "size", "--margin", 1, "--voters-per-station", 400, "--rho", 0.02, "--json"
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["design_effect"] == pytest.approx(8.98)
    assert _run("quickcount", "size", "--margin", 0, "--voters-per-station", 400).exit_code == 2


def test_bad_copies_exit_1(files):
    d, _ = files
    (d / "bad.csv").write_text("station_id,registered,valid,Candidate A\n1,100,x,3\n")
    r = _run("quickcount", "estimate", d / "bad.csv", "--frame", d / "e.csv", "-m", d / "m.toml")
    assert r.exit_code == 1
    assert 'missing required column "invalid"' in r.output


def test_bad_allocation_exit_2(files):
    d, _ = files
    r = _run(
        "quickcount",
        "design",
        d / "e.csv",
        "-m",
        d / "m.toml",
        "--size",
        50,
        "--allocation",
        "equal",
        "--seed",
        1,
        "--out",
        d / "x.csv",
    )
    assert r.exit_code == 2 and "allocation" in r.output
