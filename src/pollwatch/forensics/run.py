"""Run every forensic method on one election, as ``pollwatch analyze`` does.

:func:`analyze` calls each method in :data:`METHODS` (a method that fails is recorded in
``Analysis.errors`` with its message, and the others still run), times it, ranks the
stations with :func:`pollwatch.forensics.scores.station_scores`, and builds the
``results.json`` document (:attr:`Analysis.doc`). Shares and turnout are fractions in [0, 1].
On large elections the mixture and the RKD resampling run in a worker process (a
``pollwatch.compute`` job) alongside the other methods (see ``parallel`` in :func:`analyze`);
the results are those of the sequential run.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import polars as pl

from pollwatch.compute import ComputeError, Execution, Jobs
from pollwatch.compute.seam import check_seed
from pollwatch.forensics.units import top_level as _top_level
from pollwatch.model import Election
from pollwatch.validate import Findings, validate


@dataclass
class Context:
    seed: int
    # where each method's own tasks run (threads: for methods with their own thread pool)
    execution: Execution = field(default_factory=Execution)
    results: dict[str, Any] = field(default_factory=dict)
    regional_boot: int = 0  # bootstrap replicates of the region-by-region mixture (0: no interval)
    units: Any = field(
        default=False, repr=False
    )  # the election with its analysis units (False: not built)


@dataclass(frozen=True)
class MethodSpec:
    name: str
    run: Callable[[Election, Context], Any]
    extract: Callable[[Any, Election], dict]


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("pollwatch")
    except Exception:  # pragma: no cover - editable installs without metadata
        return "0+unknown"


def _f(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


# -- the methods ---------------------------------------------------------------------------
def _run_fingerprint(e: Election, ctx: Context):
    from pollwatch.forensics.fingerprint import distributions

    return distributions(e)


def _extract_fingerprint(r, e: Election) -> dict:
    return {
        "pearson": _f(r.correlations.get("all")),
        "variants": r.correlations,
        "basis": r.basis,
        "stations_high_high": r.n_high_high,
        "share_high_high": r.frac_high_high,
        "share_turnout_high": r.frac_turnout_high,
        "share_leader_high": r.frac_share_high,
    }


def _run_regression(e: Election, ctx: Context):
    from pollwatch.forensics.fingerprint import turnout_share_regression

    return turnout_share_regression(e)


def _extract_regression(r, e: Election) -> dict:
    return {
        "leader_slope": r.leader_slope,
        "others_slope": r.others_slope,
        "invalid_slope": r.invalid_slope,
        "sum_slopes": r.sum_slopes,
        "leader_slope_weighted": r.leader_slope_weighted,
        "sobyanin_statistic": r.eftoolkit_sobyanin,
        "slopes": r.slopes,
    }


def _run_digits(e: Election, ctx: Context):
    from pollwatch.forensics.digits import digit_tests

    return digit_tests(e, seed=ctx.seed)


def _digit_rows(r, which: str) -> list[list]:
    out = []
    for row in r.rows:
        s = getattr(row, which)
        out.append([row.label, s.value, s.ci.low, s.ci.high, s.n])
    return out


def _extract_digits(r, e: Election) -> dict:
    lead = r.row(r.scrutiny)
    return {
        "leader_second_digit_mean": lead.second.value,
        "leader_second_digit_ci": list(lead.second.ci),
        "leader_last_digit_mean": lead.last.value,
        "leader_last_digit_ci": list(lead.last.ci),
        "leader_c05": lead.c05.value,
        "leader_last_digit_high_p": lead.last_high.pvalue,
        "leader_last_digit_high_n": lead.last_high.n,
        "p05_share": r.p05_share.value,
        "p05_turnout": r.p05_turnout.value,
        "flagged": {row.label: list(row.flagged) for row in r.rows if row.flagged},
        # the leader's own row only: "ballots cast" fails 2BL on station-size grounds alone
        "any_flagged": bool(lead.flagged),
        "second_digit_rows": _digit_rows(r, "second"),
        "last_digit_rows": _digit_rows(r, "last"),
        "note": "weak evidence: deviations follow no consistent pattern and can arise without fraud",
    }


def _run_carousel(e: Election, ctx: Context):
    from pollwatch.forensics.carousel import carousel_signals

    return carousel_signals(e)


def _extract_carousel(r, e: Election) -> dict:
    return {
        "stations_flagged": int(r.n_flagged),
        "shares": {
            k: {
                "national_share": s.national_share,
                "station_median": s.station_median,
                "flagged": s.n_flagged,
                "flagged_floored": s.n_flagged_floored,
            }
            for k, s in r.shares.items()
        },
        "correlation_with_leader": r.correlation_with_leader,
        "cards_used": r.cards_used,
        "cards_issued": r.cards_issued,
        "constituencies_cards_over": r.n_groups_cards_over,
        "boxes_gt_issued": r.n_boxes_gt_issued,
    }


def _run_integers(e: Election, ctx: Context):
    from pollwatch.forensics.integers import integer_test

    return integer_test(e)  # exact null: no randomness


def _extract_integers(r, e: Election) -> dict:
    s = r.either
    return {
        "excess": s.excess,
        "p_value": s.pvalue,
        "z": s.z,
        "observed": s.observed,
        "expected": s.expected,
        "sd": s.sd,
        "excess_leader": r.leader.excess,
        "excess_turnout": r.turnout.excess,
        "excess_registered": r.excess_registered,
        "included": r.n_included,
        "basis": r.basis,
        "method": r.method,
    }


def _run_coarse(e: Election, ctx: Context):
    from pollwatch.forensics.coarse import rozenas_rkd

    return rozenas_rkd(e, seed=ctx.seed, execution=ctx.execution)


def _extract_coarse(r, e: Election) -> dict:
    return {
        "fraud_percent": r.fraud_pct,
        "interval": list(r.interval),
        "p_value": r.pvalue,
        "flagged_shares": list(r.flagged_shares),
        "n_flagged": r.n_flagged,
        "resamples": r.n_resamples,
    }


def _run_small_denominators(e: Election, ctx: Context):
    from pollwatch.forensics.coarse import small_denominator_test

    return small_denominator_test(e)  # exact binomial null: no randomness


def _extract_small_denominators(r, e: Election) -> dict:
    return {
        "observed": r.observed,
        "expected": r.null_mean,
        "sd": r.null_sd,
        "excess": r.excess,
        "z": r.z,
        "p_value": r.pvalue,
        "q_max": r.q_max,
        "null": r.null,
    }


def _run_mixture(e: Election, ctx: Context):
    from pollwatch.forensics.mixture import fraud_mixture

    return fraud_mixture(e, seed=ctx.seed, execution=ctx.execution)


def _extract_mixture(r, e: Election) -> dict:
    return {
        "no_fraud": r.pi.get("none", r.pi.get("no_fraud")),
        "incremental": r.pi.get("incremental"),
        "extreme": r.pi.get("extreme"),
        "weights": r.pi,
        "weights_ci": {k: list(v) for k, v in r.pi_ci.items()},
        "fraudulent_votes": r.fraud_votes,
        "fraudulent_votes_low": r.fraud_votes_ci.low,
        "fraudulent_votes_high": r.fraud_votes_ci.high,
        "manufactured_votes": r.manufactured_votes,
        "stolen_votes": r.stolen_votes,
        "converged": r.converged,
    }


def _unit_election(e: Election, ctx: Context) -> Election | None:
    """The election with its analysis units (top level, small units merged with neighbours),
    built once per run and shared by the region-by-region methods."""
    from pollwatch.forensics.units import analysis_units, with_units

    if ctx.units is False:
        units = analysis_units(e)
        ctx.units = (None, None) if units is None else (units, with_units(e, units))
    return ctx.units[1]


def _run_mixture_by_region(e: Election, ctx: Context):
    from pollwatch.forensics.mixture import fraud_mixture
    from pollwatch.forensics.units import UNIT_LEVEL

    eu = _unit_election(e, ctx)
    if eu is None:
        return None
    # by default a point estimate only: a stratified bootstrap refits every region per replicate
    # (~1.8 s of CPU per replicate on 95k stations), which would break the 30 s budget
    return fraud_mixture(
        eu,
        seed=ctx.seed,
        n_boot=ctx.regional_boot,
        strata=UNIT_LEVEL,
        execution=ctx.execution,
    )


def _run_excess_bounds(e: Election, ctx: Context):
    from pollwatch.forensics.excess_bounds import regional_excess_bounds

    _unit_election(e, ctx)
    return regional_excess_bounds(e, units=ctx.units[0], seed=ctx.seed)


def _extract_excess_bounds(r, e: Election) -> dict:
    return {
        "flat": r.flat._asdict(),
        "trend": r.trend._asdict(),
        "permutations": r.n_perm,
        "bootstrap_replicates": r.n_boot,
        "confidence_level": r.confidence_level,
        "units": r.units,
        "n_units": r.n_units,
        "note": "excess (S) over-reads: each unit's noise adds positive excess; beyond_null (D) under-reads: "
        "the permutation null absorbs part of any fraud. 'trend' lets the clean ratio follow turnout "
        "as it does below each unit's peak. Bounds are one-sided at confidence_level.",
    }


def _extract_mixture_by_region(r, e: Election) -> dict:
    if r is None:
        return {"skipped": "the election has no hierarchy to stratify by"}
    return {
        "level": r.strata,
        "manufactured_votes": r.manufactured_votes,
        "fraudulent_votes": r.fraud_votes,
        "incremental": r.pi["incremental"],
        "extreme": r.pi["extreme"],
        "units": len(r.strata_results),
        "interval": [r.fraud_votes_ci.low, r.fraud_votes_ci.high] if r.n_boot else None,
        "manufactured_interval": [r.manufactured_ci.low, r.manufactured_ci.high]
        if r.n_boot
        else None,
        "bootstrap_replicates": r.n_boot,
        "converged": r.converged,
        "note": "each unit (region; small units merged with neighbours) fitted with its own clean "
        "distribution; regional differences are not counted as fraud, and neither is fraud spread "
        "evenly over a whole unit",
    }


def _run_shpilkin(e: Election, ctx: Context):
    from pollwatch.forensics.shpilkin import shpilkin

    return shpilkin(e, by_region=_top_level(e), seed=ctx.seed, execution=ctx.execution)


def _extract_shpilkin(r, e: Election) -> dict:
    lo, hi = (r.interval.low, r.interval.high) if r.interval is not None else (None, None)
    return {
        "excess_votes": r.excess,
        "excess_votes_low": lo,
        "excess_votes_high": hi,
        "clean_share": r.clean_leader_share,
        "clean_turnout": r.clean_turnout,
        "official_share": r.official_leader_share,
        "official_turnout": r.official_turnout,
        "k": r.k,
        "kernel_share": r.kernel_share,
        "mode": r.mode_pct,
        "peak_found": r.peak_found,
        "excess_percent_of_leader": r.excess_pct_of_leader,
        "sensitivity": r.sensitivity,
        "regions": [
            {"region": k, "excess_votes": v}
            for k, v in sorted(r.regions.items(), key=lambda kv: -kv[1])
        ],
        "regions_sum": r.regions_sum,
        "basis": r.params.basis,
        "bin_pp": r.params.bin_pp,
    }


def _run_shpilkin_test(e: Election, ctx: Context):
    from pollwatch.forensics.shpilkin_permutation import shpilkin_permutation_test

    return shpilkin_permutation_test(e, n_perm=199, level=_top_level(e), seed=ctx.seed)


def _extract_shpilkin_test(r, e: Election) -> dict:
    return {
        "p_value": r.pvalue,
        "excess_votes": r.excess,
        "permutations": r.n_perm,
        "level": r.level,
        "null_quantiles": r.null_quantiles,
    }


def _run_klimek(e: Election, ctx: Context):
    from pollwatch.forensics.klimek import fit_klimek

    return fit_klimek(e, seed=ctx.seed, execution=ctx.execution)


def _extract_klimek(r, e: Election) -> dict:
    return {
        "f_i": r.f_i,
        "f_e": r.f_e,
        "alpha": r.alpha,
        "f_i_sd": r.f_i_sd,
        "f_e_sd": r.f_e_sd,
        "alpha_sd": r.alpha_sd,
        "f_i_ci": list(r.f_i_ci),
        "f_e_ci": list(r.f_e_ci),
        "alpha_ci": list(r.alpha_ci),
        "loss": r.loss,
        "loss_value": r.loss_value,
        "no_fraud_loss": r.no_fraud_loss,
        "realisations": r.n_realisations,
        "baseline": {
            k: getattr(r.baseline, k, None) for k in ("tau", "nu", "sigma_tau", "sigma_nu", "theta")
        },
    }


METHODS: dict[str, MethodSpec] = {
    m.name: m
    for m in (
        MethodSpec("fingerprint", _run_fingerprint, _extract_fingerprint),
        MethodSpec("regression", _run_regression, _extract_regression),
        MethodSpec("integer_percentages", _run_integers, _extract_integers),
        MethodSpec("digits", _run_digits, _extract_digits),
        MethodSpec("shpilkin", _run_shpilkin, _extract_shpilkin),
        MethodSpec("shpilkin_test", _run_shpilkin_test, _extract_shpilkin_test),
        MethodSpec("klimek", _run_klimek, _extract_klimek),
        MethodSpec("coarse_shares", _run_coarse, _extract_coarse),
        MethodSpec("small_denominators", _run_small_denominators, _extract_small_denominators),
        MethodSpec("mixture", _run_mixture, _extract_mixture),
        MethodSpec("mixture_by_region", _run_mixture_by_region, _extract_mixture_by_region),
        MethodSpec("excess_bounds", _run_excess_bounds, _extract_excess_bounds),
        MethodSpec("carousel", _run_carousel, _extract_carousel),
    )
}

#: results.json key of each method (the issue's schema names)
JSON_KEYS = {
    "fingerprint": "correlation",
    "regression": "regression",
    "integer_percentages": "integer_percentages",
    "shpilkin": "shpilkin",
    "shpilkin_test": "shpilkin_permutation",
    "klimek": "klimek",
    "digits": "digits",
    "coarse_shares": "coarse_shares",
    "mixture": "mixture",
    "small_denominators": "small_denominators",
    "mixture_by_region": "mixture_by_region",
    "carousel": "carousel",
    "excess_bounds": "regional_excess_bounds",
}


#: methods run, in this order, in a worker process by :func:`analyze` when ``parallel``. On
#: the 2012 file (quiet machine) the national mixture costs ~13 s of CPU and the RKD resampling
#: ~19 s on all cores, against ~20 s for the rest. The single-threaded mixture goes first: it
#: runs beside the parent's work, and the multi-threaded RKD gets both cores once the parent is
#: done (the other order leaves a core idle at the end)
OFFLOAD = ("mixture", "coarse_shares")
PARALLEL_MIN_STATIONS = 20_000
#: where :data:`OFFLOAD` runs: one fresh worker process (``compute.Jobs`` spawns it, never
#: forks: this process may hold OpenMP or Polars thread pools), at :data:`OFFLOAD_NICE` lower
#: priority, so that while this process runs its methods the worker only gets the other core,
#: and when this one waits it gets both (same results: the resampling is seeded per block)
OFFLOAD_EXECUTION = Execution.processes(workers=1)
OFFLOAD_NICE = 10


def _offloaded(
    e: Election, names: list[str], execution: Execution, parallel: bool | None
) -> list[str]:
    if parallel is None:
        parallel = e.n_stations >= PARALLEL_MIN_STATIONS and execution.kind == "serial"
    return [m for m in OFFLOAD if m in names] if parallel else []


def _run_one(
    name: str, e: Election, ctx: Context, step: Callable[[str], None]
) -> tuple[Any, str | None, float]:
    step(name)
    t0 = time.perf_counter()
    res, err = None, None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = METHODS[name].run(e, ctx)
    except Exception as exc:  # one failing method must not hide the others
        err = f"{type(exc).__name__}: {exc}"
    secs = time.perf_counter() - t0
    step("done:" + name)
    return res, err, secs


def _record(name, res, err, secs, e, ctx, extracted, errors, timings) -> None:
    if err is None:
        try:
            ctx.results[name] = res
            extracted[name] = METHODS[name].extract(res, e)
        except Exception as exc:
            err = f"{type(exc).__name__}: {exc}"
    if err is not None:
        errors[name] = err
    timings[name] = secs


def _method_job(name: str, election: bytes, ctx: Context) -> tuple[Any, float]:
    """One method in the worker process: the same call as in this one (exceptions propagate
    to :func:`analyze` as a ``ComputeError`` naming the method). ``election`` comes pickled
    once for all the jobs: unpickling it is cheaper than sending the election with each."""
    import pickle

    e = pickle.loads(election)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = METHODS[name].run(e, ctx)
    return res, time.perf_counter() - t0


def _submit(jobs: Jobs, e: Election, names: list[str], ctx: Context) -> dict:
    """Submit the offloaded methods with the whole context (seed, execution, regional
    bootstrap and whatever else it carries; not the other methods' results)."""
    import pickle
    from dataclasses import replace

    blob = pickle.dumps(e, protocol=pickle.HIGHEST_PROTOCOL)
    child = replace(ctx, results={}, units=False)
    t0 = time.perf_counter()
    return {n: (jobs.submit(n, _method_job, n, blob, child), t0) for n in names}


def _collect(
    name: str, job, t0: float, step: Callable[[str], None]
) -> tuple[Any, str | None, float]:
    step(name)
    try:
        res, secs = job.result()
        err = None
    except ComputeError as exc:  # recorded like a method that failed here
        res, err, secs = None, exc.summary, time.perf_counter() - t0
    step("done:" + name)
    return res, err, secs


@dataclass
class Analysis:
    """Everything ``pollwatch analyze`` computed for one election."""

    election: Election
    findings: Findings
    results: dict[str, Any]
    errors: dict[str, str]
    timings: dict[str, float]
    seed: int
    version: str
    command: str | None = None
    scores: Any = None
    extracted: dict[str, dict] = field(default_factory=dict)
    calibration: dict[str, str] = field(default_factory=dict)
    regions_geojson: dict | None = None
    regions_key: str = "name"

    @cached_property
    def doc(self) -> dict:
        """The ``results.json`` document (built once)."""
        t = self.election.totals()
        rep = self.election.ingest_report
        election = {
            "name": self.election.meta.name,
            "country": self.election.meta.country,
            "date": self.election.meta.date,
            "stations": t["stations"],
            "registered": t["registered"],
            "ballots_cast": t["ballots_cast"],
            "ballots_issued": t.get("ballots_issued"),
            "valid": t["valid"],
            "invalid": t["invalid"],
            "leader": t["leader"],
            "leader_votes": t["leader_votes"],
            "turnout": t["turnout"],
            "leader_share": t["leader_share"],
            "leader_share_valid": t["leader_share_valid"],
            "turnout_issued": (t["ballots_issued"] / t["registered"])
            if t.get("ballots_issued") and t["registered"]
            else None,
            "votes": t["votes"],
            "excluded": t["excluded"],
            "source": rep.source if rep else None,
            "sha256": rep.sha256 if rep else None,
        }
        from pollwatch.forensics.strength import assess

        doc = {
            "election": election,
            "methods": {JSON_KEYS.get(k, k): v for k, v in self.extracted.items()},
            "findings": self.findings.counts(),
            "errors": self.errors,
            "timings": self.timings,
            "parameters": {k: _params_of(v) for k, v in self.results.items()},
            "seed": self.seed,
            "pollwatch_version": self.version,
            "command": self.command,
        }
        st = assess(doc)
        doc["strength"] = {
            "level": st.level,
            "signals": list(st.signals),
            "rule": st.rule,
            "not_computed": list(st.not_run),
        }
        # the block a reader quotes comes first in the file, and is never less conservative
        # than the calibrated rules (forensics/headline.py)
        return {"headline": self.headline.block(doc["strength"]), **doc}

    @cached_property
    def headline(self):
        """The calibrated headline (:func:`pollwatch.forensics.headline.headline`)."""
        from pollwatch.forensics.headline import headline

        e = self.election
        cast = float(e.ballots_cast()[e.analysable()].sum())
        return headline(
            self.results.get("excess_bounds"),
            self.results.get("mixture_by_region"),
            ballots_cast=cast,
            leader=e.leader.name if e.candidates else "the leader",
            errors=self.errors,
        )

    @property
    def strength(self):
        from pollwatch.forensics.strength import Strength

        s = self.doc["strength"]
        return Strength(
            s["level"], tuple(s["signals"]), s["rule"], tuple(s.get("not_computed", ()))
        )

    def stations_table(self) -> pl.DataFrame:
        """One row per station with its signals and rank (the ``stations.csv`` table)."""
        if self.scores is not None:
            return self.scores.table
        e = self.election
        return e.table.select(["station_id", *e.meta.hierarchy]).with_columns(
            pl.Series("rank", np.arange(1, e.n_stations + 1))
        )


def _params_of(result: Any) -> dict:
    """The parameters a result echoes (scalars and short tuples only)."""
    out = {}
    for k in (
        "basis",
        "seed",
        "seed_entropy",
        "n_rep",
        "n_boot",
        "loss",
        "n_realisations",
        "bin_pp",
        "bin_width",
        "method",
        "min_count",
        "min_registered",
        "group_level",
        "k",
        "delta",
        "level",
        "alpha_level",
    ):
        v = getattr(result, k, None)
        if v is not None and not isinstance(v, (np.ndarray, dict)):
            out[k] = v
    params = getattr(result, "params", None)
    if isinstance(params, dict):
        out.update({k: v for k, v in params.items() if not isinstance(v, np.ndarray)})
    return out


def analyze(
    election: Election,
    *,
    seed: int = 0,
    methods: list[str] | None = None,
    execution: Execution | str | None = None,
    progress: Callable[[str], None] | None = None,
    command: str | None = None,
    regions_geojson: dict | None = None,
    regions_key: str = "name",
    parallel: bool | None = None,
    regional_boot: int = 0,
) -> Analysis:
    """Run the forensic methods (all by default) and rank the stations.

    Warnings raised by a method (small samples, degenerate data) are kept in its result's
    notes by the method itself; here they are not allowed to stop the run. A method that
    raises, here or in the worker process, is recorded in ``errors`` and the others still run.

    ``execution``: where each method's own tasks run (:class:`pollwatch.compute.Execution`,
    or its text: ``"processes:4"``, ``"dask:tcp://host:8786"``; default serial).
    ``parallel``: run the slowest methods (:data:`OFFLOAD`: the national mixture, then the RKD
    resampling) in a worker process (:data:`OFFLOAD_EXECUTION`) while this one runs the others,
    so the two cores work at once. Every method is a deterministic function of the election
    and the context (seed, execution, ``regional_boot``), which the worker receives whole, so
    the results are identical to the sequential run. ``None`` (default): only for elections of
    at least :data:`PARALLEL_MIN_STATIONS` stations on the serial execution (below that,
    starting a fresh interpreter costs more than it saves); ``timings`` are then each method's
    own wall time, which overlap. ``regional_boot``: bootstrap replicates for an interval on the
    region-by-region mixture (0, the default, gives none; each costs about as much as the
    regional fit itself, ~1.8 s of CPU on 95k stations). In simulations its 95 % interval
    covered the injected ballots, the national one mostly did not (``docs/calibration.md``).
    """
    execution = Execution.of(execution)
    check_seed(seed)  # before any method runs: a bad seed would otherwise fail each one
    names = list(methods or METHODS)
    unknown = [m for m in names if m not in METHODS]
    if unknown:
        raise ValueError(f"methods {unknown} not recognised; choose from {list(METHODS)}")
    if (
        isinstance(regional_boot, bool)
        or not isinstance(regional_boot, int)
        or not 0 <= regional_boot <= 10_000
    ):
        # the mixture's own n_boot range, checked here so that nothing runs first
        raise ValueError(
            f"regional_boot ({regional_boot!r}) must be an integer in the interval [0, 10000]."
        )
    from pollwatch.forensics._common import require_analysable

    require_analysable(
        election
    )  # no analysable station: InputDataError saying why, before any method
    ctx = Context(seed=seed, execution=execution, regional_boot=regional_boot)
    step = progress or (lambda name: None)
    timings: dict[str, float] = {}
    errors: dict[str, str] = {}
    extracted: dict[str, dict] = {}
    t0 = time.perf_counter()
    findings = validate(election)
    timings["validate"] = time.perf_counter() - t0
    offload = _offloaded(election, names, execution, parallel)
    with Jobs(OFFLOAD_EXECUTION if offload else None, nice=OFFLOAD_NICE) as jobs:
        pending = _submit(jobs, election, offload, ctx) if offload else {}
        for name in names:
            if name in pending:
                continue
            res, err, secs = _run_one(name, election, ctx, step)
            _record(name, res, err, secs, election, ctx, extracted, errors, timings)
        for name, (job, t_submit) in pending.items():
            res, err, secs = _collect(name, job, t_submit, step)
            _record(name, res, err, secs, election, ctx, extracted, errors, timings)
    # the same key order as a sequential run, whichever process finished first
    ctx.results = {k: ctx.results[k] for k in names if k in ctx.results}
    extracted = {k: extracted[k] for k in names if k in extracted}
    timings = {k: timings[k] for k in ["validate", *names] if k in timings}
    errors = {k: errors[k] for k in names if k in errors}
    scores = None
    t0 = time.perf_counter()
    try:
        from pollwatch.forensics.scores import station_scores

        scores = station_scores(election, results=ctx.results, findings=findings)
    except Exception as exc:
        errors["scores"] = f"{type(exc).__name__}: {exc}"
    timings["scores"] = time.perf_counter() - t0
    return Analysis(
        election=election,
        findings=findings,
        results=ctx.results,
        errors=errors,
        timings=timings,
        seed=seed,
        version=_version(),
        command=command,
        scores=scores,
        extracted=extracted,
        regions_geojson=regions_geojson,
        regions_key=regions_key,
    )
