"""Simulated camera monitoring with known truth, for acceptance tests and calibration.

Each station has a latent full-day turnout ``N_s`` (its expected number of voters); voters
arrive by the stratum's day profile (mildly perturbed per station), partly singly (Poisson)
and partly in bussed groups (bursty, overdispersed). Cameras then suffer outages (offline,
turned away, covered, frozen), recorded in a status log; during an outage watchers still
write down the few voters they glimpse, so only the status log keeps those windows from
biasing the count down. Watchers add unbiased noise; a share of windows is counted twice.
Official turnout is the realised count, inflated at a known subset of stations.

Realistic watchers (``watchers=WatcherModel(...)``): a pool of watchers, one per station, each
seeing a voter with their own probability (below 1), less so as the day wears on (fatigue),
sometimes counting a voter twice; a share of windows is also counted by the video counter (the
reference). Voters of the mobile box and early voters (``mobile_share``, ``early_share``) are
in the protocol but never on camera: ``protocol`` holds the three ballots-issued lines, and
``official`` the in-station line (inflated where ballots were stuffed).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from pollwatch.cameras.data import EVENT_SCHEMA, STATUS_SCHEMA, tallies_frame

OPEN, CLOSE = 8 * 60, 20 * 60


def _bump(t: np.ndarray, centre: float, width: float) -> np.ndarray:
    return np.exp(-0.5 * ((t - centre) / width) ** 2)


def stratum_profile(stratum: str, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """A plausible day profile: urban voters come mid-morning and after work; rural early."""
    mid = (starts + ends) / 2
    if stratum == "urban":
        shape = 0.4 + _bump(mid, 11 * 60, 90) + 0.9 * _bump(mid, 18 * 60, 70)
    else:
        shape = 0.3 + 1.4 * _bump(mid, 10 * 60, 100) + 0.3 * _bump(mid, 16 * 60, 120)
    return shape / shape.sum()


@dataclass(frozen=True)
class WatcherModel:
    """Imperfect human watchers: detection probability per watcher drawn from ``detection``,
    falling linearly by up to ``fatigue`` (drawn per watcher from [0, fatigue]) by closing
    time; each seen voter counted twice with probability ``double_count``; ``n_watchers`` in
    the pool, one per station. The second count of a ``double_share`` of windows comes from
    ``reference`` (the video counter: sees every voter, Poisson-like noise ``reference_noise``
    per voter)."""

    n_watchers: int = 40
    detection: tuple[float, float] = (0.82, 0.99)
    fatigue: float = 0.10
    double_count: float = 0.02
    reference: str = "video"
    reference_noise: float = 0.05

    def __post_init__(self) -> None:
        lo, hi = self.detection
        if not 0 < lo <= hi <= 1:
            raise ValueError(f"detection ({self.detection}) must satisfy 0 < low ≤ high ≤ 1.")
        for name in ("fatigue", "double_count", "reference_noise"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{name} ({getattr(self, name)}) must be in [0, 1).")
        if self.n_watchers < 1:
            raise ValueError(f"n_watchers ({self.n_watchers}) must be >= 1.")


@dataclass(frozen=True)
class SimulatedCameras:
    """Tallies, status log, events and official counts, with the truth used to make them."""

    tallies: pl.DataFrame
    status: pl.DataFrame
    events: pl.DataFrame
    official: dict[str, int]
    expected: dict[str, float]  # latent full-day turnout N_s (what the interval targets)
    realised: dict[str, int]  # voters who actually came
    inflated: frozenset[str]
    strata: dict[str, str]
    seed: int
    protocol: dict[str, dict[str, int]] = field(default_factory=dict)  # line → station → n
    added: dict[str, int] = field(default_factory=dict)  # ballots stuffed per station


def simulate_cameras(
    n_stations: int = 2000,
    *,
    seed: int = 0,
    window_minutes: int = 15,
    turnout_range: tuple[int, int] = (300, 1500),
    group_share: float = 0.15,
    mean_group: float = 6.0,
    outage_rate: float = 0.6,
    watcher_noise: float = 0.05,
    double_share: float = 0.1,
    inflated_share: float = 0.3,
    inflation: tuple[float, float] = (0.3, 1.0),
    profile_jitter: float = 3000.0,
    watchers: WatcherModel | None = None,
    mobile_share: float = 0.0,
    early_share: float = 0.0,
) -> SimulatedCameras:
    """Draw a monitored election day (see the module docstring).

    Parameters
    ----------
    n_stations : int
        Watched stations.
    seed : int
        Seed of everything drawn.
    window_minutes : int
        Tally window length.
    turnout_range : tuple of int
        Range of the stations' expected full-day turnout.
    group_share, mean_group : float
        Share of voters who come in groups, and the mean group size.
    outage_rate : float
        Chance that a station has one or more outages during the day.
    watcher_noise : float
        Between-watcher error variance per counted voter.
    double_share : float
        Share of windows counted by two watchers.
    inflated_share : float
        Share of stations whose official figure is inflated.
    inflation : tuple of float
        Official = realised × (1 + U(a, b)) at the inflated stations.
    profile_jitter : float
        Dirichlet concentration of each station's own profile around its stratum's (larger =
        closer).
    watchers : WatcherModel, optional
        Realistic watchers (see :class:`WatcherModel`); default: every watcher sees every
        voter, with unbiased noise ``watcher_noise``, and the second count is watcher ``w2``.
    mobile_share, early_share : float
        Share of each station's voters who vote by the mobile box or early (never on camera;
        in the protocol's mobile and early lines).

    Returns
    -------
    SimulatedCameras
        Tallies, status log, voter events, official figures and the truth behind them.

    Examples
    --------
    >>> sim = simulate_cameras(50, seed=1)
    >>> len(sim.official)
    50
    """
    if n_stations < 1:
        raise ValueError(f"n_stations ({n_stations}) must be >= 1.")
    if not (0 <= mobile_share and 0 <= early_share and mobile_share + early_share < 1):
        raise ValueError(
            f"mobile_share ({mobile_share}) and early_share ({early_share}) must be >= 0 "
            "with a sum below 1."
        )
    rng = np.random.default_rng(seed)
    pool = _watcher_pool(watchers, rng)
    protocol: dict[str, dict[str, int]] = {
        "ballots_issued_station": {},
        "ballots_issued_mobile": {},
        "ballots_issued_early": {},
    }
    added: dict[str, int] = {}
    starts = np.arange(OPEN, CLOSE, window_minutes, dtype=float)
    ends = starts + window_minutes
    K = starts.size
    profiles = {h: stratum_profile(h, starts, ends) for h in ("urban", "rural")}
    rows, status_rows, event_rows = [], [], []
    official, expected, realised, strata = {}, {}, {}, {}
    inflated = set()
    for i in range(n_stations):
        sid = f"S{i:05d}"
        h = "urban" if rng.random() < 0.6 else "rural"
        n = float(rng.uniform(*turnout_range))
        w = rng.dirichlet(profiles[h] * profile_jitter)
        singles = rng.poisson((1 - group_share) * n * w)
        groups = rng.poisson(group_share * n * w / mean_group)
        burst = np.array([rng.poisson(mean_group - 1, g).sum() + g for g in groups])
        for g in np.flatnonzero(groups):
            event_rows.append(
                (sid, starts[g] + rng.uniform(0, window_minutes), "group_arrival", None)
            )
        true_c = singles + burst
        out = np.zeros(K, bool)
        kinds = np.array([None] * K, dtype=object)
        if rng.random() < outage_rate:
            for _ in range(rng.integers(1, 4)):
                a = int(rng.integers(0, K))
                length = int(rng.integers(1, K // 3))
                kind = rng.choice(
                    ["offline", "turned_away", "covered", "frozen", "box_out_of_frame"]
                )
                out[a : a + length], kinds[a : a + length] = True, kind
        status_rows += _status_entries(sid, starts, ends, kinds)
        if rng.random() < 0.3:
            status_rows.append((sid, float(starts[0]), "audio_muted"))
        me = int(rng.integers(0, len(pool))) if pool else 0
        for j in range(K):
            nw = 2 if rng.random() < double_share else 1
            for k in range(nw):
                seen = int(rng.binomial(true_c[j], 0.2)) if out[j] else int(true_c[j])
                if watchers is None:
                    noisy = max(
                        0, int(round(seen + rng.normal(0, np.sqrt(watcher_noise * seen + 1e-9))))
                    )
                    name = f"w{k + 1}"
                elif k == 0:
                    noisy, name = _watch(rng, pool[me], seen, (starts[j] - OPEN) / (CLOSE - OPEN))
                else:
                    sd = np.sqrt(watchers.reference_noise * seen + 1e-9)
                    noisy = max(0, int(round(seen + rng.normal(0, sd))))
                    name = watchers.reference
                # watchers notice some outages themselves; the status log has all of them
                self_marked = bool(out[j] and rng.random() < 0.5)
                rows.append(
                    dict(
                        station_id=sid,
                        window_start=starts[j],
                        window_end=ends[j],
                        watcher=name,
                        count=None if self_marked else noisy,
                        usable=not self_marked,
                        reason=kinds[j] if self_marked else None,
                    )
                )
        total = int(true_c.sum())
        off = total
        if rng.random() < inflated_share:
            off = int(round(total * (1 + rng.uniform(*inflation))))
            inflated.add(sid)
        official[sid], expected[sid], realised[sid], strata[sid] = off, n, total, h
        added[sid] = off - total
        # the voters no camera sees: mobile box and early, shares of all the station's voters
        hid = mobile_share + early_share
        n_hidden = int(rng.poisson(total * hid / (1 - hid))) if hid > 0 else 0
        unseen = rng.multinomial(
            n_hidden, [mobile_share / hid, early_share / hid] if hid else [1, 0]
        )
        protocol["ballots_issued_station"][sid] = off
        protocol["ballots_issued_mobile"][sid] = int(unseen[0])
        protocol["ballots_issued_early"][sid] = int(unseen[1])
    status = pl.DataFrame(status_rows, schema=STATUS_SCHEMA, orient="row").sort(
        "station_id", "time"
    )
    events = pl.DataFrame(event_rows, schema=EVENT_SCHEMA, orient="row")
    return SimulatedCameras(
        tallies=tallies_frame(rows),
        status=status,
        events=events,
        official=official,
        expected=expected,
        realised=realised,
        inflated=frozenset(inflated),
        strata=strata,
        seed=seed,
        protocol=protocol,
        added=added,
    )


def _watcher_pool(model: WatcherModel | None, rng: np.random.Generator) -> list[tuple]:
    """(name, detection at opening, fatigue by closing, double-count probability) per watcher."""
    if model is None:
        return []
    return [
        (
            f"watcher-{i + 1:02d}",
            float(rng.uniform(*model.detection)),
            float(rng.uniform(0, model.fatigue)),
            float(rng.uniform(0, 2 * model.double_count)),
        )
        for i in range(model.n_watchers)
    ]


def _watch(rng: np.random.Generator, watcher: tuple, voters: int, day: float) -> tuple[int, str]:
    """What one watcher writes down for a window at fraction ``day`` of the day: each voter
    seen with the watcher's (tiring) probability, a few seen ones counted twice."""
    name, p0, tire, dbl = watcher
    seen = int(rng.binomial(voters, max(p0 - tire * day, 0.0)))
    return seen + int(rng.binomial(seen, dbl)), name


def _status_entries(sid: str, starts, ends, kinds) -> list[tuple[str, float, str]]:
    out, prev = [(sid, float(starts[0]), "online")], "online"
    for j, k in enumerate(kinds):
        cur = k or "online"
        if cur != prev:
            # outages start a little into a window, so the overlap rule matters
            t = float(starts[j]) + (0.5 if cur != "online" else 0.0)
            out.append((sid, t if cur != "online" else float(starts[j]), cur))
            prev = cur
    return out
