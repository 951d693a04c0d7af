"""``estimate``/``compare`` with a registered sample: only its stations count; off-sample copies are
listed; replacements follow the rule; response overall, by stratum and by the hour."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from typer.testing import CliRunner

from pollwatch.cli import app
from pollwatch.demo import simulate_reference_case
from pollwatch.quickcount.compare import compare
from pollwatch.quickcount.design import draw_sample
from pollwatch.quickcount.estimate import convergence, estimate
from pollwatch.quickcount.sample import read_sample, write_replacements
from pollwatch.quickcount.simulation import copies_from, simulate_frame
from pollwatch.simulate.layouts import write_layout

runner = CliRunner()


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo's reference case: 300 sampled stations (registered), 50 copies from elsewhere."""
    d = tmp_path_factory.mktemp("demo")
    e = simulate_reference_case(2024).election
    design = draw_sample(e, 300, seed=2024)
    sample = design.write_registered(d / "sample.csv")
    ids = [p.station_id for p in sample.primaries]
    rng = np.random.default_rng(7)
    others = sorted(set(e.table["station_id"]) - {s.station_id for s in sample.stations})
    extra = [str(s) for s in rng.choice(others, 50, replace=False)]
    copies = copies_from(e, ids + extra)
    return d, e, sample, ids, extra, copies


def test_off_sample_copies_listed_not_counted(demo):
    d, e, sample, ids, extra, copies = demo
    plain = _quiet(estimate, copies, e)
    assert plain.n_reported == 350  # without the sample, whoever filed is "the sample"
    r = _quiet(estimate, copies, e, sample=read_sample(d / "sample.csv"))
    assert r.n_reported == 300
    assert r.off_sample.count == 50 and set(r.off_sample.station_ids) == set(extra)
    ref = _quiet(estimate, copies_from(e, ids), e)
    assert r["turnout"].estimate == pytest.approx(ref["turnout"].estimate, rel=1e-12)
    assert r.response.sampled == r.response.counted == 300 and r.response.rate == 1.0
    doc = json.loads(json.dumps(r.to_dict()))
    assert doc["off_sample"]["count"] == 50 and sorted(doc["off_sample"]["station_ids"]) == sorted(
        extra
    )
    assert doc["response"]["rate"] == 1.0 and doc["sample"]["csv_sha256"] == sample.csv_sha256
    assert "50 copies from stations outside the sample listed, not counted" in r.summary().text


def test_replacements_and_nonresponse(demo):
    d, e, _, ids, extra, _ = demo
    s = read_sample(d / "sample.csv")
    gone = ids[:3]
    reps = [
        s.replace(x, "road closed", f"2024-02-07T{8 + k:02d}:00:00+04:00")
        for k, x in enumerate(gone)
    ]
    reserves = [r.reserve_id for r in reps]
    assert reserves == [x.station_id for x in s.reserves[:3]]  # rank order, one stratum
    # the replaced primaries' copies arrive anyway: they are off-sample now; 10 stations are silent
    copies = copies_from(e, ids[10:] + reserves + gone)
    r = _quiet(estimate, copies, e, sample=s)
    assert r.n_reported == 290 + 3
    assert set(r.off_sample.station_ids) == set(gone)
    resp = r.response
    assert (resp.sampled, resp.received, resp.counted, resp.replaced) == (300, 293, 293, 3)
    assert resp.rate == pytest.approx(293 / 300)
    (st,) = resp.by_stratum
    assert (st.stratum, st.sampled, st.counted, st.replaced) == ("all", 300, 293, 3)
    write_replacements(d / "rep.csv", s.replacements)
    assert (d / "rep.csv").read_text().count("road closed") == 3


def test_response_by_stratum_and_hour(tmp_path):
    e = simulate_frame(4, stations=1200, regions=4)
    s = draw_sample(e, 80, strata="region", seed=3).write_registered(tmp_path / "s.csv")
    prim = [p for p in s.primaries]
    silent = prim[0].stratum
    got = [p.station_id for p in prim if p.stratum != silent or p is prim[0]]
    # arrivals from 19:10 local time, one every 2 minutes
    times = [
        f"2024-02-07T{19 + (10 + 2 * i) // 60}:{(10 + 2 * i) % 60:02d}:00+04:00"
        for i in range(len(got))
    ]
    copies = copies_from(e, got, arrived=times)
    r = _quiet(estimate, copies, e, sample=s)
    by = {x.stratum: x for x in r.response.by_stratum}
    assert by[silent].counted == 1 and by[silent].sampled == s.strata[silent][1]
    assert all(x.rate == 1.0 for k, x in by.items() if k != silent)
    steps = r.response.by_arrival
    assert steps[0].until == "2024-02-07T20:00:00+04:00"
    assert steps[0].counted == 25  # 19:10 … 19:58
    assert steps[-1].counted == len(got) and steps[-1].rate == pytest.approx(len(got) / 80)
    assert any(k.startswith("counted by") for k, _ in r.summary().rows)
    # sequence numbers are not times: said so, no timeline
    r2 = _quiet(estimate, copies_from(e, got, arrived=np.arange(len(got))), e, sample=s)
    assert r2.response.by_arrival == () and "not ISO times" in r2.response.arrival_note


def test_sample_station_missing_from_frame(tmp_path):
    e = simulate_frame(4, stations=1200, regions=4)
    s = draw_sample(e, 80, strata="region", seed=3).write_registered(tmp_path / "s.csv")
    small = e.subset(e.table["station_id"] != s.primaries[0].station_id)
    with pytest.raises(Exception, match="not in the election file"):
        _quiet(
            estimate, copies_from(small, [p.station_id for p in s.primaries[1:]]), small, sample=s
        )


def test_cli_estimate_and_compare_with_sample(demo):
    d, e, sample, ids, extra, copies = demo
    frame = write_layout(e, "azerbaijan", d)["results.csv"]
    copies.table.write_csv(d / "copies.csv")
    base = ["quickcount", "estimate", str(d / "copies.csv"), "--frame", str(frame)]
    base += ["--sample", str(d / "sample.csv"), "--bootstrap", "0"]
    r = runner.invoke(app, base)
    assert r.exit_code == 0, r.output
    assert "copies from outside the sample (not counted)" in r.output and extra[0] in r.output
    (d / "rep.csv").write_text(
        f"primary_id,reserve_id,reason,at\n{ids[0]},{sample.reserves[1].station_id},closed,"
        "2024-02-07T09:00:00+04:00\n"
    )
    r = runner.invoke(app, [*base, "--replacements", str(d / "rep.csv")])
    assert r.exit_code == 1 and "breaks the rule" in r.output
    assert sample.reserves[0].station_id in r.output  # the reserve the rule gives
    (d / "rep.csv").write_text(
        f"primary_id,reserve_id,reason,at\n{ids[0]},{sample.reserves[0].station_id},closed,"
        "2024-02-07T09:00:00+04:00\n"
    )
    r = runner.invoke(app, [*base, "--replacements", str(d / "rep.csv"), "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["n_reported"] == 299 and doc["off_sample"]["count"] == 51
    assert doc["response"]["replaced"] == 1
    r = runner.invoke(
        app,
        [*base[:3], "--frame", str(frame), "--strata", "region", "--sample", str(d / "sample.csv")],
    )
    assert r.exit_code == 2 and "--strata cannot be used with --sample" in r.output
    r = runner.invoke(
        app,
        ["quickcount", "compare", str(d / "copies.csv"), "--official", str(frame)]
        + ["--sample", str(d / "sample.csv"), "--json"],
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["estimate"]["n_reported"] == 300 and doc["estimate"]["off_sample"]["count"] == 50
    c = _quiet(compare, copies, e, sample=read_sample(d / "sample.csv"))
    assert c.estimate.n_reported == 300


def test_convergence_counts_only_the_sample(demo):
    d, e, _, ids, extra, copies = demo
    r = _quiet(convergence, copies, e, sample=read_sample(d / "sample.csv"), steps=4)
    assert r.steps[-1] == 300
    assert _quiet(convergence, copies, e, steps=4).steps[-1] == 350
