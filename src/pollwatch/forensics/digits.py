"""Digit tests on vote counts: second-digit Benford (2BL), last digit, C05s and P05s.

Sources: Mebane (2006), "Election forensics: vote counts and Benford's law" and Mebane
(2011), "Comment on 'Benford's law and the detection of election fraud'", *Political
Analysis* 19(3):269–272 (2BL, eq. for ``P(d)``); Beber & Scacco (2012), "What the numbers
say: a digit-based test for election fraud", *Political Analysis* 20(2):211–234 (last
digit, uniform null); EFToolkit ``BasicElectionForensics`` (C05s, P05s, the bootstrap).
Implementer's notes: ``docs/methods/forensics.md`` §4; reference values:
``docs/methods/reference-numbers.md`` §6.

Digit tests are weak evidence. Deckert, Myagkov & Ordeshook (2011), *Political Analysis*
19(3):245–268, found that deviations from Benford "follow no pattern", that the tests'
success rate is about a coin toss, and that fraud can move counts *towards* Benford;
Mebane's reply defends 2BL as a diagnostic that also reacts to strategic voting, which is
itself a reason a deviation cannot be read as fraud. Station size alone moves second digits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from pollwatch.compute import spawn_seeds
from pollwatch.forensics._common import Notes, basic_mask, excluded_mask, validate_param
from pollwatch.i18n import N_, Note, gettext, note, translated
from pollwatch.model import Election
from pollwatch.model.derived import percent
from pollwatch.results import (
    ConfidenceInterval,
    ResultMixin,
    StationSignal,
    Summary,
    fmt_int,
    jsonable,
)

__all__ = [
    "BENFORD_2BL",
    "DigitStatistic",
    "DigitRow",
    "DigitsResult",
    "digit_tests",
    "second_digits",
    "last_digits",
]

_D = np.arange(10)
#: Second-digit Benford probabilities ``P(d) = Σ_{k=1..9} log10(1 + 1/(10k + d))``.
BENFORD_2BL = np.array([sum(math.log10(1 + 1 / (10 * k + d)) for k in range(1, 10)) for d in _D])
_UNIFORM = np.full(10, 0.1)
_IS05 = np.array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0], dtype=float)
_POW10 = 10 ** np.arange(19, dtype=np.int64)

WEAK_EVIDENCE = N_(
    "Digit tests are weak evidence: Deckert, Myagkov & Ordeshook (2011) found that deviations "
    "follow no pattern, that the tests succeed about as often as a coin toss and that fraud can "
    "move counts towards Benford; Mebane's reply notes that strategic voting also moves them. "
    "Station size alone shifts second digits, and with ~10^5 counts every chi-square is "
    "'significant', so read the intervals (effect sizes), not the p-values."
)


def second_digits(x: np.ndarray) -> np.ndarray:
    """Second significant digit of each count ≥ 10, by integer arithmetic (no ``log10``).

    >>> second_digits(np.array([10, 99, 100, 1234, 1000000]))
    array([0, 9, 0, 2, 0])
    """
    x = np.asarray(x, dtype=np.int64)
    if x.size and x.min() < 10:
        raise ValueError(f"x (min {x.min()}) must hold counts >= 10 to have a second digit.")
    ndig = np.searchsorted(_POW10, x, side="right")  # 10 -> 2 digits, 100 -> 3, ...
    return (x // _POW10[ndig - 2]) % 10


def last_digits(x: np.ndarray) -> np.ndarray:
    """Last digit of each non-negative count."""
    return np.asarray(x, dtype=np.int64) % 10


#: a flagged test's code as a reader sees it (the codes stay in results.json)
_TESTS = {"last": N_("last")}


def _label(label: str) -> str:
    """A row's label for a reader: a candidate's name as it is, ``ballots cast`` (a Note)
    in the current language."""
    return translated(label) if isinstance(label, Note) else label


@dataclass(frozen=True)
class DigitStatistic:
    """One digit statistic on one set of counts.

    ``value`` is the mean digit (2BL, last digit) or the share ending in 0/5 (C05s, P05s);
    ``null`` its value without manipulation; ``ci`` a bootstrap "basic" interval; ``flagged``
    says the interval excludes ``null``. ``chi2``/``pvalue``/``df`` are Pearson's test of the
    whole digit distribution (2BL, last: 9 df; C05s, P05s: 0/5 vs other, 1 df).
    """

    test: str
    n: int
    value: float
    null: float
    ci: ConfidenceInterval
    flagged: bool
    chi2: float
    df: int
    pvalue: float
    counts: tuple[int, ...]
    ci_method: str = "bootstrap"


@dataclass(frozen=True)
class DigitRow:
    """Digit statistics of one count variable (a candidate or ballots cast) in one scope."""

    label: str
    variable: str  # candidate id or "ballots_cast"
    scope: str  # "national" or the region's label
    second: DigitStatistic  # 2BL, counts >= min_count
    last: DigitStatistic  # last digit, counts >= min_count
    c05: DigitStatistic  # share of counts >= min_count ending in 0 or 5
    last_high: DigitStatistic  # last digit, counts >= min_count_high

    @property
    def flagged(self) -> tuple[str, ...]:
        return tuple(s.test for s in (self.second, self.last, self.c05) if s.flagged)


@dataclass(frozen=True)
class DigitsResult(ResultMixin):
    """Result of :func:`digit_tests`.

    ``rows``: national rows (every candidate, then "ballots cast"); ``regional``: the same per
    region; ``p05_share``/``p05_turnout``: P05s of the scrutinised candidate's rounded share
    and of rounded ``min(R/V, 1)``; ``skewness``/``kurtosis`` (Pearson, not excess) of the
    share ``s = L/R`` over stations with ``V > 0``, ``R > 0``.
    """

    rows: tuple[DigitRow, ...]
    regional: tuple[DigitRow, ...]
    scrutiny: str
    p05_share: DigitStatistic
    p05_turnout: DigitStatistic
    skewness: float
    kurtosis: float
    n_stations: int
    min_count: int
    min_count_high: int
    n_boot: int
    level: float
    region_level: str | None
    seed: int | None
    seed_entropy: int
    regional_interval: str = "normal"
    notes: tuple[str, ...] = ()

    def row(self, variable: str, scope: str = "national") -> DigitRow:
        """The row of ``variable`` (candidate id, name, or ``"ballots_cast"``) in ``scope``."""
        for r in self.rows if scope == "national" else self.regional:
            if r.scope == scope and variable in (r.variable, r.label):
                return r
        raise KeyError(f"no digit row for {variable!r} in scope {scope!r}")

    # the station-signal contract (pollwatch.results.MethodResult)
    def station_signals(self, election: Election) -> dict[str, StationSignal]:
        return {}  # digit distributions of the whole election

    def _digit_rows(self, which: str) -> list[list]:
        out = []
        for row in self.rows:
            s = getattr(row, which)
            out.append([row.label, s.value, s.ci.low, s.ci.high, s.n])
        return out

    def to_json(self) -> dict:
        lead = self.row(self.scrutiny)
        return jsonable(
            {
                "leader_second_digit_mean": lead.second.value,
                "leader_second_digit_ci": list(lead.second.ci),
                "leader_last_digit_mean": lead.last.value,
                "leader_last_digit_ci": list(lead.last.ci),
                "leader_c05": lead.c05.value,
                "leader_last_digit_high_p": lead.last_high.pvalue,
                "leader_last_digit_high_n": lead.last_high.n,
                "p05_share": self.p05_share.value,
                "p05_turnout": self.p05_turnout.value,
                "flagged": {row.label: list(row.flagged) for row in self.rows if row.flagged},
                # the leader's own row only: "ballots cast" fails 2BL on station-size grounds alone
                "any_flagged": bool(lead.flagged),
                "second_digit_rows": self._digit_rows("second"),
                "last_digit_rows": self._digit_rows("last"),
                "note": "weak evidence: deviations follow no consistent pattern and can arise "
                "without fraud",
            },
            keep_nan=True,
        )

    def parameters(self) -> dict:
        return {
            "scrutiny": self.scrutiny,
            "min_count": self.min_count,
            "min_count_high": self.min_count_high,
            "n_boot": self.n_boot,
            "level": self.level,
            "region_level": self.region_level,
            "regional_interval": self.regional_interval,
            "seed": self.seed,
            "seed_entropy": self.seed_entropy,
        }

    def summary(self) -> Summary:
        lead = self.row(self.scrutiny)
        # the tests by their codes (2BL, C05s), "last" (the last-digit test) in words
        flagged = [
            f"{_label(r.label)} ({', '.join(gettext(_TESTS.get(t, t)) for t in r.flagged)})"
            for r in self.rows
            if r.flagged
        ]
        text = " ".join(
            [
                gettext("Second-digit (2BL), last-digit and 0/5 tests on {n} stations.").format(
                    n=f"{self.n_stations:,}"
                ),
                gettext("{label}: mean second digit {second}, mean last digit {last}.").format(
                    label=_label(lead.label),
                    second=_fmt_stat(lead.second),
                    last=_fmt_stat(lead.last),
                ),
                gettext("Intervals exclude the null for: {flagged}.").format(
                    flagged="; ".join(flagged)
                )
                if flagged
                else gettext("No national interval excludes its null value."),
                gettext(WEAK_EVIDENCE),
            ]
        )
        rows: list[tuple[str, str]] = []
        for r in self.rows:
            row = _label(r.label)
            rows.append((gettext("{row}: 2BL mean").format(row=row), _fmt_stat(r.second)))
            rows.append((gettext("{row}: last-digit mean").format(row=row), _fmt_stat(r.last)))
            rows.append((gettext("{row}: C05s").format(row=row), _fmt_stat(r.c05, digits=4)))
        rows += [
            ("P05s of rounded share", _fmt_stat(self.p05_share, digits=4)),
            ("P05s of rounded turnout", _fmt_stat(self.p05_turnout, digits=4)),
            ("skewness / kurtosis of share", f"{self.skewness:.3f} / {self.kurtosis:.3f}"),
            (
                "bootstrap",
                gettext(
                    "{n} multinomial replicates, basic {level} % intervals, seed {seed} "
                    "(entropy {entropy})"
                ).format(
                    n=self.n_boot,
                    level=f"{100 * self.level:g}",
                    seed=self.seed,
                    entropy=self.seed_entropy,
                ),
            ),
        ]
        if self.regional:
            nreg = sum(1 for r in self.regional if r.variable == lead.variable and r.flagged)
            rows.append(
                (
                    gettext("regions flagged for {candidate}").format(candidate=lead.label),
                    fmt_int(nreg),
                )
            )
        return Summary("Digit tests (2BL, last digit, C05s, P05s)", text, rows, self.notes)


def _fmt_stat(s: DigitStatistic, digits: int = 3) -> str:
    if s.n == 0:
        return "n/a (no counts)"
    flag = " *" if s.flagged else ""
    return (
        f"{s.value:.{digits}f} [{s.ci.low:.{digits}f}, {s.ci.high:.{digits}f}] "
        f"(null {s.null:g}; chi2 {s.chi2:.1f}, df {s.df}; n {s.n:,}){flag}"
    )


def _pearson(counts: np.ndarray, probs: np.ndarray) -> tuple[float, float]:
    n = counts.sum()
    if n == 0:
        return math.nan, math.nan
    expected = n * probs
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    return chi2, float(special.chdtrc(len(probs) - 1, chi2))


def _statistic(
    test: str,
    counts: np.ndarray,
    scores: np.ndarray,
    null_probs: np.ndarray,
    null_value: float,
    rng: np.random.Generator | None,
    n_boot: int,
    level: float,
) -> DigitStatistic:
    """Mean of ``scores`` over a categorical variable with ``counts``, Pearson χ², interval.

    The statistic is a mean of a k-valued variable, so a station bootstrap replicate is one
    ``Multinomial(n, p̂)`` draw of the category counts (exactly equivalent, far cheaper).
    Without ``rng`` the interval is the bootstrap's normal limit ``θ̂ ± z·sd/√n`` (analytic,
    no Monte Carlo noise; used for the many regional rows).
    """
    counts = np.asarray(counts, dtype=np.int64)
    n = int(counts.sum())
    if n == 0:
        nan = math.nan
        return DigitStatistic(
            test=test,
            n=0,
            value=nan,
            null=null_value,
            ci=ConfidenceInterval(nan, nan),
            flagged=False,
            chi2=nan,
            df=len(counts) - 1,
            pvalue=nan,
            counts=tuple(int(c) for c in counts),
        )
    theta = float(counts @ scores) / n
    alpha = (1 - level) / 2
    if rng is not None:
        boots = rng.multinomial(n, counts / n, size=n_boot) @ scores / n
        q_lo, q_hi = np.quantile(boots, [alpha, 1 - alpha])
        ci = ConfidenceInterval(2 * theta - float(q_hi), 2 * theta - float(q_lo))
    else:
        sd = math.sqrt(float(counts @ (scores - theta) ** 2) / n / n)
        half = float(special.ndtri(1 - alpha)) * sd
        ci = ConfidenceInterval(theta - half, theta + half)
    chi2, p = _pearson(counts, null_probs)
    flagged = not (ci.low <= null_value <= ci.high)
    return DigitStatistic(
        test=test,
        n=n,
        value=theta,
        null=null_value,
        ci=ci,
        flagged=flagged,
        chi2=chi2,
        df=len(counts) - 1,
        pvalue=p,
        counts=tuple(int(c) for c in counts),
        ci_method="bootstrap" if rng else "normal",
    )


def _c05_counts(digit_counts: np.ndarray) -> np.ndarray:
    """Collapse 10 last-digit counts to (ending in 0 or 5, other)."""
    hit = int(digit_counts[0] + digit_counts[5])
    return np.array([hit, int(digit_counts.sum()) - hit])


_C05_SCORES = np.array([1.0, 0.0])
_C05_NULL = np.array([0.2, 0.8])


def _digit_tables(
    x: np.ndarray, codes: np.ndarray, n_groups: int, min_count: int, min_count_high: int
) -> np.ndarray:
    """Digit counts per group, shape ``(n_groups, 3, 10)``: 2BL, last, last (high counts).

    Digits are extracted once per station; groups are counted with one ``bincount`` each.
    """
    out = np.empty((n_groups, 3, 10), dtype=np.int64)
    big = x >= min_count
    high = x >= min_count_high
    for j, (sel, dig) in enumerate(
        ((big, second_digits(x[big])), (big, last_digits(x[big])), (high, last_digits(x[high])))
    ):
        out[:, j] = np.bincount(codes[sel] * 10 + dig, minlength=n_groups * 10).reshape(-1, 10)
    return out


def _row(
    label: str,
    variable: str,
    scope: str,
    table: np.ndarray,
    seq: np.random.SeedSequence | None,
    min_count_high: int,
    n_boot: int,
    level: float,
) -> DigitRow:
    rng = None if seq is None else np.random.default_rng(seq)
    c2, cl, ch = table
    bm = float(_D @ BENFORD_2BL)
    return DigitRow(
        label,
        variable,
        scope,
        second=_statistic("2BL", c2, _D, BENFORD_2BL, bm, rng, n_boot, level),
        last=_statistic("last", cl, _D, _UNIFORM, 4.5, rng, n_boot, level),
        c05=_statistic("C05s", _c05_counts(cl), _C05_SCORES, _C05_NULL, 0.2, rng, n_boot, level),
        last_high=_statistic(f"last>={min_count_high}", ch, _D, _UNIFORM, 4.5, rng, n_boot, level),
    )


def _p05(
    test: str, pct: np.ndarray, rng: np.random.Generator, n_boot: int, level: float
) -> DigitStatistic:
    r = np.rint(pct).astype(np.int64)  # half to even, as R's round()
    return _statistic(
        test,
        _c05_counts(np.bincount(r % 10, minlength=10)),
        _C05_SCORES,
        _C05_NULL,
        0.2,
        rng,
        n_boot,
        level,
    )


def digit_tests(
    e: Election,
    *,
    candidate: str | None = None,
    min_count: int = 10,
    min_count_high: int = 100,
    n_boot: int = 1000,
    level: float = 0.95,
    regions: bool = True,
    region_level: str | None = None,
    regional_bootstrap: bool = False,
    seed: int | None = None,
    min_n: int = 100,
) -> DigitsResult:
    """Second-digit Benford, last-digit, C05s and P05s tests with bootstrap intervals.

    Sources: Mebane (2006, 2011) for 2BL, ``P(d) = Σ_{k=1..9} log10(1 + 1/(10k + d))``,
    null mean 4.187; Beber & Scacco (2012) for the uniform last digit (mean 4.5); C05s and
    P05s as in EFToolkit (null 0.2). See ``docs/methods/forensics.md`` §4.

    Assumptions: without manipulation, counts ≥ ``min_count`` follow the 2BL law and their
    last digits are uniform; rounded percentages end in 0 or 5 one time in five. These nulls
    are textbook approximations: station size and small counts move digits without fraud,
    and fraud need not move them (see the module docstring). Treat results as weak evidence.

    Parameters
    ----------
    e : Election
    candidate : str, optional
        The candidate for P05s and the skewness/kurtosis of the share (default: scrutiny).
    min_count, min_count_high : int
        Counts below ``min_count`` are left out of 2BL, last digit and C05s; the extra
        last-digit row uses counts ≥ ``min_count_high`` (small counts bias the last digit).
    n_boot : int
        Bootstrap replicates (one multinomial draw of digit counts each).
    level : float
        Confidence level of the "basic" intervals ``(2θ̂ − q_hi, 2θ̂ − q_lo)``.
    regions, region_level : bool, str
        Also compute every row per label of ``region_level`` (default: the first level).
    regional_bootstrap : bool
        Bootstrap the regional rows too; by default they get the bootstrap's analytic normal
        limit (hundreds of rows: ~3 s of multinomial draws against ~0.1 s).
    seed : int, optional
        Seed of the bootstrap; the result records it and its entropy.
    min_n : int
        Rows with fewer counts get a note; if the scrutinised candidate's national 2BL row
        does, a :class:`SmallSampleWarning` too.

    Returns
    -------
    DigitsResult
    """
    for name, val, lo in (
        ("min_count", min_count, 10),
        ("min_count_high", min_count_high, 10),
        ("n_boot", n_boot, 10),
        ("min_n", min_n, 1),
    ):
        validate_param(name, val, lo, math.inf)
    validate_param("level", level, 0, 1, inclusive=False)
    notes = Notes()
    lead = e.candidate(candidate)
    # stations excluded by the model (e-voting rows kept) count as 0: below min_count, no digit
    keep = ~excluded_mask(e)
    variables = [(c.name, c.id, np.where(keep, e.field(c.id), 0)) for c in e.candidates]
    # a Note: the row's label is "ballots cast" in results.json, in words where it is shown
    variables.append((note("ballots cast"), "ballots_cast", np.where(keep, e.ballots_cast(), 0)))

    codes = np.zeros(e.n_stations, dtype=np.int64)
    scopes: list[str] = []
    level_name = None
    if regions and e.meta.hierarchy:
        level_name = region_level or e.meta.hierarchy[0]
        codes, labels = e.level_codes(level_name)
        scopes = [str(lab).split("\x1f")[-1] for lab in labels]
    elif region_level is not None:
        raise ValueError(
            f"region_level ({region_level!r}) given but regions is False or the "
            "election has no hierarchy"
        )

    entropy, seqs = spawn_seeds(seed, (len(scopes) + 1) * len(variables) + 2)
    rows: list[DigitRow] = []
    regional: list[DigitRow] = []
    for j, (label, var, x) in enumerate(variables):
        table = _digit_tables(x, codes, max(len(scopes), 1), min_count, min_count_high)
        rows.append(
            _row(label, var, "national", table.sum(axis=0), seqs[j], min_count_high, n_boot, level)
        )
        for g, scope in enumerate(scopes):
            seq = seqs[len(variables) * (g + 1) + j] if regional_bootstrap else None
            regional.append(_row(label, var, scope, table[g], seq, min_count_high, n_boot, level))
    i = len(seqs) - 2

    lead_row = next(r for r in rows if r.variable == lead.id)
    if lead_row.second.n < min_n:
        notes.small_sample(
            note(
                "only {n} counts of {candidate} are >= {min_count} "
                "(fewer than {min_n}); its digit statistics are unreliable",
                n=lead_row.second.n,
                candidate=lead.name,
                min_count=min_count,
                min_n=min_n,
            )
        )
    small = [r for r in rows if r.second.n < min_n]
    if small:
        notes.add(
            note(
                "{n} national row(s) have fewer than {min_n} counts: {rows}",
                n=len(small),
                min_n=min_n,
                rows=", ".join(r.label for r in small),
            )
        )
    small_reg = sum(1 for r in regional if r.second.n < min_n)
    if small_reg:
        notes.add(
            note(
                "{n} regional row(s) have fewer than {min_n} counts; read them with care",
                n=small_reg,
                min_n=min_n,
            )
        )

    ok = basic_mask(e)
    L, R, V = e.field(lead.id)[ok], e.ballots_cast()[ok], e.field("registered")[ok]
    p05_share = _p05("P05s share", percent(L, R), np.random.default_rng(seqs[i]), n_boot, level)
    p05_turn = _p05(
        "P05s turnout",
        np.minimum(percent(R, V), 100.0),
        np.random.default_rng(seqs[i + 1]),
        n_boot,
        level,
    )
    s = L / R
    if s.size < 3 or np.ptp(s) == 0:
        notes.degenerate(
            note(
                "the share has fewer than 3 distinct stations or no spread; "
                "skewness and kurtosis are undefined"
            )
        )
        skew = kurt = math.nan
    else:
        skew = float(stats.skew(s))
        kurt = float(stats.kurtosis(s, fisher=False))
    notes.add(WEAK_EVIDENCE)
    return DigitsResult(
        rows=tuple(rows),
        regional=tuple(regional),
        scrutiny=lead.id,
        p05_share=p05_share,
        p05_turnout=p05_turn,
        skewness=skew,
        kurtosis=kurt,
        n_stations=int(ok.sum()),
        min_count=min_count,
        min_count_high=min_count_high,
        n_boot=n_boot,
        level=level,
        region_level=level_name,
        seed=seed,
        seed_entropy=entropy,
        regional_interval="bootstrap" if regional_bootstrap else "normal",
        notes=notes.as_tuple(),
    )
