"""The footage benchmark format: a synthetic clip written in it is read back, counted and
scored against its hand count (per drop and per window); bad directories name file, line,
column, expected and found."""

import runpy
import sys
from pathlib import Path

import pytest

cv2 = pytest.importorskip("cv2", reason="the video extra (opencv-python-headless) is not installed")

from pollwatch.cameras.video import Staff, make_synthetic_video  # noqa: E402
from pollwatch.cameras.video.footage import (  # noqa: E402
    benchmark_footage,
    read_footage,
    write_synthetic_footage,
)
from pollwatch.errors import IngestError  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
STAFF = (Staff(((8.0, 45.0),), "left", (40, 40, 160)),)


@pytest.fixture(scope="module")
def footage(tmp_path_factory):
    return write_synthetic_footage(
        tmp_path_factory.mktemp("footage"), seconds=60, every=5, sides="right", staff=STAFF, seed=2
    )


@pytest.fixture(scope="module")
def bench(footage):
    return benchmark_footage(footage)


def test_format_round_trip(footage):
    meta, hand = read_footage(footage)
    assert meta.station == "synthetic-2" and meta.roi == (290, 200, 60, 70) and meta.fps == 10
    assert meta.window_minutes == 0.5 and meta.start == 480
    assert hand.staff_times == (8.5,)
    assert len(hand.voter_times) == 11  # every 5 s from 1 s, each 7 s long, in 60 s


def test_benchmark_scores_against_the_hand_count(bench):
    assert len(bench.windows) == 2 and not bench.skipped
    hand = sum(w[2] for w in bench.windows)
    counted, before = sum(w[3] for w in bench.windows), sum(w[4] for w in bench.windows)
    assert hand == 11
    assert abs(counted - hand) <= 1  # voters within the stated 10 %
    assert before == counted + 1  # the member who stayed 37 s, removed by the filter
    assert bench.bias == pytest.approx(sum(w[3] - w[2] for w in bench.windows) / 2)
    assert bench.mae >= abs(bench.bias) and bench.ratio == pytest.approx(counted / hand)
    assert bench.bias_before > bench.bias
    assert (bench.hand_staff, bench.removed, bench.removed_at_staff) == (1, 1, 1)
    assert bench.run_seconds > 0 and bench.seconds_of_video == pytest.approx(60)
    text = bench.table()
    assert "08:00–08:00:30" in text and "before filter" in text


def test_window_hand_count(footage, tmp_path, bench):
    """The same clip hand-counted per window gives the same scores."""
    d = tmp_path / "w"
    d.mkdir()
    for f in ("meta.yaml", "station.avi"):
        (d / f).symlink_to(footage / f)
    rows = [f"{a:.4f},{b:.4f},{h}" for a, b, h, _, _ in bench.windows]
    (d / "handcount.csv").write_text("window_start,window_end,count\n" + "\n".join(rows) + "\n")
    again = benchmark_footage(d)
    assert again.windows == bench.windows and again.bias == bench.bias
    assert again.hand_staff is None and again.removed_at_staff is None and again.removed == 1
    # a window the counter does not have is an error, not silently dropped
    (d / "handcount.csv").write_text("window_start,window_end,count\n08:00,08:10,3\n")
    with pytest.raises(IngestError, match="not one of the counter's windows"):
        benchmark_footage(d)


def test_bad_directories(tmp_path, footage):
    with pytest.raises(IngestError, match="meta.yaml"):
        read_footage(tmp_path)
    d = tmp_path / "bad"
    d.mkdir()
    (d / "meta.yaml").write_text("camera: c\nstation: s\nvideo: nope.avi\nroi: 1,2,3\nfps: -5\n")
    with pytest.raises(IngestError) as err:
        read_footage(d)
    found = {(i.column, i.value) for i in err.value.issues}
    assert ("video", "nope.avi") in found and ("roi", "1,2,3") in found and ("fps", "-5") in found
    (d / "meta.yaml").write_text((footage / "meta.yaml").read_text())
    (d / "station.avi").symlink_to(footage / "station.avi")
    (d / "handcount.csv").write_text("time,who\n1.5,voter\nabc,voter\n3.0,police\n")
    with pytest.raises(IngestError) as err:
        read_footage(d)
    assert [(i.line, i.column, i.value) for i in err.value.issues] == [
        (3, "time", "abc"),
        (4, "who", "police"),
    ]
    (d / "handcount.csv").write_text("when,n\n1,2\n")
    with pytest.raises(IngestError, match="unknown hand-count layout"):
        read_footage(d)


def test_benchmark_script_on_a_directory(footage, capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["video_footage.py", str(footage)])
    runpy.run_path(str(ROOT / "benchmarks" / "video_footage.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "synthetic-2" in out and "mean absolute error" in out and "run time" in out


def test_random_arrivals(tmp_path):
    a = make_synthetic_video(tmp_path / "a.avi", seconds=40, fps=5, arrivals="random", seed=1)
    b = make_synthetic_video(tmp_path / "b.avi", seconds=40, fps=5, arrivals="random", seed=2)
    starts = [v[0] for v in a.visits]
    assert all(y - x >= 1.0 - 1e-9 for x, y in zip(starts, starts[1:], strict=False))
    assert starts != [v[0] for v in b.visits]  # the seed moves the arrivals
    with pytest.raises(ValueError, match="arrivals"):
        make_synthetic_video(tmp_path / "c.avi", seconds=5, arrivals="poisson")
