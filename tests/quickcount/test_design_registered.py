"""``quickcount design`` writes a registered sample with reserves; strata through a lookup file
(the Azerbaijani layout carries constituencies only)."""

from __future__ import annotations

import json

import polars as pl
import pytest
from typer.testing import CliRunner

from pollwatch.cli import app
from pollwatch.errors import IngestError
from pollwatch.ingest import read_election
from pollwatch.quickcount.design import default_reserves, derive_strata, draw_sample, sample_size
from pollwatch.quickcount.sample import file_sha256, read_sample
from pollwatch.quickcount.simulation import simulate_frame
from pollwatch.simulate import simulate_election

runner = CliRunner()


def _run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def az(tmp_path_factory):
    """An Azerbaijani-layout results file (conec, pec, lines 100.2.x) and a conec → region lookup."""
    d = tmp_path_factory.mktemp("az")
    paths = simulate_election(900, seed=5, country_layout="azerbaijan", n_candidates=3).write(d)
    e = read_election(paths["results.csv"])
    conecs = sorted(e.table["conec"].unique().to_list())
    regions = [f"Region {i % 4 + 1}" for i in range(len(conecs))]
    pl.DataFrame({"conec": conecs, "region": regions}).write_csv(d / "lookup.csv")
    return d, paths["results.csv"], e, dict(zip(conecs, regions, strict=True))


def test_reserves_drawn_after_primaries():
    e = simulate_frame(3, stations=1500, regions=6)
    a = draw_sample(e, 150, strata="region", seed=11)
    b = draw_sample(e, 150, strata="region", seed=11, reserves=0)
    assert a.table.equals(b.table)  # the primaries do not depend on the reserves
    assert b.reserves.height == 0
    res = a.reserves
    assert not set(res["station_id"]) & set(a.table["station_id"])
    for s in a.strata:
        ranks = res.filter(pl.col("stratum") == s.name)["reserve_rank"].to_list()
        assert ranks == list(range(1, default_reserves(s.sampled) + 1))
    assert default_reserves(1) == 1 and default_reserves(21) == 5


def test_registered_sample_round_trip(tmp_path):
    e = simulate_frame(3, stations=1500, regions=6)
    d = draw_sample(e, 150, strata="region", seed=11, reserves=3)
    reg = d.write_registered(tmp_path / "s.csv", target_moe=0.02, confidence=0.95, deff=4.2)
    back = read_sample(tmp_path / "s.csv")
    assert back.n == 150 and len(back.reserves) == 18
    assert back.seed == 11 and back.strata_by == ("region",)
    assert back.design == {
        "target_moe": 0.02,
        "confidence": 0.95,
        "deff": 4.2,
        "n": 150,
        "allocation": "proportional",
    }
    assert back.csv_sha256 == reg.csv_sha256 == file_sha256(tmp_path / "s.csv")
    assert {p.station_id for p in back.primaries} == set(d.table["station_id"])


def test_azerbaijani_layout_region_through_lookup(az, tmp_path):
    d, results, e, regions = az
    # the layout has no region: stratifying by it directly is a usage error naming the columns
    r = _run("quickcount", "design", results, "-n", 80, "-s", "region", "--seed", 1, "-o", "x.csv")
    assert r.exit_code == 2 and "conec" in r.output
    out = tmp_path / "sample.csv"
    r = _run(
        "quickcount",
        "design",
        results,
        "--size",
        80,
        "--strata",
        "region",
        "--strata-lookup",
        d / "lookup.csv",
        "--strata-from",
        "conec",
        "--reserves",
        2,
        "--seed",
        2024,
        "--out",
        out,
    )
    assert r.exit_code == 0, r.output
    s = read_sample(out)
    assert set(s.strata) == {"Region 1", "Region 2", "Region 3", "Region 4"}
    assert s.n == 80 and len(s.reserves) == 8
    conec_of = dict(zip(e.table["station_id"], e.table["conec"], strict=True))
    assert all(regions[conec_of[x.station_id]] == x.stratum for x in s.stations)
    sizes = pl.Series([regions[c] for c in e.table["conec"]]).value_counts()
    assert {k: v for k, v in sizes.iter_rows()} == {k: v[0] for k, v in s.strata.items()}
    meta = json.loads((tmp_path / "sample.csv.json").read_text())
    assert meta["lookup"] == {
        "file": "lookup.csv",
        "sha256": file_sha256(d / "lookup.csv"),
        "from": "conec",
        "to": ["region"],
    }
    assert meta["csv_sha256"] in r.output


def test_lookup_missing_keys_listed(az, tmp_path):
    d, results, e, regions = az
    keep = sorted(regions)[2:]
    pl.DataFrame({"conec": keep, "region": [regions[k] for k in keep]}).write_csv(
        tmp_path / "short.csv"
    )
    with pytest.raises(IngestError) as exc:
        derive_strata(e, tmp_path / "short.csv", "conec", ["region"])
    missing = sorted(regions)[:2]
    assert [i.value for i in exc.value.issues] == missing
    assert exc.value.issues[0].expected == f"a row for conec {missing[0]!r}"
    r = _run(
        "quickcount",
        "design",
        results,
        "-n",
        80,
        "-s",
        "region",
        "--strata-lookup",
        tmp_path / "short.csv",
        "--strata-from",
        "conec",
        "--seed",
        1,
        "-o",
        tmp_path / "s.csv",
    )
    assert r.exit_code == 1
    assert "missing from the lookup" in r.output and all(m in r.output for m in missing)
    assert not (tmp_path / "s.csv").exists()


def test_lookup_conflicting_duplicate(az, tmp_path):
    _, _, e, regions = az
    k = sorted(regions)[0]
    (tmp_path / "dup.csv").write_text(
        "conec,region\n"
        + "".join(f"{c},{r}\n" for c, r in regions.items())
        + f"{k},Somewhere else\n"
    )
    with pytest.raises(IngestError, match="key listed twice with different values") as exc:
        derive_strata(e, tmp_path / "dup.csv", "conec", ["region"])
    assert exc.value.issues[0].line == len(regions) + 2


def test_margin_instead_of_size(az, tmp_path):
    _, results, e, _ = az
    out = tmp_path / "m.csv"
    r = _run("quickcount", "design", results, "--margin", 3, "--seed", 9, "--out", out)
    assert r.exit_code == 0, r.output
    size = sample_size(0.03, past=e)
    meta = json.loads((tmp_path / "m.csv.json").read_text())
    assert meta["design"]["n"] == size.stations_to_draw == read_sample(out).n
    assert meta["design"]["target_moe"] == 0.03 and meta["design"]["confidence"] == 0.95
    assert meta["design"]["deff"] == pytest.approx(size.design_effect) and size.design_effect > 1
    both = _run("quickcount", "design", results, "-n", 5, "--margin", 3, "--seed", 9, "-o", out)
    assert both.exit_code == 2 and "either --size or --margin" in both.output
