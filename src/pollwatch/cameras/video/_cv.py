"""Lazy OpenCV import with an install hint."""

from __future__ import annotations


def cv2():
    """Return the ``cv2`` module or raise ImportError naming the extra to install."""
    try:
        import cv2 as _cv2
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Counting from video needs OpenCV: pip install 'pollwatch[video]' "
            "(installs opencv-python-headless)."
        ) from exc
    return _cv2
