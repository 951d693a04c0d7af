"""Rule-based question-level flags, computed when a submission is stored (Apollo-style QA).

Each flag is ``{"rule": id, "field": name, "message": text}``. Flags never block a submission:
an implausible number is itself evidence, so it is stored and shown to reviewers.
"""

from __future__ import annotations

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


def _flag(rule: str, fld: str, message: str) -> dict:
    return {"rule": rule, "field": fld, "message": message}


def checklist_flags(form: Form, answers: dict, registered: int) -> list[dict]:
    flags = []
    for q in form.questions:
        v = answers.get(q.id)
        if q.max_ref == "registered" and isinstance(v, int) and registered > 0 and v > registered:
            flags.append(
                _flag("exceeds_registered", q.id, f"{q.id} ({v}) > registered ({registered})")
            )
    if form.name == "voting":
        a, b = answers.get("voters_by_noon"), answers.get("voters_by_17")
        if isinstance(a, int) and isinstance(b, int) and b < a:
            flags.append(
                _flag(
                    "turnout_decreased", "voters_by_17", f"voters by 17:00 ({b}) < by 12:00 ({a})"
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
            )
        )
    lines = dict(numbers)
    if reg:
        lines["registered"] = reg
    for f in check_copy(lines, votes, profile=profile):
        rule, fld = SERVICE_RULES.get(f.rule, (f.rule, f.rule))
        flags.append(_flag(rule, fld, f.message))
    return flags


def ballots_flags(ballots: int, valid: int) -> list[dict]:
    """The relation of an SMS results copy that ``protocol_flags`` cannot see, because the
    message gives the ballots in the boxes rather than the invalid line: the ballots cover the
    valid votes (when they do, invalid = ballots - valid and ``protocol_flags`` checks the rest,
    ballots cast against the registered voters included)."""
    if ballots >= valid:
        return []
    return [
        _flag("boxes_lt_valid", "valid", f"ballots in boxes ({ballots}) < valid votes ({valid})")
    ]
