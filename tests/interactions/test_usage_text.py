"""/usage's bars: a tenth of the limit per segment, never empty with use, never full with room."""

from __future__ import annotations

import pytest

from bot.interactions.usage_text import BAR_SEGMENTS, bar


@pytest.mark.parametrize(
    ("used", "limit", "filled"),
    [
        (0, 8, 0),
        (5, 8, 6),
        (1, 100, 1),  # some use always shows
        (99, 100, 9),  # room left never shows as full
        (8, 8, 10),
        (9, 8, 10),
        (0, 0, 10),  # a limit of 0 blocks the feature: full
    ],
)
def test_a_bar_fills_one_segment_per_tenth_of_the_limit_used(
    used: float, limit: float, filled: int
) -> None:
    shown = bar(used, limit)
    assert len(shown) == BAR_SEGMENTS
    assert shown == "▰" * filled + "▱" * (BAR_SEGMENTS - filled)
