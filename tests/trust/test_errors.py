"""Amounts in the money core's messages, as people write them."""

import pytest

from trust.errors import written


@pytest.mark.parametrize(
    "micro, text",
    [
        (100_000 * 1_000_000, "100,000.00 DEMO"),
        (30_000_000, "30.00 DEMO"),
        (1_234_567_891_500_000, "1,234,567,891.50 DEMO"),
        (1, "0.000001 DEMO"),
        (0, "0.00 DEMO"),
        (-500_000, "-0.50 DEMO"),
        (-12_345_000_000, "-12,345.00 DEMO"),
    ],
)
def test_amounts_are_grouped_with_at_least_two_places_and_the_currency(micro, text):
    assert written(micro, "DEMO") == text
