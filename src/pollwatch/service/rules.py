"""Rule-based question-level flags, computed when a submission is stored (Apollo-style QA).

Each flag is ``{"rule": id, "field": name, "message": text}``. Flags never block a submission:
an implausible number is itself evidence, so it is stored and shown to reviewers.
"""

from __future__ import annotations

from pollwatch.service.forms import Form

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


def protocol_flags(numbers: dict[str, int], votes: dict[str, int], registered: int) -> list[dict]:
    """Protocol arithmetic on an observer's copy (same relations as ``pollwatch.validate``)."""
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
    total = sum(votes.values())
    if reg and total > reg:
        flags.append(
            _flag(
                "votes_exceed_registered",
                "votes",
                f"candidate votes ({total}) > registered ({reg})",
            )
        )
    valid, invalid = numbers.get("valid"), numbers.get("invalid")
    if valid is not None and votes and total != valid:
        flags.append(
            _flag("votes_ne_valid", "valid", f"candidate votes ({total}) != valid ({valid})")
        )
    in_boxes = [numbers.get("ballots_mobile_box"), numbers.get("ballots_stationary_box")]
    if (
        valid is not None
        and invalid is not None
        and None not in in_boxes
        and valid + invalid != sum(in_boxes)
    ):
        flags.append(
            _flag(
                "boxes_ne_valid_invalid",
                "invalid",
                f"valid + invalid ({valid + invalid}) != ballots in boxes ({sum(in_boxes)})",
            )
        )
    issued = [
        numbers.get(k)
        for k in ("ballots_issued_early", "ballots_issued_station", "ballots_issued_mobile")
    ]
    if None not in issued and None not in in_boxes and sum(in_boxes) > sum(issued):
        flags.append(
            _flag(
                "boxes_exceed_issued",
                "ballots_stationary_box",
                f"ballots in boxes ({sum(in_boxes)}) > ballots issued ({sum(issued)})",
            )
        )
    if valid is not None and invalid is not None and reg and valid + invalid > reg:
        flags.append(
            _flag(
                "cast_exceed_registered",
                "valid",
                f"ballots cast ({valid + invalid}) > registered ({reg})",
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
        _flag("boxes_lt_valid", "valid", f"ballots in boxes ({ballots}) < valid votes ({valid})")
    ]
