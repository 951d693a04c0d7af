"""One absurd count must not take the machine down (issue 16).

A station with 9,000,000,000 registered voters (or valid votes, or votes for the leader) once
made ``analyze`` allocate tables sized by that count: a 67 GiB log-factorial table in the
integer-percentage test, four ~72 GB inversion tables in the RKD resampling, a 26 GiB
fingerprint ``bincount`` in the Klimek fit. Here every method runs on a 3,000-station election
holding three such stations, each run in a fresh interpreter whose peak RSS is read with
``getrusage(RUSAGE_CHILDREN)`` by its parent, under an address-space limit so that a
regression fails with ``MemoryError`` instead of exhausting the machine.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap

import numpy as np
import polars as pl
import pytest

from pollwatch.forensics.integers import integer_probability
from pollwatch.model import Election
from pollwatch.simulate import simulate_election

BIG = 9_000_000_000
N_STATIONS = 3_000
SEED = 3

#: builds the election in the child; ``case`` is "clean" (the election without the absurd
#: stations), "excluded" (with them, excluded as ingest marks them) or "direct" (with them
#: and no exclusion: a library user's Election built by hand)
_BUILD = f"""
import numpy as np, polars as pl
from pollwatch.model import Election
from pollwatch.simulate import simulate_election

def build(case):
    e = simulate_election({N_STATIONS}, seed={SEED}, layout="russia").election
    at = {{7: "registered", 1500: "valid", 2900: e.leader.id}}
    bad = np.zeros(e.n_stations, bool)
    bad[list(at)] = True
    if case == "clean":
        return e.subset(~bad)
    row = pl.int_range(pl.len())
    t = e.table
    for i, col in at.items():
        t = t.with_columns(pl.when(row == i).then(pl.lit({BIG}, pl.Int64)).otherwise(pl.col(col)).alias(col))
    if case == "excluded":
        t = t.with_columns(pl.when(pl.Series(bad)).then(pl.lit("implausible_count"))
                           .otherwise(pl.col("exclusion")).alias("exclusion"))
    else:
        t = t.with_columns(pl.lit(None, pl.Utf8).alias("exclusion"))
    return Election(t, e.meta)
"""

_CHILD = (
    _BUILD
    + """
import json, resource, sys
limit = 4 * 1024 ** 3  # a regression fails here with MemoryError, not by exhausting the machine
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from pollwatch.forensics.run import analyze
e = build(sys.argv[1])
analyze(e.subset(np.arange(e.n_stations) < 300), seed=0, parallel=False)  # compile and import first
import time
t0 = time.perf_counter()
a = analyze(e, seed=0, parallel=False)
seconds = time.perf_counter() - t0
doc = a.doc
json.dump({"methods": doc["methods"], "errors": doc["errors"], "seconds": seconds}, sys.stdout, default=str)
"""
)

#: the parent of the measured run: its only child is the analysis, so RUSAGE_CHILDREN is its peak
#: (its own timeout kills the analysis, which the outer one would leave running as an orphan)
_PARENT = """
import resource, subprocess, sys
try:
    proc = subprocess.run([sys.executable, "-c", sys.argv[1], sys.argv[2]], capture_output=True, text=True,
                          timeout=300)
    rc, out, err = proc.returncode, proc.stdout, proc.stderr
except subprocess.TimeoutExpired:
    rc, out, err = "timeout after 300 s", "", ""
sys.stderr.write(err)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(rc)
print(out)
"""


def _run(case: str) -> tuple[float, dict]:
    """Peak RSS (MB) of ``analyze`` on the case, and its methods/errors."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_PARENT), _CHILD, case],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    rss_kb, rc, payload = out.stdout.split("\n", 2)
    assert rc.strip() == "0", f"analyze({case}) exited {rc}: {out.stderr[-3000:]}"
    return int(rss_kb) / 1024, json.loads(payload)


@pytest.fixture(scope="module")
def runs() -> dict[str, tuple[float, dict]]:
    return {case: _run(case) for case in ("clean", "excluded", "direct")}


def _same(a, b, path: str = "") -> list[str]:
    """Paths where two results.json fragments differ (NaN equals NaN)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [
            d
            for k in sorted(set(a) | set(b), key=str)
            for d in _same(a.get(k), b.get(k), f"{path}/{k}")
        ]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in _same(x, y, f"{path}[{i}]")
        ]
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return []
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def test_excluded_absurd_stations_change_no_result(runs):
    """Excluded as ingest marks them, the stations change nothing: every method's results equal
    those of the election without them, and the peak memory is that run's."""
    (rss_clean, clean), (rss_ex, ex) = runs["clean"], runs["excluded"]
    assert clean["errors"] == {} and ex["errors"] == {}
    assert _same(ex["methods"], clean["methods"]) == []
    assert rss_ex <= 1.3 * rss_clean, (
        f"peak RSS {rss_ex:.0f} MB against {rss_clean:.0f} MB without the stations"
    )


def test_unexcluded_absurd_stations_run_in_bounded_memory(runs):
    """Built by hand with no exclusion, the absurd stations reach the methods: each still
    completes, in the memory of the run without them."""
    (rss_clean, _), (rss_direct, direct) = runs["clean"], runs["direct"]
    assert direct["errors"] == {}
    assert rss_direct <= 1.3 * rss_clean, f"peak RSS {rss_direct:.0f} MB against {rss_clean:.0f} MB"
    # time too (generous, for a shared machine): the RKD fit once spent minutes on a leader
    # above ballots cast
    assert direct["seconds"] <= 3 * runs["clean"][1]["seconds"] + 10


def test_integer_window_mass_is_o1_in_the_count():
    """The binomial window masses need no table sized by ``n``: a 9e9 station and one at the
    largest int64 come back at once, as probabilities."""
    x = np.array([BIG // 2 + 12_345, 1_000, 2**62])
    n = np.array([BIG, BIG, 2**63 - 1])
    p = integer_probability(x, n)
    assert np.all((p >= 0) & (p <= 1))
    # above the table the sum is exact (lgamma) while sd <= 1000, then the normal approximation
    x, n = np.array([600_123, 3_000_001]), np.array([1_500_000, 7_000_000])
    assert integer_probability(x, n) == pytest.approx([0.7794539, 3.47e-7], rel=0.01)


def test_klimek_baseline_survives_a_far_outlier():
    """Turnout 9e6 (issued far above registered) in the all-station baseline subset reads a
    baseline without a kernel array sized by the outlier."""
    from pollwatch.forensics.klimek import klimek_baseline

    e = simulate_election(6_000, seed=1).election
    t = e.table.with_columns(
        pl.when(pl.int_range(pl.len()) == 5)
        .then(pl.lit(BIG, pl.Int64))
        .otherwise(pl.col("ballots_issued_station"))
        .alias("ballots_issued_station")
    )
    b = klimek_baseline(Election(t, e.meta), baseline_subset="all")
    assert b.n_stations == e.n_stations
