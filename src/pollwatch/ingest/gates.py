"""Plausibility: per-station counts no polling station can have (kept, excluded, one finding
per cell), and the national gates that refuse a reading which is most likely a misreading
(a protocol line taken for a candidate, a field for another) rather than analyse it.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pollwatch.errors import DataIssue
from pollwatch.i18n import N_, note
from pollwatch.ingest._common import MAPPING_DOCS
from pollwatch.model.election import EXCLUSION, ElectionMeta

_COUNT_LIKE_CAST = (
    "valid",
    "invalid",
    "ballots_issued_early",
    "ballots_issued_station",
    "ballots_issued_mobile",
    "ballots_mobile_box",
    "ballots_stationary_box",
)


def implausible_counts(
    series: dict[str, pl.Series],
    cols: dict[str, str],
    evoting: np.ndarray,
    lines: np.ndarray,
    plaus: dict,
    source: str,
) -> tuple[np.ndarray, list[DataIssue]]:
    """Counts no polling station can have: above ``max_count``, registered above
    ``max_registered`` (ordinary stations), ballots or votes above ``max_ratio`` × registered.

    Such a station stays in the model, excluded (``implausible_count``), one finding per cell.
    The check is elementwise: nothing here (or anywhere in ingest) allocates by a count's value.
    """
    max_count, max_reg, ratio = (
        int(plaus["max_count"]),
        int(plaus["max_registered"]),
        float(plaus["max_ratio"]),
    )
    reg = series["registered"].fill_null(0).to_numpy() if "registered" in series else None
    mask = np.zeros(len(lines), dtype=bool)
    out: list[DataIssue] = []
    for name, col in cols.items():
        if name not in series:
            continue
        v = series[name].fill_null(0).to_numpy()
        over = v > max_count
        big = (v > max_reg) & ~evoting & ~over if name == "registered" else None
        ratio_hit = None
        if reg is not None and (name in _COUNT_LIKE_CAST or name.startswith("cand_")):
            ratio_hit = (reg > 0) & (v > ratio * reg.astype(np.float64)) & ~over
        hit = (
            over
            | (big if big is not None else False)
            | (ratio_hit if ratio_hit is not None else False)
        )
        for i in np.flatnonzero(hit).tolist():
            if over[i]:
                why = f"at most {max_count:,} at one station"
            elif big is not None and big[i]:
                why = f"at most {max_reg:,} registered voters at an ordinary station"
            else:
                assert reg is not None  # the ratio check, the only one left, needs the registered
                why = f"at most {ratio:g} × the registered voters ({int(reg[i]):,})"
            out.append(
                DataIssue(
                    source,
                    "a count no polling station can have; station excluded (implausible_count)",
                    line=int(lines[i]),
                    column=col,
                    value=str(int(v[i])),
                    expected=why,
                    kind="warning",
                    hint="if stations this large are real in this file, raise [plausibility] "
                    "max_count / max_registered / max_ratio",
                )
            )
        mask |= hit
    return mask, out


def national_gates(
    table: pl.DataFrame,
    meta: ElectionMeta,
    found: dict[str, str],
    derived: dict[str, str],
    source: str,
    plaus: dict,
) -> tuple[list[DataIssue], dict[str, str]]:
    """Plausibility gates on the whole reading (analysable stations only).

    A reading in which candidates do not add up to the valid votes, a "candidate" has more votes
    than there are valid ballots, ballots cast and issued differ by more than a quarter, or more
    ballots are cast than voters registered, is not a reading of this file's protocols: most
    likely a protocol line was taken for a candidate or a field for another. It is refused, with
    the columns it used and how to fix the mapping.
    """
    ok = table[EXCLUSION].is_null().to_numpy()
    res: dict[str, str] = {}
    fails: list[DataIssue] = []
    n = int(ok.sum())
    if not n or not meta.candidates:
        res["stations"] = "no analysable stations: gates not applied"
        return fails, res
    ids = [c.id for c in meta.candidates]
    sub = table.filter(pl.Series(ok))
    votes = np.column_stack([sub[c].fill_null(0).to_numpy() for c in ids])
    valid = sub["valid"].fill_null(0).to_numpy()
    invalid = sub["invalid"].fill_null(0).to_numpy()
    reg = sub["registered"].fill_null(0).to_numpy()
    used = ", ".join(
        f"{k} = {v!r}" for k, v in found.items() if k in ("registered", "valid", "invalid")
    )
    used += "".join(f", {k} = {v} (derived)" for k, v in derived.items())
    cand_text = ", ".join(repr(c.source_column or c.name) for c in meta.candidates)
    reading = f"This reading used {used}; candidates {cand_text}"
    totals = votes.sum(axis=0)
    top = int(np.argmax(totals))
    top_name = meta.candidates[top].source_column or meta.candidates[top].name
    valid_col = found.get("valid", derived.get("valid", "valid"))

    def fail(
        gate: str, message: str, found_: str, expected: str, hint: str, column: str | None = None
    ) -> None:
        fails.append(
            DataIssue(
                source,
                f"refused ({gate}): {message}",
                line=1,
                column=column,
                value=found_,
                expected=expected,
                hint=f"{hint}. {reading}. Mappings: {MAPPING_DOCS}",
            )
        )
        res[gate] = note(N_("failed: {found}"), found=found_)

    ignore_fix = (
        f'[candidates] ignore = ["{top_name}"] or list them: [candidates] columns = ["...", "..."]'
    )
    valid_sum = int(valid.sum())
    if "candidates" not in derived.get("valid", "") and "valid" in found:
        s = votes.sum(axis=1)
        off = s != valid
        share_off = float(off.mean())
        # a misreading breaks the sum at (nearly) every station; a few broken protocols are findings for
        # `validate`, not a reason to refuse the file
        if share_off > float(plaus["sum_tolerance"]) and int(off.sum()) >= int(
            plaus["min_stations"]
        ):
            over = float((s > valid).mean())
            tot = int(s.sum())
            fail(
                "candidates_sum_valid",
                f"the candidates' votes do not add up to the valid votes at {100 * share_off:.1f} % of "
                f"{n:,} stations ({'more' if over >= share_off / 2 else 'fewer'} than valid at most of them; "
                f"all candidates {tot:,} vs valid {valid_sum:,})",
                f"{100 * share_off:.1f} % of stations",
                f"at most {100 * float(plaus['sum_tolerance']):g} %",
                (
                    f"a protocol line taken as a candidate? the largest 'candidate' is {top_name!r}; {ignore_fix} "
                    "(if each voter may mark several candidates, set [plausibility] sum_tolerance = 1)"
                    if tot > valid_sum
                    else "a candidate missing, 'valid' the wrong column ([fields] valid = \"exact column name\"), or valid "
                    "votes that include blank votes or another line (make it a candidate in [candidates] columns, or "
                    "set [plausibility] sum_tolerance = 1 if the gap is real)"
                ),
                column=valid_col,
            )
        else:
            res["candidates_sum_valid"] = note(
                N_("ok: they add up at {share} % of {n} stations"),
                share=format(100 * (1 - share_off), ".1f"),
                n=format(n, ","),
            )
    if valid_sum > 0:
        over_cols = [
            (meta.candidates[j].source_column or meta.candidates[j].name, int(totals[j]))
            for j in range(len(ids))
            if totals[j] > valid_sum
        ]
        if over_cols:
            name, tot = over_cols[0]
            fail(
                "candidate_le_valid",
                f"{name!r} has more votes than there are valid ballots "
                f"({100 * tot / valid_sum:.0f} % of the valid votes)",
                f"{tot:,} votes",
                f"at most the {valid_sum:,} valid votes",
                f'a protocol line taken as a candidate? [candidates] ignore = ["{name}"]',
                column=name,
            )
        else:
            res["candidate_le_valid"] = note(
                N_("ok: the largest has {share} % of valid"),
                share=format(100 * int(totals[top]) / valid_sum, ".1f"),
            )
    cast = int(valid.sum() + invalid.sum())
    parts = [
        p
        for p in ("ballots_issued_early", "ballots_issued_station", "ballots_issued_mobile")
        if p in sub.columns
    ]
    few = n < int(
        plaus["min_stations"]
    )  # national ratios of a handful of stations say little: not gated
    if few:
        res["stations"] = note(
            N_("{n} analysable stations: the national-ratio gates need {need}"),
            n=n,
            need=plaus["min_stations"],
        )
    if parts and cast > 0 and not few:
        issued = int(sum(int(sub[p].fill_null(0).sum()) for p in parts))
        r = cast / issued if issued else float("inf")
        if not 0.8 <= r <= 1.25:
            fail(
                "issued_vs_cast",
                f"ballots cast ({cast:,}) and issued ({issued:,}) are not of the same order "
                f"(ratio {r:.2f})",
                f"ratio {r:.2f}",
                "between 0.8 and 1.25",
                "is one of the ballots-issued lines ("
                + ", ".join(f"{p} = {found.get(p, '?')!r}" for p in parts)
                + ') another protocol line? name it exactly: [fields] ballots_issued_station = "..."',
                column=" + ".join(found.get(p, p) for p in parts),
            )
        else:
            res["issued_vs_cast"] = note(N_("ok: cast / issued = {ratio}"), ratio=format(r, ".3f"))
    reg_sum = int(reg.sum())
    if few:
        pass
    elif reg_sum > 0 and cast > 1.05 * reg_sum:
        fail(
            "cast_le_registered",
            f"more ballots cast ({cast:,}) than voters registered ({reg_sum:,})",
            f"turnout {100 * cast / reg_sum:.0f} %",
            "at most 105 %",
            "is 'registered' the list of voters? [fields] registered = \"exact column name\"",
            column=found.get("registered"),
        )
    elif reg_sum > 0:
        res["cast_le_registered"] = note(
            N_("ok: turnout {turnout} %"), turnout=format(100 * cast / reg_sum, ".1f")
        )
    return fails, res
