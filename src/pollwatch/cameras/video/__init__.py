"""Automatic counting of ballot-casting events from recorded video (extra ``video``).

OpenCV on the CPU, no model download: MOG2 background subtraction → morphology → contours →
centroid tracker (Hungarian assignment) → dwell rule at the ballot-box region, optionally
confirmed by OpenCV's built-in HOG people detector. Frozen, black and turned-away stretches
are detected and their windows marked unusable. Output: the same tallies table as human
watchers, with the SHA-256 of every video segment. ``cv2`` is imported lazily. Settings:
``count_video(path, roi, VideoCountConfig(detector=DetectorConfig(...), tracker=TrackerConfig(...),
outage=OutageConfig(...), staff=StaffConfig(...), window_minutes=...))``. People who stay
long at the box or return often (staff) are counted apart (:class:`StaffConfig`).
"""

from pollwatch.cameras.video.count import (
    DetectorConfig,
    OutageConfig,
    StaffConfig,
    TrackerConfig,
    VideoCount,
    VideoCountConfig,
    count_video,
    parse_roi,
)
from pollwatch.cameras.video.synthetic import Staff, SyntheticVideo, make_synthetic_video

__all__ = [
    "DetectorConfig",
    "OutageConfig",
    "Staff",
    "StaffConfig",
    "SyntheticVideo",
    "TrackerConfig",
    "VideoCount",
    "VideoCountConfig",
    "count_video",
    "make_synthetic_video",
    "parse_roi",
]
