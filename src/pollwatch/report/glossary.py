"""Every name and sentence the report shows a reader, in plain language, in one place.

The methods speak in codes (``turnout_outlier``, ``shpilkin_test``, ``boxes_le_issued``,
``r(t, s) [min_rv_1]``); the JSON and CSV exports keep them, because scripts read them. The
HTML report shows each code by its :class:`Term` name, with the one-line explanation as a
tooltip (``title``) and again in the glossary section at the end (tooltips do not work on
phones).

All user-visible English strings that the report's own code adds live here as whole strings
(some with ``{named}`` placeholders), never assembled from fragments, so that a translator
(gettext, ``--lang az/ru``) can translate each one as a unit.

A test (tests/report/test_plain_language.py) collects every code the methods, the protocol
checks and the station score can emit and fails if one has no entry here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from pollwatch.i18n import gettext, pgettext

__all__ = [
    "CENSUS",
    "CHECKS",
    "COLUMNS",
    "EXCLUSIONS",
    "FIELDS",
    "LEVELS",
    "METHODS",
    "READINGS",
    "SECTIONS",
    "SIGNALS",
    "TEXT",
    "VARIANTS",
    "Term",
    "all_terms",
    "plain",
    "term",
]


@dataclass(frozen=True)
class Term:
    """A code, the name a reader sees, and one sentence saying what it means.

    ``name`` and ``explanation`` are read in the report's language (the enclosing
    ``pollwatch.i18n.use_language`` block); the English, the catalogue's msgid, is kept in
    ``source_name`` and ``source_explanation``."""

    code: str
    source_name: str
    source_explanation: str

    @property
    def name(self) -> str:
        return gettext(self.source_name) if self.source_name else ""

    @property
    def explanation(self) -> str:
        return gettext(self.source_explanation) if self.source_explanation else ""


class _Translated(dict[str, str]):
    """A table of English texts that reads each one in the report's language (``TEXT`` with
    its key as the message context, so one English word can have two translations)."""

    def __init__(self, texts: Mapping[str, str], *, keyed: bool) -> None:
        super().__init__(texts)
        self._keyed = keyed

    def _tr(self, key: str, english: str) -> str:
        return pgettext(key, english) if self._keyed else gettext(english)

    def __getitem__(self, key: str) -> str:
        return self._tr(key, super().__getitem__(key))

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return self[key] if key in self else default

    def english(self, key: str) -> str:
        """The English text (the msgid), whatever the language."""
        return super().__getitem__(key)


def _terms(*items: tuple[str, str, str]) -> dict[str, Term]:
    return {code: Term(code, name, expl) for code, name, expl in items}


#: per-station signals (``stations.csv`` columns and its ``signals`` list)
SIGNALS: dict[str, Term] = _terms(
    (
        "arithmetic",
        "Protocol arithmetic broken",
        "The station's own protocol does not add up (for example more ballots in the boxes than were issued).",
    ),
    (
        "extreme",
        "Turnout and leader share both above 95 %",
        "Almost everyone voted and almost everyone voted for the leader, the pattern ballot stuffing leaves.",
    ),
    (
        "turnout_outlier",
        "Turnout far above neighbours",
        "Turnout is more than 3 robust standard deviations above the median of the station's constituency.",
    ),
    (
        "share_outlier",
        "Leader share far above neighbours",
        "The leader's share is more than 3 robust standard deviations above the median of the station's constituency.",
    ),
    (
        "integer",
        "Round percentage",
        "Turnout or the leader's share is a whole percent (within 0.05 points), as when a figure is written in rather than counted.",
    ),
    (
        "carousel",
        "Many away voters",
        "Far more voters with absentee certificates, on additional lists or with de-registration cards than at the other stations of its constituency.",
    ),
    (
        "mobile_box",
        "Large mobile-box vote",
        "Far more ballots from the mobile (home-visit) box than at the other stations of its constituency.",
    ),
    (
        "mixture",
        "Fits the fraud pattern (mixture model)",
        "The finite-mixture model puts the station in its incremental or extreme fraud class; points are scaled by its probability.",
    ),
    (
        "above_peak",
        "Turnout above the natural peak",
        "Turnout is above the most common turnout of the election, where Shpilkin's method counts excess votes.",
    ),
    (
        "shpilkin_excess",
        "Excess leader votes at the station",
        "Leader votes above the clean leader-to-others ratio at this station's turnout (Shpilkin's method).",
    ),
)

#: the forensic methods: their names in ``pollwatch.forensics.run.METHODS`` and their keys in
#: ``results.json``, and the other result blocks the report shows
METHODS: dict[str, Term] = _terms(
    (
        "fingerprint",
        "Turnout and leader-share distributions",
        "Histograms and correlation of turnout and the leader's share across stations.",
    ),
    (
        "correlation",
        "Turnout and leader-share distributions",
        "Histograms and correlation of turnout and the leader's share across stations.",
    ),
    (
        "regression",
        "How votes grow with turnout (Sobyanin–Sukhovolsky)",
        "How many extra votes each candidate gets for each extra point of turnout.",
    ),
    (
        "integer_percentages",
        "Round percentages",
        "Whether more stations report a whole-percent turnout or leader share than chance allows.",
    ),
    (
        "digits",
        "Digit tests",
        "Whether the last and second digits of the counts look like counted numbers; weak evidence on its own.",
    ),
    (
        "shpilkin",
        "Excess votes at high turnout (Shpilkin)",
        "Leader votes above the ratio seen at ordinary turnout, counted at stations with higher turnout.",
    ),
    (
        "shpilkin_test",
        "Excess votes: is it more than regional differences give?",
        "A permutation test: the leader's share is shuffled inside each region to see how much excess honest regional differences produce.",
    ),
    (
        "shpilkin_permutation",
        "Excess votes: is it more than regional differences give?",
        "A permutation test: the leader's share is shuffled inside each region to see how much excess honest regional differences produce.",
    ),
    (
        "klimek",
        "Fingerprint fraud model (Klimek et al.)",
        "How many stations look lightly or heavily stuffed, from the shape of the turnout–share fingerprint.",
    ),
    (
        "coarse_shares",
        "Too many simple fractions (Rozenas)",
        "Whether vote shares sit on simple fractions such as 1/2 or 3/4 more often than chance allows.",
    ),
    (
        "small_denominators",
        "Exact simple fractions",
        "How many stations report a leader share of exactly 1/2, 2/3, 3/4 … against binomial chance.",
    ),
    (
        "mixture",
        "Fraud mixture model, whole country",
        "A statistical model that sorts stations into clean, lightly and heavily stuffed, fitted once for the whole country.",
    ),
    (
        "mixture_by_region",
        "Fraud mixture model, region by region",
        "The same model fitted separately in each region, so honest regional differences are not counted; one of the two calibrated headline tests.",
    ),
    (
        "excess_bounds",
        "Excess votes, region by region",
        "Shpilkin's excess votes computed in each region against its own clean pattern, with a permutation test; the other calibrated headline test.",
    ),
    (
        "regional_excess_bounds",
        "Excess votes, region by region",
        "Shpilkin's excess votes computed in each region against its own clean pattern, with a permutation test; the other calibrated headline test.",
    ),
    (
        "carousel",
        "Away voters and mobile boxes (carousel signals)",
        "Stations with many more away voters or mobile-box ballots than their constituency, the paper trail of voters bussed between stations.",
    ),
    (
        "scores",
        "Station ranking",
        "Points per station: a documented sum over the station signals, to decide which stations to check first.",
    ),
    (
        "validate",
        "Protocol arithmetic checks",
        "Whether each station's protocol adds up.",
    ),
    (
        "headline",
        "Headline estimate",
        "The calibrated estimate of falsified votes shown at the top of the report.",
    ),
    (
        "analysis_unit",
        "analysis unit",
        "A region, or several small neighbouring regions merged so that each unit has at least 300 stations.",
    ),
)

#: protocol arithmetic checks (pollwatch.validate.RULES, plus the negative-count check) and the
#: reading gates of the ingest report
CHECKS: dict[str, Term] = _terms(
    ("nonnegative", "No negative counts", "No count in the protocol is below zero."),
    (
        "cast_equals_boxes",
        "Ballots counted = ballots in the boxes",
        "Valid plus invalid ballots must equal the ballots found in the boxes.",
    ),
    (
        "candidates_sum_valid",
        "Candidate votes add up to valid ballots",
        "The votes of all candidates must add up to the valid ballots.",
    ),
    (
        "boxes_le_issued",
        "No more ballots in the boxes than were issued",
        "More ballots in the boxes than were handed to voters means ballots were put in from outside.",
    ),
    (
        "issued_le_received",
        "No more ballots issued than received",
        "A station cannot hand out more ballots than it received.",
    ),
    (
        "turnout_le_100",
        "Turnout at most 100 %",
        "Ballots issued and cast cannot exceed the registered voters.",
    ),
    (
        "ballots_balance_ru",
        "Ballot balance (Russian protocol)",
        "Ballots received = issued + cancelled + lost − not accounted on receipt.",
    ),
    (
        "absentee_balance_ru",
        "Absentee-certificate balance (Russian protocol)",
        "Absentee certificates received = issued at the station + cancelled + lost.",
    ),
    (
        "ballots_balance_az",
        "Ballot balance (Azerbaijani protocol)",
        "Ballots received = issued (station and mobile box) + cancelled + spoilt (Election Code Art. 100.2).",
    ),
    (
        "mobile_box_le_requests",
        "Mobile box within the requests",
        "Ballots in the mobile box cannot exceed the written requests for it (Election Code Art. 106.2).",
    ),
    (
        "item1_identity_az",
        "Voter list adds up (Azerbaijani protocol item 1)",
        "Item 1 = main list + additional list + cards used − cards taken.",
    ),
    (
        # in validate.RULES on main since the protocol-copy checks (quick count)
        "votes_le_registered",
        "Candidate votes within registered voters",
        "The votes of all candidates together cannot exceed the registered voters.",
    ),
    (
        "candidate_le_valid",
        "No candidate above all valid ballots",
        "Reading check: no candidate column may exceed the valid ballots nationally.",
    ),
    (
        "issued_vs_cast",
        "Ballots cast close to ballots issued",
        "Reading check: nationally, ballots cast and ballots issued must be close, or a column was misread.",
    ),
    (
        "cast_le_registered",
        "Ballots cast within registered voters",
        "Reading check: national turnout must be at most 100 %, or the registered-voters column was misread.",
    ),
)

#: why a station was left out of the analysis (pollwatch.model.EXCLUSION_REASONS)
EXCLUSIONS: dict[str, Term] = _terms(
    (
        "zero_registered",
        "No registered voters",
        "The station has no registered voters, so its turnout cannot be computed.",
    ),
    ("zero_ballots", "No ballots cast", "No valid or invalid ballots were cast at the station."),
    ("evoting", "Electronic voting", "An electronic-voting pseudo-station, not a polling station."),
    ("no_results", "No results", "The station has no candidate results."),
    (
        "implausible_count",
        "Impossible count",
        "A count no polling station can have (see the data quality section).",
    ),
    (
        "missing_counts",
        "Counts left blank",
        "Registered voters, valid or invalid ballots left blank while other counts are given.",
    ),
)

#: variants and share names inside a method's rows (correlation variants, carousel shares)
VARIANTS: dict[str, Term] = _terms(
    ("all", "all stations", "Every analysed station."),
    (
        "g_lt_v",
        "stations below 100 % turnout",
        "Leaves out stations where ballots issued reach the registered voters.",
    ),
    (
        "v_ge_100",
        "stations with at least 100 registered voters",
        "Leaves out very small stations, whose percentages jump in large steps.",
    ),
    (
        "weighted_v",
        "weighted by registered voters",
        "Each station counts in proportion to its registered voters.",
    ),
    (
        "min_rv_1",
        "turnout on ballots cast, capped at 100 %",
        "Turnout as ballots cast per registered voter (at most 1) instead of ballots issued.",
    ),
    (
        "absentee",
        "absentee-certificate voters",
        "Voters who voted at this station with an absentee certificate, per ballot issued.",
    ),
    (
        "cards",
        "de-registration card voters",
        "Voters who voted with a de-registration card, per registered voter.",
    ),
    (
        "additional_list",
        "additional-list voters",
        "Voters added to the list on election day.",
    ),
    ("mobile", "mobile-box ballots", "Ballots found in the mobile (home-visit) box."),
)

#: protocol lines (pollwatch.model.fields.FIELDS), as the checks and the ingest report name them
FIELDS: dict[str, Term] = _terms(
    (
        "registered",
        "registered voters",
        "Voters on the list (Azerbaijan: protocol item 1, with the additional lists).",
    ),
    ("registered_main", "voters on the main list", "Voters on the main list (Azerbaijan item 1a)."),
    (
        "additional_list",
        "voters on additional lists",
        "Voters added on additional lists on election day (Azerbaijan item 1b).",
    ),
    ("ballots_received", "ballots received", "Ballots the station commission received."),
    ("ballots_issued_early", "ballots issued early", "Ballots issued to early voters."),
    (
        "ballots_issued_station",
        "ballots issued in the station",
        "Ballots issued inside the station on election day.",
    ),
    (
        "ballots_issued_mobile",
        "ballots issued for the mobile box",
        "Ballots issued outside the station (mobile box).",
    ),
    ("ballots_cancelled", "ballots cancelled", "Unused ballots cancelled after the vote."),
    ("ballots_spoilt", "ballots spoilt", "Ballots spoilt by voters and replaced."),
    ("ballots_lost", "ballots lost", "Ballots lost."),
    ("ballots_unaccounted", "ballots not accounted for", "Ballots not accounted for on receipt."),
    ("ballots_mobile_box", "ballots in the mobile box", "Ballots found in the mobile boxes."),
    (
        "ballots_stationary_box",
        "ballots in the stationary boxes",
        "Ballots found in the stationary boxes.",
    ),
    ("valid", "valid ballots", "Valid ballots."),
    ("invalid", "invalid ballots", "Invalid ballots."),
    ("mobile_requests", "requests for the mobile box", "Voters who asked for the mobile box."),
    (
        "absentee_received",
        "absentee certificates received",
        "Absentee certificates or de-registration cards the station received.",
    ),
    (
        "absentee_issued",
        "absentee certificates issued",
        "Absentee certificates issued at this station.",
    ),
    (
        "absentee_voted",
        "voters with absentee certificates",
        "Voters who voted here with an absentee certificate (Azerbaijan item 1c).",
    ),
    (
        "absentee_cancelled",
        "absentee certificates cancelled",
        "Unused absentee certificates cancelled.",
    ),
    (
        "absentee_issued_higher",
        "absentee certificates issued by the higher commission",
        "Absentee certificates issued by the territorial commission.",
    ),
    ("absentee_lost", "absentee certificates lost", "Absentee certificates lost."),
    (
        "absentee_taken",
        "de-registration cards taken",
        "Voters who took a de-registration card away (Azerbaijan item 1d).",
    ),
    ("source_url", "official page", "The station's official web page, from the election file."),
)

#: report sections: the heading a reader sees and what the section is for
SECTIONS: dict[str, Term] = _terms(
    (
        "figures",
        "What the numbers look like",
        "Pictures of how turnout and the leader's share are spread over the stations.",
    ),
    (
        "regions",
        "Regional breakdown",
        "Turnout, leader share and excess votes for each region.",
    ),
    (
        "diagnostics",
        "Diagnostics: other estimates and what they count",
        "Uncalibrated estimates of falsified votes, each with what it counts; not to be quoted as the result.",
    ),
    (
        "stations",
        "Stations to look at",
        "The stations most signals point at, to check first; not a verdict on any station.",
    ),
    (
        "quality",
        "Data quality",
        "What was read from the file, what was left out and which protocols do not add up.",
    ),
    (
        "how",
        "How we got these numbers",
        "The full headline statement, the rule for the strength of the evidence and the tests behind them.",
    ),
    (
        "methods",
        "Methods and caveats",
        "What each method detects, what it cannot see, its source and how it was calibrated.",
    ),
    (
        "reproduce",
        "Files and reproducibility",
        "The input file's fingerprint, the exact command, the settings and the machine-readable files.",
    ),
    (
        "glossary",
        "Glossary",
        "Every name used in this report, what it means and its code in the machine-readable files.",
    ),
    (
        "pvt",
        "Quick count (observers' protocol copies)",
        "Observers' copies of the protocols compared with the official results.",
    ),
    (
        "cameras",
        "Camera monitoring",
        "Voters counted on polling-station cameras compared with the official turnout.",
    ),
    ("claims", "Published claims", "Figures published by officials checked against the data."),
    (
        "dossiers",
        "Station dossiers",
        "Everything that points at each of the top stations, from every source.",
    ),
    (
        "census",
        "Tally-sheet census",
        "Photographs of the protocols signed at the stations, counted apart from the official tabulation, and what they prove about published claims.",
    ),
    (
        "sources",
        "Sources side by side",
        "How many stations each independent source flags and where they agree.",
    ),
)

#: the tally-sheet census: finding kinds and claim verdicts (``results.json`` census block)
CENSUS: dict[str, Term] = _terms(
    (
        "sheet_above_official",
        "fewer votes in the official table than on the sheet",
        "A candidate's official figure is lower than the figure on the protocol signed at the station: votes lost between the station and the tabulation.",
    ),
    (
        "official_above_sheet",
        "more votes in the official table than on the sheet",
        "A candidate's official figure is higher than the figure on the protocol signed at the station: votes added between the station and the tabulation.",
    ),
    (
        "line_differs",
        "protocol line differs from the sheet",
        "A line of the official protocol (registered voters, valid or invalid ballots …) differs from the same line on the protocol signed at the station.",
    ),
    (
        "unknown_station",
        "station not on the official list",
        "The sheet names a station the official file does not have; its numbers are not counted.",
    ),
    (
        "duplicate",
        "sheet filed twice",
        "The same numbers were filed more than once for one station; one copy is counted.",
    ),
    (
        "conflict",
        "two different sheets for one station",
        "Two sets of numbers were filed for one station; neither is counted until someone settles it from the photos.",
    ),
    (
        "incomplete",
        "blank vote cell",
        "A candidate's cell on the sheet is blank; the sheet is not counted.",
    ),
    (
        "sheet_id_reused",
        "one sheet id on sheets of different stations",
        "The same sheet serial or QR id appears on sheets filed for different stations; none of them is counted until someone settles it from the photos.",
    ),
    (
        "impossible",
        "impossible",
        "The collected sheets alone rule the claim out, even if every vote outside them went the claim's way.",
    ),
    (
        "consistent",
        "consistent",
        "The collected sheets and the corrected estimate do not contradict the claim.",
    ),
    (
        "unverifiable",
        "cannot be checked",
        "The sheets can neither confirm nor rule out the claim (too few sheets, or the claim rests on figures the sheets do not carry).",
    ),
)

#: hierarchy levels as files and presets name them (a level not listed is shown as named)
LEVELS: dict[str, Term] = _terms(
    (
        "region",
        "region",
        "The top level of the election's administration (region, province, oblast).",
    ),
    (
        "tik",
        "territorial commission",
        "The territorial election commission (TIK) the station reports to.",
    ),
    ("uik", "station commission", "The station's own election commission (UIK)."),
    ("district", "district", "The district the station belongs to."),
    ("constituency", "constituency", "The constituency the station belongs to."),
    ("oik", "district commission", "The district election commission (OIK)."),
    ("dsk", "constituency commission", "The constituency election commission (DSK)."),
)

#: columns of the stations table
COLUMNS: dict[str, Term] = _terms(
    ("rank", "rank", "1 = the most points; stations with equal points share a rank."),
    (
        "station_id",
        "station",
        "The station's identifier in the official file; where it repeats the region and commission shown next to it, only its own number is shown (the full identifier is in the tooltip and in stations.csv).",
    ),
    (
        "points",
        "points",
        "The sum of the points of every signal that fired at the station (listed in the glossary); a ranking to decide what to check first, not a probability of fraud.",
    ),
    ("signals", "signals", "Each warning sign that fired at the station, in words."),
    (
        "turnout",
        "turnout",
        "Ballots issued (or cast, when the file has no issued ballots) per registered voter.",
    ),
    ("leader_share", "leader share", "The leader's votes per ballot cast."),
    ("registered", "registered", "Registered voters at the station."),
    (
        "protocol",
        "official page",
        "Link to the official page the election file gives for the station (in some files, the page of its territorial commission).",
    ),
)

#: the readings the headline combines (``results.json`` headline.readings keys)
READINGS: dict[str, str] = {
    "unit_by_unit_mixture": "fraud mixture model, region by region: manufactured votes",
    "regional_excess_flat": "excess votes, region by region (flat clean ratio)",
    "regional_excess_trend": "excess votes, region by region (clean ratio following turnout)",
    "beyond_permutation_null_flat": "excess beyond what shuffling gives (flat clean ratio)",
    "beyond_permutation_null_trend": "excess beyond what shuffling gives (clean ratio following turnout)",
}

#: signal points (pollwatch.forensics.scores.WEIGHTS) are shown next to each signal's name
#: in the glossary; this is the sentence above that table
TEXT: dict[str, str] = {
    # headline
    "headline_fired": "Statistical evidence of falsified votes for {leader}: about {estimate} ({share} of ballots cast), {confidence} interval {low} to {high}.",
    "headline_none": "These official figures give no statistical evidence of falsified votes for {leader}.",
    "headline_one": "No falsified-votes figure: only one of the two calibrated tests signals, as happens in about one clean election in ten.",
    "headline_not_computed": "No falsified-votes figure: the calibrated tests could not be computed on these data.",
    "headline_missing": "No headline was computed for this analysis (an older results file).",
    "headline_strength": "Strength of the evidence: {level}, {n} of {m} calibrated tests signal.",
    "headline_strength_weak_other": "Strength of the evidence: {level}, no calibrated test signals but the protocols show arithmetic violations or a last-digit deviation.",
    "headline_official": "Official result: {share} of ballots cast for the leader; turnout {turnout} at {stations} polling stations.",
    "headline_official_named": "Official result: {share} of ballots cast for {leader}; turnout {turnout} at {stations} polling stations.",
    "strength_strong": "strong",
    "strength_moderate": "moderate",
    "strength_weak": "weak",
    "strength_none": "none",
    "card_falsified": "falsified votes for the leader, 95 % interval {low}–{high}",
    "card_falsified_none": "falsified votes: no statistical evidence (calibrated region-by-region tests)",
    "card_falsified_none_value": "none shown",
    "card_share": "official leader share",
    "card_turnout": "official turnout (ballots cast)",
    "contents": "Contents:",
    # "How we got these numbers"
    "how_statement": "The full statement of the calibrated headline, as in results.json:",
    "how_rules_intro": "The headline shows a falsified-votes figure only when both calibrated tests below signal; each raises a false alarm in at most one clean election in twenty.",
    "how_rule_test": "test",
    "how_rule_value": "value",
    "how_rule_threshold": "signals when",
    "how_rule_result": "result",
    "how_rule_fires": "signals",
    "how_rule_quiet": "does not signal",
    "how_rule_not_computed": "not computed: {why}",
    "how_readings_intro": "The readings the headline combines (the estimate is the smaller of the mixture and the trend reading; the interval runs from the lowest to the highest bound):",
    "how_reading": "reading",
    "how_estimate": "falsified votes: estimate",
    "how_low": "falsified votes: lower bound (95 %)",
    "how_high": "falsified votes: upper bound (95 %)",
    "how_share": "share of ballots cast",
    "how_strength_intro": "Strength of the evidence counts the calibrated tests that signal. The rule:",
    "how_strength_test": "calibrated test",
    "how_strength_state": "result",
    "how_strength_fires": "signals",
    "how_strength_quiet": "does not signal",
    "how_strength_not_computed": "not computed",
    "how_official_intro": "The official figures as read from the file:",
    "how_official_stations": "polling stations",
    "how_official_leader": "leader",
    "how_official_share": "leader's share of ballots cast",
    "how_official_turnout": "turnout (ballots cast per registered voter)",
    "how_official_cast": "ballots cast",
    "how_official_registered": "registered voters",
    # stations table
    "stations_intro": "The highest-ranked stations and every signal that points at each (click a column to sort, type to filter). Points add up the signals' points (see the glossary); they order stations to check, they are not a probability of fraud. All {n} stations are in stations.csv.",
    "stations_filter": "filter stations…",
    "stations_none": "No station-level signals.",
    "stations_link": "official page",
    "stations_link_note": "The last column links to the official page the election file gives for each station (in some files, the page of its territorial commission, where the station's protocol is listed).",
    # sections that do not apply
    "regions_none": "Not shown: the file has no regions.",
    "regions_one": "Not shown: all stations are in one region ({region}).",
    "carousel_none": "Not computed: the file has no absentee, additional-list or mobile-box lines, which these signals need.",
    "digits_small": "The digit figures are left out: with fewer than {n} stations the digit means are too noisy to read.",
    "legal_none": "The carousel signals read protocol lines whose legal meaning depends on the country's election law; no law is on record for this country, so none is cited.",
    # carousel
    "carousel_flagged": "{n} stations are flagged for many away voters: their away-voter share is more than {k} robust standard deviations and at least {delta} points above the median of their constituency, with at least {n_min} such voters.",
    "carousel_flagged_mobile": "Separately, {n} stations are flagged for a large mobile-box vote by the same rule.",
    "carousel_mobile_only": "{n} stations are flagged for a large mobile-box vote: their mobile-box share is more than {k} robust standard deviations and at least {delta} points above the median of their constituency, with at least {n_min} such ballots. The file has no away-voter lines (absentee certificates, additional lists), so no station is flagged for away voters.",
    "carousel_none_flagged": "No station is flagged for many away voters.",
    "carousel_caution": "A list for observers to check, not a verdict: genuine away voters cluster near railway stations, airports, hospitals and universities.",
    "carousel_share": "share",
    "carousel_national": "nationally",
    "carousel_median": "median station",
    "carousel_flagged_col": "stations flagged",
    "carousel_cards": "absentee certificates used / issued (national)",
    "carousel_groups_over": "constituencies where more certificates were used than issued",
    "carousel_boxes": "stations with more ballots in the boxes than issued",
    "carousel_corr": "correlation of the {share} with the leader's share",
    # data quality
    "quality_intro": "What was read, what could not be analysed and why, and the protocol-arithmetic violations. Violations are evidence in themselves.",
    "quality_check": "check",
    "quality_stations": "stations violating it",
    "quality_examples": "{check}: examples",
    "quality_example_line": "station {station} (line {line}): {message}",
    "quality_example": "station {station}: {message}",
    "quality_summary": "{checked} protocol checks; {violations} violations at {stations} stations.",
    "quality_summary_clean": "{checked} protocol checks; no violations.",
    "quality_not_checked": "Not checked: {check} ({why}).",
    "quality_url": 'The file\'s link column is not used for any count; the report uses it only to link each station in "Stations to look at" to its official page.',
    "quality_in_memory": "The election was built in memory (no source file).",
    # methods
    "methods_detects": "Detects:",
    "methods_blind": "Cannot see:",
    "methods_source": "Source: {source}",
    "methods_calibration": "Calibration: {text}",
    "methods_unavailable": "Summary unavailable: {error}",
    "methods_not_computed": "Not computed: {error}",
    # reproducibility and exports
    "repro_file": "input file",
    "repro_sha": "input SHA-256",
    "repro_version": "pollwatch version",
    "repro_seed": "seed",
    "repro_command": "command",
    "repro_params": "every parameter (as in results.json)",
    "repro_timings": "timings",
    "repro_exports": "The machine-readable files next to this report keep the codes listed in the glossary: results.json (every method's result), stations.csv and stations.parquet (one row per station).",
    # glossary
    "glossary_intro": "Every name used in this report, what it means, and the code it has in results.json and stations.csv.",
    "glossary_signals": "Station signals",
    "glossary_methods": "Methods",
    "glossary_checks": "Protocol checks",
    "glossary_exclusions": "Why stations were left out",
    "glossary_variants": "Variants and shares",
    "glossary_columns": "Columns of the stations table",
    "glossary_sections": "Sections",
    "glossary_name": "name",
    "glossary_meaning": "meaning",
    "glossary_points": "points",
    "glossary_code": "code",
    # diagnostics
    "diag_intro": "Other readings of the same figures. Only the headline above is calibrated to raise a false alarm in at most one clean election in twenty; the national figures here count honest regional differences and must not be quoted as falsified votes.",
    "diag_estimate": "estimate",
    "diag_value": "value",
    "diag_counts": "what it counts",
    "diag_none": "No estimate was computed.",
    "corr_row": "correlation of turnout and leader share, {variant}",
    "glossary_fields": "Protocol lines",
    "glossary_levels": "Levels of the administration",
    "glossary_census": "Tally-sheet census",
    # tally-sheet census
    "census_intro": "Photographs of the protocols signed at the stations, read from {source}: {usable} usable sheets of {filed} filed, counted apart from the official tabulation.",
    "census_coverage": "Sheets were collected at {collected} of {stations} polling stations ({share}), holding {reg_share} of the registered voters.",
    "census_coverage_noreg": "Sheets were collected at {collected} of {stations} polling stations ({share}).",
    "census_coverage_none": "Coverage is not known: the official station list was not given.",
    "census_coverage_by": "Coverage by {level}:",
    "census_col_stations": "polling stations",
    "census_col_collected": "sheets collected",
    "census_col_share": "share of stations",
    "census_col_reg_share": "share of registered voters",
    "census_totals_intro": "Votes written on the usable sheets, added up as they are (no correction for the stations without a sheet):",
    "census_col_candidate": "candidate",
    "census_col_votes": "votes on the sheets",
    "census_estimate_intro": "The coverage-corrected estimate for all stations ({confidence} intervals), from {collected} of {stations} stations' sheets in {strata} groups of similar stations:",
    "census_estimate_assumption": "It assumes that {assumption}.",
    "census_estimate_none": "No corrected estimate: it needs the official station list and at least two usable sheets on it.",
    "census_col_quantity": "quantity",
    "census_col_estimate": "estimate",
    "census_col_interval": "interval",
    "census_q_share": "share of valid votes: {name}",
    "census_q_votes": "votes: {name}",
    "census_q_valid": "valid votes",
    "census_q_cast": "ballots cast",
    "census_q_turnout": "turnout",
    "census_c_winner_share": "the winner's share of valid votes",
    "census_c_candidate_share": "share of valid votes: {name}",
    "census_c_candidate_votes": "votes: {name}",
    "census_c_turnout": "turnout",
    "census_c_stations": "polling stations",
    "census_c_registered": "registered voters",
    "census_c_ballots_cast": "ballots cast",
    "census_c_valid_votes": "valid votes",
    "census_c_invalid_votes": "invalid ballots",
    "census_c_ballots_printed": "ballots printed",
    "census_selection_ok": "Selection check: run on the official figures of the collected stations, the estimate reproduces the official totals of all stations within two standard errors for every quantity checked ({n}).",
    "census_selection_widened": "Selection check: run on the official figures of the collected stations, the estimate misses {n} of {m} official totals by more than two standard errors, so the collected stations differ from the rest in ways the groups do not capture; those intervals were widened by the miss.",
    "census_selection_none": "Selection check: not run (it needs the official figures of every station).",
    "census_bound": "Worst case: the {n} usable sheets show {votes} votes; at most {max} more could exist at the stations without a usable sheet (their registered voters).",
    "census_bound_open": "Worst case: the {n} usable sheets show {votes} votes; without the official station list, what lies outside them is bounded by each claim's own total.",
    "census_claims_intro": "Each published claim against the sheets:",
    "census_claims_none": "No published claims were given to judge against the sheets (pollwatch analyze --claims).",
    "census_col_source": "published by",
    "census_col_claim": "claim",
    "census_col_value": "claimed value",
    "census_col_verdict": "verdict",
    "census_col_reason": "why",
    "census_above_intro": "At {n} stations a candidate has fewer votes in the official table than on the protocol signed at the station (the evidence observers collected in Belarus in 2020). Each row sets a signed sheet against the published figure:",
    "census_above_none": "At no station does the official table give a candidate fewer votes than the sheet.",
    "census_official_above": "At {n} stations a candidate has more votes in the official table than on the sheet; every such difference is in results.json.",
    "census_col_station": "station",
    "census_col_sheet": "on the sheet",
    "census_col_official": "official",
    "census_col_difference": "official minus sheet",
    "census_listed_first": "The first {n} rows are shown; every one is in results.json.",
    "census_findings_intro": "Sheets not counted, and why:",
    "census_col_finding": "problem",
    "census_col_count": "sheets",
    "footer": "No method here proves fraud: each measures a departure from a stated null. Read the methods and caveats before quoting a number.",
}

# read in the report's language (the tables above are the English: the catalogue's msgids)
READINGS = _Translated(READINGS, keyed=False)
TEXT = _Translated(TEXT, keyed=True)

_ALL = (SIGNALS, METHODS, CHECKS, EXCLUSIONS, VARIANTS, FIELDS, LEVELS, SECTIONS, COLUMNS, CENSUS)


def all_terms() -> dict[str, Term]:
    """Every code with its term (the first table that names it wins)."""
    out: dict[str, Term] = {}
    for table in _ALL:
        for k, t in table.items():
            out.setdefault(k, t)
    return out


def term(code: str) -> Term:
    """The term of a code; an unknown code is shown as itself (its test makes that rare)."""
    return all_terms().get(code) or Term(code, code.replace("_", " "), "")


def _code_pattern() -> re.Pattern[str]:
    # only codes that cannot be ordinary words (they hold an underscore): "mixture" or "integer"
    # in a sentence is English, "boxes_le_issued" never is
    codes = sorted((c for c in all_terms() if "_" in c), key=len, reverse=True)
    return re.compile(r"(?<![\w/])(" + "|".join(map(re.escape, codes)) + r")(?![\w/])")


_CODE = _code_pattern()


#: the correlation rows of the fingerprint summary: ``r(t, s) [min_rv_1]``
_CORR = re.compile(r"r\(t, s\) \[(\w+)\]")


def plain(text: str) -> str:
    """``text`` with every code that holds an underscore replaced by its name, and the
    fingerprint's ``r(t, s) [variant]`` rows in words."""
    text = _CORR.sub(lambda m: TEXT["corr_row"].format(variant=term(m.group(1)).name), text)
    return _CODE.sub(lambda m: term(m.group(1)).name, text)


def coded_codes() -> frozenset[str]:
    """The codes :func:`plain` replaces (those that cannot be ordinary words)."""
    return frozenset(c for c in all_terms() if "_" in c)
