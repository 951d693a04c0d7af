"""Notes written at analysis time with numbers in them (issue 22): ``pollwatch.i18n.Note`` is
the English ``str`` that results.json, warnings and the English report keep, and says itself
again in another language from its msgid and values where it is shown."""

from __future__ import annotations

import json
import pickle
import warnings

from pollwatch.errors import SmallSampleWarning
from pollwatch.forensics.headline import MIXTURE_RULE, PERMUTATION_RULE, headline, restate
from pollwatch.forensics.strength import RULE
from pollwatch.i18n import Note, gettext, note, note_plural, tooling, translated, use_language
from pollwatch.report.caveats import calibration_notes
from pollwatch.report.html import labels_translated
from pollwatch.results import Summary
from pollwatch.validate import validate
from pollwatch.validate.findings import MESSAGES, message

from ..validate.test_rules import _station  # noqa: TID252 - one consistent AZ station

STATIONS = "only {n} stations: the turnout curves are too sparse for a stable natural peak"


def test_a_note_is_its_english_and_says_itself_in_russian():
    n = note(STATIONS, n=12)
    assert isinstance(n, str) and n == STATIONS.format(n=12)
    assert json.dumps({"notes": [n]}) == json.dumps({"notes": [STATIONS.format(n=12)]})
    said = translated(n, "ru")
    assert said == gettext(STATIONS, "ru").format(n=12) and "12" in said
    assert said != n and "stations" not in said
    assert translated(n, "en") == n
    # a worker process gets it back whole (the methods run in process pools)
    back = pickle.loads(pickle.dumps(n))
    assert isinstance(back, Note) and back == n and translated(back, "ru") == said


def test_nested_notes_and_plurals_are_translated_too():
    inner = note("the whole election (no hierarchy)")
    outer = note("{n} units of {level}", n=3, level=inner)
    assert outer == "3 units of the whole election (no hierarchy)"
    assert gettext("the whole election (no hierarchy)", "ru") in translated(outer, "ru")
    p = note_plural("{n} station", "{n} stations", 1)
    assert p == "1 station" and note_plural("{n} station", "{n} stations", 4) == "4 stations"
    # a plain string is the catalogue's (a fixed, N_-marked note); anything else unchanged
    assert translated("n/a", "ru") == gettext("n/a", "ru") != "n/a"
    assert translated("Region 07", "ru") == "Region 07" and translated(None, "ru") is None


def test_a_note_warns_in_english():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn(note(STATIONS, n=3), SmallSampleWarning, stacklevel=1)
    assert str(caught[0].message) == STATIONS.format(n=3)


def test_summary_shown_in_russian_translates_notes_and_note_values_only():
    s = Summary(
        "Shpilkin excess-vote estimate",
        "текст",
        [("excess votes", note("{n} fits, summed", n=4)), ("seed", "Region 07")],
        [note(STATIONS, n=9), "Region 07: data"],
    )
    with use_language("ru"):
        shown = labels_translated(s)
    assert shown.notes[0] == gettext(STATIONS, "ru").format(n=9)
    assert shown.notes[1] == "Region 07: data"  # not a catalogue message: as it is
    assert shown.rows[0][1] == gettext("{n} fits, summed", "ru").format(n=4)
    assert shown.rows[1][1] == "Region 07"  # a value that is data is never looked up


class _Bounds:
    """The two readings of the regional excess bounds that the headline combines."""

    class _R:
        def __init__(self, excess: float, beyond: float, pvalue: float, low: float, high: float):
            self.excess, self.beyond_null, self.pvalue = excess, beyond, pvalue
            self.lower, self.upper, self.sd_boot = low, high, 10_000.0

    def __init__(self, pvalue: float):
        self.flat = self._R(120_000, 60_000, pvalue, 50_000, 200_000)
        self.trend = self._R(100_000, 50_000, pvalue, 40_000, 180_000)
        self.units = note("{n} units of {level}", n=6, level="'region'")
        self.confidence_level = 0.975


class _Mixture:
    def __init__(self, votes: float):
        self.manufactured_votes = votes
        self.strata_results = (1, 2)


def _english(statement: str) -> str:
    return str.__str__(statement)


def test_headline_statement_english_in_json_russian_in_the_report():
    for bounds, mix in ((_Bounds(0.001), _Mixture(90_000)), (_Bounds(0.4), _Mixture(10))):
        h = headline(bounds, mix, ballots_cast=2_000_000, leader="Incumbent")
        block = json.loads(json.dumps(h.block({})))  # results.json as a script reads it back
        assert block["statement"] == _english(h.statement)
        assert isinstance(h.statement, Note)
        # read back from the file, the statement is said again from its parts
        again = restate(block, "Incumbent")
        assert isinstance(again, Note) and again == block["statement"]
        ru = translated(again, "ru")
        assert "Incumbent" in ru and "falsified" not in ru and "evidence" not in ru
    # a statement this version would not write (an older file) is shown as it is
    block["statement"] = "An older wording."
    assert restate(block, "Incumbent") == "An older wording."
    assert not isinstance(restate(block, "Incumbent"), Note)


def test_headline_not_computed_names_the_rules_in_words():
    h = headline(None, None, ballots_cast=1_000, leader="X")
    assert PERMUTATION_RULE in h.statement and MIXTURE_RULE in h.statement
    ru = translated(h.statement, "ru")
    assert gettext(PERMUTATION_RULE, "ru") in ru and gettext(MIXTURE_RULE, "ru") in ru


def test_strength_rule_said_in_russian():
    ru = translated(RULE, "ru")
    assert "strong" in RULE and "strong" not in ru and "1.94" in ru


def test_finding_message_rederived_from_the_row():
    row = {"expected": "120", "found": "131", "message": "expected 120, found 131"}
    said = message(row)
    assert isinstance(said, Note) and said == row["message"]
    assert translated(said, "ru") == gettext(MESSAGES["="], "ru").format(expected=120, found=131)
    # the table as the rules write it: one station whose boxes hold more than was cast (=),
    # and one with more ballots issued than received (<=)
    for change in ({"A": 401}, {"ballots_received": 550, "ballots_cancelled": -50}):
        f = validate(_station(**change))
        rows = [r for rs in f.examples(3).values() for r in rs]
        assert rows, change
        for r in rows:
            assert isinstance(message(r), Note), r
            assert translated(message(r), "ru") != r["message"]
    # a message this version did not write stays as it is
    assert message({"expected": "1", "found": "2", "message": "odd"}) == "odd"


def test_every_calibration_text_is_in_the_catalogue_and_the_line_is_translated():
    lines = calibration_notes()
    assert lines and all(isinstance(v, Note) for v in lines.values())
    catalog = {m.id: m.string for m in tooling.read("ru") if isinstance(m.id, str)}
    for line in lines.values():
        for v in line.params.values():
            if isinstance(v, Note):
                assert catalog.get(v.msgid), v.msgid  # extracted from the JSON and translated
        ru = translated(line, "ru")
        assert "false-positive rate" not in ru and "on clean simulated elections" not in ru
