"""One simulated election with every source the fusion reads (official results with stuffing,
an observers' protocol-copy sample with a few altered protocols, camera tallies, incident
reports), shared by the fusion tests and the translation tests."""

from __future__ import annotations

from pollwatch.cameras.compare import compare_official
from pollwatch.cameras.estimate import estimate_turnout
from pollwatch.demo_sources import camera_tallies, observer_incidents, observer_sample
from pollwatch.forensics.run import analyze
from pollwatch.quickcount.compare import compare
from pollwatch.simulate import FraudConfig, Stuffing, simulate_election


def simulated_sources(methods: list[str]) -> dict:
    """The sources of a 1,200-station Azerbaijan-shaped election with stuffing at 30 % of the
    stations, analysed with ``methods``."""

    sim = simulate_election(
        1200,
        seed=3,
        fraud=FraudConfig(stuffing=Stuffing(0.3, intensity=(0.3, 0.8))),
        n_constituencies=20,
        layout="azerbaijan",
        country="AZ",
    )
    design, copies, published, altered = observer_sample(sim, 80, 3, n_altered=3)
    analysis = analyze(published, seed=3, methods=methods)
    pvt = compare(copies, published, seed=3)
    tallies, status, _ = camera_tallies(sim, published, 150, 3)
    cams = compare_official(estimate_turnout(tallies, status, seed=3), published)
    incidents = observer_incidents(sim, design.table["station_id"].to_list(), 3, share=0.5)
    reports = [
        {
            "station_id": i["station_id"],
            "kind": "incident",
            "form": i["category"],
            "severity": i["severity"],
            "status": "new",
            "description": i["description"],
            "media": [{"sha256": "ab" * 32}],
        }
        for i in incidents
    ]
    y = sim.truth["stuffed"].to_numpy() > 0
    return dict(
        sim=sim,
        e=published,
        copies=copies,
        altered=altered,
        analysis=analysis,
        pvt=pvt,
        cams=cams,
        status=status,
        reports=reports,
        y=y,
    )
