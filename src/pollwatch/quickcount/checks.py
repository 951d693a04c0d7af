"""Checks before counting: protocol copies that fail a control relation, or are incomplete, are
quarantined with the reason instead of entering the estimate (docs/quickcount.md §5).

The control relations are those of :mod:`pollwatch.validate` evaluated on copies
(:func:`pollwatch.validate.protocol.check_copies`): the same rule set as the observation
service's ``protocol_flags`` and ``pollwatch validate``. A blank cell is missing, never 0.
NDI's handbook asks for the same screening of incoming reports before they are counted
(Estok, Nevitte & Cowan 2002, ch. 7, data quality).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from pollwatch.i18n import N_, note
from pollwatch.quickcount.copies import REQUIRED, ProtocolCopies
from pollwatch.validate.protocol import check_copies

__all__ = ["INCOMPLETE", "CopyScreen", "QuarantinedCopy", "screen_copies"]

INCOMPLETE = "incomplete"


@dataclass(frozen=True)
class QuarantinedCopy:
    """A copy left out of the count: its station, the rules it fails and why, in words."""

    station_id: str
    rules: tuple[str, ...]
    reasons: tuple[str, ...]

    def to_dict(self) -> dict:
        return {
            "station_id": self.station_id,
            "rules": list(self.rules),
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class CopyScreen:
    """Outcome of :func:`screen_copies`: the copies kept and those quarantined."""

    kept: ProtocolCopies
    quarantined: tuple[QuarantinedCopy, ...]
    rules_checked: tuple[str, ...]
    rules_skipped: dict[str, str] = field(default_factory=dict)
    #: copies on which some rule could not run because an optional line was blank
    partly_checked: int = 0

    @property
    def quarantined_ids(self) -> tuple[str, ...]:
        return tuple(q.station_id for q in self.quarantined)


def screen_copies(
    copies: ProtocolCopies, candidate_columns: Sequence[str], profile: str = "generic"
) -> CopyScreen:
    """Quarantine copies that are incomplete or fail a control relation of ``profile``.

    Parameters
    ----------
    copies : ProtocolCopies
        The copies as read (blank cells are null).
    candidate_columns : sequence of str
        The copies' columns holding every candidate's votes (mapped to the frame's candidates).
    profile : str
        Country profile of the control relations (the frame's ``meta.profile``).

    Returns
    -------
    CopyScreen
        The copies kept (in their order), and each quarantined copy with its rules and reasons:
        a blank candidate, ``valid``, ``invalid`` or ``registered`` cell (``incomplete``: the
        estimator needs every one of them), or a violated control relation with the expected
        and found values.
    """
    t = copies.table
    ids = t["station_id"].cast(pl.Utf8).to_list()
    needed = [*candidate_columns, *(c for c in REQUIRED if c != "station_id")]
    reasons: dict[int, list[tuple[str, str]]] = {}
    for col in needed:
        for i in t[col].is_null().arg_true().to_list():
            reasons.setdefault(i, []).append(
                (
                    INCOMPLETE,
                    note(
                        N_("{line} is blank (missing, not 0): the copy cannot be counted"), line=col
                    ),
                )
            )
    checks = check_copies(t, list(candidate_columns), profile=profile)
    for f in checks.flags:
        reasons.setdefault(f.row, []).append((f.rule, f.message))
    quarantined = tuple(
        QuarantinedCopy(
            ids[i],
            tuple(dict.fromkeys(r for r, _ in reasons[i])),
            tuple(m for _, m in reasons[i]),
        )
        for i in sorted(reasons)
    )
    keep = np.ones(t.height, dtype=bool)
    keep[list(reasons)] = False
    kept = ProtocolCopies(
        t.filter(pl.Series(keep)), copies.fields, copies.candidates, copies.source
    )
    partly = len({row for row, _, _ in checks.blank} - set(reasons))
    return CopyScreen(kept, quarantined, tuple(checks.checked), dict(checks.skipped), partly)
