"""The observer app's service worker at ``/sw.js`` (docs/offline.md).

Served from the root, not ``/static/``, so that its scope is the whole origin without a
``Service-Worker-Allowed`` header. Its version is the hash of the static files it caches, filled
in here: any change to them installs a new worker, which deletes the older caches.
``Cache-Control: no-cache`` makes the browser check for a new worker on every visit.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response

router = APIRouter(include_in_schema=False)

STATIC = Path(__file__).resolve().parents[1] / "static"
# what the worker caches or runs: a change to any of them is a new version
VERSIONED = ("sw.js", "outbox.js", "offline.js", "style.css")


@functools.cache
def worker_script() -> bytes:
    """``static/sw.js`` with ``__VERSION__`` replaced by the first 16 hex digits of the SHA-256
    of the files it caches (``VERSIONED``)."""
    digest = hashlib.sha256()
    for name in VERSIONED:
        digest.update((STATIC / name).read_bytes())
    source = (STATIC / "sw.js").read_text(encoding="utf-8")
    return source.replace("__VERSION__", digest.hexdigest()[:16]).encode()


@router.get("/sw.js")
def service_worker() -> Response:
    return Response(
        worker_script(),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache"},
    )
