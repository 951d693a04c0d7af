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

import html
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import polars as pl

import pollwatch
from pollwatch.compute import ComputeError, Execution, Jobs
from pollwatch.compute.seam import check_seed
from pollwatch.forensics._common import require_analysable
from pollwatch.forensics.carousel import carousel_signals
from pollwatch.forensics.coarse import rozenas_rkd, small_denominator_test
from pollwatch.forensics.digits import digit_tests
from pollwatch.forensics.excess_bounds import regional_excess_bounds
from pollwatch.forensics.fingerprint import distributions, turnout_share_regression
from pollwatch.forensics.headline import headline
from pollwatch.forensics.integers import integer_test
from pollwatch.forensics.klimek import fit_klimek
from pollwatch.forensics.mixture import fraud_mixture
from pollwatch.forensics.scores import station_scores
from pollwatch.forensics.shpilkin import shpilkin
from pollwatch.forensics.shpilkin_permutation import shpilkin_permutation_test
from pollwatch.forensics.strength import Strength, assess
from pollwatch.forensics.units import UNIT_LEVEL, analysis_units, with_units
from pollwatch.forensics.units import top_level as _top_level
from pollwatch.i18n import note
from pollwatch.ingest.report import IngestReport
from pollwatch.model import Election
from pollwatch.results import RESULTS_SCHEMA_VERSION, MethodResult, Skipped
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
    """One method: its name (in ``errors``, ``timings``, ``parameters`` and
    :attr:`Analysis.results`), how to run it, and its key under ``methods`` in ``results.json``.
    What goes there is the result's own ``to_json()`` (:class:`pollwatch.results.MethodResult`)."""

    name: str
    run: Callable[[Election, Context], Any]
    json_key: str

    def extract(self, result: Any, e: Election | None = None) -> dict:
        """The method's entry in ``results.json``, through the station-signal contract."""
        return _contract(self.name, result).to_json()


def _contract(name: str, result: Any) -> MethodResult:
    if not isinstance(result, MethodResult):
        raise TypeError(
            f"the result of {name!r} ({type(result).__name__}) does not implement the "
            "station-signal contract (pollwatch.results.MethodResult)"
        )
    return result


# -- the methods ---------------------------------------------------------------------------
def _run_fingerprint(e: Election, ctx: Context):

    return distributions(e)


def _run_regression(e: Election, ctx: Context):

    return turnout_share_regression(e)


def _run_digits(e: Election, ctx: Context):

    return digit_tests(e, seed=ctx.seed)


def _run_carousel(e: Election, ctx: Context):

    return carousel_signals(e)


def _run_integers(e: Election, ctx: Context):

    return integer_test(e)  # exact null: no randomness


def _run_coarse(e: Election, ctx: Context):

    return rozenas_rkd(e, seed=ctx.seed, execution=ctx.execution)


def _run_small_denominators(e: Election, ctx: Context):

    return small_denominator_test(e)  # exact binomial null: no randomness


def _run_mixture(e: Election, ctx: Context):

    return fraud_mixture(e, seed=ctx.seed, execution=ctx.execution)


def _unit_election(e: Election, ctx: Context) -> Election | None:
    """The election with its analysis units (top level, small units merged with neighbours),
    built once per run and shared by the region-by-region methods."""

    if ctx.units is False:
        units = analysis_units(e)
        ctx.units = (None, None) if units is None else (units, with_units(e, units))
    return ctx.units[1]


def _run_mixture_by_region(e: Election, ctx: Context):

    eu = _unit_election(e, ctx)
    if eu is None:
        return Skipped("mixture_by_region", note("the election has no hierarchy to stratify by"))
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

    _unit_election(e, ctx)
    return regional_excess_bounds(e, units=ctx.units[0], seed=ctx.seed)


def _run_shpilkin(e: Election, ctx: Context):

    return shpilkin(e, by_region=_top_level(e), seed=ctx.seed, execution=ctx.execution)


def _run_shpilkin_test(e: Election, ctx: Context):

    return shpilkin_permutation_test(e, n_perm=199, level=_top_level(e), seed=ctx.seed)


def _run_klimek(e: Election, ctx: Context):

    return fit_klimek(e, seed=ctx.seed, execution=ctx.execution)


#: every method, in the order :func:`analyze` runs them, with its key in ``results.json`` (the
#: issue's schema names)
METHODS: dict[str, MethodSpec] = {
    m.name: m
    for m in (
        MethodSpec("fingerprint", _run_fingerprint, "correlation"),
        MethodSpec("regression", _run_regression, "regression"),
        MethodSpec("integer_percentages", _run_integers, "integer_percentages"),
        MethodSpec("digits", _run_digits, "digits"),
        MethodSpec("shpilkin", _run_shpilkin, "shpilkin"),
        MethodSpec("shpilkin_test", _run_shpilkin_test, "shpilkin_permutation"),
        MethodSpec("klimek", _run_klimek, "klimek"),
        MethodSpec("coarse_shares", _run_coarse, "coarse_shares"),
        MethodSpec("small_denominators", _run_small_denominators, "small_denominators"),
        MethodSpec("mixture", _run_mixture, "mixture"),
        MethodSpec("mixture_by_region", _run_mixture_by_region, "mixture_by_region"),
        MethodSpec("excess_bounds", _run_excess_bounds, "regional_excess_bounds"),
        MethodSpec("carousel", _run_carousel, "carousel"),
    )
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
        if rep is not None and not isinstance(rep, IngestReport):
            raise TypeError(
                f"election.ingest_report is a {type(rep).__name__}, not an IngestReport"
            )
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

        doc = {
            "election": election,
            "methods": {METHODS[k].json_key: v for k, v in self.extracted.items()},
            "findings": self.findings.counts(),
            "errors": self.errors,
            "timings": self.timings,
            "parameters": {k: _contract(k, v).parameters() for k, v in self.results.items()},
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
        # schema_version second: a reader checks it before relying on any other key
        return {
            "headline": self.headline.block(doc["strength"]),
            "schema_version": RESULTS_SCHEMA_VERSION,
            **doc,
        }

    @cached_property
    def headline(self):
        """The calibrated headline (:func:`pollwatch.forensics.headline.headline`)."""

        e = self.election
        cast = float(e.ballots_cast()[e.analysable()].sum())
        by_region = self.results.get("mixture_by_region")
        return headline(
            self.results.get("excess_bounds"),
            None if isinstance(by_region, Skipped) else by_region,
            ballots_cast=cast,
            leader=e.leader.name if e.candidates else "the leader",
            errors=self.errors,
        )

    @property
    def strength(self):

        s = self.doc["strength"]
        return Strength(
            s["level"], tuple(s["signals"]), s["rule"], tuple(s.get("not_computed", ()))
        )

    def _repr_html_(self) -> str:
        """A compact summary for notebooks (every value escaped): the headline statement, the
        strength of the evidence, falsified votes with their interval, each method's state
        (done, skipped and why, failed and why) and the top-ranked stations."""
        esc = html.escape
        doc = self.doc
        fv = doc["headline"]["falsified_votes"]
        st = doc["strength"]
        est = (
            "none estimated"
            if fv["estimate"] is None
            else f"{fv['estimate']:,.0f} ({fv['low']:,.0f} to {fv['high']:,.0f})"
        )
        rows = [
            ("election", f"{self.election!r}"),
            ("strength of evidence", f"{st['level']}: {', '.join(st['signals']) or 'no signal'}"),
            ("falsified votes", est),
        ]
        for name, spec in METHODS.items():
            if name in self.errors:
                state = f"failed: {self.errors[name]}"
            elif isinstance(self.results.get(name), Skipped):
                state = f"skipped: {self.results[name].reason}"
            elif name in self.results:
                state = f"done ({self.timings.get(name, 0.0):.1f} s)"
            else:
                continue  # not asked for
            rows.append((f"method {spec.json_key}", state))
        body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
        top = ""
        if self.scores is not None:
            head = self.stations_table().sort("rank").head(5)
            cells = [c for c in ("station_id", "signals", "points", "rank") if c in head.columns]
            top = (
                "<table><tr>"
                + "".join(f"<th>{esc(c)}</th>" for c in cells)
                + "</tr>"
                + "".join(
                    "<tr>" + "".join(f"<td>{esc(str(r[c]))}</td>" for c in cells) + "</tr>"
                    for r in head.iter_rows(named=True)
                )
                + "</table>"
            )
        return (
            f"<div class='pw-analysis'><p>{esc(doc['headline']['statement'])}</p>"
            f"<table>{body}</table>"
            + (f"<p>Top-ranked stations (of {self.election.n_stations:,}):</p>{top}" if top else "")
            + "</div>"
        )

    def stations_table(self) -> pl.DataFrame:
        """One row per station with its signals and rank (the ``stations.csv`` table)."""
        if self.scores is not None:
            return self.scores.table
        e = self.election
        return e.table.select(["station_id", *e.meta.hierarchy]).with_columns(
            pl.Series("rank", np.arange(1, e.n_stations + 1))
        )


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
    Every method is a deterministic function of the election and the context (seed,
    execution, ``regional_boot``), so the results do not depend on where they ran.

    Parameters
    ----------
    election : Election
        The official results, from :func:`pollwatch.read_election`.
    seed : int, default 0
        Root seed of every resampling method (each gets its own stream).
    methods : list of str, optional
        Run only these methods (names as in ``results.json``'s ``methods``); default all.
    execution : Execution or str, optional
        Where each method's own tasks run (:class:`pollwatch.compute.Execution`, or its text:
        ``"processes:4"``, ``"dask:tcp://host:8786"``); default serial.
    progress : callable, optional
        Called with each method's name as it starts (the CLI's progress bar).
    command : str, optional
        The command line recorded in ``results.json`` for reproduction.
    regions_geojson : dict, optional
        Region boundaries for the report's map.
    regions_key : str, default "name"
        The GeoJSON property that holds the region names of the election.
    parallel : bool, optional
        Run the slowest methods (:data:`OFFLOAD`: the national mixture, then the RKD
        resampling) in a worker process (:data:`OFFLOAD_EXECUTION`) while this one runs the
        others. ``None``: only for elections of at least :data:`PARALLEL_MIN_STATIONS`
        stations on the serial execution (below that, starting a fresh interpreter costs more
        than it saves); ``timings`` are then each method's own wall time, which overlap.
    regional_boot : int, default 0
        Bootstrap replicates for an interval on the region-by-region mixture (each costs
        about as much as the regional fit, ~1.8 s of CPU on 95k stations). In simulations its
        95 % interval covered the injected ballots, the national one mostly did not
        (``docs/calibration.md``).

    Returns
    -------
    Analysis
        Every method's result, the protocol findings, the ranked stations (``scores``), the
        strength of the evidence and the headline; ``doc`` is ``results.json``.

    Examples
    --------
    >>> from pollwatch import analyze, simulate_election
    >>> analysis = analyze(simulate_election(2000, seed=1).election, seed=0)
    >>> analysis.errors
    {}
    >>> analysis.headline.statement.startswith("These official figures")
    True
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
        version=pollwatch.__version__,
        command=command,
        scores=scores,
        extracted=extracted,
        regions_geojson=regions_geojson,
        regions_key=regions_key,
    )
