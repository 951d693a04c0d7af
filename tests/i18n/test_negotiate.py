"""``Accept-Language`` negotiation: q-values, region and script subtags, fallback to English."""

from __future__ import annotations

import pytest

from pollwatch.i18n import negotiate, parse_accept_language


@pytest.mark.parametrize(
    "header,lang",
    [
        ("ru", "ru"),
        ("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "ru"),  # Chrome in Russia
        ("az-Latn-AZ", "az"),  # script and region subtags
        ("AZ-az", "az"),  # tags are case-insensitive
        ("en-US,ru;q=0.9", "en"),  # the first choice is available: English wins
        ("de-DE,de;q=0.9,ru;q=0.5", "ru"),  # German is not offered: the next acceptable one
        ("ru;q=0.4, az;q=0.8", "az"),  # order by weight, not by position
        ("az;q=0, ru;q=0.1", "ru"),  # q=0: not acceptable
        ("tr-TR, tr", "en"),  # nothing offered: English
        ("*", "en"),
        ("", "en"),
        (None, "en"),
        ("ru;q=abc, az", "az"),  # a malformed weight makes that entry unacceptable
        ("rus", "en"),  # "rus" is not "ru" (the old code read the first two characters)
        ("aze", "en"),
    ],
)
def test_negotiate(header, lang):
    assert negotiate(header) == lang


def test_parse_keeps_header_order_on_ties():
    assert parse_accept_language("fr, ru;q=0.5, az;q=0.5, en;q=1.0") == ["fr", "en", "ru", "az"]
