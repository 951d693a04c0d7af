"""One short, plain paragraph per method: what it detects, what it cannot see, its source."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pollwatch.i18n import N_, gettext, note


@dataclass(frozen=True)
class Caveat:
    title: str
    detects: str
    blind: str
    source: str


CAVEATS: dict[str, Caveat] = {
    "fingerprint": Caveat(
        "Fingerprint, correlation and turnout–share regression",
        "Ballot stuffing that raises turnout and the leader's share together (a comet towards 100 %/100 %).",
        "Vote switching that leaves turnout unchanged; honest regional differences (ethnic republics, closed "
        "institutions) also make turnout and share move together.",
        "Klimek et al. (2012) PNAS 109(41); Sobyanin & Sukhovolsky regression as in EFToolkit.",
    ),
    "regression": Caveat(
        "Turnout–share regression (Sobyanin–Sukhovolsky)",
        "How each candidate's votes per registered voter grow with turnout: a leader slope above 1 means "
        "extra turnout goes to the leader beyond all of it — consistent with added ballots.",
        "Genuine differences between places with high and low turnout (rural/urban, ethnic regions) give the "
        "same slope pattern; it is an aggregate, not a station finding.",
        "Sobyanin & Sukhovolsky (1993–); EFToolkit; docs/methods/reference-numbers.md §8.",
    ),
    "integer_percentages": Caveat(
        "Whole-percent excess (integer percentages)",
        "Protocols whose turnout or leader share was written to a whole percent instead of counted.",
        "Any fraud that produces non-round numbers; it says nothing about how many votes were added.",
        "Kobak, Shpilkin & Pshenichnikov (2016), Ann. Appl. Stat. 10(1):54–73.",
    ),
    "shpilkin": Caveat(
        "Excess votes (Shpilkin)",
        "Leader ballots added on top of a clean pattern, which raise turnout.",
        "Switching and fraud inside the clean cluster (so it is a lower bound there); it overstates fraud "
        "where genuine support rises with turnout. The natural-peak choice dominates and is reported.",
        "S. Shpilkin's analyses (2011–); docs/methods/forensics.md §2.",
    ),
    "klimek": Caveat(
        "Klimek et al. fraud model",
        "The shape of the fingerprint: how many stations look incrementally or extremely stuffed.",
        "Counts are not conserved: model-implied fraud votes are a shape quantity, not a number to publish. "
        "The L1 and L2 criteria disagree; α is weakly identified.",
        "Klimek, Yegorov, Hanel & Thurner (2012), PNAS 109(41):16469–16473.",
    ),
    "digits": Caveat(
        "Digit tests (2BL, last digit, 0/5)",
        "Made-up numbers with unnatural digit patterns.",
        "A lot: deviations follow no pattern and succeed about as often as a coin toss; fraud can move data "
        "towards the null, and strategic voting moves digits too. Weak evidence on its own.",
        "Mebane (2006, 2011); Beber & Scacco (2012); Deckert, Myagkov & Ordeshook (2011) Political Analysis 19(3).",
    ),
    "coarse_shares": Caveat(
        "Coarse vote shares (Rozenas)",
        "Stations whose shares sit exactly on simple fractions (1/2, 3/4, 4/5 …) more often than chance allows.",
        "Fabricated numbers that avoid simple fractions; small stations produce simple fractions honestly.",
        "Rozenas (2017), Political Analysis 25(1):41–56.",
    ),
    "small_denominators": Caveat(
        "Exact small-denominator shares",
        "More stations whose leader share is exactly 1/2, 2/3, 3/4 … than binomial chance at their own size "
        "and share predicts.",
        "Fabricated numbers that avoid simple fractions; weak on its own (Rozenas expects a small excess even "
        "with fraud), and every tiny station produces simple fractions honestly (the null includes them).",
        "Rozenas (2017), Political Analysis 25(1) §2; binomial null as Kobak, Shpilkin & Pshenichnikov (2016).",
    ),
    "excess_bounds": Caveat(
        "Regional excess votes: bounds and permutation test",
        "Leader ballots added on top of each region's own clean pattern, which raise turnout; the permutation "
        "test asks whether the leader's share rises with turnout inside regions more than chance allows. The "
        "'trend' reading lets the clean ratio follow turnout as it does below each region's peak, so honest "
        "town/country differences inside a region are not counted.",
        "Fraud spread evenly over a whole region, and fraud that leaves turnout unchanged. The raw excess "
        "over-reads (each region's noise adds a little), the excess beyond the permutation null under-reads "
        "under fraud; the headline uses them as bounds, not as the estimate.",
        "Shpilkin's excess (Kobak, Shpilkin & Pshenichnikov 2016, Significance 13(4)) per unit; Fisher "
        "randomisation test (Good 2005); docs/headline.md.",
    ),
    "mixture": Caveat(
        "Finite-mixture fraud model",
        "Per-station probability of no, incremental or extreme fraud, and the implied fraudulent votes.",
        "Fraud that does not follow the model's turnout-and-share pattern; it assumes a single clean population. "
        "The likelihood is flat between clean and lightly stuffed stations: the estimate is where a conservative "
        "fit stops, a deeper search can double a single region's figure, and the intervals do not show that.",
        "Mebane (2016); Ferrari, McAlister & Mebane (2018) — the eforensics model class, fitted by maximum "
        "likelihood with EM's score.",
    ),
    "carousel": Caveat(
        "Carousel signals",
        "Stations with many more absentee-certificate, additional-list or mobile-box voters than their "
        "constituency, the paper trail of imported voters.",
        "Carousels that leave no paper trail; genuine away-voters cluster near stations, airports, hospitals.",
        "docs/methods/forensics.md §8.",
    ),
    "scores": Caveat(
        "Station risk score",
        "Ranks stations by how many independent signals point at them, with every signal listed.",
        "It is a list for observers to check, not a verdict on any station.",
        "pollwatch; weights documented in pollwatch.forensics.scores.",
    ),
}


#: the law behind a method's protocol lines, per country code (``ElectionMeta.country``); a
#: country without an entry gets no legal citation rather than another country's
LEGAL_SOURCES: dict[str, dict[str, str]] = {
    "carousel": {
        "AZ": N_("Azerbaijani Election Code Art. 100.2 (protocol lines) and 106.2 (mobile box)."),
        "RU": N_("Russian Federal Law No. 67-FZ (absentee certificates, protocol lines)."),
    },
}


#: country names as ``--country`` may give them, to the codes of :data:`LEGAL_SOURCES` (the
#: 2012 report said "Russia" and so lost its law citation)
COUNTRY_CODES = {
    "RUSSIA": "RU",
    "RUSSIAN FEDERATION": "RU",
    "РОССИЯ": "RU",
    "AZERBAIJAN": "AZ",
    "AZƏRBAYCAN": "AZ",
}


def legal_source(name: str, country: str | None) -> str | None:
    """The law behind a method's protocol lines in the election's own country, or None."""
    c = (country or "").strip().upper()
    return LEGAL_SOURCES.get(name, {}).get(COUNTRY_CODES.get(c, c))


def caveat_source(name: str, country: str | None) -> str:
    """The caveat's source line, with the legal citation of the election's own country, if
    any, in the current language (authors and journals stay as they are written)."""
    cav = CAVEATS[name]
    law = legal_source(name, country)
    return f"{gettext(cav.source)} {gettext(law)}" if law else gettext(cav.source)


def _quoted(value: str) -> str:
    """A value of the calibration file: a Note when it has words (the catalogue has it whole,
    ``tooling.extract_calibration``), a bare figure as it is."""
    return note(value) if re.search(r"[A-Za-z]{2}", value) else value


def calibration_notes() -> dict[str, str]:
    """One line per method from the measured calibration (``calibration_summary.json``), each a
    :class:`~pollwatch.i18n.Note` (English as a ``str``; the report shows it translated, the
    file's qualifiers and accuracy statements too: ``tooling.extract_calibration``)."""
    import json
    from importlib import resources

    raw = json.loads(
        resources.files("pollwatch.report").joinpath("calibration_summary.json").read_text("utf-8")
    )
    out: dict[str, str] = {}
    for method, d in raw.items():
        if method.startswith("_"):
            continue
        fields = {
            "fpr": _quoted(d["fpr"]),
            "stuffing": _quoted(d["power_stuffing"]),
            "rounding": _quoted(d["power_rounding"]),
        }
        if "accuracy" in d:
            out[method] = note(
                "false-positive rate {fpr} on clean simulated elections; power against stuffing "
                "at 0.6 / 1.6 / 4.5 % of ballots {stuffing}, against protocols rounded at "
                "0.5 / 1 / 3 % of stations {rounding}; {accuracy} (the same decision rules as the "
                "strength rule above; docs/calibration.md).",
                accuracy=_quoted(d["accuracy"]),
                **fields,
            )
        else:
            out[method] = note(
                "false-positive rate {fpr} on clean simulated elections; power against stuffing "
                "at 0.6 / 1.6 / 4.5 % of ballots {stuffing}, against protocols rounded at "
                "0.5 / 1 / 3 % of stations {rounding} (the same decision rules as the strength "
                "rule above; docs/calibration.md).",
                **fields,
            )
    return out
