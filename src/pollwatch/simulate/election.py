"""``simulate_election``: a synthetic election with ground truth, as an Election and as files."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from pollwatch.model import Election, ElectionMeta
from pollwatch.simulate.clean import clean_counts
from pollwatch.simulate.config import ElectorateConfig, FraudConfig
from pollwatch.simulate.layouts import LAYOUTS, write_layout

TRUTH_KINDS = ("carousel", "switched", "stuffed", "extreme", "rounded")


@dataclass(frozen=True)
class Simulation:
    """A simulated election: ``election`` (official numbers, fraud included), ``truth``
    (one row per station: clean turnout and leader votes, votes added or moved by each kind
    of fraud, ``fraud`` = their sum, ``kinds`` listing them), and what produced it."""

    election: Election
    truth: pl.DataFrame
    electorate: ElectorateConfig
    fraud: FraudConfig
    seed: int
    layout: str

    @property
    def fraud_votes(self) -> int:
        """Votes the favoured candidate gained by fraud (added and moved)."""
        return int(self.truth["fraud"].sum())

    @property
    def stuffed_votes(self) -> int:
        """Ballots added (stuffing, carousel, extreme additions, rounding up) — the part that raised turnout."""
        return int((self.truth["ballots_added"]).sum())

    def params(self) -> dict:
        return {"seed": self.seed, "layout": self.layout, "electorate": self.electorate.__dict__,
                "fraud": self.fraud.to_dict()}

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write ``results.csv`` (the layout a real source uses), ``truth.csv`` and ``params.json``."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = write_layout(self.election, self.layout, out)
        paths["truth.csv"] = out / "truth.csv"
        self.truth.write_csv(paths["truth.csv"])
        paths["params.json"] = out / "params.json"
        paths["params.json"].write_text(json.dumps(self.params(), indent=2, default=list), encoding="utf-8")
        return paths


def simulate_election(n_stations: int = 10_000, *, seed: int = 0, fraud: FraudConfig | None = None,
                      electorate: ElectorateConfig | None = None, layout: str = "generic",
                      name: str | None = None, country: str = "XX", date: str = "2024-02-07") -> Simulation:
    """Simulate an election that looks real, with known, injected fraud.

    Clean model: registered voters lognormal (heavy-tailed, with tiny stations); turnout
    logit-normal with region and station effects; preferences log-normal around
    ``base_shares`` with region and station effects; turnout binomial, votes multinomial.
    Every protocol line is filled so a clean election passes all arithmetic rules. Fraud
    (see :class:`FraudConfig`) is applied in the order carousel, switching, stuffing,
    extreme, rounding; ``truth`` records each kind's effect per station.

    Seeded and reproducible: the same arguments give identical tables.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout ({layout!r}) not recognised; must be one of {', '.join(LAYOUTS)}")
    cfg = electorate or ElectorateConfig()
    if cfg.n_stations != n_stations:
        cfg = ElectorateConfig(**{**cfg.__dict__, "n_stations": n_stations})
    fraud = fraud or FraudConfig()
    if not 0 <= fraud.favoured < len(cfg.candidates):
        raise ValueError(f"fraud.favoured ({fraud.favoured}) must index a candidate (0–{len(cfg.candidates) - 1})")
    rng = np.random.default_rng(seed)
    c = clean_counts(cfg, rng)
    fav = fraud.favoured
    clean_lead = c["votes"][:, fav].copy()
    clean_issued = c["ballots_issued_early"] + c["ballots_issued_station"] + c["ballots_issued_mobile"]
    clean_registered = c["registered"].copy()
    from pollwatch.simulate.fraud import apply_fraud

    truth_cols = apply_fraud(c, fraud, rng)
    issued = c["ballots_issued_early"] + c["ballots_issued_station"] + c["ballots_issued_mobile"]
    valid = c["votes"].sum(axis=1)
    boxes_mobile = c["ballots_issued_mobile"]
    fields = {
        "registered_main": c["registered_main"], "additional_list": c["additional_list"],
        "absentee_voted": c["absentee_voted"], "absentee_taken": c["absentee_taken"],
        "ballots_received": np.maximum(c["ballots_received"], issued),
        "ballots_issued_early": c["ballots_issued_early"], "ballots_issued_station": c["ballots_issued_station"],
        "ballots_issued_mobile": c["ballots_issued_mobile"],
        "ballots_mobile_box": boxes_mobile, "ballots_stationary_box": valid + c["invalid"] - boxes_mobile,
        "mobile_requests": c["mobile_requests"],
    }
    fields["ballots_cancelled"] = fields["ballots_received"] - issued
    n_con = cfg.n_constituencies
    region_names = np.array([f"Region {i + 1:02d}" for i in range(cfg.n_regions)])
    con_names = np.array([f"C{i + 1:03d}" for i in range(n_con)])
    con = c["constituency"]  # sorted, so a station's number is its offset within its constituency
    station_no = np.arange(n_stations) - np.searchsorted(con, con) + 1
    sid = np.char.add(np.char.add(con_names[c["constituency"]], "/"), station_no.astype(str))
    meta = ElectionMeta(country=country, date=date, type="presidential", name=name or f"Simulated election (seed {seed})",
                        profile="AZ" if layout == "azerbaijan" else ("RU" if layout == "russia" else "generic"))
    election = Election.from_arrays(
        registered=c["registered"], valid=valid, invalid=c["invalid"],
        votes={name_: c["votes"][:, j] for j, name_ in enumerate(cfg.candidates)},
        station_ids=sid, hierarchy={"region": region_names[c["region"]], "constituency": con_names[c["constituency"]]},
        fields=fields, meta=meta,
    )
    added = issued - clean_issued
    truth = pl.DataFrame({
        "station_id": sid,
        "clean_registered": clean_registered, "clean_issued": clean_issued, "clean_leader_votes": clean_lead,
        **{k: truth_cols[k] for k in TRUTH_KINDS},
        "ballots_added": added,
        "fraud": c["votes"][:, fav] - clean_lead,
    }).with_columns(
        pl.concat_str([pl.when(pl.col(k) > 0).then(pl.lit(k)).otherwise(None) for k in TRUTH_KINDS],
                      separator=";", ignore_nulls=True).alias("kinds"))
    return Simulation(election, truth, cfg, fraud, seed, layout)
