"""Small seeded election generator for quick-count tests and the coverage benchmark.

Stations of unequal size (log-normal registered voters) in regions with their own turnout and
leader share, and a station-level beta spread of the vote (an intra-station correlation), so
that both stratification and clustering matter. Not a forensic simulator: the only frauds are
the two a quick count is built to catch (protocols altered after the count, and a leader's share
manufactured at stations outside the sample), and non-response is modelled not at random so that
the verdict's acceptance (docs/quickcount.md §8.2) is measured where it is hard.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import stats

from pollwatch.errors import SmallSampleWarning
from pollwatch.i18n import N_, gettext
from pollwatch.model import Election, ElectionMeta
from pollwatch.quickcount.compare import compare
from pollwatch.quickcount.copies import ProtocolCopies
from pollwatch.quickcount.design import draw_sample, sample_size
from pollwatch.quickcount.turnout import estimate_observed_turnout
from pollwatch.quickcount.verdict import CONSISTENT, DISCREPANCY, TOO_EARLY, VerdictRule
from pollwatch.results import ResultMixin, Summary, fmt_pct

__all__ = [
    "TurnoutAcceptance",
    "VerdictAcceptance",
    "alter_protocols",
    "copies_from",
    "manufacture_share",
    "observer_counts",
    "report_arrivals",
    "simulate_frame",
    "stuff_ballots",
    "turnout_acceptance",
    "verdict_acceptance",
    "wilson_interval",
]


def simulate_frame(
    seed: int,
    *,
    stations: int = 4000,
    regions: int = 10,
    candidates: int = 3,
    median_registered: float = 900,
    concentration: float = 40.0,
) -> Election:
    """A synthetic election of ``stations`` stations in ``regions`` regions (hierarchy ``region``),
    with an ``urban`` column; region sizes, turnouts and leader shares differ."""
    if stations < 2 * regions:
        raise ValueError(f"stations ({stations}) must be at least 2 × regions ({2 * regions})")
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.full(regions, 3.0))
    region = np.sort(rng.choice(regions, stations, p=weights))
    region[:regions] = np.arange(regions)  # every region has stations
    urban = rng.random(stations) < 0.4
    reg = np.maximum(30, rng.lognormal(np.log(median_registered), 0.6, stations)).astype(np.int64)
    reg = np.where(urban, reg * 2, reg)
    tau = rng.uniform(0.45, 0.8, regions)[region] - 0.08 * urban
    turnout = rng.beta(tau * 30, (1 - tau) * 30)
    cast = rng.binomial(reg, turnout)
    invalid = rng.binomial(cast, 0.02)
    valid = cast - invalid
    base = rng.dirichlet(np.full(candidates, 2.0), regions)[region]
    base[urban] = 0.7 * base[urban] + 0.3 * np.roll(base[urban], 1, axis=1)
    shares = np.vstack([rng.dirichlet(concentration * b + 0.01) for b in base])
    votes = np.vstack([rng.multinomial(v, s) for v, s in zip(valid, shares, strict=True)])
    names = [f"Candidate {chr(65 + k)}" for k in range(candidates)]
    e = Election.from_arrays(
        registered=reg,
        valid=valid,
        invalid=invalid,
        votes={n: votes[:, k] for k, n in enumerate(names)},
        hierarchy={"region": np.array([f"R{r:02d}" for r in region])},
        meta=ElectionMeta(country="XX", name=f"simulated ({seed})"),
    )
    return _with_urban(e, urban)


def _with_urban(e: Election, urban: np.ndarray) -> Election:
    table = e.table.with_columns(pl.Series("urban", np.where(urban, "urban", "rural")))
    return Election(table, e.meta)


def copies_from(election: Election, station_ids, *, arrived=None) -> ProtocolCopies:
    """Protocol copies that reproduce the election's own protocols at ``station_ids``."""
    ids = pl.Series("station_id", [str(s) for s in station_ids])
    cols = ["station_id", "registered", "valid", "invalid", *[c.id for c in election.candidates]]
    t = election.table.select(cols).join(pl.DataFrame([ids]), on="station_id", how="semi")
    t = pl.DataFrame([ids]).join(t, on="station_id", how="left")
    if arrived is not None:
        t = t.with_columns(pl.Series("arrived", np.asarray(arrived)))
    return ProtocolCopies.from_frame(t, "<simulated copies>")


def alter_protocols(election: Election, station_ids, seed: int, *, shift: int = 50) -> Election:
    """An "official" election in which every station of ``station_ids`` had 1 to ``shift`` votes
    moved to the first candidate from the strongest other one after the count (or, where the
    others have none, from the first candidate to the second): what a protocol copy catches."""
    rng = np.random.default_rng(seed)
    V = election.votes_matrix().copy()
    ids = election.table["station_id"].to_numpy().astype(str)
    rows = np.flatnonzero(np.isin(ids, np.asarray([str(s) for s in station_ids])))
    for i in rows:
        donor = 1 + int(np.argmax(V[i, 1:]))
        src, dst = (donor, 0) if V[i, donor] > 0 else (0, 1)
        k = min(int(rng.integers(1, shift + 1)), int(V[i, src]))
        if k == 0:
            raise ValueError(f"station {ids[i]} has no votes to move")
        V[i, src] -= k
        V[i, dst] += k
    cols = [pl.Series(c.id, V[:, j]) for j, c in enumerate(election.candidates)]
    return Election(election.table.with_columns(cols), election.meta)


# ---------------------------------------------------------------------------------------------
# non-response, manufactured results and the verdict's acceptance (docs/quickcount.md §8.1
# acceptance)
# ---------------------------------------------------------------------------------------------
def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``k/n`` (Wilson 1927, *JASA* 22:209–212, eq. on
    p. 210); unlike ``p ± z√(p(1−p)/n)`` it stays inside [0, 1] and is not empty at ``k = 0``."""
    if n <= 0:
        return float("nan"), float("nan")
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    p = k / n
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(c - h, 0.0), min(c + h, 1.0)


def report_arrivals(
    election: Election,
    station_ids,
    seed: int,
    *,
    base: float = 3.4,
    rural: float = 1.0,
    remote: float = 1.2,
    late: float = 0.25,
) -> tuple[np.ndarray, np.ndarray]:
    """Which sampled stations report, and in what order: non-response **not** at random.

    Each sampled station reports with probability ``logistic(base − rural·[rural] −
    remote·u_region − late·z_i)``, where ``u_region ~ U(0, 1)`` is how remote its region is and
    ``z_i`` the station's standardised share for the national leader: rural and remote strata
    respond less, and within a stratum the stations that never report lean to the leader (late
    reporters differ). Arrival time grows with the same terms plus noise. With the defaults,
    about 88 % of a sample reports (95 % of urban stations in accessible regions, ~70 % of
    rural stations in the most remote). Returns the reporting ids and their arrival times.
    """
    rng = np.random.default_rng(seed)
    t = election.table
    ids = np.asarray([str(s) for s in station_ids])
    pos = {s: i for i, s in enumerate(t["station_id"].to_numpy().astype(str))}
    rows = np.array([pos[s] for s in ids], dtype=np.int64)
    region = t["region"].to_numpy().astype(str)
    names = np.unique(region)
    u = dict(zip(names, rng.random(len(names)), strict=True))
    is_rural = (t["urban"].to_numpy().astype(str) == "rural")[rows].astype(np.float64)
    u_i = np.array([u[r] for r in region[rows]])
    V = election.votes_matrix().astype(np.float64)
    valid = np.maximum(V.sum(axis=1), 1.0)
    lead = int(np.argmax(V.sum(axis=0)))
    share = (V[:, lead] / valid)[rows]
    z = (share - share.mean()) / (share.std() or 1.0)
    eta = base - rural * is_rural - remote * u_i - late * z
    reported = rng.random(len(rows)) < 1 / (1 + np.exp(-eta))
    arrival = rural * is_rural + remote * u_i + late * z + rng.normal(0, 0.5, len(rows))
    return ids[reported], arrival[reported]


def manufacture_share(
    election: Election,
    protected,
    share: float,
    seed: int,
    *,
    mode: str = "transfer",
    take: float = 0.5,
) -> Election:
    """An official result in which the leader's share of valid votes was raised by ``share``
    (0.02 = 2 pp) at stations **outside** ``protected`` (the quick-count sample), so that
    the observers' copies still match the official protocols they copied.

    Stations are captured in random order until enough votes are made. ``transfer``: at each
    captured station a fraction ``take`` of every other candidate's votes is written to the
    leader (valid votes and turnout unchanged). ``stuff``: ballots for the leader are added
    (valid votes, ballots cast and turnout rise; never above the register).
    """
    if mode not in ("transfer", "stuff"):
        raise ValueError(f"mode ({mode!r}) not recognised; must be 'transfer' or 'stuff'")
    if not 0 < take <= 1:
        raise ValueError(f"take ({take}) must be in the interval (0, 1]")
    rng = np.random.default_rng(seed)
    V = election.votes_matrix().astype(np.int64).copy()
    valid = election.field("valid").astype(np.int64).copy()
    invalid = election.field("invalid").astype(np.int64)
    reg = election.field("registered").astype(np.int64)
    ids = election.table["station_id"].to_numpy().astype(str)
    lead = int(np.argmax(V.sum(axis=0)))
    total_valid, a = int(valid.sum()), int(V[:, lead].sum())
    s0 = a / total_valid
    if mode == "transfer":
        need = int(math.ceil(share * total_valid))
    else:  # (a + x)/(V + x) = s0 + share
        need = int(math.ceil(share * total_valid / (1 - s0 - share)))
    free = np.flatnonzero(~np.isin(ids, np.asarray([str(s) for s in protected])))
    made = 0
    for i in rng.permutation(free):
        if made >= need:
            break
        if mode == "transfer":
            others = [k for k in range(V.shape[1]) if k != lead]
            for k in others:
                x = min(int(take * V[i, k]), need - made)
                V[i, k] -= x
                V[i, lead] += x
                made += x
        else:
            room = int(reg[i] - valid[i] - invalid[i])
            x = min(int(take * room), need - made)
            V[i, lead] += x
            valid[i] += x
            made += x
    if made < need:
        raise ValueError(
            f"could not manufacture {100 * share:g} pp outside the sample "
            f"(made {made:,} of {need:,} votes); lower share or raise take"
        )
    cols = [pl.Series(c.id, V[:, j]) for j, c in enumerate(election.candidates)]
    cols.append(pl.Series("valid", valid))
    return Election(election.table.with_columns(cols), election.meta)


#: the verdicts' codes as rows (the English row is the code itself)
VERDICT_CODES = {
    "consistent": N_("consistent"),
    "discrepancy": N_("discrepancy"),
    "too_early": N_("too_early"),
}


@dataclass(frozen=True)
class VerdictAcceptance(ResultMixin):
    """How often :func:`~pollwatch.quickcount.compare.compare` says each verdict over simulated
    elections (docs/quickcount.md §8.2). ``rate``: share of ``discrepancy``
    verdicts, with its Wilson 95 % interval."""

    runs: int
    manufactured: float
    mode: str
    counts: dict[str, int]
    rate: float
    rate_low: float
    rate_high: float
    mean_sample: float
    mean_response: float
    margin: float
    strata: tuple[str, ...]
    seed: int
    arrived_share: float | None = None

    def parameters(self) -> dict:
        return {
            "arrived_share": self.arrived_share,
            "runs": self.runs,
            "manufactured": self.manufactured,
            "mode": self.mode,
            "margin": self.margin,
            "strata": list(self.strata),
            "seed": self.seed,
        }

    def summary(self) -> Summary:
        fields = dict(
            runs=self.runs,
            rate=fmt_pct(self.rate, 1),
            low=fmt_pct(self.rate_low, 1),
            high=fmt_pct(self.rate_high, 1),
        )
        if self.manufactured == 0:
            text = gettext(
                "{runs} simulated clean elections (copies equal the official protocols): "
                "'discrepancy' in {rate} (Wilson 95 % [{low}, {high}])."
            ).format(**fields)
        else:
            text = gettext(
                "{runs} simulated elections with {pp} pp of the leader's share manufactured "
                "outside the sample ({mode}): 'discrepancy' in {rate} (Wilson 95 % [{low}, "
                "{high}])."
            ).format(**fields, pp=f"{100 * self.manufactured:g}", mode=self.mode)
        rows = [(gettext(VERDICT_CODES.get(k, k)), str(v)) for k, v in self.counts.items()]
        rows += [
            (gettext("mean stations drawn"), f"{self.mean_sample:.0f}"),
            (gettext("mean response"), fmt_pct(self.mean_response, 1)),
        ]
        return Summary(gettext("Verdict acceptance by simulation"), text, rows)


def verdict_acceptance(
    runs: int,
    *,
    manufactured: float = 0.0,
    mode: str = "transfer",
    seed: int = 0,
    stations: int = 4000,
    regions: int = 10,
    margin: float = 0.01,
    strata: tuple[str, ...] = ("region", "urban"),
    rule: VerdictRule | None = None,
    arrived_share: float | None = None,
) -> VerdictAcceptance:
    """Run the pre-registered verdict on ``runs`` simulated elections (docs/quickcount.md
    §8.2).

    Each run: a fresh election (:func:`simulate_frame`, seed ``seed + run``); the sample size
    :func:`~pollwatch.quickcount.design.sample_size` recommends for ``±margin`` at 95 % with
    ρ from that geography's station results (standing in for the previous election's);
    a proportional stratified draw; non-response not at random (:func:`report_arrivals`); copies
    equal to the true protocols; the official result is the truth, or, with ``manufactured``
    > 0, the truth with that much of the leader's share made at non-sampled stations
    (:func:`manufacture_share`). Counts the verdicts of :func:`compare` given the drawn sample.
    ``arrived_share``: decide when only the first ``arrived_share`` of the drawn stations have
    arrived (by arrival time; early reporters are urban and accessible), not at the end.
    """
    counts: dict[str, int] = {CONSISTENT: 0, DISCREPANCY: 0, TOO_EARLY: 0}
    sizes, responses = [], []
    for r in range(runs):
        s = seed + r
        e = simulate_frame(s, stations=stations, regions=regions)
        size = sample_size(margin, past=e).stations_to_draw
        design = draw_sample(e, size, strata=list(strata), seed=s)
        drawn = design.table["station_id"].to_list()
        ids, arrived = report_arrivals(e, drawn, s)
        if arrived_share is not None:
            first = np.argsort(arrived, kind="stable")[: int(round(arrived_share * size))]
            ids, arrived = ids[first], arrived[first]
        official = (
            manufacture_share(e, drawn, manufactured, s, mode=mode) if manufactured > 0 else e
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SmallSampleWarning)
            c = compare(
                copies_from(e, ids, arrived=arrived),
                official,
                frame=e,
                strata=list(strata),
                sampled=design,
                rule=rule,
            )
        counts[c.verdict] += 1
        sizes.append(size)
        responses.append(len(ids) / size)
    lo, hi = wilson_interval(counts[DISCREPANCY], runs)
    return VerdictAcceptance(
        runs=runs,
        manufactured=manufactured,
        mode=mode,
        counts=counts,
        rate=counts[DISCREPANCY] / runs if runs else float("nan"),
        rate_low=lo,
        rate_high=hi,
        mean_sample=float(np.mean(sizes)) if sizes else float("nan"),
        mean_response=float(np.mean(responses)) if responses else float("nan"),
        margin=margin,
        strata=tuple(strata),
        seed=seed,
        arrived_share=arrived_share,
    )


# ---------------------------------------------------------------------------------------------
# turnout from the observers' counts (docs/quickcount.md §9)
# ---------------------------------------------------------------------------------------------
def observer_counts(
    election: Election, station_ids, seed: int, *, error: float = 0.005
) -> pl.DataFrame:
    """What observers at ``station_ids`` write on their forms, from the election's true ballots.

    ``ballots_in_boxes`` is the true ballots cast plus an unbiased counting error (normal, SD
    ``error`` × ballots, rounded); ``voters_by_noon`` and ``voters_by_17`` are shares of it
    drawn around 35 % and 80 % of the day's voters (a curve that rises, never falls).
    """
    rng = np.random.default_rng(seed)
    ids = [str(s) for s in station_ids]
    t = election.table
    pos = {s: i for i, s in enumerate(t["station_id"].to_numpy().astype(str))}
    rows = np.array([pos[s] for s in ids], dtype=np.int64)
    cast = (election.field("valid") + election.field("invalid"))[rows].astype(np.float64)
    reg = election.field("registered")[rows].astype(np.int64)
    end = np.clip(np.rint(cast + rng.normal(0, error * cast)), 0, reg).astype(np.int64)
    by17 = rng.binomial(end, rng.beta(80, 20, len(rows)))
    noon = rng.binomial(by17, rng.beta(44, 56, len(rows)))
    return pl.DataFrame(
        {
            "station_id": ids,
            "voters_by_noon": noon,
            "voters_by_17": by17,
            "ballots_in_boxes": end,
        }
    )


def stuff_ballots(
    election: Election,
    station_ids,
    seed: int,
    *,
    turnout_pp: float | None = None,
    take: float = 0.1,
) -> Election:
    """An official result with ballots for the leader stuffed at stations of ``station_ids``:
    a share ``take`` of each station's non-voters. With ``turnout_pp``, stations are captured in
    random order until the national turnout has risen by that much (0.02 = 2 pp)."""
    if not 0 < take <= 1:
        raise ValueError(f"take ({take}) must be in the interval (0, 1]")
    rng = np.random.default_rng(seed)
    V = election.votes_matrix().astype(np.int64).copy()
    valid = election.field("valid").astype(np.int64).copy()
    invalid = election.field("invalid").astype(np.int64)
    reg = election.field("registered").astype(np.int64)
    ids = election.table["station_id"].to_numpy().astype(str)
    lead = int(np.argmax(V.sum(axis=0)))
    rows = np.flatnonzero(np.isin(ids, np.asarray([str(s) for s in station_ids])))
    need = math.inf if turnout_pp is None else math.ceil(turnout_pp * reg.sum())
    made = 0
    for i in rng.permutation(rows) if turnout_pp is not None else rows:
        if made >= need:
            break
        x = int(take * (reg[i] - valid[i] - invalid[i]))
        if turnout_pp is not None:
            x = min(x, int(need - made))
        V[i, lead] += x
        valid[i] += x
        made += x
    if turnout_pp is not None and made < need:
        raise ValueError(
            f"could not stuff {100 * (turnout_pp or 0):g} pp of turnout at the given stations "
            f"(made {made:,} of {need:,} ballots); raise take or give more stations"
        )
    cols = [pl.Series(c.id, V[:, j]) for j, c in enumerate(election.candidates)]
    cols.append(pl.Series("valid", valid))
    return Election(election.table.with_columns(cols), election.meta)


@dataclass(frozen=True)
class TurnoutAcceptance(ResultMixin):
    """Coverage and power of the observers' turnout estimate over simulated elections
    (docs/quickcount.md §9)."""

    runs: int
    covered: int
    coverage: float
    coverage_low: float
    coverage_high: float
    stuffed_pp: float
    detected: int
    detection: float
    detection_low: float
    detection_high: float
    truth_above: int
    stuffed_stations: int
    stuffed_flagged: int
    clean_stations: int
    clean_flagged: int
    mean_design_effect: float
    mean_width: float
    error: float
    seed: int

    def parameters(self) -> dict:
        return {
            "runs": self.runs,
            "stuffed_pp": self.stuffed_pp,
            "error": self.error,
            "seed": self.seed,
        }

    def summary(self) -> Summary:
        text = gettext(
            "{runs} simulated elections: the 95 % interval covered the true turnout in "
            "{coverage} (Wilson [{low}, {high}])."
        ).format(
            runs=self.runs,
            coverage=fmt_pct(self.coverage, 1),
            low=fmt_pct(self.coverage_low, 1),
            high=fmt_pct(self.coverage_high, 1),
        )
        if self.stuffed_pp:
            text += " " + gettext(
                "With {pp} pp of turnout stuffed outside the sample, the official turnout was "
                "above the interval in {detection} (Wilson [{low}, {high}])."
            ).format(
                pp=f"{100 * self.stuffed_pp:g}",
                detection=fmt_pct(self.detection, 1),
                low=fmt_pct(self.detection_low, 1),
                high=fmt_pct(self.detection_high, 1),
            )
        rows = [
            (
                gettext("true turnout above the interval (false alarm)"),
                f"{self.truth_above}/{self.runs}",
            ),
            (gettext("mean design effect"), f"{self.mean_design_effect:.2f}"),
            (
                gettext("mean interval width"),
                gettext("{value} pp").format(value=f"{100 * self.mean_width:.2f}"),
            ),
            (
                gettext("stuffed observed stations flagged"),
                f"{self.stuffed_flagged}/{self.stuffed_stations}",
            ),
            (
                gettext("clean observed stations flagged"),
                f"{self.clean_flagged}/{self.clean_stations}",
            ),
        ]
        return Summary(gettext("Observers' turnout by simulation"), text, rows)


def turnout_acceptance(
    runs: int,
    *,
    stuffed_pp: float = 0.0,
    stuffed_observed: float = 0.05,
    take: float = 0.1,
    error: float = 0.005,
    seed: int = 0,
    stations: int = 4000,
    regions: int = 10,
    margin: float = 0.01,
    strata: tuple[str, ...] = ("region", "urban"),
) -> TurnoutAcceptance:
    """Run :func:`~pollwatch.quickcount.turnout.estimate_observed_turnout` on ``runs`` simulated
    elections (docs/quickcount.md §9).

    Each run: a fresh election, the recommended sample, non-response not at random
    (:func:`report_arrivals`), observers' counts with an unbiased error (:func:`observer_counts`).
    The official result stuffs ``take`` of the non-voters at a share ``stuffed_observed`` of the
    observed stations (what the station gaps should catch) and, with ``stuffed_pp``, enough
    non-sampled stations to raise the national turnout by that much (what the national
    comparison should catch). Coverage is of the true turnout; detection is the official
    turnout above the interval.
    """
    covered = detected = above = 0
    s_st = s_fl = c_st = c_fl = 0
    deffs, widths = [], []
    for r in range(runs):
        s = seed + r
        rng = np.random.default_rng(s + 7_000_000)
        e = simulate_frame(s, stations=stations, regions=regions)
        tot = e.totals()
        truth = (tot["valid"] + tot["invalid"]) / tot["registered"]
        size = sample_size(margin, past=e).stations_to_draw
        design = draw_sample(e, size, strata=list(strata), seed=s)
        drawn = design.table["station_id"].to_list()
        ids, _ = report_arrivals(e, drawn, s)
        counts = observer_counts(e, ids, s, error=error)
        bad = set(rng.choice(ids, int(round(stuffed_observed * len(ids))), replace=False))
        official = stuff_ballots(e, sorted(bad), s, take=take) if bad else e
        if stuffed_pp > 0:
            outside = sorted(set(e.table["station_id"].to_list()) - set(drawn))
            official = stuff_ballots(official, outside, s, turnout_pp=stuffed_pp, take=0.5)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SmallSampleWarning)
            res = estimate_observed_turnout(counts, official, frame=e, strata=list(strata))
        covered += res.low <= truth <= res.high
        above += truth > res.high  # what a clean official turnout would do: a false alarm
        detected += res.official_turnout > res.high
        deffs.append(res.design_effect)
        widths.append(res.high - res.low)
        for g in res.gaps:
            if g.station_id in bad:
                s_st += 1
                s_fl += g.flagged and (g.gap or 0) > 0
            else:
                c_st += 1
                c_fl += g.flagged
    cl, ch = wilson_interval(covered, runs)
    dl, dh = wilson_interval(detected, runs)
    return TurnoutAcceptance(
        runs=runs,
        covered=covered,
        coverage=covered / runs if runs else float("nan"),
        coverage_low=cl,
        coverage_high=ch,
        stuffed_pp=stuffed_pp,
        detected=detected,
        detection=detected / runs if runs else float("nan"),
        detection_low=dl,
        detection_high=dh,
        truth_above=above,
        stuffed_stations=s_st,
        stuffed_flagged=s_fl,
        clean_stations=c_st,
        clean_flagged=c_fl,
        mean_design_effect=float(np.mean(deffs)) if deffs else float("nan"),
        mean_width=float(np.mean(widths)) if widths else float("nan"),
        error=error,
        seed=seed,
    )
