"""The witness endpoint a second organisation runs (``pollwatch witness serve``).

A small ASGI app around :class:`pollwatch.evidence.witness.Witness`:

* ``POST /add-checkpoint``: the C2SP tlog-witness style request (``old <size>``, the
  consistency proof, the checkpoint line); 200 with the witness's cosignature line when the
  checkpoint extends the one it holds, 409 with the size it holds when the log's ``old`` is
  stale, 403 for a checkpoint not signed by a trusted key of the log, 422 for a rewrite
  (the refused checkpoint is kept next to the one held, as evidence), 400 for a malformed body;
* ``GET /checkpoint/{origin}``: the newest checkpoint the witness accepted from that log, to
  check the log's database or bundles against (``pollwatch evidence verify --checkpoints``).

Requests are handled one at a time (a lock): the state is a file per log.
"""

from __future__ import annotations

import threading

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from pollwatch.evidence.witness import Witness

MAX_BODY = 64 * 1024  # a checkpoint and ~64 proof hashes fit in 4 KB


def create_witness_app(witness: Witness) -> Starlette:
    lock = threading.Lock()

    async def add_checkpoint(request: Request) -> PlainTextResponse:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return PlainTextResponse("request too large\n", status_code=413)
        with lock:
            verdict, cosignature = witness.add(body)
        if verdict.accepted:
            return PlainTextResponse(f"{cosignature}\n")
        if verdict.status == 409:  # as tlog-witness: the size held, for the log to resend
            return PlainTextResponse(f"{verdict.held_size}\n", status_code=409)
        return PlainTextResponse(verdict.reason + "\n", status_code=verdict.status)

    async def held(request: Request) -> PlainTextResponse:
        try:
            cp = witness.held(request.path_params["origin"])
        except ValueError:
            return PlainTextResponse("bad origin\n", status_code=400)
        if cp is None:
            return PlainTextResponse("no checkpoint held for this log\n", status_code=404)
        return PlainTextResponse(cp.text() + "\n")

    return Starlette(
        routes=[
            Route("/add-checkpoint", add_checkpoint, methods=["POST"]),
            Route("/checkpoint/{origin}", held, methods=["GET"]),
        ]
    )
