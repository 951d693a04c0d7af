"""Built-in incident taxonomy, drawn from what monitors report (VoteMonitor's categories, Golos,
ISFED), with a short SMS code per category and its label in English, Azerbaijani and Russian.

The labels are gettext msgids (translated in ``pollwatch.i18n``'s catalogues); each category's
dict also carries them per language (``CATEGORIES[k]["az"]``), for the pages and the JSON API."""

from __future__ import annotations

from pollwatch.i18n import N_, all_languages

SEVERITIES = ("low", "medium", "high", "critical")

CATEGORIES: dict[str, dict] = {
    "carousel": {
        "sms": "CR",
        "label": N_("Carousel or group voting"),
    },
    "ballot_stuffing": {
        "sms": "BS",
        "label": N_("Ballot stuffing"),
    },
    "multiple_voting": {
        "sms": "MV",
        "label": N_("Multiple voting"),
    },
    "coercion": {
        "sms": "CO",
        "label": N_("Voters coerced (workplace or administrative)"),
    },
    "vote_buying": {
        "sms": "VB",
        "label": N_("Vote buying"),
    },
    "observer_expelled": {
        "sms": "OE",
        "label": N_("Observer expelled or denied entry"),
    },
    "journalist_barred": {
        "sms": "JB",
        "label": N_("Journalist barred"),
    },
    "camera_muted": {
        "sms": "CM",
        "label": N_("Camera muted"),
    },
    "camera_turned_away": {
        "sms": "CT",
        "label": N_("Camera turned away"),
    },
    "camera_covered": {
        "sms": "CC",
        "label": N_("Camera covered"),
    },
    "camera_offline": {
        "sms": "CF",
        "label": N_("Camera offline"),
    },
    "protocol_not_posted": {
        "sms": "PN",
        "label": N_("Protocol not posted or copy refused"),
    },
    "counting_irregularities": {
        "sms": "CI",
        "label": N_("Counting irregularities"),
    },
    "unauthorised_persons": {
        "sms": "UP",
        "label": N_("Unauthorised persons"),
    },
    "violence": {
        "sms": "VI",
        "label": N_("Violence or intimidation"),
    },
    "other": {
        "sms": "OT",
        "label": N_("Other"),
    },
}

for _category in CATEGORIES.values():
    _category.update(all_languages(_category["label"]))

CAMERA_CATEGORIES = frozenset(c for c in CATEGORIES if c.startswith("camera_"))


def by_sms_code(code: str) -> str | None:
    code = code.upper()
    return next((k for k, v in CATEGORIES.items() if v["sms"] == code), None)
