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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pollwatch.i18n import LANGS, N_, gettext, use_language
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

if TYPE_CHECKING:
    from pollwatch.forensics.run import Analysis
    from pollwatch.fusion import StationDossier

AZ_ELECTORATE = ElectorateConfig(
    n_stations=6_537,
    n_regions=14,
    n_constituencies=125,
    candidates=(
        "Candidate A (incumbent)",
        "Candidate B",
        "Candidate C",
        "Candidate D",
        "Candidate E",
        "Candidate F",
        "Candidate G",
    ),
    base_shares=(0.74, 0.06, 0.05, 0.05, 0.04, 0.03, 0.03),
    size_log_mean=6.72,
    size_log_sd=0.6,
    turnout_mean=0.55,
)

AZ_FRAUD = FraudConfig(
    stuffing=Stuffing(0.45, intensity=(0.3, 0.8)),
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
    analysis: Analysis
    seconds: float
    sources: dict = field(default_factory=dict)


def simulate_reference_case(seed: int = 2024) -> Simulation:
    """The simulated Azerbaijan-shaped election (Azerbaijani PEC protocol layout)."""
    return simulate_election(
        AZ_ELECTORATE.n_stations,
        seed=seed,
        fraud=AZ_FRAUD,
        electorate=AZ_ELECTORATE,
        layout="azerbaijan",
        name="Simulated presidential election (Azerbaijan-shaped)",
        country="AZ",
        date="2024-02-07",
    )


def run_demo(
    out_dir: str | Path = "demo-output",
    *,
    seed: int = 2024,
    n_observed: int = 150,
    n_cameras: int = 1000,
    n_dossiers: int = 10,
    progress: Callable[[str], None] | None = None,
    lang: str = "en",
) -> DemoResult:
    """Simulate, publish (with a few protocols altered on the way to the centre), read the
    published file back, analyse it, hold the observers' quick count, the camera counts and
    the public claims against it; load the observers' protocol copies and incidents into a
    local SQLite service database (``out/service``), fuse every source per station, export a
    signed evidence bundle for the top stations, verify it, and write one report. The service
    database also holds the official protocols and the camera watchers' tallies and status
    log, so the service started on it shows complete station dossiers.

    ``lang`` (``en``, ``az``, ``ru``): the language of ``report.html`` (its sections, the
    summaries and the dossiers in it); the data, ``results.json`` and the bundle stay English."""
    if lang not in LANGS:
        raise ValueError(f"lang is {lang!r}; expected one of {', '.join(LANGS)}")
    from pollwatch.cameras.compare import compare_official as camera_compare
    from pollwatch.cameras.compare import status_summary
    from pollwatch.cameras.estimate import estimate_turnout
    from pollwatch.claims import check_claims, example_claims
    from pollwatch.demo_sources import (
        camera_tallies,
        load_service,
        observer_incidents,
        observer_sample,
        publish_quick_count,
    )
    from pollwatch.evidence import verify_bundle
    from pollwatch.evidence.keys import load_or_create_signing_key
    from pollwatch.forensics.run import analyze
    from pollwatch.ingest import read_election
    from pollwatch.quickcount.compare import compare as pvt_compare
    from pollwatch.report import results_section, write_all
    from pollwatch.report.fusion import dossier_section, rollup_section
    from pollwatch.service.sources.dossier import write_dossier_bundle
    from pollwatch.simulate.layouts import write_layout

    t0 = time.perf_counter()

    def say(msg: str) -> None:  # the operator's progress line, in the report's language
        if progress is not None:
            progress(gettext(msg, lang))

    out = Path(out_dir)
    data = out / "data"
    say(N_("simulating the reference case"))
    sim = simulate_reference_case(seed)
    files = sim.write(data)
    design, copies, published, altered = observer_sample(sim, n_observed, seed)
    # the registered sample (with its reserves) that the coordinator imports into the service
    sample = design.write_registered(
        data / "quickcount_sample.csv", created_at="2024-02-01T09:00:00+04:00"
    )
    files["quickcount_sample.csv"] = data / "quickcount_sample.csv"
    files.update(write_layout(published, "azerbaijan", data))  # the CEC's published protocols
    copies.table.write_csv(data / "protocol_copies.csv")
    files["protocol_copies.csv"] = data / "protocol_copies.csv"
    say(N_("reading the official protocols back"))
    election = read_election(
        files["results.csv"], name=sim.election.meta.name, date="2024-02-07", type="presidential"
    )
    say(N_("running the forensic methods"))
    analysis = analyze(election, seed=seed, command=f"pollwatch demo --seed {seed} --out {out}")
    say(N_("quick count from the observers' protocol copies"))
    pvt = pvt_compare(copies, election, seed=seed)
    say(N_("camera counts"))
    tallies, status, _ = camera_tallies(sim, election, n_cameras, seed)
    tallies.write_csv(data / "camera_tallies.csv")
    status.write_csv(data / "camera_status.csv")
    files["camera_tallies.csv"], files["camera_status.csv"] = (
        data / "camera_tallies.csv",
        data / "camera_status.csv",
    )
    cam_est = estimate_turnout(tallies, status, seed=seed)
    cams = camera_compare(cam_est, election)  # like with like: the lines a camera can see
    cam_status = status_summary(status)
    say(N_("checking the public claims"))
    claims = check_claims(example_claims("azerbaijan_2024"))
    say(
        N_(
            "loading the official protocols, observers' reports and camera tallies into the "
            "service database"
        )
    )
    observed = design.table["station_id"].cast(str).to_list()
    incidents = observer_incidents(sim, observed, seed)
    service = load_service(
        out / "service",
        election,
        copies,
        incidents,
        seed,
        tallies=tallies,
        status=status,
        sample_path=files["quickcount_sample.csv"],
    )
    say(N_("quick count in the service: live status, the estimate published and signed"))
    quickcount_live = publish_quick_count(service)
    say(N_("fusing the sources"))
    fusion = fuse_sources(
        election,
        analysis,
        pvt,
        copies,
        cams,
        status,
        service,
        sim,
        n_dossiers=n_dossiers,
        camera_estimate=cam_est,
    )
    say(N_("exporting the signed evidence bundle"))
    bundle = out / "evidence-top-stations.zip"
    # the demo's throwaway key may sit unencrypted (a real service refuses, issue 18); with
    # POLLWATCH_KEY_PASSPHRASE set it is encrypted like any other
    load_or_create_signing_key(service["data_dir"], allow_plaintext=True)
    # only the top stations' entries, with inclusion proofs; the demo's simulated reports were
    # never reviewed, so it asks for unreviewed ones too (a deployment leaves that out)
    write_dossier_bundle(
        service["url"], service["data_dir"], bundle, fusion["dossiers"], include_unreviewed=True
    )
    verified = verify_bundle(bundle)
    say(N_("writing the report"))
    # the computation above is in English (results.json, the signed bundle and the service keep
    # English texts and codes); only what the report shows is written in ``lang``
    with use_language(lang):
        sections = [
            results_section(
                "pvt",
                gettext("Quick count (observers' protocol copies)"),
                [pvt],
                intro=gettext(
                    "Observers copied the protocol at {n} randomly drawn stations. The quick "
                    "count tests the tabulation; protocols that changed between the station and "
                    "the centre are listed station by station."
                ).format(n=n_observed),
            ),
            results_section(
                "cameras",
                gettext("Camera monitoring"),
                [cams, cam_status],
                intro=gettext(
                    "Watchers counted voters on the cameras of {n} stations chosen by the "
                    "commission (not a random sample). Windows when a camera was turned away or "
                    "dark are missing data, never zero voters."
                ).format(n=n_cameras),
            ),
            results_section(
                "claims",
                gettext("Published claims (the real 2024 election)"),
                [claims],
                intro=gettext(
                    "The public figures about the real election of 7 February 2024 (example "
                    "dataset shipped with pollwatch), reconciled with each other and with "
                    "arithmetic."
                ),
            ),
            rollup_section(fusion["rollup"]),
            # a dossier writes its sentences when it is built: the report's copies are built
            # in the report's language (the bundle above holds the English ones)
            dossier_section(
                fusion["dossiers"]
                if lang == "en"
                else station_dossiers(fusion["station_ids"], **fusion["dossier_inputs"]),
                fusion["ranks"],
            ),
        ]
        paths = write_all(analysis, out, extra_sections=sections, lang=lang)
    paths.update({f"data/{k}": v for k, v in files.items()})
    paths[N_("evidence bundle")] = bundle  # (the CLI lists the outputs by these names)
    paths[N_("service database")] = out / "service" / "pollwatch.db"
    sources = {
        "pvt": pvt,
        "cameras": cams,
        "camera_estimate": cam_est,
        "camera_status": cam_status,
        "claims": claims,
        "altered": altered,
        "design": design,
        "incidents": incidents,
        "service": service,
        "sample": sample,
        "quickcount_live": quickcount_live,
        "bundle": verified,
        **fusion,
    }
    return DemoResult(out, paths, sim, analysis, time.perf_counter() - t0, sources)


def fuse_sources(
    election,
    analysis,
    pvt,
    copies,
    cams,
    status,
    service: dict,
    sim: Simulation,
    n_dossiers: int = 10,
    camera_estimate=None,
) -> dict:
    """Fused scores, the roll-up against the injected stuffing, and the top stations' dossiers."""
    import numpy as np
    import polars as pl

    from pollwatch.fusion import fused_scores, rollup
    from pollwatch.service.sources.dossier import observer_reports_from_db
    from pollwatch.service.sources.evidence import open_database

    engine, sessions = open_database(service["url"], service["data_dir"])
    try:
        with sessions() as s:
            reports = observer_reports_from_db(s, election_id=service["election_id"])
    finally:
        engine.dispose()
    fused = fused_scores(
        election, analysis=analysis, pvt=pvt, copies=copies, cameras=cams, observer_reports=reports
    )
    ids = pl.DataFrame({"station_id": np.asarray(election.station_ids).astype(str)})
    truth = ids.join(
        sim.truth.select("station_id", "stuffed", "ballots_added", "fraud"),
        on="station_id",
        how="left",
        maintain_order="left",
    ).fill_null(0)
    roll = rollup(
        fused,
        analysis=analysis,
        pvt=pvt,
        cameras=cams,
        election=election,
        truth=truth["stuffed"].to_numpy() > 0,
        truth_totals={  # quantity names: shown translated in the roll-up's summary
            N_("ballots added (stuffing)"): float(truth["ballots_added"].sum()),
            N_("fraudulent votes for the leader"): float(truth["fraud"].sum()),
        },
    )
    # the top stations overall, then the top observed ones (where observers' evidence and photos are)
    top = fused.top(n_dossiers)
    seen = set(top["station_id"].to_list())
    obs = fused.table.filter(pl.col("observed") & ~pl.col("station_id").is_in(list(seen)))
    top = pl.concat([top, obs.sort(["rank", "station_id"]).head(max(n_dossiers // 2, 1))])
    inputs = {
        "election": election,
        "analysis": analysis,
        "pvt": pvt,
        "copies": copies,
        "cameras": cams,
        "camera_status": status,
        "observer_reports": reports,
        "camera_estimate": camera_estimate,
    }
    top_ids = top["station_id"].to_list()
    return {
        "fused": fused,
        "rollup": roll,
        "dossiers": station_dossiers(top_ids, **inputs),
        "ranks": top["rank"].to_list(),
        "observer_reports": reports,
        "station_ids": top_ids,
        "dossier_inputs": inputs,
    }


def station_dossiers(station_ids: list[str], **inputs: Any) -> list[StationDossier]:
    """The dossiers of ``station_ids`` from the demo's sources (``inputs``: the keyword
    arguments of :func:`pollwatch.fusion.station_dossier`), their sentences in the language of
    the enclosing ``use_language``."""
    from pollwatch.fusion import station_dossier

    return [station_dossier(sid, **inputs) for sid in station_ids]
