"""Content-addressed media store and EXIF-free published derivatives.

Originals are stored under their SHA-256 and never modified, so the hash recorded in the audit
log proves the file is the one received. Only the *published* derivative is re-encoded without
metadata (EXIF, GPS, XMP, ICC comments), because a photo's GPS tag can expose the observer.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from pathlib import Path


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def strip_metadata(data: bytes) -> tuple[bytes, str]:
    """Re-encode an image without metadata; returns ``(bytes, content_type)``.

    The orientation tag is applied to the pixels first so the derivative looks the same.
    Raises ``ValueError`` if the bytes are not an image Pillow can read.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        img: Image.Image = Image.open(io.BytesIO(data))
        img.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"not a readable image: {exc}") from None
    img = ImageOps.exif_transpose(img)
    fmt, ctype = ("PNG", "image/png") if img.mode in ("RGBA", "LA", "P") else ("JPEG", "image/jpeg")
    if fmt == "JPEG" and img.mode != "RGB":
        img = img.convert("RGB")
    clean = Image.new(img.mode, img.size)  # a fresh image carries pixels only, no info dict
    clean.paste(img)
    out = io.BytesIO()
    clean.save(out, format=fmt, quality=90)
    return out.getvalue(), ctype


class MediaStore:
    """Files named by their SHA-256 under ``root/ab/abcdef…``; writes are atomic and idempotent."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"`sha256` ({sha256!r}) must be 64 lowercase hex digits")
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        digest = sha256_bytes(data)
        target = self.path(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        return digest

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def check(self, sha256: str) -> bool:
        """True if the stored file is present and still hashes to its name."""
        p = self.path(sha256)
        return p.exists() and sha256_bytes(p.read_bytes()) == sha256
