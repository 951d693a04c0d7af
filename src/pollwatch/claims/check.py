"""Reconcile published figures with each other, with arithmetic, and with the data.

Rules (docs/methods/quickcount-and-cameras.md §3.1 and §1.5):

* **disagreement**: two claims of the same quantity and stage differ by more than their combined
  rounding tolerance (half a unit of each one's last published digit);
* **revision**: a preliminary and a final figure differ (reported, not a contradiction);
* **impossible**: turnout × registered gives fewer ballots than the valid votes (or ballots
  cast); candidate shares of one source sum to more than 100 %; a candidate's votes exceed the
  valid votes;
* **inconsistent**: a claimed share differs from candidate votes / valid votes beyond rounding;
  candidate votes do not sum to the claimed valid votes;
* **data**: a claim differs from the figure computed from the official station data;
* **exit poll**: an exit poll set against the official figure, with the reminder that agreement
  is not verification (an exit poll cannot see stuffing).

Every rule allows for the stated precision, so a finding cannot be an artefact of rounding.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from pollwatch.claims.model import Claim, quantity_label
from pollwatch.i18n import N_, gettext, note
from pollwatch.model import Election
from pollwatch.results import ResultMixin, Summary

__all__ = ["ClaimFinding", "ClaimsCheck", "check_claims", "computed_figures"]

#: the kinds of finding and the stages of a figure, as words where a summary shows them
#: (the codes themselves stay in results.json and the English summary)
_WORDS = (
    N_("impossible"),
    N_("inconsistent"),
    N_("disagreement"),
    N_("data"),
    N_("revision"),
    N_("exit_poll"),
    N_("final"),
    N_("preliminary"),
    N_("partial"),
)

SEVERITY = {
    "impossible": 3,
    "inconsistent": 2,
    "disagreement": 2,
    "data": 2,
    "revision": 1,
    "exit_poll": 1,
}


@dataclass(frozen=True)
class ClaimFinding:
    """One problem: ``kind`` (see the module docstring), the quantity, the claims involved (as
    labels) and a plain-language explanation."""

    kind: str
    quantity: str
    claims: tuple[str, ...]
    message: str

    @property
    def severity(self) -> int:
        return SEVERITY.get(self.kind, 1)

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "quantity": self.quantity,
            "claims": list(self.claims),
            "message": self.message,
        }


@dataclass(frozen=True)
class ClaimsCheck(ResultMixin):
    """Result of :func:`check_claims`."""

    claims: tuple[Claim, ...]
    findings: tuple[ClaimFinding, ...]
    winner: str | None
    computed: dict

    _dict_exclude = ("claims",)

    def of_kind(self, kind: str) -> tuple[ClaimFinding, ...]:
        return tuple(f for f in self.findings if f.kind == kind)

    def summary(self) -> Summary:
        counts: defaultdict[str, int] = defaultdict(int)
        for f in self.findings:
            counts[f.kind] += 1
        text = (
            gettext("{n} claims checked: {counts}.").format(
                n=len(self.claims),
                counts=", ".join(
                    gettext("{n} {kind}").format(n=n, kind=gettext(k))
                    for k, n in sorted(counts.items(), key=lambda kv: -SEVERITY.get(kv[0], 1))
                ),
            )
            if counts
            else gettext("{n} claims checked: no contradictions found.").format(n=len(self.claims))
        )
        rows = [
            (
                gettext("{kind}: {quantity}").format(
                    kind=gettext(f.kind), quantity=quantity_label(f.quantity)
                ),
                f.message,
            )
            for f in sorted(self.findings, key=lambda f: -f.severity)
        ]
        notes = [
            gettext(
                "Tolerances follow each figure's published precision (half a unit of its last "
                "digit)."
            )
        ]
        if self.of_kind("exit_poll"):
            notes.append(
                gettext(
                    "Exit polls cannot detect ballot stuffing or turnout inflation: agreement "
                    "with the official figure is not verification."
                )
            )
        return Summary("Published claims reconciled", text, rows, notes)


def computed_figures(election: Election) -> dict[str, float]:
    """Figures computed from official station data, in claim units (% for shares and turnout)."""
    t = election.totals()
    cast = t["valid"] + t["invalid"]
    out: dict[str, float] = {
        "stations": t["stations"],
        "registered": t["registered"],
        "valid_votes": t["valid"],
        "invalid_votes": t["invalid"],
        "ballots_cast": cast,
        "turnout": 100 * cast / t["registered"] if t["registered"] else math.nan,
    }
    for name, v in t["votes"].items():
        out[f"candidate_votes:{name}"] = v
        out[f"candidate_share:{name}"] = 100 * v / t["valid"] if t["valid"] else math.nan
    out["winner_share"] = out[f"candidate_share:{election.winner.name}"]
    return out


def _winner(claims: list[Claim], computed: dict) -> str | None:
    votes = {
        c.quantity.split(":", 1)[1]: c.value
        for c in claims
        if c.quantity.startswith("candidate_votes:") and c.stage == "final"
    }
    if votes:
        return max(votes, key=lambda k: votes[k])
    cv = {k.split(":", 1)[1]: v for k, v in computed.items() if k.startswith("candidate_votes:")}
    return max(cv, key=lambda k: cv[k]) if cv else None


def _canon(q: str, winner: str | None) -> str:
    if winner and q.casefold() == f"candidate_share:{winner}".casefold():
        return "winner_share"
    if ":" in q:
        head, name = q.split(":", 1)
        return f"{head}:{name.strip()}"
    return q


def _fmt(x: float, unit: str) -> str:
    return f"{x:,.2f} %" if unit == "%" else f"{round(x):,}"


def _gap(x: float, unit: str) -> str:
    if unit == "%":
        return note("{x} percentage points", x=format(x, ",.2f"))
    return f"{round(x):,}"


def _followed(finding: str, text: str) -> str:
    """A finding followed by a claim's own note (the file's words, kept as written)."""
    return note("{finding} {note}", finding=finding, note=text) if text else finding


def _with_context(finding: str, context: str) -> str:
    """A finding followed by the claims' own notes (the file's words, kept as written)."""
    return (
        note("{finding} Context: {context}", finding=finding, context=context)
        if context
        else finding
    )


def check_claims(claims: Iterable[Claim], computed: dict | Election | None = None) -> ClaimsCheck:
    """Reconcile each claim with the others, with arithmetic and with ``computed`` figures.

    ``computed``: figures from the data (an Election, whose totals are used, or a dict keyed by
    quantity in claim units).
    """
    claims = list(claims)
    comp = computed_figures(computed) if isinstance(computed, Election) else dict(computed or {})
    winner = _winner(claims, comp)
    by_q: dict[str, list[Claim]] = defaultdict(list)
    for c in claims:
        by_q[_canon(c.quantity, winner)].append(c)
    findings: list[ClaimFinding] = []
    official = {q: [c for c in cs if c.kind != "exit_poll"] for q, cs in by_q.items()}
    findings += _pairwise(official)
    findings += _exit_polls(by_q.get("winner_share", []), winner)
    findings += _turnout_rule(official)
    findings += _share_rules(official, winner)
    findings += _against_data(official, comp)
    return ClaimsCheck(tuple(claims), tuple(findings), winner, comp)


def _pairwise(by_q: dict[str, list[Claim]]) -> list[ClaimFinding]:
    out = []
    for q, cs in by_q.items():
        for a, b in itertools.combinations(cs, 2):
            gap = abs(a.value - b.value)
            if gap <= a.tolerance + b.tolerance + 1e-9:
                continue
            if a.stage == b.stage:
                notes = " ".join(n for n in (a.note, b.note) if n)
                out.append(
                    ClaimFinding(
                        "disagreement",
                        q,
                        (a.label(), b.label()),
                        _with_context(
                            note(
                                "{a} gives {a_value} and {b} gives {b_value}: they differ by "
                                "{gap}, more than rounding to the published precision allows "
                                "(±{a_tol} and ±{b_tol}); at most one can be right.",
                                a=a.source,
                                a_value=a.shown(),
                                b=b.source,
                                b_value=b.shown(),
                                gap=_gap(gap, a.unit),
                                a_tol=format(a.tolerance, "g"),
                                b_tol=format(b.tolerance, "g"),
                            ),
                            notes,
                        ),
                    )
                )
            elif "partial" not in (a.stage, b.stage):
                out.append(
                    ClaimFinding(
                        "revision",
                        q,
                        (a.label(), b.label()),
                        note(
                            "{a_stage} {a_value} ({a}) vs {b_stage} {b_value} ({b}): revised by "
                            "{gap}; ask what changed between the two.",
                            a_stage=note(a.stage),
                            a_value=a.shown(),
                            a=a.source,
                            b_stage=note(b.stage),
                            b_value=b.shown(),
                            b=b.source,
                            gap=_gap(gap, a.unit),
                        ),
                    )
                )
    return out


def _exit_polls(winner_claims: list[Claim], winner: str | None) -> list[ClaimFinding]:
    polls = [c for c in winner_claims if c.kind == "exit_poll"]
    finals = [c for c in winner_claims if c.kind != "exit_poll" and c.stage == "final"]
    out = []
    for p in polls:
        for f in finals[:1]:
            size = (
                note("{n} interviews", n=format(p.sample_size, ","))
                if p.sample_size
                else note("sample size not published")
            )
            st = note(", {n} stations", n=p.stations) if p.stations else ""
            out.append(
                ClaimFinding(
                    "exit_poll",
                    "winner_share",
                    (p.label(), f.label()),
                    _followed(
                        note(
                            "Exit poll {poll} ({source}; {size}{stations}) vs official {official}: a "
                            "gap of {gap} pp. An exit poll asks voters outside and cannot see stuffed "
                            "ballots or inflated turnout, so agreement is not verification.",
                            poll=p.shown(),
                            source=p.source,
                            size=size,
                            stations=st,
                            official=f.shown(),
                            gap=format(abs(p.value - f.value), ".2f"),
                        ),
                        p.note,
                    ),
                )
            )
    return out


def _pick(by_q: dict[str, list[Claim]], q: str, stages=("final",)) -> list[Claim]:
    return [c for c in by_q.get(q, []) if c.stage in stages]


def _turnout_rule(by_q: dict[str, list[Claim]]) -> list[ClaimFinding]:
    """turnout × registered must leave room for every valid vote (and every ballot cast)."""
    out = []
    for t, r in itertools.product(
        _pick(by_q, "turnout", ("final", "preliminary")), _pick(by_q, "registered")
    ):
        most = (t.value + t.tolerance) / 100 * (r.value + r.tolerance)
        implied = t.value / 100 * r.value
        for q, what in (
            ("valid_votes", note("valid votes")),
            ("ballots_cast", note("ballots cast")),
        ):
            for v in _pick(by_q, q):
                if most < v.value - v.tolerance:
                    out.append(
                        ClaimFinding(
                            "impossible",
                            "turnout",
                            (t.label(), r.label(), v.label()),
                            note(
                                "{turnout} of {registered} = {implied} ballots < {votes} {what}: the "
                                "turnout ({t_source}) applied to the registered voters ({r_source}) "
                                "leaves fewer ballots than the {what} ({v_source}), even at the top of "
                                "the turnout's rounding ({most}). One of the figures is wrong, or the "
                                "turnout was computed on a larger list (e.g. including voters added on "
                                "the day) than the one published.",
                                turnout=t.shown(),
                                registered=format(r.value, ",.0f"),
                                implied=format(implied, ",.0f"),
                                votes=format(v.value, ",.0f"),
                                what=what,
                                t_source=t.source,
                                r_source=r.source,
                                v_source=v.source,
                                most=format(most, ",.0f"),
                            ),
                        )
                    )
    return out


def _share_rules(by_q: dict[str, list[Claim]], winner: str | None) -> list[ClaimFinding]:
    out = []
    votes = {q.split(":", 1)[1]: cs for q, cs in by_q.items() if q.startswith("candidate_votes:")}
    shares = {q.split(":", 1)[1]: cs for q, cs in by_q.items() if q.startswith("candidate_share:")}
    if winner:
        shares.setdefault(winner, [])
        shares[winner] = shares[winner] + by_q.get("winner_share", [])
    for stage in ("final", "partial", "preliminary"):
        valid = _pick(by_q, "valid_votes", (stage,))
        vstage = {n: [c for c in cs if c.stage == stage] for n, cs in votes.items()}
        # claimed share vs votes / valid
        for name, cs in shares.items():
            for s, v, x in itertools.product(
                [c for c in cs if c.stage == stage], vstage.get(name, []), valid
            ):
                pct = 100 * v.value / x.value
                if abs(pct - s.value) > s.tolerance + 1e-9:
                    out.append(
                        ClaimFinding(
                            "inconsistent",
                            f"candidate_share:{name}",
                            (s.label(), v.label(), x.label()),
                            note(
                                "{source} gives {name} {share}, but {votes} votes of {valid} valid "
                                "votes is {pct} %: the share does not follow from the vote counts "
                                "even allowing for rounding to {decimals} decimal(s).",
                                source=s.source,
                                name=name,
                                share=s.shown(),
                                votes=format(v.value, ",.0f"),
                                valid=format(x.value, ",.0f"),
                                pct=format(pct, ".3f"),
                                decimals=s.decimals,
                            ),
                        )
                    )
            for v, x in itertools.product(vstage.get(name, []), valid):
                if v.value > x.value:
                    out.append(
                        ClaimFinding(
                            "impossible",
                            f"candidate_votes:{name}",
                            (v.label(), x.label()),
                            note(
                                "{name} has {votes} votes, more than the {valid} valid votes.",
                                name=name,
                                votes=format(v.value, ",.0f"),
                                valid=format(x.value, ",.0f"),
                            ),
                        )
                    )
        # candidate votes sum vs valid
        per = [cs[0] for cs in vstage.values() if cs]
        if per and len(per) == len([n for n in votes if vstage.get(n)]):
            total = sum(c.value for c in per)
            for x in valid:
                if abs(total - x.value) > x.tolerance + 1e-9 and len(per) >= 2:
                    out.append(
                        ClaimFinding(
                            "inconsistent",
                            "valid_votes",
                            (x.label(),),
                            note(
                                "The {n} candidates' votes sum to {total}, not the {valid} valid "
                                "votes given by {source} (a gap of {gap}).",
                                n=len(per),
                                total=format(total, ",.0f"),
                                valid=format(x.value, ",.0f"),
                                source=x.source,
                                gap=format(total - x.value, "+,.0f"),
                            ),
                        )
                    )
        # shares of one source summing beyond 100 %
        src: dict[str, dict[str, Claim]] = defaultdict(dict)  # one share per source and candidate
        for name, cs in shares.items():
            for c in cs:
                if c.stage == stage:
                    src[c.source].setdefault(name, c)
        for source, per_name in src.items():
            cs = list(per_name.values())
            total = sum(c.value for c in cs)
            tol = sum(c.tolerance for c in cs)
            if total - tol > 100 + 1e-9:
                out.append(
                    ClaimFinding(
                        "impossible",
                        "candidate_share",
                        tuple(c.label() for c in cs),
                        note(
                            "{source}'s candidate shares sum to {total} %, more than 100 % even "
                            "allowing for rounding.",
                            source=source,
                            total=format(total, ".2f"),
                        ),
                    )
                )
    return out


def _against_data(by_q: dict[str, list[Claim]], comp: dict) -> list[ClaimFinding]:
    out = []
    for q, cs in by_q.items():
        if q not in comp or comp[q] is None or (isinstance(comp[q], float) and math.isnan(comp[q])):
            continue
        x = float(comp[q])
        for c in cs:
            if (
                c.stage == "final"
                and c.kind != "computed"
                and abs(c.value - x) > c.tolerance + 1e-9
            ):
                out.append(
                    ClaimFinding(
                        "data",
                        q,
                        (c.label(),),
                        note(
                            "{source} gives {value}; the official station data give {official} "
                            "(a gap of {gap}, beyond rounding).",
                            source=c.source,
                            value=c.shown(),
                            official=_fmt(x, c.unit),
                            gap=_gap(abs(c.value - x), c.unit),
                        ),
                    )
                )
    return out
