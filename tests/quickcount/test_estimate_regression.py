"""The estimator's numbers do not move when its internals are restructured (issue 23).

The expected values were computed with the code of commit 482ee5b (before ``_run`` returned a
typed ``RunEstimates`` instead of a 10-key dict) on the same seeded sample; they are a
regression check, not a statement about the truth. ``rel=1e-12`` only allows for the last bits
of floating-point sums to differ between BLAS builds.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from pollwatch.quickcount._frame import build_frame
from pollwatch.quickcount.design import draw_sample
from pollwatch.quickcount.estimate import (
    BootstrapDraws,
    RunEstimates,
    _prepare,
    _run,
    breakdown,
    convergence,
    estimate,
)
from pollwatch.quickcount.simulation import copies_from, simulate_frame

REL = 1e-12

# name: (estimate, se, boot_low, boot_high), bootstrap=300, seed=9
MAIN = {
    "Candidate A": (
        0.3681854221839921,
        0.009036196110694195,
        0.34972394803225093,
        0.3885268385964304,
    ),
    "Candidate B": (
        0.203115238577074,
        0.008204157698822772,
        0.18596904171002815,
        0.2211828618751808,
    ),
    "Candidate C": (
        0.42869933923893383,
        0.011169907443661045,
        0.40450083752426924,
        0.4500278707040056,
    ),
    "turnout": (0.5606059204327003, 0.00918568192172316, 0.5434623952097746, 0.5780543617251267),
    "invalid_share": (
        0.020278047786370306,
        0.00027423308125251955,
        0.019656483923354607,
        0.020870328267487335,
    ),
}


@pytest.fixture(scope="module")
def frame():
    return simulate_frame(11, stations=2000, regions=8)


@pytest.fixture(scope="module")
def sample(frame):
    return draw_sample(frame, 240, strata="region", seed=4)


@pytest.fixture(scope="module")
def copies(frame, sample):
    return copies_from(frame, sample.table["station_id"])


def test_estimate_with_bootstrap_unchanged(frame, copies):
    r = estimate(copies, frame, strata="region", bootstrap=300, seed=9)
    for name, (e, se, lo, hi) in MAIN.items():
        q = r[name]
        assert (q.estimate, q.se, q.boot_low, q.boot_high) == pytest.approx(
            (e, se, lo, hi), rel=REL
        )
    assert (r.lead.a, r.lead.b) == ("Candidate C", "Candidate A")
    assert r.lead.estimate == pytest.approx(0.06051391705494192, rel=REL)
    assert r.lead.se == pytest.approx(0.018588467966849924, rel=REL)
    assert r.lead.interval_boot == pytest.approx(
        (0.020989681863833723, 0.0986273866293551), rel=REL
    )
    assert (r.df, r.seed, r.n_groups) == (232, 9, 8)


def test_nonresponse_unchanged(frame, sample):
    tab = sample.table
    gone = sorted(tab["stratum"].unique().to_list())[:2]
    one = tab.filter(pl.col("stratum") == gone[1]).head(1)["station_id"]
    keep = tab.filter(~pl.col("stratum").is_in(gone))["station_id"].to_list() + one.to_list()
    c = copies_from(frame, keep)
    r = estimate(c, frame, strata="region", nonresponse="collapse", bootstrap=200, seed=5)
    q = r["Candidate A"]
    assert (q.estimate, q.se, q.boot_low, q.boot_high) == pytest.approx(
        (0.30467979508296655, 0.011887365752108046, 0.27878338033226524, 0.3269763546109661),
        rel=REL,
    )
    assert r.lead.interval_boot == pytest.approx(
        (0.11135450595466675, 0.21847078921541835), rel=REL
    )
    p = estimate(c, frame, strata="region", nonresponse="poststratify", bootstrap=200, seed=5)
    assert (p["Candidate A"].estimate, p["Candidate A"].se) == pytest.approx(
        (0.30677840001395473, 0.011545876354887692), rel=REL
    )
    assert "×1.098" in p.actions[0] and "'R01'" in p.actions[1]


def test_breakdown_and_convergence_unchanged(frame, sample, copies):
    b = breakdown(copies, frame, "region", strata="region", min_stations=10)
    row = b.rows[1]
    assert (row.label, row.reported, row.frame_stations) == ("R01", 43, 357)
    assert (row.leader_share, row.leader_moe, row.turnout, row.turnout_moe) == pytest.approx(
        (0.282267505307645, 0.02527146108184578, 0.7145457577189227, 0.03596648750121648),
        rel=REL,
    )
    ids = sample.table["station_id"].to_list()
    rng = np.random.default_rng(0)
    c = convergence(
        copies_from(frame, ids, arrived=rng.permutation(len(ids))),
        frame,
        strata="region",
        candidate="Candidate B",
    )
    assert (c.cumulative[-1], c.cumulative_moe[-1], c.z, c.early, c.late) == pytest.approx(
        (
            0.20311523857707384,
            0.01607985361317964,
            -1.8237372926392303,
            0.1869544547939651,
            0.21687964599429235,
        ),
        rel=REL,
    )


def test_run_reads_by_name(frame, copies):
    fr = build_frame(frame, "region")
    data = _prepare(copies, fr)
    run = _run(data, fr, np.arange(len(data.Z)), "collapse", 0.95, 300, 9)
    assert isinstance(run, RunEstimates) and isinstance(run.bootstrap, BootstrapDraws)
    assert run.candidates == ("Candidate A", "Candidate B", "Candidate C")
    assert run.point("turnout") == pytest.approx(MAIN["turnout"][0], rel=REL)
    assert run.std_error("Candidate B") == pytest.approx(MAIN["Candidate B"][1], rel=REL)
    draws = run.bootstrap
    assert draws.quantities.shape == (300, 5) and draws.lead.shape == (300,)
    assert draws.replicates == 300
    assert draws.share("Candidate C") == pytest.approx(MAIN["Candidate C"][2:], rel=REL)
    assert draws.interval("invalid_share") == pytest.approx(MAIN["invalid_share"][2:], rel=REL)
    lead = run.lead
    assert (run.candidates[lead.a], run.candidates[lead.b]) == ("Candidate C", "Candidate A")
    with pytest.raises(KeyError, match="no candidate named 'turnout'"):
        draws.share("turnout")
    with pytest.raises(KeyError, match="no quantity named 'nobody'"):
        run.point("nobody")
