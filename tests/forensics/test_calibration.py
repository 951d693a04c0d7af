"""A small seeded calibration run: the integer test holds its level and sees rounding;
Shpilkin's estimate tracks injected stuffing. The full table is benchmarks/calibration.py."""

import numpy as np
import pytest

from pollwatch.calibration import accuracy_table, calibrate, format_table


@pytest.fixture(scope="module")
def table():
    return calibrate(n_elections=12, n_stations=(5_000, 8_000), methods=["integer_percentages", "shpilkin"],
                     scenarios=["clean", "rounding 3 %", "stuffing 15 %"], seed=3)


def test_integer_test_false_positives_and_power(table):
    clean = table[("clean", "integer_percentages")]
    assert clean.runs == 12 and clean.errors == 0
    assert clean.signals <= 2  # nominal 5 %: 2 of 12 has probability < 0.12
    assert table[("rounding 3 %", "integer_percentages")].signals >= 11


def test_shpilkin_tracks_injected_stuffing(table):
    c = table[("stuffing 15 %", "shpilkin")]
    ratio = np.median(np.asarray(c.estimates) / np.asarray(c.truth))
    assert 0.75 < ratio < 1.15
    assert table[("stuffing 15 %", "shpilkin")].signals >= 11


def test_tables_render(table):
    assert "| clean |" in format_table(table)
    assert "shpilkin" in accuracy_table(table)
