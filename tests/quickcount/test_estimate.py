"""Estimators: test vectors §1.3 rows 1, 1b, 1c, 2; stratified estimator; non-response; coverage."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from pollwatch.errors import InputDataError, SmallSampleWarning
from pollwatch.quickcount.copies import ProtocolCopies, read_protocol_copies
from pollwatch.quickcount.design import draw_sample
from pollwatch.quickcount.estimate import (
    apollo_moe,
    breakdown,
    convergence,
    estimate,
    estimate_lead,
    ratio_estimate,
)
from pollwatch.quickcount.simulation import copies_from, simulate_frame

A = [120, 80, 150]
M = [300, 250, 400]


class TestVectors:
    def test_row1(self):
        r = ratio_estimate(A, M)
        assert r.estimate == pytest.approx(0.368421, abs=5e-7)
        assert r.se**2 == pytest.approx(4.0423e-4, rel=1e-4)
        assert r.se == pytest.approx(0.020106, abs=5e-7)
        assert round(100 * r.moe(z=1.96), 3) == 3.941
        assert round(100 * r.moe(z=2.58), 3) == 5.187
        # the pieces: m̄ and Σ(a − p̂m)²/(k − 1)
        p = r.estimate
        assert np.mean(M) == pytest.approx(316.667, abs=5e-4)
        assert sum((a - p * m) ** 2 for a, m in zip(A, M, strict=True)) / 2 == pytest.approx(
            121.6066, abs=5e-5
        )

    def test_row1_is_apollo(self):
        p, moe = apollo_moe(A, M)
        assert p == pytest.approx(ratio_estimate(A, M).estimate)
        assert round(moe, 3) == 3.941

    def test_row1b_apollo_big_n(self):
        assert round(apollo_moe(A, M, big_n=10_000)[1], 3) == 3.749

    def test_row1c_fpc_in_stations(self):
        assert round(100 * ratio_estimate(A, M, frame_sizes=30).moe(z=1.96), 3) == 3.738

    def test_row2_lead(self):
        lead = estimate_lead(A, [150, 140, 200], M)
        assert lead.estimate == pytest.approx(-0.147368, abs=5e-7)
        assert lead.se == pytest.approx(0.036879, abs=5e-7)
        # the vector uses z = 1.96; the result uses the exact quantile 1.959964
        assert round(lead.estimate - 1.96 * lead.se, 4) == -0.2197
        assert round(lead.estimate + 1.96 * lead.se, 4) == -0.0751
        assert lead.interval_z.low == pytest.approx(-0.2197, abs=1e-4)
        assert lead.interval_z.high == pytest.approx(-0.0751, abs=1e-4)
        assert lead.call_z == "B ahead, verified"
        assert lead.interval_t.low == pytest.approx(-0.3060, abs=5e-5)
        assert lead.interval_t.high == pytest.approx(0.0113, abs=5e-5)
        assert lead.call_t == "too close to call"
        # residuals of the lead
        d = lead.estimate
        res = np.array([120 - 150, 80 - 140, 150 - 200]) - d * np.array(M)
        assert res == pytest.approx([14.2105, -23.1579, 8.9474], abs=5e-5)


def test_stratified_matches_hand_formula():
    y = np.array([10, 20, 30, 40, 5, 15, 25])
    x = np.array([50, 60, 70, 80, 40, 45, 50])
    s = np.array(["a", "a", "a", "a", "b", "b", "b"])
    N = {"a": 40, "b": 9}
    r = ratio_estimate(y, x, strata=s, frame_sizes=N)
    w = np.where(s == "a", 40 / 4, 9 / 3)
    p = (w * y).sum() / (w * x).sum()
    e = y - p * x
    v = 0.0
    for h, n in (("a", 4), ("b", 3)):
        eh = e[s == h]
        v += N[h] ** 2 * (1 - n / N[h]) * eh.var(ddof=1) / n
    v /= (w * x).sum() ** 2
    assert r.estimate == pytest.approx(p)
    assert r.se == pytest.approx(np.sqrt(v))
    assert r.df == 7 - 2
    with pytest.raises(ValueError, match="frame_sizes"):
        ratio_estimate(y, x, strata=s)


@pytest.fixture(scope="module")
def frame():
    return simulate_frame(11, stations=2000, regions=8)


@pytest.fixture(scope="module")
def sample(frame):
    return draw_sample(frame, 240, strata="region", seed=4)


class TestEstimate:
    def test_shares_turnout_invalid_and_lead(self, frame, sample):
        copies = copies_from(frame, sample.table["station_id"])
        r = estimate(copies, frame, strata="region", bootstrap=300, seed=9)
        t = frame.totals()
        for name in r.candidates:
            q = r[name]
            assert q.low < q.estimate < q.high and q.t_low <= q.low and q.boot_low < q.boot_high
            assert abs(q.estimate - t["votes"][name] / t["valid"]) < 4 * q.se
        assert abs(r["turnout"].estimate - t["turnout"]) < 4 * r["turnout"].se
        assert sum(r[n].estimate for n in r.candidates) == pytest.approx(1.0)
        top = max(r.candidates, key=lambda n: r[n].estimate)
        assert r.lead.a == top
        lo, hi = r.lead.interval_boot
        assert lo < r.lead.estimate < hi
        assert r.df == 240 - 8 and r.seed is not None
        d = r.to_dict()
        assert d["quantities"][0]["name"] in r.candidates and "strata" not in d
        assert "Quick count" in r.summary().as_text()

    def test_bootstrap_same_on_every_backend(self, frame, sample):
        copies = copies_from(frame, sample.table["station_id"])
        a = estimate(copies, frame, strata="region", bootstrap=1000, seed=3)
        b = estimate(copies, frame, strata="region", bootstrap=1000, seed=3, execution="processes")
        assert a.quantities == b.quantities

    @pytest.mark.parametrize("method", ["collapse", "poststratify"])
    def test_nonreporting_strata(self, frame, sample, method):
        tab = sample.table
        gone = sorted(tab["stratum"].unique().to_list())[:2]
        one = tab.filter(pl.col("stratum") == gone[1]).head(1)["station_id"]
        keep = tab.filter(~pl.col("stratum").is_in(gone))["station_id"].to_list() + one.to_list()
        r = estimate(copies_from(frame, keep), frame, strata="region", nonresponse=method)
        text = " ".join(r.actions)
        assert gone[1] in text and "collapsed" in text  # the single report is always collapsed
        if method == "poststratify":
            assert "post-stratified" in text
        else:
            assert text.count("collapsed") == 2
        assert r.nonresponse == method
        assert np.isfinite(r[r.candidates[0]].se)

    def test_small_sample_warns(self, frame):
        ids = frame.table.filter(pl.col("region") == "R00")["station_id"].head(6).to_list()
        with pytest.warns(SmallSampleWarning):
            r = estimate(copies_from(frame, ids), frame, strata="region")
        assert any("degrees of freedom" in n for n in r.notes)

    def test_bad_nonresponse(self, frame, sample):
        with pytest.raises(ValueError, match="nonresponse"):
            estimate(copies_from(frame, sample.table["station_id"]), frame, nonresponse="drop")  # type: ignore[arg-type]


def test_coverage_seeded(frame):
    """Seeded, smaller version of benchmarks/quickcount_coverage.py: 150 draws."""
    t = frame.totals()
    truth = t["votes"]["Candidate A"] / t["valid"]
    hits = np.zeros(3)
    n = 150
    for i in range(n):
        d = draw_sample(frame, 150, strata="region", seed=i)
        q = estimate(
            copies_from(frame, d.table["station_id"]), frame, strata="region", bootstrap=200, seed=i
        )["Candidate A"]
        hits += [
            q.low <= truth <= q.high,
            q.t_low <= truth <= q.t_high,
            q.boot_low <= truth <= q.boot_high,
        ]
    cov = hits / n
    # 95 % nominal; with 150 draws the binomial SD is 1.8 pp
    assert ((cov > 0.895) & (cov < 0.995)).all(), cov


class TestBreakdownConvergence:
    def test_breakdown_warns_on_small_cells(self, frame, sample):
        copies = copies_from(frame, sample.table["station_id"])
        with pytest.warns(SmallSampleWarning):
            b = breakdown(copies, frame, "region", strata="region", min_stations=25)
        small = [r for r in b.rows if r.reported < 25]
        assert small and all(r.warning for r in small)
        assert all(not r.warning for r in b.rows if r.reported >= 25)
        assert len(b.rows) == 8

    def test_convergence_flags_early_bias(self, frame, sample):
        # stations where B does well report first (as fast urban stations often do)
        ids = sample.table["station_id"].to_list()
        share = frame.table.filter(pl.col("station_id").is_in(ids)).select(
            "station_id", (pl.col("cand_01") / pl.col("valid")).alias("s")
        )
        by_id = dict(zip(share["station_id"], share["s"], strict=True))
        rng = np.random.default_rng(0)
        arrived = [-by_id[s] + rng.normal(0, 0.05) for s in ids]
        c = convergence(
            copies_from(frame, ids, arrived=arrived),
            frame,
            strata="region",
            candidate="Candidate B",
        )
        assert c.steps[-1] == len(ids)
        r = estimate(copies_from(frame, ids), frame, strata="region")
        assert c.cumulative[-1] == pytest.approx(r["Candidate B"].estimate)
        assert abs(c.z) > 3 and "significant" in c.verdict
        # random arrival: no evidence
        c2 = convergence(
            copies_from(frame, ids, arrived=rng.permutation(len(ids))),
            frame,
            strata="region",
            candidate="Candidate B",
        )
        assert abs(c2.z) < 3


class TestCopiesLoader:
    def test_reads_csv_semicolon(self, tmp_path):
        p = tmp_path / "c.csv"
        p.write_text(
            "station_id;registered;valid;invalid;Alpha;Beta\n1;1000;600;10;400;200\n2;800;500;20;200;300\n"
        )
        c = read_protocol_copies(p)
        assert c.n == 2 and c.candidates == ("Alpha", "Beta")

    def test_every_problem_with_line_and_column(self, tmp_path):
        p = tmp_path / "c.csv"
        p.write_text("station_id,registered,valid,Alpha\n1,1000,600,400\n")
        with pytest.raises(InputDataError, match='missing required column "invalid"'):
            read_protocol_copies(p)
        p.write_text(
            "station_id,registered,valid,invalid,Alpha\n1,1000,6x0,10,400\n1,900,500,-3,2\n"
        )
        with pytest.raises(InputDataError) as exc:
            read_protocol_copies(p)
        issues = exc.value.issues
        text = [str(i) for i in issues]
        assert any('line 2 (station 1), column "valid"' in t and "'6x0'" in t for t in text)
        assert any('line 3 (station 1), column "invalid"' in t for t in text)
        assert any("reported twice" in t for t in text)

    def test_unknown_station_and_candidate(self, small_election):
        df = pl.DataFrame(
            {
                "station_id": ["1", "99"],
                "registered": [1000, 1],
                "valid": [600, 1],
                "invalid": [10, 0],
                "Alpha": [400, 1],
                "Beta": [200, 0],
            }
        )
        with pytest.raises(InputDataError, match="not in the frame"):
            estimate(ProtocolCopies.from_frame(df), small_election)
        df2 = df.rename({"Beta": "Gamma"})
        with pytest.raises(InputDataError, match="Gamma"):
            estimate(ProtocolCopies.from_frame(df2), small_election)
