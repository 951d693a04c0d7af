"""Content-addressed media store and EXIF-free published derivatives.

Originals are stored under their SHA-256 and never modified afterwards, so the hash recorded in
the audit log proves the file is the one stored. By default the service stores the original with
its metadata removed *losslessly* (:func:`strip_original_metadata`: EXIF with GPS, XMP, IPTC and
comments dropped from JPEG, PNG and WebP without touching the pixels), after recording the
SHA-256 of the upload as received; an organisation that must keep originals as received opts in
(``MediaStore(keep_original_metadata=True)``). The *published* derivative is always re-encoded
without metadata (:func:`strip_metadata`), because a photo's GPS tag can expose the observer.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


MAX_PIXELS = 40_000_000  # width x height; phone cameras take 12-50 MP


def strip_metadata(data: bytes, max_pixels: int = MAX_PIXELS) -> tuple[bytes, str]:
    """Re-encode an image without metadata; returns ``(bytes, content_type)``.

    The orientation tag is applied to the pixels first so the derivative looks the same.
    Raises ``ValueError`` if the bytes are not an image Pillow can read, or if it has more than
    ``max_pixels`` pixels: its size is read from the header and checked before any pixel is
    decoded (a PNG of a few KB can declare billions of pixels, a decompression bomb), and
    Pillow's own bomb check is held to the same limit.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img: Image.Image = Image.open(io.BytesIO(data))
            w, h = img.size
            if w * h > max_pixels:
                raise ValueError(f"image too large: {w}x{h} pixels, at most {max_pixels} accepted")
            img.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise ValueError(f"image too large: {exc}") from None
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


_JPEG_DROP = {0xE1, 0xED, 0xFE}  # APP1 (EXIF, XMP), APP13 (IPTC/Photoshop), COM
_PNG_DROP = {b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"}
_WEBP_DROP = {b"EXIF", b"XMP "}


def _strip_jpeg(data: bytes) -> bytes:
    keep = [(0, 2)]  # (start, end) of the byte ranges kept, joined once at the end
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            raise ValueError("malformed JPEG segment")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xDA:  # start of scan: the rest is entropy-coded image data
            keep.append((i, len(data)))
            return b"".join(data[a:b] for a, b in keep)
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            keep.append((i, i + 2))
            i += 2
            continue
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if length < 2 or i + 2 + length > len(data):
            raise ValueError("malformed JPEG segment length")
        if marker not in _JPEG_DROP:
            keep.append((i, i + 2 + length))
        i += 2 + length
    raise ValueError("JPEG without image data")


def _strip_png(data: bytes) -> bytes:
    out = bytearray(data[:8])
    i = 8
    while i + 12 <= len(data):
        length = int.from_bytes(data[i : i + 4], "big")
        kind = data[i + 4 : i + 8]
        end = i + 12 + length
        if end > len(data):
            raise ValueError("malformed PNG chunk")
        if kind not in _PNG_DROP:
            out += data[i:end]
        i = end
        if kind == b"IEND":
            return bytes(out)
    raise ValueError("PNG without IEND")


def _strip_webp(data: bytes) -> bytes:
    body = bytearray(b"WEBP")
    i = 12
    while i + 8 <= len(data):
        kind = data[i : i + 4]
        length = int.from_bytes(data[i + 4 : i + 8], "little")
        end = i + 8 + length + (length & 1)
        if end > len(data) + 1:
            raise ValueError("malformed WebP chunk")
        chunk = bytearray(data[i:end])
        if kind == b"VP8X":  # the extended header says which metadata chunks follow
            chunk[8] &= ~0x0C & 0xFF
        if kind not in _WEBP_DROP:
            body += chunk
        i = end
    return b"RIFF" + len(body).to_bytes(4, "little") + bytes(body)


def strip_original_metadata(data: bytes) -> bytes | None:
    """The upload without its metadata, pixels untouched; None if it is not an image this can
    clean (the caller then keeps or refuses it).

    JPEG: APP1 (EXIF with GPS, XMP), APP13 (IPTC) and comment segments are dropped; PNG: the
    ``eXIf``, text and time chunks; WebP: the ``EXIF`` and ``XMP`` chunks. The entropy-coded
    image data is copied byte for byte (no re-encoding: the original keeps its forensic value,
    though EXIF orientation is lost with the rest). Other images Pillow reads (TIFF, GIF, BMP…)
    are re-encoded losslessly as PNG without metadata. Raises ``ValueError`` on a malformed file.
    """
    if data[:3] == b"\xff\xd8\xff":
        return _strip_jpeg(data)
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return _strip_png(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _strip_webp(data)
    from PIL import Image, UnidentifiedImageError

    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except (UnidentifiedImageError, OSError):
        return None
    clean = Image.new(img.mode, img.size)
    clean.paste(img)
    if clean.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
        clean = clean.convert("RGBA")
    out = io.BytesIO()
    clean.save(out, format="PNG")
    return out.getvalue()


class MediaStore:
    """Files named by their SHA-256 under ``root/ab/abcdef…``; writes are atomic and idempotent.

    ``keep_original_metadata``: the service's intake stores originals as received (with GPS)
    instead of stripping their metadata first (the default, :func:`strip_original_metadata`).
    """

    def __init__(self, root: str | os.PathLike, *, keep_original_metadata: bool = False) -> None:
        self.root = Path(root)
        self.keep_original_metadata = keep_original_metadata

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"`sha256` ({sha256!r}) must be 64 lowercase hex digits")
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        return self.add(data)[0]

    def add(self, data: bytes) -> tuple[str, bool]:
        """Store ``data``: its SHA-256, and whether the file is new (False: already stored).
        The bytes go to a temporary file beside the target, synced, then renamed into place:
        a file under its hash's name is always complete."""
        digest = sha256_bytes(data)
        target = self.path(digest)
        if target.exists():
            return digest, False
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        return digest, True

    def remove(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)

    def files(self) -> Iterator[Path]:
        """Every file under the root: stored media, and any temporary file a crash left."""
        if self.root.is_dir():
            yield from sorted(p for p in self.root.rglob("*") if p.is_file())

    def name_of(self, p: Path) -> str | None:
        """The SHA-256 that ``p`` is stored under, or None for a file that is not one."""
        name = p.name
        ok = len(name) == 64 and all(c in "0123456789abcdef" for c in name)
        return name if ok and p.parent == self.root / name[:2] else None

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def check(self, sha256: str) -> bool:
        """True if the stored file is present and still hashes to its name."""
        p = self.path(sha256)
        return p.exists() and sha256_bytes(p.read_bytes()) == sha256
