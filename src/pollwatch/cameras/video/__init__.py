"""Automatic counting of ballot-casting events from recorded video (extra ``video``).

OpenCV on the CPU, no model download: MOG2 background subtraction → morphology → contours →
centroid tracker (Hungarian assignment) → dwell rule at the ballot-box region, optionally
confirmed by OpenCV's built-in HOG people detector. Frozen, black and turned-away stretches
are detected and their windows marked unusable. Output: the same tallies table as human
watchers, with the SHA-256 of every video segment. ``cv2`` is imported lazily. Settings:
``count_video(path, roi, VideoCountConfig(detector=DetectorConfig(...), tracker=TrackerConfig(...),
outage=OutageConfig(...), window_minutes=...))``.
"""

from pollwatch.cameras.video.count import (
    DetectorConfig,
    OutageConfig,
    TrackerConfig,
    VideoCount,
    VideoCountConfig,
    count_video,
    parse_roi,
)
from pollwatch.cameras.video.synthetic import SyntheticVideo, make_synthetic_video

__all__ = [
    "DetectorConfig",
    "OutageConfig",
    "SyntheticVideo",
    "TrackerConfig",
    "VideoCount",
    "VideoCountConfig",
    "count_video",
    "make_synthetic_video",
    "parse_roi",
]
