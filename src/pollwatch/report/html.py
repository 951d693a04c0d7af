"""Render a report to one self-contained HTML file (inline SVG, inline CSS/JS, no network)."""

from __future__ import annotations

import datetime as _dt
import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from pollwatch.i18n import Note, gettext, jinja_environment, translated
from pollwatch.report.figures import Figure
from pollwatch.results import Summary


@dataclass
class Section:
    key: str
    title: str
    intro: str = ""
    html: str = ""
    figures: list[Figure] = field(default_factory=list)
    tooltip: str = ""  # one line saying what the section is for (the heading's title)


@dataclass
class Headline:
    """``text``: at most three sentences, HTML (its numbers are links), built from escaped parts."""

    text: str
    strength: str
    rule: str
    cards: list[dict] = field(default_factory=list)


@dataclass
class Report:
    title: str
    election: dict
    headline: Headline
    sections: list[Section]
    version: str
    generated: str = field(
        default_factory=lambda: _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    )
    #: the page's own words (contents, footer): pollwatch.report.glossary.TEXT
    text: dict = field(default_factory=dict)
    #: the language it was built in (``<html lang>``, the template's own words)
    lang: str = "en"


def slug(value: str) -> str:
    """An HTML id from a key: letters, digits and hyphens."""
    return re.sub(r"[^A-Za-z0-9]+", "-", str(value)).strip("-").lower()


def _env(lang: str = "en") -> jinja2.Environment:
    """The report template in ``lang`` (the same Jinja2 i18n set-up as the service's pages)."""
    env = jinja_environment(
        jinja2.PackageLoader("pollwatch.report", "templates"),
        lang,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["slug"] = slug
    return env


def render(report: Report) -> str:
    return (
        _env(report.lang)
        .get_template("report.html.j2")
        .render(
            title=report.title,
            election=report.election,
            headline=report.headline,
            sections=report.sections,
            version=report.version,
            generated=report.generated,
            text=report.text,
            lang=report.lang,
        )
    )


def write_html(report: Report, path: str | Path) -> Path:
    path = Path(path)
    path.write_text(render(report), encoding="utf-8")
    return path


def labels_translated(s: Summary) -> Summary:
    """``s`` with its title and row labels in the current language (the catalogue has them:
    ``tooling.extract_summaries``), each note in it too: a fixed caveat (``N_``-marked) as the
    catalogue has it, a note written around numbers (a :class:`pollwatch.i18n.Note`) said again
    from its parts; the same for a sentence or row value that is a ``Note``. The sentence is
    otherwise already in the language (the methods write it with ``gettext``)."""

    def value(v: str) -> str:
        return translated(v) if isinstance(v, Note) else v

    return Summary(
        translated(s.title),
        value(s.text),
        [(translated(k), value(v)) for k, v in s.rows],
        [translated(n) for n in s.notes],
    )


def results_section(key: str, title: str, results: list, intro: str = "", figures=None) -> Section:
    """A report section made of result objects' summaries (anything with ``summary()``)."""
    parts = []
    for r in results:
        try:
            parts.append(labels_translated(r.summary()).as_html())
        except Exception as exc:  # a summary must never take the report down
            error = f"{type(exc).__name__}: {exc}"
            parts.append(
                f"<p>{html.escape(gettext('Summary unavailable: {error}').format(error=error))}</p>"
            )
    return Section(key, title, intro=intro, html="".join(parts), figures=list(figures or []))
