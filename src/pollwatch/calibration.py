"""Calibration of the forensic methods on simulated elections with known truth.

For each method a *decision rule* turns its result into "fraud signalled" at level
``alpha``; on clean simulated elections the share of signals is the false-positive rate,
on elections with injected fraud it is the power. Estimators (Shpilkin, mixture) are also
compared with the injected ballots. The harness sits on top of ``simulate`` and
``forensics``; ``benchmarks/calibration.py`` prints the full table, the test suite runs a
small seeded version.

Decision rules (all documented in the report's methods section):

* integer percentages, coarse shares: the method's p-value < ``alpha``;
* digits: the leader's second-digit (2BL) Pearson χ² p-value < ``alpha``;
* Shpilkin: the lower end of the bootstrap interval of the excess exceeds 1 % of ballots cast;
* mixture: the lower end of the interval of fraudulent votes exceeds 1 % of ballots cast;
* Klimek: ``f_i − 2 sd > 0.05`` or ``f_e − 2 sd > 0`` (as in the report's strength rule).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from pollwatch.model import Election
from pollwatch.simulate import ElectorateConfig, FraudConfig, Rounding, Stuffing, simulate_election


def _integer(e: Election, seed: int, alpha: float) -> tuple[bool, float]:
    from pollwatch.forensics.integers import integer_test

    r = integer_test(e)
    return r.either.pvalue < alpha, r.either.excess


def _digits(e: Election, seed: int, alpha: float) -> tuple[bool, float]:
    from pollwatch.forensics.digits import digit_tests

    r = digit_tests(e, seed=seed, regions=False, n_boot=200)
    row = r.row(r.scrutiny)
    return row.second.pvalue < alpha, row.second.value


def _coarse(e: Election, seed: int, alpha: float) -> tuple[bool, float]:
    from pollwatch.forensics.coarse import rozenas_rkd

    r = rozenas_rkd(e, seed=seed, n_resamples=200)
    return r.pvalue < alpha, r.fraud_pct


def _shpilkin(e: Election, seed: int, alpha: float) -> tuple[bool, float]:
    from pollwatch.forensics.shpilkin import shpilkin

    r = shpilkin(e, seed=seed, n_boot=100, by_region=None, variants=False)
    low = r.interval.low if r.interval is not None else r.excess
    return low > 0.01 * e.ballots_cast().sum(), r.excess


def _mixture(e: Election, seed: int, alpha: float) -> tuple[bool, float]:
    from pollwatch.forensics.mixture import fraud_mixture

    r = fraud_mixture(e, seed=seed, n_boot=10)
    return r.fraud_votes_ci.low > 0.01 * e.ballots_cast().sum(), r.fraud_votes


def _klimek(e: Election, seed: int, alpha: float) -> tuple[bool, float]:
    from pollwatch.forensics.klimek import fit_klimek

    r = fit_klimek(e, seed=seed, n_realisations=5)
    return (r.f_i - 2 * r.f_i_sd > 0.05) or (r.f_e - 2 * r.f_e_sd > 0), r.f_i


DETECTORS: dict[str, Callable[[Election, int, float], tuple[bool, float]]] = {
    "integer_percentages": _integer, "digits": _digits, "coarse_shares": _coarse,
    "shpilkin": _shpilkin, "mixture": _mixture, "klimek": _klimek,
}

#: Scenarios: name -> fraud. Three stuffing intensities (share of stations stuffed) and three
#: rounding intensities, so every method has something it should see.
SCENARIOS: dict[str, FraudConfig] = {
    "clean": FraudConfig(),
    "stuffing 2 %": FraudConfig(stuffing=Stuffing(0.02)),
    "stuffing 5 %": FraudConfig(stuffing=Stuffing(0.05)),
    "stuffing 15 %": FraudConfig(stuffing=Stuffing(0.15)),
    "rounding 0.5 %": FraudConfig(rounding=Rounding(0.005)),
    "rounding 1 %": FraudConfig(rounding=Rounding(0.01)),
    "rounding 3 %": FraudConfig(rounding=Rounding(0.03)),
}


@dataclass
class Cell:
    signals: int = 0
    runs: int = 0
    errors: int = 0
    estimates: list[float] = field(default_factory=list)
    truth: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.signals / self.runs if self.runs else float("nan")

    def rate_interval(self) -> tuple[float, float]:
        """Wilson 95 % interval of the signal rate."""
        n, p, z = self.runs, self.rate, 1.96
        if not n:
            return float("nan"), float("nan")
        c = (p + z * z / (2 * n)) / (1 + z * z / n)
        h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return c - h, c + h


def _one(scenario: str, i: int, n_stations: int, methods: tuple[str, ...], alpha: float,
         base_seed: int) -> dict:
    seed = base_seed * 100_003 + i
    fraud = SCENARIOS[scenario]
    cfg = ElectorateConfig(n_stations=n_stations, n_regions=8, n_constituencies=max(8, n_stations // 100))
    sim = simulate_election(n_stations, seed=seed, fraud=fraud, electorate=cfg)
    out = {"scenario": scenario, "i": i, "added": int(sim.truth["ballots_added"].sum()),
           "fraud": sim.fraud_votes, "cast": int(sim.election.ballots_cast().sum()), "methods": {}}
    for m in methods:
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                flag, est = DETECTORS[m](sim.election, seed, alpha)
            out["methods"][m] = (bool(flag), float(est), time.perf_counter() - t0, None)
        except Exception as exc:  # recorded, never hidden
            out["methods"][m] = (False, float("nan"), time.perf_counter() - t0, f"{type(exc).__name__}: {exc}")
    return out


def calibrate(*, n_elections: int = 200, n_stations: tuple[int, int] = (5_000, 20_000), methods=None,
              scenarios=None, alpha: float = 0.05, seed: int = 0, backend=None,
              progress: Callable[[int, int], None] | None = None) -> dict[tuple[str, str], Cell]:
    """Run every method on ``n_elections`` simulated elections per scenario.

    Election sizes are drawn uniformly from ``n_stations``. Returns a table keyed by
    (scenario, method). Uses :func:`pollwatch.compute.run_tasks` so a process pool or Dask
    cluster can share the work.
    """
    from pollwatch.compute import run_tasks

    methods = tuple(methods or DETECTORS)
    scenarios = tuple(scenarios or SCENARIOS)
    rng = np.random.default_rng(seed)
    tasks = []
    for sc in scenarios:
        sizes = rng.integers(n_stations[0], n_stations[1] + 1, n_elections)
        tasks += [(sc, i, int(sizes[i]), methods, alpha, seed) for i in range(n_elections)]
    table: dict[tuple[str, str], Cell] = {(sc, m): Cell() for sc in scenarios for m in methods}
    chunk = max(1, len(tasks) // 20)
    done = 0
    for start in range(0, len(tasks), chunk):
        for r in run_tasks(_one, tasks[start:start + chunk], backend=backend):
            for m, (flag, est, secs, err) in r["methods"].items():
                cell = table[(r["scenario"], m)]
                cell.runs += 1
                cell.signals += int(flag)
                cell.errors += int(err is not None)
                cell.seconds += secs
                cell.estimates.append(est)
                cell.truth.append(r["added"] if m in ("shpilkin", "mixture") else r["fraud"])
        done += len(tasks[start:start + chunk])
        if progress:
            progress(done, len(tasks))
    return table


def format_table(table: dict[tuple[str, str], Cell]) -> str:
    """A Markdown table: signal rate (false-positive rate on clean, power otherwise) per method."""
    scenarios = list(dict.fromkeys(sc for sc, _ in table))
    methods = list(dict.fromkeys(m for _, m in table))
    lines = ["| scenario | " + " | ".join(methods) + " |", "|---|" + "---|" * len(methods)]
    for sc in scenarios:
        cells = []
        for m in methods:
            c = table[(sc, m)]
            lo, hi = c.rate_interval()
            cells.append(f"{100 * c.rate:.1f} % [{100 * lo:.0f}–{100 * hi:.0f}]" + (f" ({c.errors} err)" if c.errors else ""))
        lines.append(f"| {sc} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def accuracy_table(table: dict[tuple[str, str], Cell]) -> str:
    """Estimate / injected added ballots for Shpilkin and the mixture (median and IQR)."""
    lines = ["| scenario | method | median estimate / injected | IQR | runs |", "|---|---|---|---|---|"]
    for (sc, m), c in table.items():
        if m not in ("shpilkin", "mixture") or sc == "clean":
            continue
        est, tru = np.asarray(c.estimates), np.asarray(c.truth, dtype=float)
        ok = np.isfinite(est) & (tru > 0)
        if not ok.any():
            continue
        ratio = est[ok] / tru[ok]
        q1, q2, q3 = np.percentile(ratio, [25, 50, 75])
        lines.append(f"| {sc} | {m} | {q2:.3f} | {q1:.3f}–{q3:.3f} | {ok.sum()} |")
    return "\n".join(lines)
