"""The reference-case demo: an election shaped like Azerbaijan's presidential election of
7 February 2024 (6,537 stations in 125 constituencies, about 6.48 million voters, seven
candidates), simulated with known stuffing, carousel voting, switching and rounding, then
read back from its protocol file and put through every method into one report.

The numbers are simulated: they show what pollwatch finds when the truth is known, and
they are not a claim about the real election.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pollwatch.simulate import (
    Carousel,
    ElectorateConfig,
    Extreme,
    FraudConfig,
    Rounding,
    Simulation,
    Stuffing,
    Switching,
    simulate_election,
)

AZ_ELECTORATE = ElectorateConfig(
    n_stations=6_537, n_regions=14, n_constituencies=125,
    candidates=("Candidate A (incumbent)", "Candidate B", "Candidate C", "Candidate D", "Candidate E",
                "Candidate F", "Candidate G"),
    base_shares=(0.62, 0.09, 0.08, 0.08, 0.05, 0.04, 0.04),
    size_log_mean=6.72, size_log_sd=0.6, turnout_mean=0.50,
)

AZ_FRAUD = FraudConfig(
    stuffing=Stuffing(0.35, intensity=(0.2, 0.7)),
    carousel=Carousel(0.15, intensity=(0.03, 0.10), constituency_share=0.3),
    switching=Switching(0.15, intensity=(0.1, 0.5)),
    rounding=Rounding(0.04, target="both"),
    extreme=Extreme(0.02),
)


@dataclass
class DemoResult:
    out_dir: Path
    paths: dict[str, Path]
    simulation: Simulation
    analysis: object
    seconds: float


def simulate_reference_case(seed: int = 2024) -> Simulation:
    """The simulated Azerbaijan-shaped election (Azerbaijani PEC protocol layout)."""
    return simulate_election(AZ_ELECTORATE.n_stations, seed=seed, fraud=AZ_FRAUD, electorate=AZ_ELECTORATE,
                             layout="azerbaijan", name="Simulated presidential election (Azerbaijan-shaped)",
                             country="AZ", date="2024-02-07")


def run_demo(out_dir: str | Path = "demo-output", *, seed: int = 2024,
             progress: Callable[[str], None] | None = None) -> DemoResult:
    """Simulate, write the protocol file, read it back, analyse, and write the report."""
    from pollwatch.forensics.run import analyze
    from pollwatch.ingest import read_election
    from pollwatch.report import write_all

    t0 = time.perf_counter()
    say = progress or (lambda msg: None)
    out = Path(out_dir)
    say("simulating the reference case")
    sim = simulate_reference_case(seed)
    files = sim.write(out / "data")
    say("reading the official protocols back")
    election = read_election(files["results.csv"], name=sim.election.meta.name, date="2024-02-07",
                             type="presidential")
    say("running the forensic methods")
    analysis = analyze(election, seed=seed, command=f"pollwatch demo --seed {seed} --out {out}")
    say("writing the report")
    paths = write_all(analysis, out)
    paths.update({f"data/{k}": v for k, v in files.items()})
    return DemoResult(out, paths, sim, analysis, time.perf_counter() - t0)
