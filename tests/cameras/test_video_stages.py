"""The video counter's stages one by one, its configuration, and counts pinned to before the split.

``count_video`` used to be one loop with 17 keyword arguments (issue 23); the expected events,
stretches and window counts below were produced by that code (commit 482ee5b, OpenCV 4.14) on
the same synthetic clip, so the staged pipeline must give exactly the same counts.
"""

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2", reason="the video extra (opencv-python-headless) is not installed")

from pollwatch.cameras.video import (  # noqa: E402
    DetectorConfig,
    OutageConfig,
    TrackerConfig,
    VideoCountConfig,
    count_video,
    make_synthetic_video,
)
from pollwatch.cameras.video.count import (  # noqa: E402
    BoxRegion,
    CentroidTracker,
    DropCounter,
    ForegroundDetector,
    OutageDetector,
    Track,
    parse_start,
)

# ---------------------------------------------------------------------------------------------
# the same counts as the single-loop counter
# ---------------------------------------------------------------------------------------------
MAIN_EVENTS = (4.1, 7.6, 11.1, 14.6, 18.1, 21.6, 25.1, 28.6, 42.6, 46.1, 49.6, 60.1, 77.6, 81.1)
MAIN_EVENTS += (84.6,)
MAIN_BAD = ((30.9, 39.0, "frozen"), (50.0, 56.0, "black"), (62.0, 72.0, "turned_away"))
MAIN_WINDOWS = [  # (count, usable, reason) per 15-second window
    (4, True, None),
    (4, True, None),
    (1, False, "frozen"),
    (2, False, "black"),
    (1, False, "turned_away"),
    (3, True, None),
]


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("video") / "station.avi"
    return make_synthetic_video(
        path, seconds=90, fps=10, frozen=(31, 39), black=(50, 56), turned_away=(62, 72), seed=3
    )


def _windows(res):
    return [(r["count"], r["usable"], r["reason"]) for r in res.tallies.iter_rows(named=True)]


def test_same_counts_as_before_the_split(clip):
    res = count_video(clip.path, clip.roi, VideoCountConfig(window_minutes=0.25), station_id="S1")
    assert res.events == pytest.approx(MAIN_EVENTS, abs=1e-9)
    assert [k for *_, k in res.bad] == [k for *_, k in MAIN_BAD]
    ends = [t for a, b, _ in MAIN_BAD for t in (a, b)]
    assert [t for a, b, _ in res.bad for t in (a, b)] == pytest.approx(ends, abs=1e-9)
    assert _windows(res) == MAIN_WINDOWS
    assert (res.n_frames, res.fps, res.total) == (900, 10.0, 11)
    assert res.parameters == {
        "window_minutes": 0.25,
        "start": "08:00",
        "radius": 80,
        "dwell_seconds": 1.0,
        "min_area": 400.0,
        "hog": False,
        "frozen_seconds": 2.0,
        "black_level": 12.0,
        "away_seconds": 8.0,
        "mismatch_share": 0.5,
        "scale": 0.5,
        # the staff filter (issue 20) removes nothing from this voters-only clip
        "staff_filter": True,
        "staff_stay_seconds": 30.0,
        "staff_returns": 3,
        "staff_return_minutes": 30.0,
        "staff_colour_distance": 12.0,
    }
    assert res.staff == () and res.total_unfiltered == res.total


def test_same_counts_at_full_scale(clip):
    cfg = VideoCountConfig(
        window_minutes=0.25,
        detector=DetectorConfig(scale=1.0),
        tracker=TrackerConfig(dwell_seconds=0.7, radius=60),
    )
    res = count_video(clip.path, clip.roi, cfg)
    assert res.events == pytest.approx([round(e - 0.1, 1) for e in MAIN_EVENTS], abs=1e-9)
    assert _windows(res) == MAIN_WINDOWS


# ---------------------------------------------------------------------------------------------
# configuration
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: DetectorConfig(scale=0), r"scale \(0\) must be in the interval \(0, 1\]"),
        (lambda: DetectorConfig(scale=1.5), "scale"),
        (lambda: DetectorConfig(min_area=-1), r"min_area \(-1\) must be >= 0"),
        (lambda: DetectorConfig(warmup_seconds=float("nan")), "warmup_seconds"),
        (lambda: DetectorConfig(hog="yes"), "hog"),
        (lambda: TrackerConfig(dwell_seconds=0), r"dwell_seconds \(0\) must be > 0"),
        (lambda: TrackerConfig(radius=-5), "radius"),
        (lambda: TrackerConfig(max_distance=0), "max_distance"),
        (lambda: OutageConfig(black_level=300), r"black_level \(300\) must be in \[0, 255\]"),
        (lambda: OutageConfig(frozen_seconds=0), "frozen_seconds"),
        (lambda: OutageConfig(mismatch_share=2), "mismatch_share"),
        (lambda: OutageConfig(away_seconds="8"), "away_seconds"),
        (lambda: VideoCountConfig(window_minutes=0), r"window_minutes \(0\) must be > 0"),
        (lambda: VideoCountConfig(fps=0), "fps"),
        (lambda: VideoCountConfig(watcher=""), "watcher"),
    ],
)
def test_bad_settings_fail_clearly(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_configs_are_frozen_and_typed():
    cfg = VideoCountConfig()
    with pytest.raises(AttributeError):
        cfg.window_minutes = 5  # type: ignore[misc]
    with pytest.raises(TypeError, match="detector must be a DetectorConfig"):
        VideoCountConfig(detector=TrackerConfig())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="VideoCountConfig"):
        count_video("x.avi", (1, 1, 2, 2), {"scale": 1})  # type: ignore[arg-type]
    assert parse_start("08:30") == 510.0
    with pytest.raises(ValueError, match="start"):
        parse_start("8h")


# ---------------------------------------------------------------------------------------------
# the stages alone
# ---------------------------------------------------------------------------------------------
def test_box_region():
    box = BoxRegion((290, 200, 60, 70), scale=0.5, radius=80)
    assert (box.x, box.y, box.w, box.h) == (145, 100, 30, 35)
    assert box.grown == (105.0, 60.0, 215.0, 175.0)
    assert box.contains((105.0, 175.0)) and not box.contains((104.9, 100.0))
    assert box.crop(np.zeros((360, 640))).shape == (35, 30)


def _gray(level, rng=None):
    img = np.full((40, 40), level, np.uint8)
    if rng is not None:
        img = np.clip(img + rng.integers(-3, 4, img.shape), 0, 255).astype(np.uint8)
    return img


def test_outage_detector_black_frozen_away():
    rng = np.random.default_rng(0)
    det = OutageDetector(
        OutageConfig(frozen_seconds=0.3, away_seconds=0.3, reference_seconds=0.2),
        BoxRegion((10, 10, 20, 20), scale=1.0, radius=0),
        rate=10,
    )
    checks = {}
    f = 0
    for _ in range(4):  # fine frames: the reference is the median of the first two
        checks[f] = det.check(f, _gray(120, rng))
        f += 1
    assert det.reference is not None and all(c.state == "ok" for c in checks.values())
    for _ in range(2):
        checks[f] = det.check(f, _gray(2))
        f += 1
    assert [checks[i].state for i in (4, 5)] == ["black", "black"]
    assert checks[5].restart_at == 6 and not checks[5].analyse
    still = _gray(120, rng)
    for _ in range(5):  # one new frame, then four repeats of it
        checks[f] = det.check(f, still)
        f += 1
    assert [checks[i].state for i in range(6, 11)] == ["ok"] + ["frozen"] * 4
    checks[f] = det.check(f, _gray(120, rng))  # the picture moves again: restart here
    assert checks[f].state == "ok" and checks[f].restart_at == f
    f += 1
    for _ in range(5):  # the camera looks elsewhere
        checks[f] = det.check(f, _gray(230, rng))
        f += 1
    assert checks[f - 1].state == "turned_away" and checks[f - 1].analyse
    back = det.check(f, _gray(120, rng))
    assert back.state == "ok" and back.restart_at == f
    assert [tuple(s) for s in det.stretches] == [
        (4, 5, "black"),
        (6, 10, "frozen"),  # from the frame that is then repeated
        (12, 16, "turned_away"),
    ]


def test_tracker_matches_expires_and_marks_births_inside():
    inside = BoxRegion((50, 50, 10, 10), scale=1.0, radius=0).contains
    t = CentroidTracker(max_dist=10.0, max_missed=1, inside=inside)
    assert t.update([(0.0, 0.0), (55.0, 55.0)]) == []  # two births
    a, b = t.tracks[0], t.tracks[1]
    assert a.eligible and not b.eligible  # born inside the box region: never counted
    moved = t.update([(6.0, 8.0)])  # 10 px from track 0: the same track
    assert moved == [a] and a.c == (6.0, 8.0) and b.missed == 1
    t.update([(6.0, 8.0)])
    assert 1 not in t.tracks  # missed twice > max_missed
    t.update([(40.0, 40.0)])  # too far: a new track, the old one misses
    assert len(t.tracks) == 2 and t.tracks[0].missed == 1


def test_drop_counter_dwell_rule_and_rearm():
    box = BoxRegion((10, 10, 10, 10), scale=1.0, radius=0)
    counter = DropCounter(box, dwell_frames=3)
    tr = Track(c=(15.0, 15.0))
    assert [counter.update(f, [tr]) for f in range(5)] == [[], [], [2], [], []]
    tr.c = (50.0, 50.0)  # leaves: re-armed
    counter.update(5, [tr])
    assert (tr.dwell, tr.counted) == (0, False)
    tr.c = (12.0, 12.0)
    assert [counter.update(f, [tr]) for f in range(6, 9)] == [[], [], [8]]
    ghost = Track(c=(15.0, 15.0), eligible=False)
    assert [counter.update(f, [ghost]) for f in range(9, 14)] == [[]] * 5
    vetoed = DropCounter(box, dwell_frames=1, confirm=lambda frame: False)
    assert vetoed.update(0, [Track(c=(15.0, 15.0))], np.zeros((4, 4))) == []
    assert counter.events == [2, 8]


def test_foreground_detector_finds_a_moving_blob():
    det = ForegroundDetector(DetectorConfig(scale=1.0, min_area=50, warmup_seconds=1), rate=10)
    background = np.full((120, 160, 3), 100, np.uint8)
    for f in range(10):  # warm-up: the model learns, no blobs
        assert det.blobs(f, background) is None
    frame = background.copy()
    frame[40:60, 70:90] = 250
    (x, y), *rest = det.blobs(10, frame)
    assert rest == [] and abs(x - 79.5) < 1.5 and abs(y - 49.5) < 1.5
    det.restart(11)
    assert det.blobs(11, frame) is None
