"""The analysis report: one self-contained, offline HTML file plus JSON/CSV/Parquet exports.

``build_report(analysis)`` assembles sections and figures (Matplotlib → inline SVG);
``write_html(report, path)`` renders it with Jinja2; ``write_exports`` writes the tables.
``write_all(analysis, out_dir)`` does all three. Sits on top of ``forensics``; imports
``model``, ``results`` and (lazily) the method results it shows.
"""

from __future__ import annotations

from pathlib import Path

from pollwatch.report.build import build_report
from pollwatch.report.exports import write_exports
from pollwatch.report.html import Report, Section, render, results_section, write_html


def write_all(analysis, out_dir: str | Path, *, extra_sections: list[Section] | None = None) -> dict[str, Path]:
    """Write ``report.html``, ``results.json``, ``stations.csv`` and ``stations.parquet``."""
    paths = write_exports(analysis, out_dir)
    paths["report.html"] = write_html(build_report(analysis, extra_sections=extra_sections),
                                      Path(out_dir) / "report.html")
    return paths


__all__ = ["Report", "Section", "build_report", "render", "results_section", "write_all", "write_exports", "write_html"]
