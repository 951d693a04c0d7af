"""The methods' plain-language sentences (issue 22): a report built in Russian carries none of
the English sentences that the converted modules write around their numbers.

``tooling.leftover_english`` skips msgids with ``{placeholders}`` (a filled-in sentence never
equals its msgid), so this check cuts each such msgid at its placeholders and looks for its
longest literal piece in the page's text: present in the English report (the check can see the
sentence), absent from the Russian one (it was translated)."""

from __future__ import annotations

import html
import re
import string

import pytest

from pollwatch.cameras.compare import compare_official, status_summary
from pollwatch.cameras.estimate import estimate_turnout
from pollwatch.census import census_check
from pollwatch.census.simulation import simulate_census
from pollwatch.claims.check import check_claims
from pollwatch.claims.model import Claim
from pollwatch.demo_sources import camera_tallies
from pollwatch.forensics.run import analyze
from pollwatch.fusion import ForensicEvidence, build_dossier, observer_evidence
from pollwatch.i18n import tooling, use_language
from pollwatch.report import build_report, render
from pollwatch.report.html import labels_translated
from pollwatch.simulate import simulate_election

#: the modules whose summary sentences go through gettext (catalogue locations)
CONVERTED = ("forensics/",)
MIN_PIECE = 25  # a shorter literal ("stations (") could occur in a translated page by chance


def _pieces(
    lang: str, where: tuple[str, ...] = CONVERTED, least: int = MIN_PIECE
) -> dict[str, str]:
    """msgid -> its longest literal piece, for the converted modules' sentences."""
    out = {}
    for m in tooling.read(lang):
        if not (isinstance(m.id, str) and m.id and isinstance(m.string, str) and m.string):
            continue
        if not any(f.startswith(where) for f, _ in m.locations):
            continue
        literals = [lit for lit, _, _, _ in string.Formatter().parse(m.id)]
        piece = max((" ".join(lit.split()) for lit in literals), key=len)
        if len(piece) >= least and piece not in " ".join(m.string.split()):
            out[m.id] = piece
    return out


def _text(page: str) -> str:
    # <code> is left out as tooling.leftover_english leaves it out: the parameters block shows
    # results.json as it is, in English on purpose (a units description is one of its values)
    page = re.sub(r"<code>.*?</code>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    analysis = analyze(simulate_election(3000, seed=3).election, seed=1)
    return {lang: _text(render(build_report(analysis, lang=lang))) for lang in ("en", "ru")}


def test_no_english_method_sentence_in_russian_report(pages):
    pieces = _pieces("ru")
    seen_en = {mid for mid, piece in pieces.items() if piece in pages["en"]}
    # the English report shows many of these sentences: the check below is not vacuous
    assert len(seen_en) >= 15, sorted(seen_en)
    left = sorted(mid for mid, piece in pieces.items() if piece in pages["ru"])
    assert left == []


def test_check_fails_on_an_english_sentence(pages):
    """An English sentence slipped into the Russian page is found."""
    pieces = _pieces("ru")
    mid, piece = next(iter(pieces.items()))
    assert piece not in pages["ru"]
    assert piece in pages["ru"] + " " + mid


def _dossier_text() -> str:
    d = build_dossier(
        "S1",
        forensic=ForensicEvidence(rank=1, points=2.5, n_stations=9, signals=("integer",)),
        observers=observer_evidence(
            [
                {
                    "kind": "incident",
                    "form": "ballot_stuffing",
                    "severity": "high",
                    "status": "verified",
                    "media": [{"sha256": "f" * 64}],
                }
            ]
        ),
    )
    return " ".join([d.text, *(e.text for e in d.evidence)])


def test_dossier_sentences_in_the_current_language():
    """fusion.dossier writes its sentences in the language of the enclosing use_language."""
    pieces = _pieces("ru", ("fusion/dossier.py",), least=12)
    english, russian = _dossier_text(), None
    with use_language("ru"):
        russian = _dossier_text()
    assert sum(piece in english for piece in pieces.values()) >= 3, english
    assert sorted(mid for mid, piece in pieces.items() if piece in russian) == [], russian
    assert russian != english


def test_census_and_claims_sentences_in_the_current_language():
    """census (check, estimate, bound) and claims.check write their summary sentences and
    fixed notes in the language of the enclosing use_language."""
    night = simulate_census(3, stations=600, regions=4)
    claims = [
        Claim(
            source="CEC", speaker="", quantity="candidate_share:Candidate A", value=42.4, unit="%"
        ),
        Claim(source="CEC", speaker="", quantity="winner_share", value=99.0, unit="%"),
    ]
    check = census_check(night.sheets, night.official, claims)
    results = [check, check.estimate, check.bound, check_claims(claims, night.official)]

    def said() -> str:  # as the report shows a summary: its notes said in the language
        shown = (labels_translated(r.summary()) for r in results)
        return " ".join(s.text + " " + " ".join(s.notes) for s in shown)

    pieces = _pieces("ru", ("census/", "claims/check.py"), least=12)
    english = said()
    with use_language("ru"):
        russian = said()
    assert sum(piece in english for piece in pieces.values()) >= 5, english
    assert sorted(mid for mid, piece in pieces.items() if piece in russian) == [], russian


def test_camera_sentences_in_the_current_language():
    """cameras (estimate, agreement, comparison, status) write their summary sentences in the
    language of the enclosing use_language."""
    sim = simulate_election(600, seed=3, layout="azerbaijan", country="AZ")
    tallies, status, _ = camera_tallies(sim, sim.election, 60, 3)
    est = estimate_turnout(tallies, status, seed=3)
    results = [est, est.agreement, compare_official(est, sim.election), status_summary(status)]

    def said() -> str:
        return " ".join(r.summary().text for r in results)

    pieces = _pieces("ru", ("cameras/",), least=12)
    english = said()
    with use_language("ru"):
        russian = said()
    assert sum(piece in english for piece in pieces.values()) >= 4, english
    assert sorted(mid for mid, piece in pieces.items() if piece in russian) == [], russian
