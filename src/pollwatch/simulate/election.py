"""``simulate_election``: a synthetic election with ground truth, as an Election and as files."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import polars as pl

from pollwatch.model import Candidate, Election, ElectionMeta, derived
from pollwatch.model.election import EXCLUSION, STATION_ID
from pollwatch.simulate.clean import clean_counts
from pollwatch.simulate.config import ElectorateConfig, FraudConfig
from pollwatch.simulate.fraud import apply_fraud
from pollwatch.simulate.layouts import LAYOUTS, write_layout

TRUTH_KINDS = ("carousel", "switched", "stuffed", "extreme", "rounded")


@dataclass(frozen=True)
class Simulation:
    """A simulated election: ``election`` (official numbers, fraud included), ``truth``
    (one row per station: clean registered, turnout, ballots issued and cast, leader votes;
    votes added or moved by each kind of fraud; ``fraud`` = their sum, ``ballots_added``,
    ``kinds`` listing them), and what produced it (``electorate``, ``fraud``, ``seed``, ``layout``)."""

    election: Election
    truth: pl.DataFrame
    electorate: ElectorateConfig
    fraud: FraudConfig
    seed: int
    layout: str

    @property
    def country_layout(self) -> str:
        return self.layout

    @property
    def fraud_votes(self) -> int:
        """Votes the favoured candidate gained by fraud (added and moved)."""
        return int(self.truth["fraud"].sum())

    @property
    def stuffed_votes(self) -> int:
        """Ballots added (stuffing, carousel, extreme additions, rounding up) — the part that raised turnout."""
        return int((self.truth["ballots_added"]).sum())

    @property
    def params(self) -> dict:
        """Everything needed to reproduce the simulation (written to ``params.json``)."""
        return {
            "seed": self.seed,
            "layout": self.layout,
            "electorate": self.electorate.__dict__,
            "fraud": self.fraud.to_dict(),
        }

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write ``results.csv`` (the layout a real source uses), ``truth.csv`` and ``params.json``."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = write_layout(self.election, self.layout, out)
        paths["truth.csv"] = out / "truth.csv"
        self.truth.write_csv(paths["truth.csv"])
        paths["params.json"] = out / "params.json"
        paths["params.json"].write_text(
            json.dumps(self.params, indent=2, default=list), encoding="utf-8"
        )
        return paths


def _candidates(k: int) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """Names and base shares for ``k`` candidates: an incumbent near 45 %, the rest decreasing."""
    if k < 2:
        raise ValueError(f"n_candidates ({k}) must be at least 2.")
    rest = 0.7 ** np.arange(k - 1)
    shares = np.concatenate([[0.45], 0.55 * rest / rest.sum()])
    names = ["Incumbent"] + [
        f"Challenger {chr(65 + i)}" if i < 26 else f"Challenger {i + 1}" for i in range(k - 1)
    ]
    return tuple(names), tuple(float(s) for s in shares)


def _electorate(
    cfg: ElectorateConfig | None,
    n_stations: int,
    n_regions: int | None,
    n_constituencies: int | None,
    n_candidates: int | None,
) -> ElectorateConfig:
    base = cfg or ElectorateConfig()
    over: dict = {"n_stations": n_stations}
    if n_regions is not None:
        over["n_regions"] = n_regions
        over["n_constituencies"] = max(base.n_constituencies, n_regions)
    if n_constituencies is not None:
        over["n_constituencies"] = n_constituencies
    if n_candidates is not None and n_candidates != len(base.candidates):
        over["candidates"], over["base_shares"] = _candidates(n_candidates)
    if any(getattr(base, k) != v for k, v in over.items()):
        return ElectorateConfig(**{**base.__dict__, **over})
    return base


def _station_ids(con: np.ndarray) -> pl.Series:
    """``C###/k``: constituency code and the station's number within it (``con`` is sorted)."""
    station_no = np.arange(len(con)) - np.searchsorted(con, con) + 1
    return (
        pl.DataFrame({"c": con + 1, "k": station_no})
        .select(pl.format("C{}/{}", pl.col("c").cast(pl.Utf8).str.zfill(3), pl.col("k")))
        .to_series()
        .alias(STATION_ID)
    )


def _election(
    sid: pl.Series,
    hierarchy: dict[str, pl.Series],
    registered: np.ndarray,
    fields: dict[str, np.ndarray],
    valid: np.ndarray,
    invalid: np.ndarray,
    votes: dict[str, np.ndarray],
    meta: ElectionMeta,
) -> Election:
    """The table ``Election.from_arrays`` builds (same columns, order and exclusion reasons),
    without its per-value Python conversions, which dominate at a million stations."""
    cols: dict[str, object] = {
        STATION_ID: sid,
        **hierarchy,
        "registered": registered,
        **fields,
        "valid": valid,
        "invalid": invalid,
    }
    cands = []
    for i, (name, v) in enumerate(votes.items()):
        cands.append(Candidate(f"cand_{i:02d}", name))
        cols[cands[-1].id] = v
    table = pl.DataFrame(
        {
            k: (v if isinstance(v, pl.Series) else np.asarray(v, dtype=np.int64))
            for k, v in cols.items()
        }
    )
    meta = replace(meta, candidates=tuple(cands), hierarchy=tuple(hierarchy))
    return Election(table.with_columns(derived.exclusion_expr(table, meta).alias(EXCLUSION)), meta)


def simulate_election(
    n_stations: int = 10_000,
    *,
    seed: int = 0,
    fraud: FraudConfig | None = None,
    n_regions: int | None = None,
    n_constituencies: int | None = None,
    n_candidates: int | None = None,
    country_layout: str | None = None,
    electorate: ElectorateConfig | None = None,
    layout: str = "generic",
    name: str | None = None,
    country: str = "XX",
    date: str = "2024-02-07",
) -> Simulation:
    """Simulate an election that looks real, with known, injected fraud.

    Clean model: registered voters lognormal (heavy-tailed, with tiny stations); turnout
    logit-normal with region and station effects; preferences log-normal around
    ``base_shares`` with region and station effects; turnout binomial, votes multinomial.
    Every protocol line is filled so a clean election passes all arithmetic rules. Fraud
    (see :class:`FraudConfig`) is applied in the order carousel, switching, stuffing,
    extreme, rounding; ``truth`` records each kind's effect per station. Seeded and
    reproducible: the same arguments give identical tables.

    Parameters
    ----------
    n_stations : int, default 10000
        Number of polling stations (at least 1).
    seed : int, default 0
        Seed of the random generator.
    fraud : FraudConfig, optional
        The fraud to inject (default: none, a clean election).
    n_regions, n_constituencies, n_candidates : int, optional
        Override the ``electorate`` config's numbers.
    country_layout : str, optional
        Alias of ``layout``.
    electorate : ElectorateConfig, optional
        The clean electorate's parameters (default: :class:`ElectorateConfig`).
    layout : {"generic", "russia", "azerbaijan"}, default "generic"
        The file layout written by :meth:`Simulation.write` and the validation profile.
    name, country, date : str
        The election's metadata.

    Returns
    -------
    Simulation
        ``election`` (an :class:`Election`), ``truth`` (the injected fraud per station),
        ``fraud_votes`` and ``stuffed_votes`` (their totals) and the parameters used.

    Raises
    ------
    ValueError
        If ``layout`` is unknown, ``n_stations`` < 1 or ``fraud.favoured`` is not a
        candidate.

    Examples
    --------
    >>> from pollwatch import FraudConfig, simulate_election
    >>> from pollwatch.simulate import Stuffing
    >>> sim = simulate_election(2000, seed=1, fraud=FraudConfig(stuffing=Stuffing(fraction=0.2)))
    >>> sim.election.totals()["stations"]
    2000
    >>> bool(sim.stuffed_votes > 0)
    True
    """
    layout = country_layout if country_layout is not None else layout
    if layout not in LAYOUTS:
        raise ValueError(
            f"country_layout ({layout!r}) not recognised; must be one of {', '.join(LAYOUTS)}"
        )
    if int(n_stations) < 1:
        raise ValueError(f"n_stations ({n_stations}) must be at least 1.")
    cfg = _electorate(electorate, int(n_stations), n_regions, n_constituencies, n_candidates)
    fraud = fraud or FraudConfig()
    if not 0 <= fraud.favoured < len(cfg.candidates):
        raise ValueError(
            f"fraud.favoured ({fraud.favoured}) must index a candidate (0–{len(cfg.candidates) - 1})"
        )
    rng = np.random.default_rng(seed)
    c = clean_counts(cfg, rng)
    fav = fraud.favoured
    clean_lead = c["votes"][:, fav].copy()
    clean_issued = (
        c["ballots_issued_early"] + c["ballots_issued_station"] + c["ballots_issued_mobile"]
    )
    clean_cast = c["votes"].sum(axis=1) + c["invalid"]
    clean_registered = c["registered"].copy()

    truth_cols = apply_fraud(c, fraud, rng)
    issued = c["ballots_issued_early"] + c["ballots_issued_station"] + c["ballots_issued_mobile"]
    valid = c["votes"].sum(axis=1)
    boxes_mobile = c["ballots_issued_mobile"]
    fields = {
        "registered_main": c["registered_main"],
        "additional_list": c["additional_list"],
        "absentee_voted": c["absentee_voted"],
        "absentee_taken": c["absentee_taken"],
        "ballots_received": np.maximum(c["ballots_received"], issued),
        "ballots_issued_early": c["ballots_issued_early"],
        "ballots_issued_station": c["ballots_issued_station"],
        "ballots_issued_mobile": c["ballots_issued_mobile"],
        "ballots_mobile_box": boxes_mobile,
        "ballots_stationary_box": valid + c["invalid"] - boxes_mobile,
        "mobile_requests": c["mobile_requests"],
    }
    fields["ballots_cancelled"] = fields["ballots_received"] - issued
    region_names = pl.Series([f"Region {i + 1:02d}" for i in range(cfg.n_regions)])
    con_names = pl.Series([f"C{i + 1:03d}" for i in range(cfg.n_constituencies)])
    sid = _station_ids(c["constituency"])
    meta = ElectionMeta(
        country=country,
        date=date,
        type="presidential",
        name=name or f"Simulated election (seed {seed})",
        profile="AZ" if layout == "azerbaijan" else ("RU" if layout == "russia" else "generic"),
    )
    election = _election(
        sid,
        {
            "region": region_names.gather(c["region"]),
            "constituency": con_names.gather(c["constituency"]),
        },
        c["registered"],
        fields,
        valid,
        c["invalid"],
        {name_: c["votes"][:, j] for j, name_ in enumerate(cfg.candidates)},
        meta,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        clean_turnout = np.where(clean_registered > 0, clean_issued / clean_registered, np.nan)
    truth = pl.DataFrame(
        {
            "station_id": sid,
            "clean_registered": clean_registered,
            "clean_issued": clean_issued,
            "clean_leader_votes": clean_lead,
            **{k: truth_cols[k] for k in TRUTH_KINDS},
            "ballots_added": issued - clean_issued,
            "fraud": c["votes"][:, fav] - clean_lead,
            "clean_ballots_cast": clean_cast,
            "clean_turnout": clean_turnout,
        }
    ).with_columns(
        pl.concat_str(
            [pl.when(pl.col(k) > 0).then(pl.lit(k)).otherwise(None) for k in TRUTH_KINDS],
            separator=";",
            ignore_nulls=True,
        ).alias("kinds")
    )
    return Simulation(election, truth, cfg, fraud, seed, layout)
