"""``pollwatch demo``: the reference case end to end, on built-in simulated data."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from pollwatch.cli._common import console, fail, seed_value
from pollwatch.i18n import LANGS, gettext, pgettext, use_language

if TYPE_CHECKING:
    from pollwatch.demo import DemoResult


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
        with use_language(lang):  # the operator reads the summary in the report's language
            _print_summary(result, out, quiet)


def _print_summary(result: DemoResult, out: Path, quiet: bool) -> None:
    """What the demo found, the outputs, and how to start the service on its data."""
    sim, a = result.simulation, result.analysis
    if not quiet:
        t = sim.election.totals()
        console.print(
            gettext(
                "Simulated {stations} stations, {registered} registered; official result "
                "{share} % for {leader} on {turnout} % turnout."
            ).format(
                stations=f"{t['stations']:,}",
                registered=f"{t['registered']:,}",
                share=f"{100 * t['leader_share']:.2f}",
                leader=t["leader"],
                turnout=f"{100 * t['turnout']:.2f}",
            ),
            highlight=False,
        )
        console.print(
            gettext(
                "Injected: {fraud} fraudulent votes for the favoured candidate ({stuffed} added "
                "ballots)."
            ).format(fraud=f"{sim.fraud_votes:,}", stuffed=f"{sim.stuffed_votes:,}"),
            highlight=False,
        )
        doc = a.doc
        sh = doc["methods"].get("shpilkin", {})
        if "excess_votes" in sh:
            console.print(
                gettext("Shpilkin excess votes: {n}").format(n=f"{sh['excess_votes']:,.0f}"),
                highlight=False,
            )
        mx = doc["methods"].get("mixture", {})
        if "fraudulent_votes" in mx:
            console.print(
                gettext("Mixture fraudulent votes: {n} ({low}–{high})").format(
                    n=f"{mx['fraudulent_votes']:,.0f}",
                    low=f"{mx['fraudulent_votes_low']:,.0f}",
                    high=f"{mx['fraudulent_votes_high']:,.0f}",
                ),
                highlight=False,
            )
        src = result.sources
        if "pvt" in src:
            found = src["pvt"].protocols.altered_stations
            console.print(
                gettext(
                    "Quick count: {altered} protocols altered on the way to the centre, {found} "
                    "found by the observers' copies."
                ).format(altered=len(src["altered"]), found=len(found)),
                highlight=False,
            )
        if "quickcount_live" in src:
            st, pub = src["quickcount_live"]["status"], src["quickcount_live"]["publication"]
            svc = src["service"]
            console.print(
                gettext(
                    "Quick count in the service: {reported} of {sampled} sampled stations "
                    "reported ({sms} by SMS, {web} on the web form); estimate published and "
                    "signed, SHA-256 {sha256}."
                ).format(
                    reported=st.reported,
                    sampled=st.sampled,
                    sms=svc.get("n_sms", 0),
                    web=svc.get("n_web", 0),
                    sha256=pub["sha256"],
                ),
                highlight=False,
            )
        if "cameras" in src:
            c = src["cameras"]
            console.print(
                gettext(
                    "Cameras: official above the camera interval at {flagged} of {compared} "
                    "watched stations; at least {added} ballots added."
                ).format(
                    flagged=c.n_flagged,
                    compared=c.n_compared,
                    added=f"{c.lower_bound_added:,.0f}",
                ),
                highlight=False,
            )
        if "rollup" in src:
            r = src["rollup"]
            aucs = ", ".join(f"{gettext(k)} {v:.3f}" for k, v in r.aucs.items())
            console.print(
                gettext(
                    "Fused evidence: {n} stations flagged by two or more sources; AUC at ranking "
                    "the stuffed stations: {aucs}."
                ).format(n=f"{r.n_multi:,}", aucs=aucs),
                highlight=False,
            )
        if "bundle" in src:
            b = src["bundle"]
            console.print(
                gettext(
                    "Evidence bundle for {n} stations: {state} ({entries} audit entries, "
                    "{photos} photos); signer {signer}"
                ).format(
                    n=len(src["dossiers"]),
                    state=gettext("verified intact") if b.ok else gettext("NOT intact"),
                    entries=b.n_entries,
                    photos=b.n_media,
                    signer=b.signer_fingerprint,
                ),
                highlight=False,
            )
        level = doc["strength"]["level"]
        console.print(
            gettext("Strength of evidence: {level}; done in {seconds} s.").format(
                level=f"[bold]{pgettext(f'strength_{level}', level)}[/]",
                seconds=f"{result.seconds:.1f}",
            )
        )
        for name, err in a.errors.items():
            console.print(
                "[yellow]" + gettext("{name} not computed:").format(name=name) + f"[/] {err}",
                highlight=False,
            )
        console.print(gettext("Outputs:"))
        for k, p in result.paths.items():
            console.print(f"  {gettext(k):<22} {p}", highlight=False)
    typer.echo(
        gettext("Open the report: {path}").format(path=result.paths["report.html"].resolve())
    )
    if not quiet:
        svc = result.sources.get("service")
        if svc:
            db, data = svc["url"], Path(svc["data_dir"]).resolve()
            first = result.sources["dossiers"][0].station_id
            typer.echo(gettext("Start the observation service on the demo's data:"))
            typer.echo(
                f"  pollwatch users create-admin --username admin --database {db} --data-dir {data}"
            )
            typer.echo(
                f"  POLLWATCH_ANALYSIS_DIR={out.resolve()} pollwatch serve --database {db} --data-dir {data}"
            )
            typer.echo(
                "  "
                + gettext("then open {url} (and /quickcount for the quick count)").format(
                    url=f"http://127.0.0.1:8000/stations/{svc['station_ids'][first]}/dossier"
                )
            )
            typer.echo(f"  pollwatch quickcount status --database {db} --data-dir {data}")
            typer.echo(
                gettext("Verify the bundle: {command}").format(
                    command=f"pollwatch evidence verify {result.paths['evidence bundle'].resolve()}"
                )
            )
        else:
            typer.echo(
                gettext("Start the observation service: {command}").format(
                    command="pollwatch users create-admin --username admin && pollwatch serve"
                )
            )
