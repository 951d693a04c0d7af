"""``pollwatch demo``: the reference case end to end, on built-in simulated data."""

from __future__ import annotations

from pathlib import Path

import typer

from pollwatch.cli._common import console, fail, seed_value
from pollwatch.i18n import LANGS


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo_cmd(
        out: Path = typer.Option(Path("demo-output"), "--out", "-o", help="Output directory."),
        seed: int = typer.Option(
            2024, callback=seed_value, help="Seed of the simulation and of every method."
        ),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the report path."),
        lang: str = typer.Option(
            "en",
            "--lang",
            help="Language of report.html: en, az (Azerbaijani) or ru (Russian). "
            "results.json, the data files and the evidence bundle stay English.",
        ),
    ) -> None:
        """Simulate an Azerbaijan-shaped election with known fraud, analyse it, write the report.

        Example: pollwatch demo --out demo-output --lang ru
        """
        from pollwatch.demo import run_demo

        if lang not in LANGS:
            raise fail(f"--lang: {lang!r} is not one of {', '.join(LANGS)}", 2)
        if quiet:
            result = run_demo(out, seed=seed, lang=lang)
        else:
            with console.status("starting…") as status:
                result = run_demo(
                    out, seed=seed, lang=lang, progress=lambda m: status.update(m + "…")
                )
        sim, a = result.simulation, result.analysis
        if not quiet:
            t = sim.election.totals()
            console.print(
                f"Simulated {t['stations']:,} stations, {t['registered']:,} registered; official result "
                f"{100 * t['leader_share']:.2f} % for {t['leader']} on {100 * t['turnout']:.2f} % turnout.",
                highlight=False,
            )
            console.print(
                f"Injected: {sim.fraud_votes:,} fraudulent votes for the favoured candidate "
                f"({sim.stuffed_votes:,} added ballots).",
                highlight=False,
            )
            doc = a.doc
            sh = doc["methods"].get("shpilkin", {})
            if "excess_votes" in sh:
                console.print(f"Shpilkin excess votes: {sh['excess_votes']:,.0f}", highlight=False)
            mx = doc["methods"].get("mixture", {})
            if "fraudulent_votes" in mx:
                console.print(
                    f"Mixture fraudulent votes: {mx['fraudulent_votes']:,.0f} "
                    f"({mx['fraudulent_votes_low']:,.0f}–{mx['fraudulent_votes_high']:,.0f})",
                    highlight=False,
                )
            src = result.sources
            if "pvt" in src:
                found = src["pvt"].protocols.altered_stations
                console.print(
                    f"Quick count: {len(src['altered'])} protocols altered on the way to the centre, "
                    f"{len(found)} found by the observers' copies.",
                    highlight=False,
                )
            if "quickcount_live" in src:
                st, pub = src["quickcount_live"]["status"], src["quickcount_live"]["publication"]
                svc = src["service"]
                console.print(
                    f"Quick count in the service: {st.reported} of {st.sampled} sampled stations "
                    f"reported ({svc.get('n_sms', 0)} by SMS, {svc.get('n_web', 0)} on the web "
                    f"form); estimate published and signed, SHA-256 {pub['sha256']}.",
                    highlight=False,
                )
            if "cameras" in src:
                c = src["cameras"]
                console.print(
                    f"Cameras: official above the camera interval at {c.n_flagged} of {c.n_compared} "
                    f"watched stations; at least {c.lower_bound_added:,.0f} ballots added.",
                    highlight=False,
                )
            if "rollup" in src:
                r = src["rollup"]
                aucs = ", ".join(f"{k} {v:.3f}" for k, v in r.aucs.items())
                console.print(
                    f"Fused evidence: {r.n_multi:,} stations flagged by two or more sources; AUC at "
                    f"ranking the stuffed stations: {aucs}.",
                    highlight=False,
                )
            if "bundle" in src:
                b = src["bundle"]
                console.print(
                    f"Evidence bundle for {len(src['dossiers'])} stations: "
                    f"{'verified intact' if b.ok else 'NOT intact'} ({b.n_entries} audit entries, "
                    f"{b.n_media} photos); signer {b.signer_fingerprint}",
                    highlight=False,
                )
            console.print(
                f"Strength of evidence: [bold]{doc['strength']['level']}[/]; done in {result.seconds:.1f} s."
            )
            for name, err in a.errors.items():
                console.print(f"[yellow]{name} not computed:[/] {err}", highlight=False)
            console.print("Outputs:")
            for k, p in result.paths.items():
                console.print(f"  {k:<22} {p}", highlight=False)
        typer.echo(f"Open the report: {result.paths['report.html'].resolve()}")
        if not quiet:
            svc = result.sources.get("service")
            if svc:
                db, data = svc["url"], Path(svc["data_dir"]).resolve()
                first = result.sources["dossiers"][0].station_id
                typer.echo("Start the observation service on the demo's data:")
                typer.echo(
                    f"  pollwatch users create-admin --username admin --database {db} --data-dir {data}"
                )
                typer.echo(
                    f"  POLLWATCH_ANALYSIS_DIR={out.resolve()} pollwatch serve --database {db} --data-dir {data}"
                )
                typer.echo(
                    f"  then open http://127.0.0.1:8000/stations/{svc['station_ids'][first]}/dossier"
                    " (and /quickcount for the quick count)"
                )
                typer.echo(f"  pollwatch quickcount status --database {db} --data-dir {data}")
                typer.echo(
                    f"Verify the bundle: pollwatch evidence verify {result.paths['evidence bundle'].resolve()}"
                )
            else:
                typer.echo(
                    "Start the observation service: pollwatch users create-admin --username admin && pollwatch serve"
                )
