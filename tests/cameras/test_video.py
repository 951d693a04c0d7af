"""Counting from synthetic video written with OpenCV: counts within 10 %, bad stretches unusable."""

import hashlib

import pytest

cv2 = pytest.importorskip("cv2", reason="the video extra (opencv-python-headless) is not installed")

from pollwatch.cameras import estimate_turnout  # noqa: E402
from pollwatch.cameras.video import (  # noqa: E402
    DetectorConfig,
    VideoCountConfig,
    count_video,
    make_synthetic_video,
    parse_roi,
)
from pollwatch.errors import SmallSampleWarning  # noqa: E402

WINDOW_S = 15


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("video") / "station.avi"
    return make_synthetic_video(
        path, seconds=90, fps=10, frozen=(31, 39), black=(50, 56), turned_away=(62, 72), seed=3
    )


@pytest.fixture(scope="module")
def counted(clip):
    return count_video(
        clip.path,
        clip.roi,
        VideoCountConfig(window_minutes=WINDOW_S / 60),
        start="08:00",
        station_id="S1",
    )


def test_bad_stretches_detected(clip, counted):
    kinds = {k: (a, b) for a, b, k in counted.bad}
    assert set(kinds) == {"frozen", "black", "turned_away"}
    for a, b, k in clip.bad:
        got = kinds[k]
        assert abs(got[0] - a) <= 1.0 and abs(got[1] - b) <= 1.0, (k, got, (a, b))


def test_windows_marked_unusable(clip, counted):
    t = counted.tallies
    assert t.height == 90 // WINDOW_S
    for row in t.iter_rows(named=True):
        a, b = (row["window_start"] - 480) * 60, (row["window_end"] - 480) * 60
        overlaps = [k for x, y, k in clip.bad if x < b and y > a]
        assert row["usable"] == (not overlaps), row
        if overlaps:
            assert row["reason"] in overlaps


def test_counts_within_ten_percent(clip, counted):
    truth = sum(
        clip.true_count((r["window_start"] - 480) * 60, (r["window_end"] - 480) * 60)
        for r in counted.tallies.iter_rows(named=True)
        if r["usable"]
    )
    assert truth >= 8
    assert abs(counted.total - truth) <= 0.10 * truth, (counted.total, truth)


def test_segments_hashed_and_tallies_compatible(clip, counted):
    digest = hashlib.sha256(clip.path.read_bytes()).hexdigest()
    assert counted.segments[0][1] == digest
    assert set(counted.tallies["source_sha256"]) == {digest}
    # the estimator takes video tallies like a human watcher's (profile from a second camera)
    with pytest.warns(SmallSampleWarning, match="fully watched"):
        est = estimate_turnout(
            counted.tallies.vstack(
                counted.tallies.with_columns(
                    station_id=counted.tallies["station_id"] + "-full",
                    usable=True,
                    count=counted.tallies["count"].fill_null(1) + 1,
                )
            ),
            n_boot=0,
        )
    assert "S1" in set(est.station_id)


def test_two_segments(tmp_path, clip):
    a = make_synthetic_video(tmp_path / "a.avi", seconds=15, seed=1)
    b = make_synthetic_video(tmp_path / "b.avi", seconds=15, seed=2)
    r = count_video([a.path, b.path], a.roi, VideoCountConfig(window_minutes=7.5 / 60))
    assert len(r.segments) == 2 and r.segments[0][1] != r.segments[1][1]
    assert r.n_frames == a.n_frames + b.n_frames
    assert r.tallies.height == 4
    # windows in the second file carry its hash
    assert r.tallies["source_sha256"][3] == r.segments[1][1]
    truth = a.true_count() + b.true_count()
    assert abs(r.total - truth) <= max(1, 0.1 * truth)


def test_parse_roi():
    assert parse_roi("1,2,3,4") == (1, 2, 3, 4)
    with pytest.raises(ValueError, match="roi"):
        parse_roi("1,2,3")
    with pytest.raises(ValueError, match="w, h > 0"):
        parse_roi("1,2,0,4")


def test_missing_file(tmp_path):
    with pytest.raises((ValueError, OSError)):
        count_video(tmp_path / "nope.avi", (1, 1, 10, 10))


def test_hog_option(clip):
    if not hasattr(cv2, "HOGDescriptor"):
        with pytest.raises(ImportError, match="HOGDescriptor"):
            count_video(clip.path, clip.roi, VideoCountConfig(detector=DetectorConfig(hog=True)))
        return
    # synthetic blobs are not people: HOG must veto them (never add events)
    hog = VideoCountConfig(window_minutes=WINDOW_S / 60, detector=DetectorConfig(hog=True))
    r = count_video(clip.path, clip.roi, hog)
    assert (
        r.total
        <= count_video(clip.path, clip.roi, VideoCountConfig(window_minutes=WINDOW_S / 60)).total
    )
