"""The staff filter: people who stay long at the box or come back often are not voters.

A synthetic station: voters from the right every 5 s; a police officer who stands by the box
for 50 s and a commission member who comes to the box four times, both from the left. The
counter without the filter counts voters + staff visits; with it, the voters within the
counter's stated error (10 %, as on voters alone) and every staff visit removed.
"""

import pytest

cv2 = pytest.importorskip("cv2", reason="the video extra (opencv-python-headless) is not installed")

from pollwatch.cameras.video import (  # noqa: E402
    Staff,
    StaffConfig,
    VideoCountConfig,
    count_video,
    make_synthetic_video,
)
from pollwatch.cameras.video.count import (  # noqa: E402
    BoxRegion,
    DropCounter,
    Track,
    Visit,
    staff_visits,
)

STAFF = (
    Staff(((10.0, 60.0),), "left", (40, 40, 160)),  # stays 50 s
    Staff(((70.0, 72.0), (82.0, 84.0), (94.0, 96.0), (106.0, 108.0)), "left", (150, 60, 30)),
)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("staff") / "station.avi"
    return make_synthetic_video(path, seconds=112, every=5, sides="right", staff=STAFF, seed=5)


@pytest.fixture(scope="module")
def counted(clip):
    return count_video(clip.path, clip.roi, VideoCountConfig(window_minutes=0.5))


def test_filter_removes_staff_and_keeps_voters(clip, counted):
    voters, staff = clip.true_count(), clip.staff_count()
    assert voters >= 20 and staff == 5
    # without the filter the staff visits are counted as voters
    assert abs(counted.total_unfiltered - (voters + staff)) <= 0.10 * voters
    # with it: the voters within 10 %, and what was removed is the staff
    assert abs(counted.total - voters) <= 0.10 * voters, (counted.total, voters)
    assert len(counted.staff) == counted.total_unfiltered - counted.total
    assert staff - 1 <= len(counted.staff) <= staff + 1
    stayed = [t for t, why in counted.staff if why.startswith("stayed")]
    returned = [t for t, why in counted.staff if why.startswith("came to the box")]
    assert len(stayed) == 1 and 10 <= stayed[0] <= 13
    assert len(returned) == 4
    for t in returned:  # each removed return is one of the member's visits
        assert any(a <= t <= b + 1 for a, b in STAFF[1].visits), t
    # both tallies: per window, before >= after, and the summary says both
    before, after = counted.tallies_unfiltered["count"], counted.tallies["count"]
    assert (before >= after).all() and int((before - after).sum()) == len(counted.staff)
    text = counted.summary().as_text()
    assert "before the staff filter" in text and "staff" in text


def test_filter_off_counts_everyone(clip, counted):
    off = count_video(
        clip.path, clip.roi, VideoCountConfig(window_minutes=0.5, staff=StaffConfig(enabled=False))
    )
    assert off.staff == () and off.total == off.total_unfiltered == counted.total_unfiltered
    # the check above fails without the filter: staff push the count past the stated error
    assert abs(off.total - clip.true_count()) > 0.10 * clip.true_count()


def test_rules_on_visits():
    rate = 10.0
    cfg = StaffConfig()
    # a voter's 3-second visit stays; a 40-second one is staff; one never seen leaving lasts
    # to the end of the video
    visits = [
        Visit(frame=10, track=1, arrived=0, left=30),
        Visit(frame=100, track=2, arrived=90, left=490),
        Visit(frame=1000, track=3, arrived=990, left=None),
    ]
    assert staff_visits(visits, 1100, rate, cfg) == {1: "stayed 40 s at the box"}
    assert 2 in staff_visits(visits, 1400, rate, cfg)
    # four visits in one colour within 30 minutes: staff; three: voters (a family); spread
    # over more than 30 minutes: voters; other colours never link
    red = (30.0, 40.0, 200.0)

    def visits_at(minutes, colour=red):
        return [
            Visit(int(m * 600), i, int(m * 600) - 10, colour, int(m * 600) + 20)
            for i, m in enumerate(minutes)
        ]

    assert set(staff_visits(visits_at([0, 5, 10, 15]), 20_000, rate, cfg)) == {0, 1, 2, 3}
    assert staff_visits(visits_at([0, 5, 10]), 20_000, rate, cfg) == {}
    assert staff_visits(visits_at([0, 40, 80, 120]), 100_000, rate, cfg) == {}
    mixed = visits_at([0, 5, 10]) + visits_at([15], (200.0, 40.0, 30.0))
    assert staff_visits(mixed, 20_000, rate, cfg) == {}
    assert staff_visits(visits_at([0, 5, 10]), 20_000, rate, StaffConfig(returns=2)) != {}
    assert staff_visits(visits_at([0, 5, 10, 15]), 20_000, rate, StaffConfig(enabled=False)) == {}


def test_visit_closed_by_the_person_walking_away():
    """A track lost inside the region (still, absorbed) waits; a track born near that spot that
    walks out closes the visit; ``present`` closes it when the spot is empty again."""
    box = BoxRegion((10, 10, 10, 10), scale=1.0, radius=5)
    counter = DropCounter(box, dwell_frames=2, near=6.0)
    tr = Track(c=(0.0, 15.0), tid=1)
    counter.update(0, [tr])  # outside
    tr.c = (12.0, 15.0)
    counter.update(1, [tr])
    assert counter.update(2, [tr]) == [2]
    counter.lost(30, [tr])  # vanished at the box
    assert counter.waiting and counter.visits[0].left is None
    leaving = Track(c=(13.0, 16.0), tid=2, born=(13.0, 16.0), born_inside=True, eligible=False)
    counter.update(400, [leaving])
    leaving.c = (40.0, 16.0)
    counter.update(401, [leaving])
    assert counter.visits[0].left == 401 and not counter.waiting
    # the empty-room check ends a waiting visit when nobody is at the spot
    here = {"busy": True}
    c2 = DropCounter(box, dwell_frames=1, present=lambda p: here["busy"])
    t2 = Track(c=(0.0, 15.0), tid=5)
    c2.update(0, [t2])
    t2.c = (12.0, 15.0)
    c2.update(1, [t2])
    c2.lost(5, [t2])
    c2.update(6, [])
    assert c2.visits[0].left is None
    here["busy"] = False
    c2.update(7, [])
    assert c2.visits[0].left == 7
    # an outage ends every open visit where it starts
    c3 = DropCounter(box, dwell_frames=1)
    t3 = Track(c=(0.0, 15.0), tid=9)
    c3.update(0, [t3])
    t3.c = (12.0, 15.0)
    c3.update(1, [t3])
    c3.reset(50)
    assert c3.visits[0].left == 50


def test_bad_staff_settings():
    with pytest.raises(ValueError, match="stay_seconds"):
        StaffConfig(stay_seconds=0)
    with pytest.raises(ValueError, match="returns"):
        StaffConfig(returns=0)
    with pytest.raises(ValueError, match="colour_distance"):
        StaffConfig(colour_distance=-1)
    with pytest.raises(TypeError, match="staff"):
        VideoCountConfig(staff="yes")  # type: ignore[arg-type]
