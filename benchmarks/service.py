"""Sustained submission throughput and latency of the observation service on PostgreSQL.

Starts a throw-away PostgreSQL cluster on loopback, imports a synthetic election, creates
accredited observers, runs ``pollwatch serve --workers N`` and drives it with an asyncio client
(many keep-alive connections, each observer filing new incidents with fresh client ids).
Prints submissions/s, p50/p99 latency, errors, the CPU each side spent per submission (and the
load client's share of it) and the load average (the machine is shared: figures taken while
other jobs use the cores are lower; repeat when the load average is below 1). Every submission is durable (synchronous commit) and
appended to the hash-chained audit log in the same transaction (group commit: several per
transaction under load). Afterwards the chain is verified and every acknowledged client id is
looked up in the database.

Two workers (one per core) give the largest batches; more workers split them.

    .venv/bin/python benchmarks/service.py [--workers 2] [--seconds 20] [--concurrency 64]

``--sqlite [--sqlite-synchronous NORMAL]`` (with ``--workers 1``): the default deployment, a
SQLite file, instead of PostgreSQL (to measure the cost of ``synchronous=FULL``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np


def populate(url: str, data_dir: Path, n_observers: int) -> list[tuple[str, int]]:
    from argon2 import PasswordHasher

    from pollwatch.evidence.keys import load_or_create_secret
    from pollwatch.model import Election
    from pollwatch.service import crud, security
    from pollwatch.service.db import make_engine, migrate, session_factory
    from pollwatch.service.importer import import_election

    # setting up 200 accounts at the production argon2 cost takes minutes on a busy machine;
    # submissions authenticate with bearer tokens (SHA-256), so the cost does not affect them
    security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
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


def _request(token: str, station: int, client_id: str) -> bytes:
    body = json.dumps(
        {
            "client_id": client_id,
            "station_id": station,
            "category": "carousel",
            "severity": "medium",
            "occurred_at": "2026-03-01T12:00:00",
            "description": "bus",
        }
    ).encode()
    head = (
        "POST /api/incidents HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _response(reader: asyncio.StreamReader) -> int:
    """Status of one HTTP/1.1 response; its body is read and dropped (keep-alive)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = 0
    for line in lines[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return int(lines[0].split()[1])


async def drive(
    port: int, observers, seconds: float, concurrency: int, acked: list[str]
) -> tuple[list[float], int]:
    """``concurrency`` keep-alive connections, each sending the next submission on its reply.

    A raw asyncio HTTP/1.1 client: httpx spends several times the CPU per request, and the
    client shares the machine with the server.
    """
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds

    async def worker(k: int) -> None:
        nonlocal errors
        token, station = observers[k % len(observers)]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < stop:
                cid = str(uuid.uuid4())
                req = _request(token, station, cid)
                t0 = time.perf_counter()
                writer.write(req)
                status = await _response(reader)
                if status == 201:
                    latencies.append(time.perf_counter() - t0)
                    acked.append(cid)
                else:
                    errors += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    return latencies, errors


def _ticks(pid: int) -> tuple[int, int, int]:
    """(parent pid, session id, utime + stime in clock ticks) of a live process."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[3]), int(fields[11]) + int(fields[12])


def cpu_seconds(server_sid: int, pg) -> tuple[float, float]:
    """CPU seconds used so far by the server's processes and by PostgreSQL's backends (0 on
    SQLite: ``pg`` is None, the database is in the server's processes)."""
    postmaster = int((pg.data / "postmaster.pid").read_text().split()[0]) if pg else -1
    server = postgres = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            ppid, sid, ticks = _ticks(int(entry))
        except (OSError, IndexError, ValueError):
            continue
        if sid == server_sid:
            server += ticks
        elif ppid == postmaster or int(entry) == postmaster:
            postgres += ticks
    hz = os.sysconf("SC_CLK_TCK")
    return server / hz, postgres / hz


def count_stored(url: str, client_ids: list[str]) -> int:
    """How many of the acknowledged client ids are in the database (must be all)."""
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.execute("CREATE TEMP TABLE acked (client_id TEXT)")
            conn.executemany("INSERT INTO acked VALUES (?)", [(c,) for c in client_ids])
            return conn.execute(
                "SELECT count(*) FROM submissions WHERE client_id IN (SELECT client_id FROM acked)"
            ).fetchone()[0]
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT count(*) FROM submissions WHERE client_id = ANY(%s)", (client_ids,)
        ).fetchone()[0]


def pg_statements(url: str, n: int, top: int = 8) -> list[str]:
    """The statements PostgreSQL spent most time executing (``pg_stat_statements``), per
    submission: calls, rows, execution ms; then the counters are reset."""
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT calls, rows, total_exec_time, total_plan_time, query FROM pg_stat_statements"
            " ORDER BY total_exec_time + total_plan_time DESC LIMIT %s",
            (top,),
        ).fetchall()
        conn.execute("SELECT pg_stat_statements_reset()")
    return [
        f"  {calls / n:6.3f} calls {rows_ / n:6.2f} rows {(ex + pl) / n:6.3f} ms"
        f" (plan {pl / n:.3f})  {' '.join(q.split())[:110]}"
        for calls, rows_, ex, pl, q in rows
    ]


@dataclass
class Level:
    concurrency: int
    n: int
    errors: int
    elapsed: float
    ms: np.ndarray
    cpu: tuple[float, float, float]  # server, PostgreSQL, client CPU seconds
    load: tuple[tuple[float, ...], tuple[float, ...]]

    @property
    def rate(self) -> float:
        return self.n / self.elapsed

    def p(self, q: float) -> float:
        return float(np.percentile(self.ms, q))


def measure(port, observers, seconds, concurrency, acked, server_sid, pg) -> Level:
    asyncio.run(drive(port, observers, 2, concurrency, acked))  # warm-up
    load_before = os.getloadavg()
    cpu0 = (*cpu_seconds(server_sid, pg), time.process_time())
    t0 = time.perf_counter()
    lat, errors = asyncio.run(drive(port, observers, seconds, concurrency, acked))
    elapsed = time.perf_counter() - t0
    cpu1 = (*cpu_seconds(server_sid, pg), time.process_time())
    cpu = tuple(b - a for a, b in zip(cpu0, cpu1, strict=True))
    return Level(
        concurrency,
        len(lat),
        errors,
        elapsed,
        np.array(lat) * 1000,
        cpu,
        (load_before, os.getloadavg()),
    )


def report(level: Level) -> None:
    n, (srv, pgc, cl) = level.n, level.cpu
    print(
        f"concurrency {level.concurrency}: {n} submissions in {level.elapsed:.1f} s ="
        f" {level.rate:.0f} submissions/s; errors: {level.errors}; latency p50 {level.p(50):.1f}"
        f" ms, p99 {level.p(99):.1f} ms, max {level.ms.max():.1f} ms"
    )
    print(
        f"  CPU per submission: server {1000 * srv / n:.2f} ms, PostgreSQL {1000 * pgc / n:.2f}"
        f" ms, load client {1000 * cl / n:.2f} ms (the client's share of the CPU used:"
        f" {100 * cl / (srv + pgc + cl):.0f}%); CPU-seconds per wall second:"
        f" {(srv + pgc + cl) / level.elapsed:.2f} (the machine has {os.cpu_count()})"
    )
    before, after = (" ".join(f"{x:.2f}" for x in v) for v in level.load)
    print(f"  load average (1/5/15 min) before: {before}, after: {after}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument(
        "--concurrency",
        default="16,32,64,128",
        help="connections; several (comma-separated) are measured in turn, on the same server",
    )
    ap.add_argument("--observers", type=int, default=200)
    ap.add_argument(
        "--pg",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a PostgreSQL setting for the cluster (repeatable)",
    )
    ap.add_argument(
        "--pg-stats",
        action="store_true",
        help="load pg_stat_statements and print the costliest statements per submission",
    )
    ap.add_argument(
        "--sqlite",
        action="store_true",
        help="the default deployment instead: a SQLite file (use --workers 1)",
    )
    ap.add_argument(
        "--sqlite-synchronous",
        default="FULL",
        help="SQLite's PRAGMA synchronous for the server (FULL, the default, or NORMAL)",
    )
    ap.add_argument(
        "--no-receipts",
        action="store_true",
        help="serve without a receipt (signed checkpoint) in each reply, to measure their cost",
    )
    args = ap.parse_args()
    # the evidence key encrypted, as in production; the periodic checkpoint job off (it is not
    # on the submission path), receipts on unless measuring their cost
    os.environ.setdefault("POLLWATCH_KEY_PASSPHRASE", "benchmark passphrase")
    os.environ["POLLWATCH_CHECKPOINT_INTERVAL"] = "0"
    os.environ["POLLWATCH_RECEIPTS"] = "0" if args.no_receipts else "1"
    levels = [int(c) for c in args.concurrency.split(",")]
    load_at_start = os.getloadavg()  # each level's own "before" includes the previous levels
    # The throw-away cluster is a test helper that does not ship in the package:
    # tests/service/pgtemp.py, imported from there rather than copied.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "service"))
    from pgtemp import TemporaryPostgres, free_port

    settings = dict(kv.split("=", 1) for kv in args.pg)
    if args.pg_stats:
        settings["shared_preload_libraries"] = "pg_stat_statements"
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        if args.sqlite:
            pg, url = None, f"sqlite:///{tmp}/bench.db"
        else:
            pg = stack.enter_context(TemporaryPostgres(settings))
            url = pg.create_database("bench")
        if args.pg_stats:
            import psycopg

            dsn = url.replace("postgresql+psycopg://", "postgresql://")
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("CREATE EXTENSION pg_stat_statements")
        data_dir = Path(tmp) / "data"
        observers = populate(url, data_dir, args.observers)
        port = free_port()
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
        env = {**os.environ, "POLLWATCH_SQLITE_SYNCHRONOUS": args.sqlite_synchronous}
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )
        backend = (
            f"SQLite (synchronous={args.sqlite_synchronous})"
            if pg is None
            else f"PostgreSQL {pg.bindir.parent.name} on loopback"
        )
        print(
            f"{backend}, {args.workers} uvicorn workers,"
            f" {os.cpu_count()} CPUs (client on the same machine), {args.seconds:.0f} s per level"
            + (f", settings {settings}" if settings else "")
            + "; load average at the start: {:.2f} {:.2f} {:.2f}".format(*load_at_start),
            flush=True,
        )
        acked: list[str] = []
        results = []
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    if httpx.get(base + "/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            for c in levels:
                if args.pg_stats:
                    pg_statements(url, 1)  # reset
                level = measure(port, observers, args.seconds, c, acked, proc.pid, pg)
                report(level)
                if args.pg_stats:
                    print("\n".join(pg_statements(url, level.n)), flush=True)
                results.append(level)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)
        from pollwatch.service.sources.evidence import verify_database

        res = verify_database(url, data_dir)
        stored = count_stored(url, acked)
        print(f"audit chain after the run: {res.n_entries} entries, intact={res.ok}")
        print(f"acknowledged submissions (incl. warm-ups): {len(acked)}, found stored: {stored}")
        print("\n| concurrency | submissions/s | p50 ms | p99 ms | server CPU ms | load before |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: |")
        for lv in results:
            print(
                f"| {lv.concurrency} | {lv.rate:.0f} | {lv.p(50):.1f} | {lv.p(99):.1f} |"
                f" {1000 * lv.cpu[0] / lv.n:.2f} | {lv.load[0][0]:.2f} |"
            )


if __name__ == "__main__":
    main()
