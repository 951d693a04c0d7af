"""The protocol lines a station row may hold.

Names are country-neutral; each country preset maps its own protocol lines onto them
(Russian CEC export, Azerbaijani PEC protocol Art. 100.2). Only ``registered``, ``valid``
and ``invalid`` are required; the rest are present where the country's protocol has them.
"""

from __future__ import annotations

from dataclasses import dataclass

from pollwatch.i18n import N_


@dataclass(frozen=True)
class Field:
    name: str
    description: str
    required: bool = False


FIELDS: tuple[Field, ...] = (
    Field(
        "registered",
        "voters on the list (Azerbaijan: protocol item 1, incl. additional lists)",
        True,
    ),
    Field("registered_main", "voters on the main list (Azerbaijan item 1a)"),
    Field("additional_list", "voters added on additional lists on the day (Azerbaijan item 1b)"),
    Field("ballots_received", "ballots received by the station commission"),
    Field("ballots_issued_early", "ballots issued to early voters"),
    Field("ballots_issued_station", "ballots issued inside the station on election day"),
    Field("ballots_issued_mobile", "ballots issued outside the station (mobile box)"),
    Field("ballots_cancelled", "unused ballots cancelled"),
    Field("ballots_spoilt", "ballots spoilt by voters and replaced"),
    Field("ballots_lost", "ballots lost"),
    Field("ballots_unaccounted", "ballots not accounted for on receipt"),
    Field("ballots_mobile_box", "ballots found in mobile boxes"),
    Field("ballots_stationary_box", "ballots found in stationary boxes"),
    Field("valid", "valid ballots", True),
    Field("invalid", "invalid ballots", True),
    Field("mobile_requests", "voters who requested the mobile box"),
    Field("absentee_received", "absentee certificates / de-registration cards received"),
    Field("absentee_issued", "absentee certificates issued at this station"),
    Field(
        "absentee_voted", "voters who voted here with an absentee certificate (Azerbaijan item 1c)"
    ),
    Field("absentee_cancelled", "unused absentee certificates cancelled"),
    Field("absentee_issued_higher", "absentee certificates issued by the higher commission (TIK)"),
    Field("absentee_lost", "absentee certificates lost"),
    Field("absentee_taken", "voters who took a de-registration card away (Azerbaijan item 1d)"),
)

FIELD_BY_NAME = {f.name: f for f in FIELDS}


def field_names() -> tuple[str, ...]:
    return tuple(f.name for f in FIELDS)


#: Why a station is kept in the model but left out of analysis. Counted in the ingest report.
EXCLUSION_REASONS: dict[str, str] = {
    "zero_registered": N_("no registered voters (cannot compute turnout)"),
    "zero_ballots": N_("no ballots cast (valid + invalid = 0)"),
    "evoting": N_("electronic-voting pseudo-station"),
    "no_results": N_("no candidate results"),
    "implausible_count": N_("a count no polling station can have (see the ingest findings)"),
    "missing_counts": N_("registered, valid or invalid left blank while other counts are given"),
}

#: Exclusion reasons whose stations are also left out of national totals: their counts are
#: not believable (the other reasons keep real ballots, e.g. e-voting, in the totals).
UNTRUSTED_EXCLUSIONS: frozenset[str] = frozenset({"implausible_count"})
