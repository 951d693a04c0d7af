"""Camera monitoring: tallies and camera status → full-day turnout estimates per station.

Inputs (``data``) are tallies per station and time window, a camera-status log and
timestamped events, from human watchers, the observation service or ``cameras.video`` (the
optional OpenCV counter, extra ``video``). ``estimate`` extrapolates each station's count
with a day profile learned from fully watched stations (``profile``) and a 95 % interval;
``compare`` sets the official figure the camera can see (``lines``: in-station ballots per country
profile, or a one-sided bound) against it, with false-discovery-controlled flags; ``agreement``
measures watcher error on double-counted windows. Method:
``docs/methods/quickcount-and-cameras.md`` §2.
Imports ``model``, ``results`` and ``errors`` only; ``video`` imports OpenCV lazily. Tallies and
status logs filed by watchers in the observation service are read into the same tables by
:mod:`pollwatch.service.sources.cameras`, above this package: nothing here imports the service.
"""

from pollwatch.cameras.agreement import WatcherAgreement, combine_watchers, watcher_agreement
from pollwatch.cameras.compare import (
    EXTRAPOLATION_STATEMENT,
    CameraComparison,
    CameraStatusSummary,
    benjamini_hochberg,
    compare_official,
    official_from_election,
    read_official,
    status_summary,
)
from pollwatch.cameras.data import (
    OUTAGE_STATUSES,
    STATUSES,
    apply_status,
    read_events,
    read_status_log,
    read_tallies,
    tallies_frame,
)
from pollwatch.cameras.estimate import CameraEstimate, estimate_turnout, garwood_interval
from pollwatch.cameras.lines import PROFILES, OfficialBallots, stated_official, visible_ballots
from pollwatch.cameras.profile import DayProfile, learn_profile
from pollwatch.cameras.simulate import SimulatedCameras, WatcherModel, simulate_cameras

__all__ = [
    "EXTRAPOLATION_STATEMENT",
    "OUTAGE_STATUSES",
    "PROFILES",
    "STATUSES",
    "CameraComparison",
    "CameraEstimate",
    "CameraStatusSummary",
    "DayProfile",
    "OfficialBallots",
    "SimulatedCameras",
    "WatcherAgreement",
    "WatcherModel",
    "apply_status",
    "benjamini_hochberg",
    "combine_watchers",
    "compare_official",
    "estimate_turnout",
    "garwood_interval",
    "learn_profile",
    "official_from_election",
    "read_events",
    "read_official",
    "read_status_log",
    "read_tallies",
    "simulate_cameras",
    "stated_official",
    "status_summary",
    "tallies_frame",
    "visible_ballots",
    "watcher_agreement",
]
