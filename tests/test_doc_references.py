"""Every document the code and the report cite is in the repository (issue 17).

A reference is any ``name.md`` token in ``src/pollwatch`` (Python, Jinja/HTML templates, JS, TOML,
YAML, JSON) or in a rendered report, optionally followed by sections (``§2.1``, ``§3, §7``,
``§1.2–1.3``, ``§1.1 and §6``). Each must be a repository path under ``docs/`` (a bare
``forensics.md`` does not resolve for a reader with only the repository), the file must exist, and
every cited section must be a heading of that file that starts with the section's number
(``## 2.1 …`` or ``## 2. …``).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from pollwatch.forensics.run import analyze
from pollwatch.model import Election, ElectionMeta
from pollwatch.report import write_all
from pollwatch.report.caveats import caveat_source

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "pollwatch"
SUFFIXES = {
    ".py",
    ".j2",
    ".html",
    ".toml",
    ".yaml",
    ".yml",
    ".json",
    ".txt",
    ".js",
    ".css",
    ".mako",
    ".po",
}

_NUM = r"\d+(?:\.\d+)*"
#: a path, optional closing backticks/quotes, then optional sections on the same or next line
REF = re.compile(
    r"(?P<path>[A-Za-z0-9_./-]+\.md)(?![A-Za-z0-9_])[`'\"]*"
    rf"(?P<secs>\s*(?:#\s*)?§\s*{_NUM}"
    rf"(?:(?:\s*(?:,|and|or)\s*§\s*{_NUM})|(?:\s*[–-]\s*§?\s*{_NUM}(?![\d.]*\s*[A-Za-z%])))*)?"
)
SECTION = re.compile(rf"§?\s*({_NUM})")


def parse(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """``(path, sections)`` for every ``.md`` reference in ``text``."""
    return [(path, secs) for path, secs, _ in parse_at(text)]


def parse_at(text: str) -> list[tuple[str, tuple[str, ...], int]]:
    """``(path, sections, line number)`` for every ``.md`` reference in ``text``."""
    return [
        (
            m.group("path"),
            tuple(SECTION.findall(m.group("secs") or "")),
            text.count("\n", 0, m.start()) + 1,
        )
        for m in REF.finditer(text)
    ]


def test_parse_forms() -> None:
    assert parse("``docs/methods/forensics.md`` §1.1 and §6; x") == [
        ("docs/methods/forensics.md", ("1.1", "6"))
    ]
    assert parse("(docs/methods/forensics.md §3, §7, §8,\n    more)") == [
        ("docs/methods/forensics.md", ("3", "7", "8"))
    ]
    assert parse("docs/methods/forensics.md §1.2–1.3).") == [
        ("docs/methods/forensics.md", ("1.2", "1.3"))
    ]
    assert parse("docs/methods/quickcount-and-cameras.md §1.2 e–g") == [
        ("docs/methods/quickcount-and-cameras.md", ("1.2",))
    ]
    assert parse("see docs/calibration.md).") == [("docs/calibration.md", ())]
    assert parse("forensics.md §2.") == [("forensics.md", ("2",))]


@cache
def headings(path: Path) -> tuple[str, ...]:
    return tuple(
        line.lstrip("#").strip()
        for line in path.read_text("utf-8").splitlines()
        if line.startswith("#")
    )


def problems(refs: list[tuple[str, str, tuple[str, ...]]]) -> list[str]:
    bad = []
    for where, path, secs in refs:
        if not path.startswith("docs/"):
            bad.append(f"{where}: {path!r} is not a repository path (write docs/…)")
            continue
        target = ROOT / path
        if not target.is_file():
            bad.append(f"{where}: {path} does not exist")
            continue
        heads = headings(target)
        for sec in secs:
            pat = re.compile(rf"{re.escape(sec)}(?:\.?\s|\.?$)")
            if not any(pat.match(h) for h in heads):
                bad.append(f"{where}: {path} has no heading §{sec}")
    return bad


def source_refs() -> list[tuple[str, str, tuple[str, ...]]]:
    refs = []
    for f in sorted(SRC.rglob("*")):
        if f.suffix not in SUFFIXES or not f.is_file() or "__pycache__" in f.parts:
            continue
        text = f.read_text("utf-8")
        for path, secs, line in parse_at(text):
            refs.append((f"{f.relative_to(ROOT)}:{line}", path, secs))
    return refs


def test_sources_cite_documents() -> None:
    refs = source_refs()
    # the method documents are cited from dozens of places; an empty scan means a broken pattern
    assert sum(p.startswith("docs/methods/") for _, p, _ in refs) >= 40
    assert problems(refs) == []


def test_method_documents_exist() -> None:
    for name in ("forensics", "reference-numbers", "quickcount-and-cameras"):
        assert (ROOT / "docs" / "methods" / f"{name}.md").is_file()


def _small_election(n: int = 400, seed: int = 5) -> Election:
    rng = np.random.default_rng(seed)
    reg = rng.lognormal(6.5, 0.4, n).astype(int) + 50
    issued = rng.binomial(reg, np.clip(rng.normal(0.55, 0.08, n), 0.05, 0.95))
    invalid = rng.binomial(issued, 0.015)
    valid = issued - invalid
    lead = rng.binomial(valid, 0.45)
    b = rng.binomial(valid - lead, 0.6)
    return Election.from_arrays(
        registered=reg,
        valid=valid,
        invalid=invalid,
        votes={"Incumbent": lead, "Challenger B": b, "Challenger C": valid - lead - b},
        hierarchy={
            "region": rng.choice(["North", "South"], n),
            "district": rng.choice(["D1", "D2", "D3"], n),
        },
        fields={"ballots_issued_station": issued, "ballots_stationary_box": valid + invalid},
        meta=ElectionMeta(name="Doc reference test", country="XX", date="2024-02-07"),
    )


@pytest.fixture(scope="module")
def report_html(tmp_path_factory) -> str:
    # the cheap methods whose caveats cite documents; the expensive fits cite through the same table
    methods = ["fingerprint", "regression", "integer_percentages", "digits", "shpilkin", "carousel"]
    analysis = analyze(_small_election(), seed=1, methods=methods)
    paths = write_all(analysis, tmp_path_factory.mktemp("report"))
    return paths["report.html"].read_text("utf-8")


def test_rendered_report_cites_documents(report_html: str) -> None:
    refs = [("report.html", p, s) for p, s in parse(report_html)]
    assert any(p.startswith("docs/methods/") for _, p, _ in refs)
    assert problems(refs) == []


def test_legal_citation_follows_the_country(report_html: str) -> None:
    """A Russian file's carousel section must not cite the Azerbaijani Election Code (issue 17)."""
    assert "Azerbaijani Election Code" in caveat_source("carousel", "AZ")
    assert "Azerbaijani" not in caveat_source("carousel", "RU")
    assert "67-FZ" in caveat_source("carousel", "ru")
    # a country with no law on file gets no legal citation at all
    assert (
        caveat_source("carousel", "XX")
        == caveat_source("carousel", None)
        == "docs/methods/forensics.md §8."
    )
    assert "Election Code" not in report_html and "67-FZ" not in report_html
