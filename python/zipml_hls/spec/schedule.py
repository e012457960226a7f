"""The step schedule: the Python mirror of hls/include/zipml/schedule.hpp.

Kernels step by powers of two: eta_e = 2^-(step_shift + floor(e / decay_epochs)).
"""

from __future__ import annotations

import math

from .format import MAX_SHIFT


def epoch_shift(step_shift: int, decay_epochs: int, epoch: int) -> int:
    """Step shift of epoch ``epoch`` (0 decay_epochs: constant), at most MAX_SHIFT."""
    s = step_shift + (epoch // decay_epochs if decay_epochs > 0 else 0)
    return min(s, MAX_SHIFT)


def step_shift_from_eta(eta0: float) -> int:
    """The power-of-two step nearest to eta0 on a log scale: round(-log2 eta0), in [1, 40]."""
    return int(min(MAX_SHIFT, max(1, round(-math.log2(eta0)))))
