"""``pollwatch simulate``: write a synthetic election with known fraud, plus its truth."""

from __future__ import annotations

from pathlib import Path

import typer

from pollwatch.cli._common import console, fail, seed_value


def register(app: typer.Typer) -> None:
    @app.command("simulate")
    def simulate_cmd(
        stations: int = typer.Option(
            10_000, "--stations", "-n", min=1, help="Number of polling stations."
        ),
        seed: int = typer.Option(
            0, callback=seed_value, help="Random seed (same seed, same files)."
        ),
        out: Path = typer.Option(Path("simulated"), "--out", "-o", help="Output directory."),
        layout: str = typer.Option(
            "russia", help="File layout: russia, azerbaijan or generic (+ mapping.toml)."
        ),
        stuffing: float = typer.Option(0.0, help="Fraction of stations with ballot stuffing."),
        switching: float = typer.Option(
            0.0, help="Fraction of stations with votes switched to the favoured candidate."
        ),
        carousel: float = typer.Option(0.0, help="Fraction of stations receiving carousel voters."),
        rounding: float = typer.Option(
            0.0, help="Fraction of stations whose protocol is rewritten to whole percents."
        ),
        extreme: float = typer.Option(
            0.0, help="Fraction of stations pushed near 100 % turnout and share."
        ),
        regions: int = typer.Option(10, help="Number of regions."),
        constituencies: int = typer.Option(100, help="Number of constituencies."),
        candidates: int = typer.Option(
            4, min=2, help="Number of candidates (the first is the favoured incumbent)."
        ),
    ) -> None:
        """Simulate an election with injected fraud; write results.csv, truth.csv and params.json.

        Example: pollwatch simulate --stations 100000 --seed 1 --stuffing 0.1 --rounding 0.02 --out sim/
        """
        from pollwatch.simulate import (
            Carousel,
            ElectorateConfig,
            Extreme,
            FraudConfig,
            Rounding,
            Stuffing,
            Switching,
            simulate_election,
        )

        try:
            fraud = FraudConfig(
                stuffing=Stuffing(stuffing),
                switching=Switching(switching),
                carousel=Carousel(carousel),
                rounding=Rounding(rounding),
                extreme=Extreme(extreme),
            )
            cfg = ElectorateConfig(
                n_stations=stations, n_regions=regions, n_constituencies=constituencies
            )
            with console.status(f"simulating {stations:,} stations…") as status:
                sim = simulate_election(
                    stations,
                    seed=seed,
                    fraud=fraud,
                    electorate=cfg,
                    n_candidates=candidates,
                    country_layout=layout,
                )
                status.update(f"writing {layout} layout to {out}…")
                paths = sim.write(out)
        except ValueError as exc:
            raise fail(str(exc), 2) from None
        t = sim.election.totals()
        console.print(
            f"{stations:,} stations, {t['registered']:,} registered, leader {t['leader']} "
            f"{100 * t['leader_share']:.2f} % on {100 * t['turnout']:.2f} % turnout; "
            f"fraud votes {sim.fraud_votes:,}, ballots added {sim.stuffed_votes:,}",
            highlight=False,
        )
        for p in paths.values():
            typer.echo(str(p))
