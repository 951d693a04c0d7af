"""The analysis report: one self-contained, offline HTML file plus JSON/CSV/Parquet exports.

``build_report(analysis)`` assembles sections and figures (Matplotlib → inline SVG);
``write_html(report, path)`` renders it with Jinja2; ``write_exports`` writes the tables.
``write_all(analysis, out_dir)`` does all three. ``fusion`` and ``sources`` build the sections
for fused evidence and for the other sources (quick count, cameras, claims). The report sits
above the methods and ``fusion`` and below the service (``docs/architecture.md``): it imports
``model``, ``results``, the strength rule of ``forensics.strength`` (re-exported as
``report.strength``) and the results of the methods and of ``fusion`` it shows.
"""

from __future__ import annotations

from pathlib import Path

from pollwatch.census.check import CensusCheck
from pollwatch.report.build import build_report
from pollwatch.report.census import census_section
from pollwatch.report.exports import write_exports
from pollwatch.report.html import Report, Section, render, results_section, write_html


def write_all(
    analysis,
    out_dir: str | Path,
    *,
    extra_sections: list[Section] | None = None,
    lang: str = "en",
    census: CensusCheck | None = None,
    census_source: str = "",
) -> dict[str, Path]:
    """Write ``report.html``, ``results.json``, ``stations.csv`` and ``stations.parquet``.

    The HTML report is self-contained (figures inline, no network); ``results.json`` opens
    with the headline block and carries every method's result; the station tables hold one
    row per station with its signals and score.

    Parameters
    ----------
    analysis : Analysis
        The result of :func:`pollwatch.analyze`.
    out_dir : str or Path
        The directory to write into (created if missing).
    extra_sections : list of Section, optional
        Further report sections (quick count, cameras, claims, dossiers) placed after the
        forensic ones.
    lang : str, default "en"
        The language of ``report.html``: ``"en"``, ``"az"`` or ``"ru"`` (the exports keep
        their codes and English field names in every language).
    census : CensusCheck, optional
        A tally-sheet census (:func:`pollwatch.census.census_check`): the report gets its
        "Tally-sheet census" section and ``results.json`` its ``census`` block.
    census_source : str
        The sheets file's name, for the section's first sentence.

    Returns
    -------
    dict of str to Path
        Each written file's name and path.

    Examples
    --------
    >>> import tempfile
    >>> from pollwatch import analyze, simulate_election, write_all
    >>> analysis = analyze(simulate_election(2000, seed=1).election, seed=0)
    >>> sorted(write_all(analysis, tempfile.mkdtemp()))
    ['report.html', 'results.json', 'stations.csv', 'stations.parquet']
    """
    paths = write_exports(analysis, out_dir, census=census)
    report = build_report(
        analysis,
        extra_sections=extra_sections,
        lang=lang,
        census=census,
        census_source=census_source,
    )
    paths["report.html"] = write_html(report, Path(out_dir) / "report.html")
    return paths


__all__ = [
    "Report",
    "Section",
    "build_report",
    "census_section",
    "render",
    "results_section",
    "write_all",
    "write_exports",
    "write_html",
]
