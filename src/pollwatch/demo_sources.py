"""The independent sources of the reference-case demo, made from the simulation's truth.

* **Observers** at a simple random sample of stations copy the station protocol (the
  numbers as counted there). A few of those stations' protocols are then altered between
  the station and the centre, so the published file differs from the copies.
* **Cameras** at 1,000 stations chosen non-randomly (the largest stations, as a commission
  would pick showcase stations): watchers count the people who really voted (clean voters
  plus carousel voters, not stuffed ballots), audio is muted everywhere and about 40 % of
  cameras are turned away for part of the day.
* **Claims**: the public figures of the real 2024 election (example dataset).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pollwatch.model import Election
from pollwatch.simulate import Simulation


def observer_sample(sim: Simulation, size: int, seed: int, n_altered: int = 4):
    """Sampled station ids, the protocol copies, and the published (partly altered) election."""
    from pollwatch.quickcount.design import draw_sample
    from pollwatch.quickcount.simulation import alter_protocols, copies_from

    design = draw_sample(sim.election, size, seed=seed)
    ids = design.table["station_id"].to_list()
    rng = np.random.default_rng(seed)
    altered = sorted(rng.choice(ids, size=n_altered, replace=False).tolist())
    published = alter_protocols(sim.election, altered, seed)
    return design, copies_from(sim.election, ids), published, altered


def camera_tallies(
    sim: Simulation,
    published: Election,
    n_cameras: int,
    seed: int,
    window_minutes: int = 15,
    turned_away_share: float = 0.4,
):
    """Tallies and status log for ``n_cameras`` of the largest stations (non-random placement)."""
    from pollwatch.cameras.data import STATUS_SCHEMA, tallies_frame
    from pollwatch.cameras.simulate import CLOSE, OPEN, stratum_profile

    rng = np.random.default_rng(seed)
    truth = sim.truth
    present = (truth["clean_issued"] + truth["carousel"]).to_numpy()  # people who really came
    ids = truth["station_id"].to_numpy()
    chosen = np.argsort(-sim.election.field("registered"), kind="stable")[:n_cameras]
    starts = np.arange(OPEN, CLOSE, window_minutes, dtype=float)
    ends = starts + window_minutes
    profile = stratum_profile("urban", starts, ends)
    rows, status_rows = [], []
    for i in chosen:
        sid = str(ids[i])
        counts = rng.poisson(present[i] * rng.dirichlet(profile * 3000))
        status_rows += [(sid, float(OPEN), "online"), (sid, float(OPEN), "audio_muted")]
        away = np.zeros(len(starts), bool)
        if rng.random() < turned_away_share:
            a = int(rng.integers(0, len(starts) - 4))
            b = a + int(rng.integers(4, len(starts) // 2))
            away[a:b] = True
            status_rows += [
                (sid, float(starts[a]) + 0.5, "turned_away"),
                (sid, float(starts[min(b, len(starts) - 1)]), "online"),
            ]
        for j in range(len(starts)):
            seen = int(rng.binomial(counts[j], 0.15)) if away[j] else int(counts[j])
            rows.append(
                dict(
                    station_id=sid,
                    window_start=starts[j],
                    window_end=ends[j],
                    watcher="w1",
                    count=seen,
                    usable=True,
                    reason=None,
                )
            )
    status = pl.DataFrame(status_rows, schema=STATUS_SCHEMA, orient="row").sort(
        "station_id", "time"
    )
    return tallies_frame(rows), status, ids[chosen]


def observer_incidents(
    sim: Simulation, observed: list[str], seed: int, share: float = 0.2
) -> list[dict]:
    """Ballot stuffing reported (with a photo) at ``share`` of the observed stations where
    ballots really were stuffed; observers see only some of it."""
    if not 0 <= share <= 1:
        raise ValueError(f"share ({share}) must be in [0, 1]")
    rng = np.random.default_rng([seed, 8])
    truth = sim.truth.select("station_id", "stuffed")
    stuffed = set(truth.filter(pl.col("stuffed") > 0)["station_id"].to_list())
    candidates = sorted(s for s in observed if s in stuffed)
    k = int(round(share * len(candidates)))
    chosen = sorted(rng.choice(candidates, size=k, replace=False).tolist()) if k else []
    return [
        {
            "station_id": s,
            "category": "ballot_stuffing",
            "severity": "high",
            "minute": int(rng.integers(10 * 60, 19 * 60)),
            "description": "a bundle of ballots was put into the stationary box",
        }
        for s in chosen
    ]


def _photo(i: int) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (16, 12), (40 + i % 200, 90, 160)).save(buf, format="PNG")
    return buf.getvalue()


def load_service(
    db_dir,
    election: Election,
    copies,
    incidents: list[dict],
    seed: int,
    n_observers: int = 5,
    tallies: pl.DataFrame | None = None,
    status: pl.DataFrame | None = None,
    n_watchers: int = 5,
    sample_path=None,
) -> dict:
    """A local SQLite service database with the stations and their official protocols,
    accredited observers with their protocol copies and incidents, and accredited camera
    watchers with the tallies and camera-status log of their stations, written through the
    service's own importer, crud and watcher functions (so every row is in the audit chain).
    Returns ``url``, ``data_dir``, ``election_id``, ``station_ids`` (code → service id) and
    ``n_tallies``/``n_camera_logs``.

    With ``sample_path`` (a registered quick-count sample, ``pollwatch.quickcount.sample``) the
    coordinator imports the sample first, and the observers file their copies as on election
    day (issue 19): every other one as a results SMS from their registered phone through the
    SMS intake (``R<id> #<station> <ballots> <votes…> <total>``), the others on the web form;
    ``n_sms`` and ``n_web`` count them."""
    import datetime as dt
    import secrets
    import uuid
    from pathlib import Path

    from sqlalchemy import select

    from pollwatch.evidence.keys import load_or_create_secret
    from pollwatch.evidence.media import MediaStore
    from pollwatch.service import crud
    from pollwatch.service import models as m
    from pollwatch.service.db import make_engine, migrate, session_factory
    from pollwatch.service.importer import import_election

    db_dir = Path(db_dir)
    data_dir = db_dir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    db = (db_dir / "pollwatch.db").resolve()
    for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        p.unlink(missing_ok=True)
    url = f"sqlite:///{db}"
    migrate(url)
    engine = make_engine(url)
    rng = np.random.default_rng([seed, 9])

    def new_id() -> str:
        return str(uuid.UUID(bytes=rng.bytes(16), version=4))

    try:
        with session_factory(engine, load_or_create_secret(data_dir))() as s:
            coord = crud.create_user(
                s,
                None,
                username="demo-coordinator",
                password=secrets.token_urlsafe(16),
                role="coordinator",
            )
            s.flush()
            row = import_election(s, election, actor_id=coord.id, name=election.meta.name)
            s.flush()
            ids = dict(
                s.execute(
                    select(m.Station.code, m.Station.id).where(m.Station.election_id == row.id)
                ).all()
            )
            if sample_path is not None:
                _import_sample(s, coord, row.id, sample_path)
            observers = []
            for k in range(n_observers):
                phone = f"+99455100{k + 1:04d}" if sample_path is not None else None
                observers.append(
                    _accredited_user(
                        s, coord, row.id, f"demo-observer-{k + 1}", "observer", phone=phone
                    )
                )
            channels = {"sms": 0, "web": 0}
            by_station: dict[str, m.User] = {}
            names = {c.id for c in election.candidates}
            tab = copies.table
            for j, rec in enumerate(tab.iter_rows(named=True)):
                code = rec["station_id"]
                user = observers[j % n_observers]
                by_station[code] = user
                crud.assign(s, coord, user.id, ids[code])
                numbers = {
                    f: int(rec[f])
                    for f in ("registered", "valid", "invalid", *copies.fields)
                    if f in rec and rec[f] is not None and f in _protocol_fields()
                }
                votes = {
                    c: int(rec[c]) for c in copies.candidates if c in names and rec[c] is not None
                }
                if sample_path is not None:
                    channel = _file_results(s, row, user, code, ids[code], numbers, votes, j)
                    channels[channel] += 1
                    continue
                answers, flags = crud.clean_protocol(
                    row, numbers, votes, int(rec.get("registered") or 0)
                )
                crud.create_submission(
                    s,
                    user,
                    m.Submission(
                        client_id=new_id(),
                        kind="protocol",
                        form="protocol",
                        station_id=ids[code],
                        observer_id=user.id,
                        answers=answers,
                        flags=flags,
                    ),
                    checked=True,
                )
            store = MediaStore(data_dir / "media")
            for j, inc in enumerate(incidents):
                user = by_station[inc["station_id"]]
                media, _ = crud.store_media(s, store, user, new_id(), _photo(j), "image/png")
                s.flush()
                crud.clean_incident(inc["category"], inc["severity"])
                when = dt.datetime.fromisoformat(
                    str(election.meta.date or "2024-02-07")
                ) + dt.timedelta(minutes=inc["minute"])
                crud.create_submission(
                    s,
                    user,
                    m.Submission(
                        client_id=new_id(),
                        kind="incident",
                        form=inc["category"],
                        station_id=ids[inc["station_id"]],
                        observer_id=user.id,
                        severity=inc["severity"],
                        description=inc["description"],
                        occurred_at=when,
                    ),
                    [media.id],
                    checked=True,
                )
            n_tallies, n_logs = _load_cameras(
                s, coord, row, ids, election, tallies, status, n_watchers
            )
            s.commit()
            election_id = row.id
    finally:
        engine.dispose()
    return {
        "url": url,
        "data_dir": data_dir,
        "election_id": election_id,
        "station_ids": ids,
        "n_tallies": n_tallies,
        "n_camera_logs": n_logs,
        **({"n_sms": channels["sms"], "n_web": channels["web"]} if sample_path else {}),
    }


def _import_sample(s, coord, election_id: int, path) -> None:
    """The coordinator imports the registered sample (its SHA-256 into the audit chain)."""
    import hashlib
    from pathlib import Path

    from pollwatch.quickcount.sample import read_sample, sidecar_path
    from pollwatch.service.crud.quickcount import import_sample

    path = Path(path)
    side = hashlib.sha256(sidecar_path(path).read_bytes()).hexdigest()
    import_sample(s, coord, election_id, read_sample(path), filename=path.name, sidecar_sha256=side)


def _file_results(s, election_row, user, code: str, station_id: int, numbers, votes, j: int):
    """One observer's copy as filed on election day: a results SMS through the intake (even
    ``j``, when every candidate's count and both ballot lines are there), else the web form's
    submission (votes by candidate name, as the form posts them). Returns the channel."""
    import uuid

    from pollwatch.service import crud
    from pollwatch.service import models as m
    from pollwatch.service.config import Settings
    from pollwatch.service.sms_intake import handle_sms

    order = [c["id"] for c in election_row.candidates]
    valid, invalid = numbers.get("valid"), numbers.get("invalid")
    if j % 2 == 0 and valid is not None and invalid is not None and set(order) <= set(votes):
        text = " ".join(
            [
                f"R{user.id}",
                f"#{code}",
                str(valid + invalid),
                *(str(votes[c]) for c in order),
                str(valid),
            ]
        )
        # one observer sends dozens of messages here in a second: no rate limit in the demo
        settings = Settings(sms_rate_limit=10**6)
        ok, reply = handle_sms(s, crud.personal_data(s, user)["phone"], text, None, settings)
        if not ok:
            raise RuntimeError(f"the demo's results SMS was refused: {text!r} -> {reply!r}")
        return "sms"
    names = {c["id"]: c["name"] for c in election_row.candidates}
    by_name = {names[c]: v for c, v in votes.items()}
    station = s.get(m.Station, station_id)
    answers, flags = crud.clean_protocol(election_row, numbers, by_name, station.registered)
    crud.create_submission(
        s,
        user,
        m.Submission(
            client_id=str(uuid.UUID(int=station_id, version=4)),
            kind="protocol",
            form="protocol",
            channel="web",
            station_id=station_id,
            observer_id=user.id,
            answers=answers,
            flags=flags,
        ),
    )
    return "web"


def publish_quick_count(service: dict) -> dict:
    """The coordinator's live status of the quick count in the service database, and the
    estimate published from it: frozen, signed with the service's evidence key and put in the
    audit chain (``service.quickcount_live``). Returns ``status`` and ``publication``."""
    from pollwatch.evidence.keys import load_or_create_signing_key
    from pollwatch.service import crud
    from pollwatch.service.quickcount_live import compute_status, publish
    from pollwatch.service.sources.evidence import open_database

    key = load_or_create_signing_key(service["data_dir"], allow_plaintext=True)
    engine, sessions = open_database(service["url"], service["data_dir"])
    try:
        with sessions() as s:
            coord = crud.user_by_name(s, "demo-coordinator")
            # HOOK(issue 19, i19-verdict): when ``quickcount.compare`` returns the pre-registered
            # ``verdict`` (consistent / discrepancy / too_early), publish the verdict with the
            # estimate here (the statement is ``quickcount_live.statement``); until then the
            # estimate alone is frozen and signed.
            row = publish(s, coord, service["election_id"], key)
            s.commit()
            status = compute_status(s, service["election_id"])
            publication = {"id": row.id, "sha256": row.sha256, "statement": row.statement}
    finally:
        engine.dispose()
    return {"status": status, "publication": publication}


def _accredited_user(s, coord, election_id: int, username: str, role: str, phone=None):
    """A demo account with a random password, accredited by the CEC for the election."""
    import secrets

    from pollwatch.service import crud

    u = crud.create_user(
        s, None, username=username, password=secrets.token_urlsafe(16), role=role, phone=phone
    )
    s.flush()
    acc = crud.request_accreditation(s, u, election_id, "CEC")
    s.flush()
    crud.decide_accreditation(s, coord, acc.id, "accredited", None, None)
    return u


def _load_cameras(
    s, coord, election_row, ids: dict, election: Election, tallies, status, n_watchers: int
) -> tuple[int, int]:
    """Camera watchers (accredited, each assigned a share of the watched stations) file the
    tallies and status log as they would through the API (``service.crud.cameras``)."""
    import datetime as dt
    import uuid

    from pollwatch.service import audit
    from pollwatch.service import models as m
    from pollwatch.service.crud import cameras as watchers

    if tallies is None or tallies.height == 0:
        return 0, 0
    day = dt.datetime.fromisoformat(str(election.meta.date or "2024-02-07"))
    rng = np.random.default_rng([len(ids), 10])

    def when(minutes: float) -> dt.datetime:
        return day + dt.timedelta(minutes=float(minutes))

    def new_id() -> str:
        return str(uuid.UUID(bytes=rng.bytes(16), version=4))

    codes = sorted(tallies["station_id"].unique().to_list())
    users = []
    for k in range(n_watchers):
        users.append(
            _accredited_user(s, coord, election_row.id, f"demo-watcher-{k + 1}", "camera_watcher")
        )
    owner = {c: users[i % n_watchers] for i, c in enumerate(codes)}
    # crud.assign's checks hold by construction here; one audited batch instead of 1,000 round trips
    assignments = [m.Assignment(user_id=owner[c].id, station_id=ids[c]) for c in codes]
    s.add_all(assignments)
    s.flush()
    audit.record_many(s, [(coord.id, "create", a) for a in assignments])
    tally_rows: dict[int, list[dict]] = {u.id: [] for u in users}
    log_rows: dict[int, list[dict]] = {u.id: [] for u in users}
    for r in tallies.iter_rows(named=True):
        tally_rows[owner[r["station_id"]].id].append(
            {
                "client_id": new_id(),
                "station_id": ids[r["station_id"]],
                **watchers.clean_tally(
                    when(r["window_start"]),
                    when(r["window_end"]),
                    r["count"],
                    r["usable"],
                    r["reason"] or "",
                ),
            }
        )
    n_logs = 0
    for r in status.iter_rows(named=True) if status is not None else ():
        u = owner.get(r["station_id"])
        if u is None:  # a status entry for a station nobody watched: not ours to file
            continue
        log_rows[u.id].append(
            {
                "client_id": new_id(),
                "station_id": ids[r["station_id"]],
                **watchers.clean_log("status", r["status"], when(r["time"])),
            }
        )
        n_logs += 1
    for u in users:
        watchers.create_many(s, u, m.CameraTally, tally_rows[u.id])
        watchers.create_many(s, u, m.CameraLog, log_rows[u.id])
    return tallies.height, n_logs


def _protocol_fields() -> tuple[str, ...]:
    from pollwatch.service.rules import PROTOCOL_FIELDS

    return PROTOCOL_FIELDS
