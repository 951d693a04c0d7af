"""Reconcile several observers' copies of one station's protocol into one record.

Apollo's "master submission": a field on which every copy agrees takes that value; a field on
which copies disagree is flagged as a conflict with every value seen, and is left empty so it
never silently enters a quick count.
"""

from __future__ import annotations

from collections.abc import Sequence


def reconcile(copies: Sequence[dict]) -> dict:
    """``copies``: ``{"numbers": {...}, "votes": {...}}`` dicts → reconciled record.

    Returns ``{"numbers", "votes", "conflicts": {field: [values]}, "n_copies"}``; a field missing
    from some copies takes the value of those that have it.
    """
    out: dict = {"numbers": {}, "votes": {}, "conflicts": {}, "n_copies": len(copies)}
    for part in ("numbers", "votes"):
        keys = sorted({k for c in copies for k in c.get(part, {})})
        for k in keys:
            seen = [c[part][k] for c in copies if k in c.get(part, {})]
            distinct = sorted(set(seen))
            if len(distinct) == 1:
                out[part][k] = distinct[0]
            else:
                out["conflicts"][f"{part}.{k}"] = distinct
    return out
