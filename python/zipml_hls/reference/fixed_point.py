"""Golden twin of hls/include/zipml/fixed_point.hpp: rounding, saturation, wrap-around."""

from __future__ import annotations

import numpy as np

I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1


def round_shift(x, s: int):
    """x / 2^s rounded to nearest, ties up (arithmetic shift)."""
    return (x + (1 << (s - 1))) >> s


def saturate32(x: int) -> int:
    return max(I32_MIN, min(I32_MAX, x))


def wrap32(x):
    """Two's-complement wrap of int64 values (array or int) into int32 range."""
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def grid_shift(maxabs: int, limit: int) -> int:
    """Smallest k >= 0 (at most 31) with maxabs <= limit * 2^k."""
    k = 0
    while (limit << k) < maxabs and k < 31:
        k += 1
    return k


def stochastic_shift(x: np.ndarray, k: int, rnd: np.ndarray) -> np.ndarray:
    """x / 2^k rounded up with probability (x mod 2^k) / 2^k (top k bits of the draws)."""
    x = np.asarray(x, dtype=np.int64)
    if k == 0:
        return x
    q = x >> k
    rem = x - (q << k)
    return q + ((rnd.astype(np.uint64) >> np.uint64(32 - k)).astype(np.int64) < rem)
