"""The service's codes shown to people, with their English labels (gettext msgids).

Interface texts are translated with ``pollwatch.i18n`` (catalogues in
``pollwatch/i18n/locale``): templates call ``_("...")``, Python code ``gettext(text, lang)``.
Stored values stay codes (``ballots_issued_early``, ``high``, ``turned_away``); these tables give
each code the label a page shows, so no raw code reaches an observer. ``label`` translates one.
The language is the user's (``User.language``) or, before login, ``negotiate`` on the
``Accept-Language`` header.
"""

from __future__ import annotations

from collections.abc import Mapping

from pollwatch.i18n import LANGS, N_, gettext, negotiate

__all__ = [
    "CAMERA_LABELS",
    "CENSUS_FINDING_LABELS",
    "CENSUS_RESOLUTION_LABELS",
    "CENSUS_STATUS_LABELS",
    "QC_VERDICT_LABELS",
    "KIND_LABELS",
    "OFFICIAL_LABELS",
    "LANGS",
    "PROTOCOL_FIELD_LABELS",
    "SEVERITY_LABELS",
    "STATUS_LABELS",
    "label",
    "negotiate",
]

# the lines of a precinct protocol, as the form labels them (service.rules.PROTOCOL_FIELDS)
PROTOCOL_FIELD_LABELS: dict[str, str] = {
    "registered": N_("Voters on the list"),
    "ballots_received": N_("Ballots received by the commission"),
    "ballots_issued_early": N_("Ballots issued to early voters"),
    "ballots_issued_station": N_("Ballots issued at the station on election day"),
    "ballots_issued_mobile": N_("Ballots issued for voting outside the station (mobile box)"),
    "ballots_cancelled": N_("Unused ballots cancelled"),
    "ballots_mobile_box": N_("Ballots found in the mobile boxes"),
    "ballots_stationary_box": N_("Ballots found in the stationary boxes"),
    "valid": N_("Valid ballots"),
    "invalid": N_("Invalid ballots"),
}

# the official protocol's lines as the dossier page lists them: the protocol lines and what
# fusion.evidence.OfficialEvidence.to_dict adds
OFFICIAL_LABELS: dict[str, str] = {
    **PROTOCOL_FIELD_LABELS,
    "turnout": N_("Turnout"),
    "leader": N_("Leader"),
    "leader_share": N_("Leader's share"),
}

SEVERITY_LABELS: dict[str, str] = {
    "low": N_("Low"),
    "medium": N_("Medium"),
    "high": N_("High"),
    "critical": N_("Critical"),
}

# a submission's review status (models.Verification)
STATUS_LABELS: dict[str, str] = {
    "new": N_("New"),
    "under_review": N_("Under review"),
    "verified": N_("Verified"),
    "rejected": N_("Rejected"),
}

KIND_LABELS: dict[str, str] = {
    "checklist": N_("Checklist"),
    "incident": N_("Incident"),
    "protocol": N_("Protocol copy"),
}

# camera statuses and events (cameras.data.STATUSES, EVENT_KINDS)
CAMERA_LABELS: dict[str, str] = {
    "online": N_("Online"),
    "offline": N_("Offline"),
    "audio_muted": N_("Audio muted"),
    "turned_away": N_("Turned away from the box"),
    "covered": N_("Covered"),
    "box_out_of_frame": N_("Ballot box out of frame"),
    "frozen": N_("Picture frozen"),
    "black": N_("Black picture"),
    "stuffing_seen": N_("Ballot stuffing seen"),
    "group_arrival": N_("Group arrival"),
    "angle_change": N_("Camera angle changed"),
    "box_opened": N_("Box opened"),
    "staff_at_box": N_("Staff at the box"),
    "camera_restarted": N_("Camera restarted"),
    "other": N_("Other"),
}


# the quick count's pre-registered verdict (quickcount.verdict)
QC_VERDICT_LABELS: dict[str, str] = {
    "consistent": N_("consistent"),
    "discrepancy": N_("discrepancy"),
    "too_early": N_("too early to say"),
}


# a station's census findings in the dossier (census.sheets.SheetFinding kinds, and "photo":
# the sheet's photo filed for another station too)
CENSUS_FINDING_LABELS: dict[str, str] = {
    "conflict": N_(
        "Two different sets of numbers were accepted for this station; settle them from the photos."
    ),
    "arithmetic": N_("The sheet itself does not add up."),
    "photo": N_("The sheet's photo was also filed for another station."),
    "duplicate": N_("The same sheet was filed more than once."),
    "incomplete": N_("A box on the sheet was left blank."),
    "unknown_station": N_("The sheet names a station that is not on the official list."),
    "sheet_id_reused": N_("The sheet's id also appears on another station's sheet."),
}

# a tally sheet in double-blind transcription (models.CensusSheet.status / .resolution)
CENSUS_STATUS_LABELS: dict[str, str] = {
    "transcribing": N_("being typed"),
    "arbitration": N_("in arbitration"),
    "accepted": N_("accepted"),
    "rejected": N_("rejected"),
}
CENSUS_RESOLUTION_LABELS: dict[str, str] = {
    "agreed": N_("both agreed"),
    "arbitrated": N_("arbitrated"),
    "rejected": N_("by the arbiter"),
}


def label(table: Mapping[str, str], code: str | None, lang: str) -> str:
    """The label of ``code`` in ``lang``; a code the table does not know is shown as it is
    (a value written by a newer client is still shown, not hidden)."""
    if code is None:
        return ""
    text = table.get(code)
    return gettext(text, lang) if text else code
