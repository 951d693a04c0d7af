"""``pollwatch cameras estimate`` and ``pollwatch cameras count``: output, files, exit codes."""

import json

import pytest
from typer.testing import CliRunner

from pollwatch.cameras import simulate_cameras
from pollwatch.cameras.data import format_time
from pollwatch.cli import app
from pollwatch.cli._common import EXIT_BAD_INPUT

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cam")
    sim = simulate_cameras(60, seed=4, inflated_share=0.5)
    t = sim.tallies.with_columns(
        sim.tallies["window_start"].map_elements(format_time, return_dtype=str),
        sim.tallies["window_end"].map_elements(format_time, return_dtype=str),
    )
    t.drop("source_sha256").write_csv(d / "tallies.csv")
    st = sim.status.with_columns(sim.status["time"].map_elements(format_time, return_dtype=str))
    st.write_csv(d / "status.csv")
    (d / "official.csv").write_text(
        "station_id,ballots_issued_station\n"
        + "".join(f"{k},{v}\n" for k, v in sim.official.items())
    )
    (d / "official_unlabelled.csv").write_text(
        "station_id,official\n" + "".join(f"{k},{v}\n" for k, v in sim.official.items())
    )
    single = sim.tallies.filter(sim.tallies["watcher"] == "w1")
    single.with_columns(
        single["window_start"].map_elements(format_time, return_dtype=str),
        single["window_end"].map_elements(format_time, return_dtype=str),
    ).drop("source_sha256").write_csv(d / "tallies_single.csv")
    return d, sim


def _estimate(d, *extra, tallies="tallies.csv"):
    return runner.invoke(
        app,
        ["cameras", "estimate", str(d / tallies), "--status", str(d / "status.csv"), *extra],
    )


def test_json_reports_lines_watcher_error_and_fdr(files):
    """The issue's must-show: protocol lines used, watcher-error estimate and its source, the
    FDR level and the expected false flags."""
    d, _ = files
    res = _estimate(d, "--official", str(d / "official.csv"), "--json", "--reference", "w1")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    c, we = doc["comparison"], doc["estimate"]["watcher_error"]
    assert c["official_lines"]["lines"] == ["ballots_issued_station"]
    assert c["official_lines"]["comparison"] == "like with like"
    assert c["fdr"] == 0.05 and c["direction"] == "official above camera"
    assert c["expected_false_flags"] == pytest.approx(0.05 * c["n_flagged"])
    assert c["n_flagged"] > 0 and 0 <= c["n_hard"] <= c["n_flagged"]
    assert we["measured"] and we["source"].startswith("double counts: ")
    assert we["source"].endswith("against w1") and we["kappa_corrected"]
    assert we["n_double_counted_windows"] > 0 and we["error_per_count"] > 0
    assert c["watcher_error"] == we["source"]
    res10 = _estimate(d, "--official", str(d / "official.csv"), "--json", "--fdr", "0.1")
    assert json.loads(res10.stdout)["comparison"]["fdr"] == 0.1
    # text output prints the expected false flags next to the count
    txt = _estimate(d, "--official", str(d / "official.csv"))
    assert "expected false" in txt.stdout and "Benjamini" in txt.stdout


def test_unlabelled_official_is_a_one_sided_bound(files):
    d, _ = files
    doc = json.loads(
        _estimate(d, "--official", str(d / "official_unlabelled.csv"), "--json").stdout
    )
    c = doc["comparison"]
    assert c["official_lines"]["comparison"] == "bound"
    assert c["direction"] == "official below camera" and c["n_flagged"] == 0
    assert any("one-sided bound" in n for n in c["notes"])
    stated = _estimate(
        d, "--official", str(d / "official_unlabelled.csv"), "--official-in-station", "--json"
    )
    assert json.loads(stated.stdout)["comparison"]["official_lines"]["comparison"] == (
        "like with like"
    )


def test_without_double_counts(files):
    d, _ = files
    doc = json.loads(
        _estimate(
            d, "--official", str(d / "official.csv"), "--json", tallies="tallies_single.csv"
        ).stdout
    )
    assert doc["estimate"]["watcher_error"]["source"] == "unmeasured: default"
    res = _estimate(
        d,
        "--official",
        str(d / "official.csv"),
        "--target",
        "realised",
        tallies="tallies_single.csv",
    )
    assert res.exit_code == 2 and "measured watcher error" in res.stderr


def test_estimate_json_and_out(files):
    d, sim = files
    res = runner.invoke(
        app,
        [
            "cameras",
            "estimate",
            str(d / "tallies.csv"),
            "--status",
            str(d / "status.csv"),
            "--official",
            str(d / "official.csv"),
            "--json",
            "--out",
            str(d / "out"),
        ],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["estimate"]["n_stations"] == 60
    assert doc["comparison"]["n_flagged"] > 0
    assert "model-based" in doc["comparison"]["statement"]
    assert doc["camera_status"]["n_cameras"] == 60
    assert (d / "out" / "stations.csv").exists() and (d / "out" / "summary.json").exists()
    header = (d / "out" / "stations.csv").read_text().splitlines()[0]
    assert "flagged" in header and "high95" in header


def test_estimate_text(files):
    d, _ = files
    res = runner.invoke(
        app,
        [
            "cameras",
            "estimate",
            str(d / "tallies.csv"),
            "--official",
            str(d / "official.csv"),
            "--target",
            "realised",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "realised" in res.stdout
    assert "Camera counts against official turnout" in res.stdout


def test_estimate_bad_input_lists_problems(tmp_path, files):
    d, _ = files
    bad = tmp_path / "t.csv"
    bad.write_text("station_id,window_start,window_end,count\nA,08:00,08:15,x\nB,08:00,7,1\n")
    res = runner.invoke(
        app, ["cameras", "estimate", str(bad), "--official", str(d / "official.csv")]
    )
    assert res.exit_code == 1
    assert "line 2" in res.stderr and "line 3" in res.stderr


def test_estimate_bad_parameter(files):
    d, _ = files
    res = runner.invoke(
        app,
        [
            "cameras",
            "estimate",
            str(d / "tallies.csv"),
            "--official",
            str(d / "official.csv"),
            "--min-coverage",
            "2",
        ],
    )
    assert res.exit_code == 2 and "min_coverage (2.0)" in res.stderr


def test_count(tmp_path):
    pytest.importorskip("cv2")
    from pollwatch.cameras.video import make_synthetic_video

    v = make_synthetic_video(tmp_path / "v.avi", seconds=15, seed=9)
    out = tmp_path / "tallies.csv"
    res = runner.invoke(
        app,
        [
            "cameras",
            "count",
            str(v.path),
            "--roi",
            ",".join(map(str, v.roi)),
            "--window-minutes",
            "0.25",
            "--station",
            "P7",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    from pollwatch.cameras import read_tallies

    t = read_tallies(out)  # the counter's output reads back as watcher tallies
    assert t["station_id"].to_list() == ["P7"] and len(t["source_sha256"][0]) == 64
    assert abs(int(t["count"].sum()) - v.true_count()) <= 1


def test_count_bad_roi(tmp_path):
    res = runner.invoke(app, ["cameras", "count", str(tmp_path / "x.avi"), "--roi", "1,2"])
    assert res.exit_code == 2 and "roi" in res.stderr


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [("--window-minutes", "0", "window_minutes (0.0) must be > 0"), ("--start", "8h", "start")],
)
def test_count_bad_settings_are_usage_errors(tmp_path, option, value, message):
    res = runner.invoke(
        app, ["cameras", "count", str(tmp_path / "x.avi"), "--roi", "1,2,3,4", option, value]
    )
    assert res.exit_code == 2 and message in res.stderr


def test_count_missing_video_is_bad_input(tmp_path):
    pytest.importorskip("cv2")
    res = runner.invoke(app, ["cameras", "count", str(tmp_path / "x.avi"), "--roi", "1,2,3,4"])
    assert res.exit_code == EXIT_BAD_INPUT and "x.avi" in res.stderr
