"""Figures drawn inside ``use_language`` carry that language's titles, axis labels, legends
and number notation; the figure keys (the report's anchors) do not change."""

from __future__ import annotations

import numpy as np

from pollwatch.i18n import use_language
from pollwatch.report import figures as figs


def _bars() -> figs.Figure:
    labels = [f"Region {i}" for i in range(5)]
    return figs.regional_bars(labels, np.array([1.5e6, 9e5, 4e5, 2e5, 1e5]))


def test_figure_text_follows_the_language():
    en = _bars()
    with use_language("ru"):
        ru = _bars()
    with use_language("az"):
        az = _bars()
    assert en.title == "Regional breakdown" and "excess votes" in en.svg
    assert ru.title == "По регионам" and "избыточные голоса" in ru.svg
    assert ru.caption.startswith("5 регионов с наибольшими значениями")
    assert az.title == "Regionlar üzrə bölgü" and "artıq səslər" in az.svg
    assert en.key == ru.key == az.key == "regions"
    # tick labels: 1,200,000 in English, 1 200 000 (no-break spaces) in Russian
    assert "1,200,000" in en.svg and "1\xa0200\xa0000" in ru.svg and "1.200.000" in az.svg


def test_digit_figure_key_stays_english():
    rows = [("Candidate A", 4.2, 4.0, 4.4, 100), ("Candidate B", 4.6, 4.3, 4.9, 100)]
    with use_language("ru"):
        f = figs.digit_intervals(rows, "Средняя вторая цифра", 4.187, key="digits-second")
    assert f.key == "digits-second" and "4,187" in f.caption
