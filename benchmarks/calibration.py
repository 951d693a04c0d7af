"""Calibration of every forensic method on simulated elections with known fraud.

Prints, per method, the signal rate on clean elections (false-positive rate at α = 0.05, the
acceptance band is 2–8 %) and on stuffing and rounding at three intensities (power), with
Wilson 95 % intervals, the Shpilkin and mixture estimates divided by the injected ballots,
and the Klimek fit on data drawn from the Klimek model.

Usage:
  python benchmarks/calibration.py [N_ELECTIONS] [--methods a,b] [--scenarios s,t] [--workers K]
      [--save run.pkl]                 # evaluation run (seed 0)
  python benchmarks/calibration.py --fit [N]     # refit the fixed critical values (seed 1000)
  python benchmarks/calibration.py --load a.pkl b.pkl   # merge saved runs, print the tables
  python benchmarks/calibration.py --klimek [N_REPS]    # Klimek recovery only
Saved runs keep the statistics, so they can be re-decided with the current critical values.
"""

from __future__ import annotations

import argparse
import pickle
import time

from pollwatch import calibration as cal
from pollwatch.compute import Execution


def _print_tables(table, header: str) -> None:
    for (_, m), cell in table.items():
        try:
            cell.redecide(0.05)
        except ValueError as exc:  # no critical value fitted yet: the rate shown is meaningless
            print(f"  {m}: {exc}")
    print(header)
    print(
        "Signal rate (clean = false-positive rate at α = 0.05; otherwise power), Wilson 95 % interval:\n"
    )
    print(cal.format_table(table))
    print(
        "\nEstimated / injected added ballots (elections with added ballots ≥ 2 % of ballots cast):\n"
    )
    print(cal.accuracy_table(table))
    if any(m == "headline" for _, m in table):
        print(
            "\nThe report's headline (two region-by-region rules must agree; figure = falsified votes):\n"
        )
        print(cal.headline_table(table))
    print("\nMean seconds per election and method (clean):")
    for (sc, m), c in table.items():
        if cal.is_clean(sc):
            print(f"  {m:<22} {c.seconds / max(c.runs, 1):.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=None)
    ap.add_argument("--methods", default=",".join(cal.DETECTORS))
    ap.add_argument("--scenarios", default=",".join(cal.SCENARIOS))
    ap.add_argument("--min-stations", type=int, default=5_000)
    ap.add_argument("--max-stations", type=int, default=20_000)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--save", default=None)
    ap.add_argument("--load", nargs="+", default=None)
    ap.add_argument("--fit", action="store_true")
    ap.add_argument("--klimek", action="store_true")
    ap.add_argument(
        "--true-baseline",
        action="store_true",
        help="--klimek with the simulator's clean parameters",
    )
    ap.add_argument(
        "--tau",
        choices=("kde", "median"),
        default="kde",
        help="--klimek: how the baseline turnout peak is read off (klimek_baseline)",
    )
    a = ap.parse_args()
    execution = Execution.processes(a.workers) if a.workers > 1 else None
    progress = lambda d, n: print(f"  {d}/{n} elections", flush=True)  # noqa: E731
    t0 = time.perf_counter()
    if a.klimek:
        rows = cal.klimek_recovery(
            n_reps=a.n or 5, true_baseline=a.true_baseline, peak_estimator=a.tau
        )
        print(
            f"Klimek fit on data from the Klimek model (10,000 stations, α = 1, 5 realisations, "
            f"{'true' if a.true_baseline else 'estimated'} baseline, τ by {a.tau}), "
            f"{time.perf_counter() - t0:.0f} s:\n"
        )
        print(cal.format_klimek(rows))
        return
    if a.fit:
        n = a.n or cal.N_CALIBRATION
        crit = cal.fit_critical_values(
            n_elections=n,
            n_stations=(a.min_stations, a.max_stations),
            methods=a.methods.split(","),
            execution=execution,
            progress=progress,
        )
        print(
            f"\nCritical values (α = 0.05) from {n} clean elections, seed {cal.CALIBRATION_SEED}, "
            f"{time.perf_counter() - t0:.0f} s:"
        )
        print("CRITICAL_VALUES = {" + ", ".join(f'"{k}": {v!r}' for k, v in crit.items()) + "}")
        return
    if a.load:
        table: dict = {}
        for path in a.load:
            with open(path, "rb") as fh:
                table.update(pickle.load(fh))
        runs = sorted({c.runs for c in table.values()})
        _print_tables(table, f"Merged runs {', '.join(a.load)} (elections per cell: {runs})\n")
        return
    n = a.n or 200
    table = cal.calibrate(
        n_elections=n,
        n_stations=(a.min_stations, a.max_stations),
        methods=a.methods.split(","),
        scenarios=a.scenarios.split(","),
        seed=a.seed,
        execution=execution,
        critical={},
        progress=progress,
    )
    if a.save:
        with open(a.save, "wb") as fh:
            pickle.dump(table, fh)
    _print_tables(
        table,
        f"\n{n} simulated elections per scenario, {a.min_stations:,}–{a.max_stations:,} "
        f"stations, seed {a.seed}, {time.perf_counter() - t0:.0f} s\n",
    )


if __name__ == "__main__":
    main()
