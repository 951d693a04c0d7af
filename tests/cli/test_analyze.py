"""`pollwatch analyze`: the results.json schema, stations.csv, and the source sections."""

import json

import polars as pl
import pytest
from typer.testing import CliRunner

from pollwatch.cli import app
from pollwatch.ingest import read_election
from pollwatch.quickcount.simulation import copies_from
from pollwatch.simulate import FraudConfig, Rounding, Stuffing, simulate_election

runner = CliRunner()
FAST = "fingerprint,regression,integer_percentages,shpilkin,digits,carousel"


@pytest.fixture(scope="module")
def sim_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("sim")
    sim = simulate_election(
        3000,
        seed=2,
        layout="russia",
        fraud=FraudConfig(stuffing=Stuffing(0.1), rounding=Rounding(0.03)),
    )
    paths = sim.write(d)
    official = read_election(paths["results.csv"])  # station ids as the published file has them
    copies_from(official, official.station_ids[:60]).table.write_csv(d / "copies.csv")
    return d, paths


def test_results_json_schema(sim_files, tmp_path):
    d, paths = sim_files
    out = tmp_path / "out"
    r = runner.invoke(
        app,
        [
            "analyze",
            str(paths["results.csv"]),
            "--out",
            str(out),
            "--quiet",
            "--methods",
            FAST,
            "--copies",
            str(d / "copies.csv"),
        ],
    )
    assert r.exit_code == 0, r.output
    doc = json.loads((out / "results.json").read_text())
    el = doc["election"]
    for k in (
        "stations",
        "registered",
        "ballots_cast",
        "leader",
        "leader_votes",
        "turnout",
        "leader_share",
    ):
        assert k in el
    assert 0 <= el["turnout"] <= 1 and 0 <= el["leader_share"] <= 1
    m = doc["methods"]
    assert {"excess", "p_value"} <= set(m["integer_percentages"])
    assert {"excess_votes", "clean_share", "clean_turnout"} <= set(m["shpilkin"])
    assert "pearson" in m["correlation"] and "digits" in m and "carousel" in m
    assert set(doc["timings"]) >= set(FAST.split(","))
    stations = pl.read_csv(out / "stations.csv")
    assert stations.height == 3000 and {"station_id", "signals", "rank"} <= set(stations.columns)
    ordered = stations.sort("rank")  # rank follows points (ties share a rank)
    assert ordered["rank"].min() == 1
    pts = ordered["points"].to_list()
    assert all(a >= b for a, b in zip(pts, pts[1:], strict=False))
    assert 'id="pvt"' in (out / "report.html").read_text()


def test_status_without_tallies_is_usage_error(sim_files, tmp_path):
    d, paths = sim_files
    r = runner.invoke(
        app,
        [
            "analyze",
            str(paths["results.csv"]),
            "--out",
            str(tmp_path),
            "--methods",
            "digits",
            "--status",
            str(d / "copies.csv"),
        ],
    )
    assert r.exit_code == 2 and "--status needs --tallies" in r.stderr


def test_bad_copies_file_exit_1(sim_files, tmp_path):
    d, paths = sim_files
    bad = tmp_path / "bad.csv"
    bad.write_text("station_id,valid\nx,abc\n")
    r = runner.invoke(
        app,
        [
            "analyze",
            str(paths["results.csv"]),
            "--out",
            str(tmp_path / "o"),
            "--methods",
            "digits",
            "--copies",
            str(bad),
        ],
    )
    assert r.exit_code == 1
    assert "bad.csv" in r.stderr


def test_unknown_method_exit_2(sim_files, tmp_path):
    _, paths = sim_files
    r = runner.invoke(app, ["analyze", str(paths["results.csv"]), "--methods", "astrology"])
    assert r.exit_code == 2 and "unknown ['astrology']" in r.stderr


def test_negative_seed_is_refused_before_any_method_runs(sim_files, tmp_path):
    # numpy's own error ("expected non-negative integer") named neither the parameter nor the
    # value, and surfaced once per method in results.json while the run still "succeeded"
    from pollwatch.forensics.run import analyze

    _, paths = sim_files
    r = runner.invoke(
        app, ["analyze", str(paths["results.csv"]), "--out", str(tmp_path / "o"), "--seed", "-5"]
    )
    assert r.exit_code == 2 and "found -5" in r.stderr and not (tmp_path / "o").exists()
    with pytest.raises(
        ValueError, match=r"seed \(-5\) must be an integer in the interval \[0, inf\)"
    ):
        analyze(read_election(paths["results.csv"]), seed=-5)


def test_regional_boot_gives_the_regional_mixture_an_interval(sim_files, tmp_path):
    _, paths = sim_files
    out = tmp_path / "out"
    r = runner.invoke(
        app,
        [
            "analyze",
            str(paths["results.csv"]),
            "--out",
            str(out),
            "--quiet",
            "--methods",
            "mixture_by_region",
            "--regional-boot",
            "4",
            "--no-report",
        ],
    )
    assert r.exit_code == 0, r.output
    m = json.loads((out / "results.json").read_text())["methods"]["mixture_by_region"]
    low, high = m["interval"]
    assert m["bootstrap_replicates"] == 4 and low < m["fraudulent_votes"] < high
    r = runner.invoke(
        app,
        [
            "analyze",
            str(paths["results.csv"]),
            "--out",
            str(tmp_path / "o2"),
            "--quiet",
            "--methods",
            "mixture_by_region",
            "--no-report",
        ],
    )
    m = json.loads((tmp_path / "o2" / "results.json").read_text())["methods"]["mixture_by_region"]
    assert m["interval"] is None and m["bootstrap_replicates"] == 0
    r = runner.invoke(app, ["analyze", str(paths["results.csv"]), "--regional-boot", "-1"])
    assert r.exit_code == 2 and "--regional-boot" in r.stderr and "found -1" in r.stderr
    from pollwatch.forensics.run import analyze

    with pytest.raises(
        ValueError, match=r"regional_boot \(1\.5\) must be an integer in the interval \[0, 10000\]"
    ):
        analyze(read_election(paths["results.csv"]), regional_boot=1.5)


# -- no data is never analysed (issue 16) --------------------------------------------------
def _no_data_files(d, results_csv):
    """A header-only file and one whose every station has zero registered voters."""
    header = results_csv.read_text(encoding="utf-8").splitlines()[0]
    (d / "header_only.csv").write_text(header + "\n", encoding="utf-8")
    df = pl.read_csv(results_csv)
    reg = next(c for c in df.columns if c.startswith("Число избирателей, включенных"))
    df.with_columns(pl.lit(0).alias(reg)).write_csv(d / "nobody_registered.csv")
    return d / "header_only.csv", d / "nobody_registered.csv"


def test_no_analysable_station_exits_1_with_one_line_and_no_report(sim_files, tmp_path):
    import time

    _, paths = sim_files
    header_only, nobody = _no_data_files(tmp_path, paths["results.csv"])
    for f, why in (
        (header_only, "no station rows"),
        (
            nobody,
            "3,000 station rows read and none can be analysed: 3,000 excluded as zero_registered",
        ),
    ):
        out = tmp_path / f"out-{f.stem}"
        t0 = time.perf_counter()
        r = runner.invoke(app, ["analyze", str(f), "--out", str(out)])
        assert time.perf_counter() - t0 < 10
        assert r.exit_code == 1, r.output
        assert f.name in r.stderr and why in r.stderr, r.stderr
        assert "Strength of evidence" not in r.output and not out.exists()
    r = runner.invoke(app, ["analyze", str(nobody), "--out", str(tmp_path / "o")])
    assert len(r.stderr.strip().splitlines()) == 1  # one line, not a wall of method failures


def test_analyze_refuses_an_election_with_no_analysable_station():
    import numpy as np

    from pollwatch.errors import InputDataError, PollwatchError
    from pollwatch.forensics.run import analyze
    from pollwatch.model import Election

    z = np.zeros(0, np.int64)
    empty = Election.from_arrays(registered=z, valid=z, invalid=z, votes={"A": z, "B": z})
    with pytest.raises(InputDataError, match="0 station rows read: nothing to analyse"):
        analyze(empty)
    e = simulate_election(200, seed=1).election
    all_out = Election(e.table.with_columns(pl.lit("implausible_count").alias("exclusion")), e.meta)
    with pytest.raises(
        PollwatchError,
        match=r"200 station rows read and none can be analysed: 200 excluded as "
        r"implausible_count \[a count no polling station can have",
    ):
        analyze(all_out)


@pytest.mark.slow  # two whole `pollwatch analyze` runs in fresh processes (13-48 s)
def test_a_nine_billion_voter_station_is_excluded_and_costs_no_memory(sim_files, tmp_path):
    """The issue's file: one station with 9,000,000,000 registered voters. ``pollwatch analyze``
    excludes it (ingest's implausible_count), gives the methods' results of the file without
    that station, and peaks at the memory of that run (each run in a fresh process, its peak
    read with getrusage(RUSAGE_CHILDREN) by a parent that has no other child)."""
    import subprocess
    import sys

    _, paths = sim_files
    df = pl.read_csv(paths["results.csv"])
    reg = next(c for c in df.columns if c.startswith("Число избирателей, включенных"))
    row = pl.int_range(pl.len())
    df.with_columns(
        pl.when(row == 7).then(pl.lit(9_000_000_000, pl.Int64)).otherwise(pl.col(reg)).alias(reg)
    ).write_csv(tmp_path / "absurd.csv")
    df.filter(row != 7).write_csv(tmp_path / "without.csv")
    parent = (
        "import resource, subprocess, sys; "
        "rc = subprocess.run([sys.executable, '-m', 'pollwatch', *sys.argv[1:]], timeout=300).returncode; "
        "print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    peak, methods = {}, {}
    for name in ("without", "absurd"):
        out = tmp_path / f"out-{name}"
        r = subprocess.run(
            [
                sys.executable,
                "-c",
                parent,
                "analyze",
                str(tmp_path / f"{name}.csv"),
                "--out",
                str(out),
                "--quiet",
                "--no-report",
                "--methods",
                "integer_percentages,shpilkin,shpilkin_test,klimek,"
                "coarse_shares,small_denominators,mixture,digits,carousel",
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        rc, rss = r.stdout.strip().splitlines()[-1].split()
        assert rc == "0", r.stderr[-2000:]
        peak[name] = int(rss) / 1024
        doc = json.loads((out / "results.json").read_text())
        assert doc["errors"] == {}
        methods[name] = doc["methods"]
        if name == "absurd":
            assert doc["election"]["excluded"].get("implausible_count") == 1
            assert doc["election"]["registered"] < 1e9  # left out of the totals too
    assert methods["absurd"] == methods["without"]
    assert peak["absurd"] <= 1.3 * peak["without"], peak


def test_the_cli_prints_the_headline_statement_first(sim_files, tmp_path):
    """The terminal shows the same calibrated sentence as the report and results.json; with the
    methods that make the headline left out, it says they could not be computed."""
    d, paths = sim_files
    out = tmp_path / "out"
    r = runner.invoke(
        app, ["analyze", str(paths["results.csv"]), "--out", str(out), "--methods", "digits"]
    )
    assert r.exit_code == 0, r.output
    doc = json.loads((out / "results.json").read_text())
    statement = doc["headline"]["statement"]
    assert (
        statement.startswith("No falsified-votes figure") and "could not be computed" in statement
    )
    assert doc["headline"]["falsified_votes"]["estimate"] is None
    assert " ".join(statement.split())[:60] in " ".join(r.output.split())


def test_execution_option_runs_tasks_elsewhere_with_the_same_results(sim_files, tmp_path):
    _, paths = sim_files
    docs = {}
    for where in (None, "processes:2"):
        out = tmp_path / (where or "serial").replace(":", "-")
        extra = ["--execution", where] if where else []
        args = ["analyze", str(paths["results.csv"]), "--out", str(out), "--quiet"]
        r = runner.invoke(app, [*args, "--methods", "shpilkin", "--no-report", *extra])
        assert r.exit_code == 0, r.output
        docs[where] = json.loads((out / "results.json").read_text())["methods"]["shpilkin"]
    serial, procs = docs[None], docs["processes:2"]
    assert serial["excess_votes_low"] is not None
    assert serial == procs
    r = runner.invoke(app, ["analyze", str(paths["results.csv"]), "--execution", "threads"])
    assert r.exit_code == 2 and "--execution" in r.stderr and "'threads'" in r.stderr
    r = runner.invoke(
        app,
        ["analyze", str(paths["results.csv"]), "--execution", "serial", "--scheduler", "tcp://h:1"],
    )
    assert r.exit_code == 2 and "give one" in r.stderr


def test_report_title_names_the_election_never_the_file_alone(sim_files, tmp_path):
    # issue 17: the title is the election (--title/--date/--country/--round or the mapping),
    # and a file without any metadata is not titled by its file name alone
    from pollwatch.model import ElectionMeta
    from pollwatch.report.build import report_title

    d, paths = sim_files
    out = tmp_path / "out"
    args = ["analyze", str(paths["results.csv"]), "--out", str(out), "--quiet", "--methods", FAST]
    named = [*args, "--title", "Presidential election", "--date", "2012-03-04", "--round", "1"]
    r = runner.invoke(app, [*named, "--country", "Russia"])
    assert r.exit_code == 0, r.output
    html = (out / "report.html").read_text()
    want = "Presidential election, Russia, 4 March 2012, round 1: forensic analysis"
    assert f"<title>{want}</title>" in html

    bare = ElectionMeta(name="results.csv", source=str(paths["results.csv"]))
    assert report_title(bare) == "Election results in results.csv: forensic analysis"
    typed = ElectionMeta(name="results.csv", source="results.csv", type="presidential", date="x")
    assert report_title(typed) == "Presidential election, x: forensic analysis"
