"""Golden twin of the 32-bit fixed-point baseline engine (hls/include/zipml/engine.hpp:
engine_fixed32): least-squares SGD on Q0.24 positions, in the arithmetic of sgd.hpp's
refetched samples (exact int64 dot product, a per-value rounded step)."""

from __future__ import annotations

import numpy as np

from ..spec import format as F
from ..spec.schedule import epoch_shift
from .fixed_point import round_shift, saturate32, wrap32


def sgd_fixed32(positions, labels, epochs: int, step_shift: int, decay_epochs: int, model_in) -> np.ndarray:
    """The (epochs, d + 1) int32 model history of engine_fixed32 on ``positions`` (n, d),
    Q0.24 in [0, 2^24]; labels int32 Q16; model_in (d + 1,) int32 Q24. Per row i:
    pred = (sum_j p_j (w_j >> 8) >> 24) + (c >> 8), r = sat32(pred - y_i),
    w_j -= sat32(round(r p_j / 2^(16 + shift))), c -= sat32(round(r 2^8 / 2^shift))."""
    p = np.asarray(positions, dtype=np.int64)
    n, d = p.shape
    w = np.asarray(model_in[:d], dtype=np.int64).copy()
    intercept = int(model_in[d])
    history = np.empty((epochs, d + 1), dtype=np.int32)
    for e in range(epochs):
        shift = epoch_shift(step_shift, decay_epochs, e)
        s = F.LABEL_FRAC + shift
        for i in range(n):
            pred = (int(np.dot(p[i], w >> F.DOT_DROP)) >> F.POS_FRAC) + (intercept >> F.DOT_DROP)
            r = saturate32(pred - int(labels[i]))
            w = wrap32(w - np.clip(round_shift(r * p[i], s), -(1 << 31), (1 << 31) - 1))
            intercept = int(wrap32(intercept - saturate32(round_shift(r << F.DOT_DROP, shift))))
        history[e, :d] = w
        history[e, d] = intercept
    return history
