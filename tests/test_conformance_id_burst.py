"""The RES-ID-2 burst is as large as its stated design needs (the birthday bound), and no larger."""

from __future__ import annotations

import random

from billing_kit.conformance.checks.id_burst import DESIGN_PROBABILITY, DESIGN_SPACE, burst_size, repeat_probability


def test_the_burst_reaches_its_designed_probability_and_one_draw_less_does_not() -> None:
    size = burst_size()
    assert DESIGN_SPACE == 16**4
    assert repeat_probability(size, DESIGN_SPACE) >= DESIGN_PROBABILITY > repeat_probability(size - 1, DESIGN_SPACE)


def test_the_birthday_bound_matches_drawing() -> None:
    """Simulated: bursts of burst_size(46_656, 0.9) draws from 46,656 values repeat in about 90 % of trials."""
    space, size = 36**3, burst_size(36**3, 0.9)
    rng = random.Random(1)
    trials = 400
    hits = sum(len({rng.randrange(space) for _ in range(size)}) < size for _ in range(trials))
    assert 0.84 <= hits / trials <= 0.96


def test_well_made_ids_practically_never_repeat_in_the_burst() -> None:
    assert repeat_probability(burst_size(), 2**96) < 1e-20
