"""Report sections for the independent sources given to ``pollwatch analyze``: observers'
protocol copies (quick count), camera tallies and public claims. Each reads its file,
runs its method against the official election and returns a :class:`Section`."""

from __future__ import annotations

from pathlib import Path

from pollwatch.cameras.compare import compare_official, status_summary
from pollwatch.cameras.data import read_status_log, read_tallies
from pollwatch.cameras.estimate import estimate_turnout
from pollwatch.claims import check_claims, load_claims
from pollwatch.i18n import gettext
from pollwatch.model import Election
from pollwatch.quickcount.compare import compare
from pollwatch.quickcount.copies import read_protocol_copies
from pollwatch.report.html import Section, results_section


def pvt_section(copies_path: str | Path, election: Election, *, seed: int = 0) -> Section:

    copies = read_protocol_copies(copies_path)
    pvt = compare(copies, election, seed=seed)
    return results_section(
        "pvt",
        gettext("Quick count (observers' protocol copies)"),
        [pvt],
        intro=gettext(
            "Protocol copies from {path}. The quick count tests the tabulation; "
            "protocols that changed between the station and the centre are listed by station."
        ).format(path=copies_path),
    )


def cameras_section(
    tallies_path: str | Path,
    election: Election,
    status_path: str | Path | None = None,
    *,
    seed: int = 0,
) -> Section:

    tallies = read_tallies(tallies_path)
    status = read_status_log(status_path) if status_path else None
    est = estimate_turnout(tallies, status, seed=seed)
    parts = [compare_official(est, election)] + (
        [status_summary(status)] if status is not None else []
    )
    return results_section(
        "cameras",
        gettext("Camera monitoring"),
        parts,
        intro=gettext(
            "Watcher tallies from {path}. Windows when a camera was dark or turned "
            "away are missing data, never zero voters."
        ).format(path=tallies_path),
    )


def claims_section(claims_path: str | Path, election: Election | None = None) -> Section:

    check = check_claims(load_claims(claims_path), election)
    return results_section(
        "claims",
        gettext("Published claims"),
        [check],
        intro=gettext(
            "Claims from {path}, reconciled with each other, with arithmetic and "
            "with the figures computed from the official file."
        ).format(path=claims_path),
    )
