"""PDF protocols rendered page by page to images (``docs/census.md`` §5).

A protocol sent as a PDF (a scanner's output, a commission's upload) is rendered to one PNG per
page with PyMuPDF (the ``census`` extra); each page then goes through the steps a photo goes
through (QR code, near-duplicate hash, machine reading). The PDF is hostile until checked: the
page count and each page's pixel count (its size in points × the DPI) are checked *before* any
page is rendered, an encrypted or unreadable file is refused with the reason, and nothing in it
is executed (PyMuPDF renders; it has no JavaScript engine for documents it opens).
"""

from __future__ import annotations

__all__ = ["MAX_PAGES", "PageImage", "is_pdf", "render_pages"]

from dataclasses import dataclass

MAX_PAGES = 20  # a protocol is one to a few sheets; a longer PDF is not a protocol
DPI = 200  # an A4 page at 200 DPI is 1654 × 2339 pixels: enough for QR codes and digits
MAX_PAGE_PIXELS = 40_000_000  # as a photo (evidence.media.MAX_PIXELS): width × height


@dataclass(frozen=True)
class PageImage:
    """One rendered page: its number (from 1), of how many, and the PNG bytes."""

    page: int
    pages: int
    png: bytes


def is_pdf(data: bytes) -> bool:
    """Whether the bytes start like a PDF (the ``%PDF-`` header, after any whitespace). Not
    anywhere in the first KB as lenient readers allow: a photo whose EXIF comment holds the
    string would be taken for a broken PDF and refused."""
    return data[:1024].lstrip().startswith(b"%PDF-")


def render_pages(
    data: bytes, *, dpi: int = DPI, max_pages: int = MAX_PAGES, max_pixels: int = MAX_PAGE_PIXELS
) -> list[PageImage]:
    """Every page of the PDF ``data`` as a PNG at ``dpi``.

    Raises ``ValueError`` naming the reason for a file that is not a readable PDF, is encrypted
    (even with an empty password: a protocol has no reason to be), has no pages or more than
    ``max_pages``, or has a page that would render to more than ``max_pixels`` pixels; and
    ``ImportError`` when PyMuPDF (the ``census`` extra) is not installed.
    """
    import pymupdf

    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except Exception as exc:  # noqa: BLE001 - MuPDF raises its own types for broken files
        raise ValueError(f"not a readable PDF: {str(exc)[:200]}") from None
    with doc:
        if doc.needs_pass or doc.is_encrypted:
            raise ValueError("an encrypted PDF: send it without a password")
        n = doc.page_count
        if n == 0:
            raise ValueError("a PDF without pages")
        if n > max_pages:
            raise ValueError(f"a PDF of {n} pages, at most {max_pages} accepted")
        zoom = dpi / 72.0  # PDF sizes are in points, 72 to the inch
        for i in range(n):  # every page checked before the first is rendered
            r = doc[i].rect
            w, h = round(r.width * zoom), round(r.height * zoom)
            if w * h > max_pixels:
                raise ValueError(
                    f"page {i + 1} would render to {w}x{h} pixels at {dpi} DPI, "
                    f"at most {max_pixels} accepted"
                )
        out = []
        for i in range(n):
            try:
                pix = doc[i].get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False)
            except Exception as exc:  # noqa: BLE001 - a page MuPDF cannot draw
                raise ValueError(f"page {i + 1} cannot be rendered: {str(exc)[:200]}") from None
            out.append(PageImage(i + 1, n, pix.tobytes("png")))
    return out
