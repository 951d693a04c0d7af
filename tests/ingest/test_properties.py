"""Hypothesis properties of ingest and validation."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pollwatch.errors import IngestError
from pollwatch.ingest import read_election
from pollwatch.simulate import FraudConfig, Rounding, Stuffing, simulate_election
from pollwatch.validate import RULES, validate

SIM = simulate_election(
    400,
    seed=11,
    layout="russia",
    fraud=FraudConfig(stuffing=Stuffing(0.2), rounding=Rounding(0.05)),
)
SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _frame(tmp_path) -> tuple[pl.DataFrame, object]:
    paths = SIM.write(tmp_path)
    return pl.read_csv(paths["results.csv"], infer_schema=False), paths["results.csv"]


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1))
def test_shuffling_rows_changes_nothing(tmp_path_factory, seed):
    tmp = tmp_path_factory.mktemp("shuffle")
    df, _ = _frame(tmp)
    shuffled = df.sample(fraction=1.0, shuffle=True, seed=seed)
    p = tmp / "shuffled.csv"
    shuffled.write_csv(p)
    a, b = read_election(tmp / "results.csv"), read_election(p)
    assert a.totals() == b.totals()
    fa, fb = validate(a), validate(b)
    assert fa.counts() == fb.counts()
    assert fa.stations() == fb.stations()


@SETTINGS
@given(
    row=st.integers(0, 399),
    col=st.integers(3, 24),  # every count column (25 is the url)
    junk=st.text(alphabet="abcxyz-+,.?!", min_size=1, max_size=5).filter(
        lambda s: not s.strip("-+").isdigit()
    ),
)
def test_corrupted_cell_is_reported_with_line_and_column(tmp_path_factory, row, col, junk):
    tmp = tmp_path_factory.mktemp("corrupt")
    df, _ = _frame(tmp)
    name = df.columns[col]
    bad = df.with_columns(
        pl.when(pl.int_range(pl.len()) == row)
        .then(pl.lit(junk))
        .otherwise(pl.col(name))
        .alias(name)
    )
    p = tmp / "bad.csv"
    bad.write_csv(p)
    try:
        read_election(p)
    except IngestError as exc:
        assert [(i.line, i.column, i.value) for i in exc.issues] == [(row + 2, name, junk)]
    else:  # pragma: no cover - the property says this never happens
        raise AssertionError("a corrupted cell was not reported")


@SETTINGS
@given(n=st.integers(1, 40), seed=st.integers(0, 10_000))
def test_consistent_protocols_have_no_findings_and_one_perturbation_is_found(n, seed):
    sim = simulate_election(n, seed=seed, layout="russia")
    e = sim.election
    assert sum(validate(e).counts().values()) == 0
    rng = np.random.default_rng(seed)
    i = int(rng.integers(0, n))
    # one extra valid ballot without a candidate vote: the candidate-sum rule must catch it, and only it
    table = e.table.with_columns(
        pl.when(pl.int_range(pl.len()) == i)
        .then(pl.col("valid") + 1)
        .otherwise(pl.col("valid"))
        .alias("valid")
    )
    from pollwatch.model import Election

    counts = validate(Election(table, e.meta)).counts()
    assert counts["candidates_sum_valid"] == 1
    assert counts["cast_equals_boxes"] == 1
    assert (
        sum(
            v
            for k, v in counts.items()
            if k not in ("candidates_sum_valid", "cast_equals_boxes", "turnout_le_100")
        )
        == 0
    )


def test_every_rule_has_a_description():
    assert all(r.description for r in RULES.values())
