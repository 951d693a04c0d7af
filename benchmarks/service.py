"""Sustained submission throughput and latency of the observation service on PostgreSQL.

Starts a throw-away PostgreSQL cluster on loopback, imports a synthetic election, creates
accredited observers, runs ``pollwatch serve --workers N`` and drives it with an asyncio client
(many keep-alive connections, each observer filing new incidents with fresh client ids).
Prints submissions/s and p50/p99 latency. Every submission is durable (synchronous commit) and
appended to the hash-chained audit log in the same transaction.

    .venv/bin/python benchmarks/service.py [--workers 4] [--seconds 20] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import numpy as np


def populate(url: str, data_dir: Path, n_observers: int) -> list[tuple[str, int]]:
    from pollwatch.evidence.keys import load_or_create_secret
    from pollwatch.model import Election
    from pollwatch.service import crud
    from pollwatch.service.db import make_engine, migrate, session_factory
    from pollwatch.service.importer import import_election

    rng = np.random.default_rng(1)
    n = 2000
    reg = rng.integers(500, 3000, n)
    valid = (reg * 0.6).astype(int)
    e = Election.from_arrays(
        registered=reg,
        valid=valid,
        invalid=np.zeros(n, int),
        votes={"A": valid // 2, "B": valid - valid // 2},
        hierarchy={"region": np.array([f"R{i % 20}" for i in range(n)])},
    )
    migrate(url)
    engine = make_engine(url)
    out = []
    with session_factory(engine, load_or_create_secret(data_dir))() as s:
        admin = crud.create_user(s, None, username="admin", password="admin-pass", role="admin")
        s.flush()
        el = import_election(s, e, actor_id=admin.id)
        from sqlalchemy import select

        from pollwatch.service import models as m

        stations = list(
            s.scalars(select(m.Station.id).where(m.Station.election_id == el.id).limit(n_observers))
        )
        for i, st in enumerate(stations):
            u = crud.create_user(
                s, admin, username=f"obs{i}", password="observer-pass", role="observer"
            )
            s.flush()
            acc = crud.request_accreditation(s, u, el.id, "CEC")
            crud.decide_accreditation(s, admin, acc.id, "accredited", None, None)
            crud.assign(s, admin, u.id, st)
            out.append((crud.issue_token(s, u), st))
        s.commit()
    engine.dispose()
    return out


async def drive(
    base: str, observers, seconds: float, concurrency: int
) -> tuple[list[float], int, int]:
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def worker(k: int) -> None:
            nonlocal errors
            token, station = observers[k % len(observers)]
            headers = {"Authorization": f"Bearer {token}"}
            while time.perf_counter() < stop:
                body = {
                    "client_id": str(uuid.uuid4()),
                    "station_id": station,
                    "category": "carousel",
                    "severity": "medium",
                    "occurred_at": "2026-03-01T12:00:00",
                    "description": "bus",
                }
                t0 = time.perf_counter()
                r = await client.post("/api/incidents", json=body, headers=headers)
                if r.status_code == 201:
                    latencies.append(time.perf_counter() - t0)
                else:
                    errors += 1

        await asyncio.gather(*(worker(k) for k in range(concurrency)))
    return latencies, errors, len(latencies)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--observers", type=int, default=200)
    args = ap.parse_args()
    from pollwatch.service.pgtemp import TemporaryPostgres, _free_port

    with TemporaryPostgres() as pg, tempfile.TemporaryDirectory() as tmp:
        url = pg.create_database("bench")
        data_dir = Path(tmp) / "data"
        observers = populate(url, data_dir, args.observers)
        port = _free_port()
        cmd = [
            sys.executable,
            "-c",
            "from pollwatch.cli import main; main()",
            "serve",
            "--port",
            str(port),
            "--database",
            url,
            "--data-dir",
            str(data_dir),
            "--workers",
            str(args.workers),
        ]
        proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    if httpx.get(base + "/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            asyncio.run(drive(base, observers, 2, args.concurrency))  # warm-up
            t0 = time.perf_counter()
            lat, errors, n = asyncio.run(drive(base, observers, args.seconds, args.concurrency))
            elapsed = time.perf_counter() - t0
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)
        from pollwatch.evidence.database import verify_database

        res = verify_database(url, data_dir)
        ms = np.array(lat) * 1000
        print(
            f"PostgreSQL {pg.bindir.parent.name} on loopback, {args.workers} uvicorn workers, "
            f"{args.concurrency} concurrent clients, {os.cpu_count()} CPUs (client on the same machine)"
        )
        print(
            f"submissions: {n} in {elapsed:.1f} s = {n / elapsed:.0f} submissions/s; errors: {errors}"
        )
        print(
            f"latency: p50 {np.percentile(ms, 50):.1f} ms, p99 {np.percentile(ms, 99):.1f} ms, "
            f"max {ms.max():.1f} ms"
        )
        print(f"audit chain after the run: {res.n_entries} entries, intact={res.ok}")


if __name__ == "__main__":
    main()
