"""Golden twin of hls/include/zipml/fixed_point.hpp: rounding, saturation, wrap-around."""

from __future__ import annotations

import math

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


def qsgd_norm_shift(top: int) -> int:
    """Smallest t >= 0 with top <= 2^16 2^t: every u_j = ceil(|x_j| / 2^t) <= 2^16."""
    return grid_shift(top, 1 << 16)


def qsgd_norm_root(x: np.ndarray, t: int) -> int:
    """R = ceil(sqrt(sum_j ceil(|x_j| / 2^t)^2)): the QSGD norm is N = R 2^t >= ||x||_2."""
    u = (np.abs(np.asarray(x, dtype=np.int64)) + ((1 << t) - 1)) >> t
    total = int(np.dot(u, u))
    r = math.isqrt(total)
    return r + 1 if r * r < total else r


def qsgd_round(x: np.ndarray, r: int, t: int, s: int, rnd: np.ndarray) -> np.ndarray:
    """QSGD rounding of x against the norm N = r 2^t with s levels per sign: level
    xi = floor(|x| s / N), raised when rnd r < (|x| s mod N) 2^(32 - t); value
    sign(x) min(round(xi N / s), 2^31 - 1) (round: xi r = a s + b -> a 2^t + round(b 2^t / s))."""
    x = np.asarray(x, dtype=np.int64)
    if r == 0:
        return np.zeros_like(x)
    norm = r << t
    a = np.abs(x) * s
    xi = a // norm
    rem = (a - xi * norm).astype(np.uint64)
    up = rnd.astype(np.uint64) * np.uint64(r) < (rem << np.uint64(32 - t))
    xi = xi + up
    scaled = xi * r
    whole, part = scaled // s, scaled % s
    mag = np.minimum((whole << t) + ((part << (t + 1)) + s) // (2 * s), (1 << 31) - 1)
    return np.where(x < 0, -mag, mag)
