"""Camera monitoring: tallies and camera status → full-day turnout estimates per station.

Inputs (``data``) are tallies per station and time window, a camera-status log and
timestamped events, from human watchers, the observation service or ``cameras.video`` (the
optional OpenCV counter, extra ``video``). ``estimate`` extrapolates each station's count
with a day profile learned from fully watched stations (``profile``) and a 95 % interval;
``compare`` sets official turnout against it. Method: ``docs/methods/quickcount-and-cameras.md`` §2.
Imports ``model``, ``results`` and ``errors`` only; ``video`` imports OpenCV lazily. Tallies and
status logs filed by watchers in the observation service are read into the same tables by
:mod:`pollwatch.service.sources.cameras`, above this package: nothing here imports the service.
"""

from pollwatch.cameras.agreement import WatcherAgreement, combine_watchers, watcher_agreement
from pollwatch.cameras.compare import (
    EXTRAPOLATION_STATEMENT,
    CameraComparison,
    CameraStatusSummary,
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
from pollwatch.cameras.profile import DayProfile, learn_profile
from pollwatch.cameras.simulate import SimulatedCameras, simulate_cameras

__all__ = [
    "EXTRAPOLATION_STATEMENT",
    "OUTAGE_STATUSES",
    "STATUSES",
    "CameraComparison",
    "CameraEstimate",
    "CameraStatusSummary",
    "DayProfile",
    "SimulatedCameras",
    "WatcherAgreement",
    "apply_status",
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
    "status_summary",
    "tallies_frame",
    "watcher_agreement",
]
