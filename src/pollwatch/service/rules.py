"""Rule-based question-level flags, computed when a submission is stored (Apollo-style QA).

Each flag is ``{"rule": id, "field": name, "message": text, "params": {...}}``: ``message`` is
the English sentence (stored, exported), ``params`` the numbers it was written from, so
:func:`flag_text` can write it again in a reader's language. Flags never block a submission:
an implausible number is itself evidence, so it is stored and shown to reviewers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pollwatch.i18n import current_language, gettext, use_language
from pollwatch.report.glossary import term
from pollwatch.service.forms import Form
from pollwatch.validate.protocol import check_copy

PROTOCOL_FIELDS = (
    "registered",
    "ballots_received",
    "ballots_issued_early",
    "ballots_issued_station",
    "ballots_issued_mobile",
    "ballots_cancelled",
    "ballots_mobile_box",
    "ballots_stationary_box",
    "valid",
    "invalid",
)


def _flag(rule: str, fld: str, message: str, **params: Any) -> dict:
    return {"rule": rule, "field": fld, "message": message, "params": params}


def checklist_flags(form: Form, answers: dict, registered: int) -> list[dict]:
    flags = []
    for q in form.questions:
        v = answers.get(q.id)
        if q.max_ref == "registered" and isinstance(v, int) and registered > 0 and v > registered:
            flags.append(
                _flag(
                    "exceeds_registered",
                    q.id,
                    f"{q.id} ({v}) > registered ({registered})",
                    question=q.id,
                    value=v,
                    registered=registered,
                )
            )
    if form.name == "voting":
        a, b = answers.get("voters_by_noon"), answers.get("voters_by_17")
        if isinstance(a, int) and isinstance(b, int) and b < a:
            flags.append(
                _flag(
                    "turnout_decreased",
                    "voters_by_17",
                    f"voters by 17:00 ({b}) < by 12:00 ({a})",
                    noon=a,
                    evening=b,
                )
            )
    return flags


#: the service's flag ids (stable API) for the shared control relations of validate.rules
SERVICE_RULES: dict[str, tuple[str, str]] = {
    "votes_le_registered": ("votes_exceed_registered", "votes"),
    "candidates_sum_valid": ("votes_ne_valid", "valid"),
    "cast_equals_boxes": ("boxes_ne_valid_invalid", "invalid"),
    "boxes_le_issued": ("boxes_exceed_issued", "ballots_stationary_box"),
    "issued_le_received": ("issued_exceed_received", "ballots_received"),
    "turnout_le_100": ("cast_exceed_registered", "valid"),
}


def protocol_flags(
    numbers: dict[str, int], votes: dict[str, int], registered: int, profile: str = "generic"
) -> list[dict]:
    """Protocol arithmetic on an observer's copy: the control relations of ``pollwatch.validate``
    (``validate.protocol.check_copy``, docs/quickcount.md §5), plus the copy's registered voters
    against the station list. The copy's registered voters default to the station list's."""
    flags = []
    reg = numbers.get("registered", registered)
    if registered and reg != registered:
        flags.append(
            _flag(
                "registered_mismatch",
                "registered",
                f"registered on the copy ({reg}) differs from the station list ({registered})",
                copy=reg,
                station_list=registered,
            )
        )
    lines = dict(numbers)
    if reg:
        lines["registered"] = reg
    for f in check_copy(lines, votes, profile=profile):
        rule, fld = SERVICE_RULES.get(f.rule, (f.rule, f.rule))
        flags.append(
            _flag(
                rule,
                fld,
                f.message,
                check=f.rule,
                relation=f.relation,
                expected=f.expected,
                found=f.found,
            )
        )
    return flags


def ballots_flags(ballots: int, valid: int) -> list[dict]:
    """The relation of an SMS results copy that ``protocol_flags`` cannot see, because the
    message gives the ballots in the boxes rather than the invalid line: the ballots cover the
    valid votes (when they do, invalid = ballots - valid and ``protocol_flags`` checks the rest,
    ballots cast against the registered voters included)."""
    if ballots >= valid:
        return []
    return [
        _flag(
            "boxes_lt_valid",
            "valid",
            f"ballots in boxes ({ballots}) < valid votes ({valid})",
            ballots=ballots,
            valid=valid,
        )
    ]


def flag_text(flag: Mapping[str, Any], question: str | None = None) -> str:
    """A stored flag's sentence in the current language (``pollwatch.i18n.use_language``),
    written again from its ``params`` (in English: the stored sentence); a flag stored before they were kept (or of an unknown
    rule) is shown as its English ``message``. ``question``: the question's label, where the
    page knows it (the code otherwise)."""
    p = flag.get("params") or {}
    rule = flag.get("rule")
    if current_language() == "en":
        return str(flag.get("message", ""))  # the sentence as stored
    try:
        if rule == "exceeds_registered":
            return gettext("{question} ({value}) > registered ({registered})").format(
                question=question or p["question"], value=p["value"], registered=p["registered"]
            )
        if rule == "turnout_decreased":
            return gettext("voters by 17:00 ({evening}) < by 12:00 ({noon})").format(
                evening=p["evening"], noon=p["noon"]
            )
        if rule == "registered_mismatch":
            return gettext(
                "registered on the copy ({copy}) differs from the station list ({station_list})"
            ).format(copy=p["copy"], station_list=p["station_list"])
        if rule == "boxes_lt_valid":
            return gettext("ballots in boxes ({ballots}) < valid votes ({valid})").format(
                ballots=p["ballots"], valid=p["valid"]
            )
        if "check" in p:
            sentence = (
                gettext("{check}: expected {expected}, found {found}")
                if p["relation"] == "="
                else gettext("{check}: at most {expected}, found {found}")
            )
            return sentence.format(
                check=term(p["check"]).name, expected=f"{p['expected']:,}", found=f"{p['found']:,}"
            )
    except (KeyError, TypeError, ValueError):
        pass  # params from an older or foreign writer: the English sentence it stored
    return str(flag.get("message", ""))


class FlagText(str):
    """A flag's English ``message`` (its ``str`` value) that says itself again in another
    language with :func:`flag_text` (``pollwatch.i18n.text.say`` calls :meth:`say`)."""

    flag: dict

    def __new__(cls, flag: Mapping[str, Any]) -> FlagText:
        self = super().__new__(cls, str(flag.get("message", "")))
        self.flag = dict(flag)
        return self

    def say(self, lang: str | None = None) -> str:
        with use_language(lang or current_language()):
            return flag_text(self.flag)

    def __reduce__(self) -> tuple:
        return (FlagText, (self.flag,))
