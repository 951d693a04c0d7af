"""The quick count in Azerbaijani and Russian (issue 22): every ``summary()`` of
``pollwatch.quickcount`` (estimate, lead and majority calls, breakdown, convergence, the
pre-registered verdict, the comparisons, observers' turnout, sample design and size, exit polls)
and the report's quick-count section, built on simulated data (``qc_cases``), carry no English
sentence in the display language; the calls stay English in the result and its JSON.

Russian: no run of 3 or more Latin-letter words once names and codes are taken out. Azerbaijani
is written in Latin letters, so there each text the summary shows (title, sentence, row label,
row value, note) is compared with the English one: one that has an English word in it must
differ from it."""

from __future__ import annotations

import html
import json
import pickle
import re

import pytest

from pollwatch.i18n import Note, note, use_language
from pollwatch.i18n.text import Join, say
from pollwatch.quickcount.estimate import QuickCountResult, estimate_lead, majority_call
from pollwatch.report import results_section

from . import qc_cases  # noqa: TID252

#: names and codes of the simulated data that stay as they are in every language (candidates,
#: regions and strata, station ids, the exit poll's organisation, method names, rule codes)
KEPT = (
    r"Candidate [A-Z]",
    r"\b(?:region|urban|rural|nowhere|Org|PVT|ANOVA|Holm|holm|Kish|JSON|ISO|UTC)\b",
    r"\b\w*_\w*\b",  # codes: invalid_share, candidates_sum_valid, ballots_in_boxes
    r"docs/\S+",
    r"`[^`]*`",
)
LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z'’-]*(?:[\s,;:()]+[A-Za-z][A-Za-z'’-]*){2,}")
ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")


def _strip_kept(text: str) -> str:
    for pattern in KEPT:
        text = re.sub(pattern, " # ", text)
    return text


def latin_runs(text: str) -> list[str]:
    """Runs of 3+ Latin-letter words in ``text`` (names and codes taken out)."""
    return LATIN_RUN.findall(_strip_kept(text))


def has_english(text: str) -> bool:
    return bool(ENGLISH_WORD.search(_strip_kept(text)))


def _validate_reasons(cases) -> set[str]:
    """The control relations' own messages (``pollwatch.validate.protocol``) that a quarantined
    copy's reasons quote: English still, that module is not converted yet (see the report)."""
    out = set()
    for r in cases.values():
        if isinstance(r, QuickCountResult):
            out |= {x for q in r.quarantined for x in q.reasons if not isinstance(x, Note)}
    return out


def _texts(summary) -> list[str]:
    """Every text a summary shows, in order (title, sentence, row labels and values, notes)."""
    return [
        summary.title,
        summary.text,
        *[x for row in summary.rows for x in row],
        *summary.notes,
    ]


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    return qc_cases.build(tmp_path_factory.mktemp("qc"))


@pytest.fixture(scope="module")
def shown(cases) -> dict[str, dict[str, list[str]]]:
    """lang -> case -> the texts of its summary in that language."""
    out: dict[str, dict[str, list[str]]] = {}
    for lang in ("en", "az", "ru"):
        with use_language(lang):
            out[lang] = {k: _texts(r.summary()) for k, r in cases.items()}
    return out


def test_the_cases_show_the_sentences(shown):
    """The simulated cases reach the calls and verdicts the test is about (not vacuous)."""
    en = "\n".join(t for texts in shown["en"].values() for t in texts)
    for sentence in (
        "ahead, verified",
        "too close to call",
        "below 50 % of valid votes, verified",
        "above 50 % of valid votes, verified",
        "Too early to judge: only",
        "Discrepancy: the official",
        "Consistent: the official",
        "copy quarantined by the checks before counting",
        "copies from stations outside the sample listed",
        "Some evidence that early and late reporters differ",
        "is inside the observers' interval",
        "more turnout than the observers counted: beyond counting error",
        "stays ahead: decided",
        "could overturn the lead",
        "differs beyond sampling error",
        "Only 11 degrees of freedom",
        "Bootstrap: 40 Rao–Wu replicates",
        "direct evidence that figures changed",
    ):
        assert sentence in en, sentence


def test_no_english_in_russian_summaries(shown, cases):
    quoted = _validate_reasons(cases)
    left = {}
    for name, texts in shown["ru"].items():
        for text in texts:
            for q in quoted:  # validate's messages, quoted inside a translated note
                text = text.replace(q, "")
            if runs := latin_runs(text):
                left.setdefault(name, []).extend(runs)
    assert left == {}


@pytest.mark.parametrize("lang", ["az", "ru"])
def test_no_text_with_english_words_is_left_as_the_english(shown, lang):
    """Azerbaijani's check (and Russian's second one: a short call such as "B ahead, verified"
    is too short a run of Latin words for the first)."""
    same = {}
    for name, en in shown["en"].items():
        other = shown[lang][name]
        assert len(other) == len(en), name  # the same rows and notes, in the same order
        for e, o in zip(en, other, strict=True):
            if has_english(e) and e == o:
                same.setdefault(name, []).append(e)
    assert same == {}


def _section_text(cases, lang: str) -> str:
    with use_language(lang):
        section = results_section("quickcount", "Quick count", list(cases.values()))
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", section.html)).split())


def test_report_section_in_russian(cases):
    text = _section_text(cases, "ru")
    assert "Summary unavailable" not in text and len(text) > 10_000
    for q in _validate_reasons(cases):
        text = text.replace(" ".join(q.split()), "")
    assert latin_runs(text) == []


def test_report_section_in_azerbaijani_has_none_of_the_english_sentences(cases, shown):
    text = _section_text(cases, "az")
    english = {t for texts in shown["en"].values() for t in texts[1:2]}  # the sentences
    english |= {
        n for texts in shown["en"].values() for n in texts if n.endswith(".") and len(n) > 40
    }
    english -= _validate_reasons(cases)
    left = sorted(e for e in english if " ".join(e.split()) in text)
    assert left == []


def test_the_detector_finds_an_english_sentence(shown):
    """The Russian check sees English: the English summaries fail it, names alone do not."""
    english = [t for texts in shown["en"].values() for t in texts]
    assert sum(bool(latin_runs(t)) for t in english) > 100
    assert latin_runs("Candidate C впереди, подтверждено; R00 | rural, urban") == []
    assert latin_runs("доля Candidate C: too close to call") == ["too close to call"]
    assert has_english("B ahead, verified") and not has_english("Candidate C, R00 | rural")


def test_calls_stay_english_in_the_result_and_json(cases):
    """The stored calls and notes are the English strings (scripts read them), in any language."""
    r = cases["estimate"]
    with use_language("ru"):
        doc = json.loads(json.dumps(r.to_dict()))
        lead = cases["lead_vector"]
    assert doc["lead"]["call_t"] == r.lead.call_t == "Candidate C ahead, verified"
    assert doc["majority"].startswith("Candidate C below 50 % of valid votes, verified")
    assert (lead.call_z, lead.call_t) == ("B ahead, verified", "too close to call")
    verdict = cases["too_early"].to_dict()
    assert verdict["reason"].startswith("Too early to judge: only 4.0 % of the drawn stations")


def test_a_call_is_said_again_in_each_language():
    r = estimate_lead([120, 80, 150], [150, 140, 200], [300, 250, 400])
    assert r.call_z == "B ahead, verified"  # §1.3 row 2
    assert say(r.call_z, "ru") == "B впереди, подтверждено"
    assert say(r.call_z, "az") == "B öndədir, təsdiqlənib"
    with use_language("ru"):
        assert r.summary().text == "A − B = -14.74 п. п.: слишком близко, чтобы определить."
    assert r.summary().text == "A − B = -14.74 pp: too close to call."
    m = majority_call(0.4, 0.45, "Alpha")
    assert m.startswith("Alpha below 50 % of valid votes, verified (a run-off")
    assert say(m, "ru").startswith("Alpha: меньше 50 % действительных голосов, подтверждено")


def test_msg_is_its_english_string_and_survives_pickle_and_json():
    joined = Join(note(" and "), [note("{name}'s share", name="A"), note("turnout")])
    m = note("Discrepancy: the official {figures} cannot be explained", figures=joined)
    english = "Discrepancy: the official A's share and turnout cannot be explained"
    assert m == english and isinstance(m, str) and json.dumps(m) == json.dumps(english)
    back = pickle.loads(pickle.dumps(m))
    assert back == english and say(back, "ru") == say(m, "ru")
    assert say("a plain {string}", "ru") == "a plain {string}"  # plain text passes unchanged
