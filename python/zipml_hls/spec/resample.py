"""Fresh samples every epoch from one stored copy: the Python mirror of
hls/include/zipml/resample.hpp.

Double data store each value once, stochastically rounded to a grid 2^FRACTION_BITS
times finer than its levels: an index i in [0, s] and a fraction f in [0, 3]. Every epoch
the kernel draws sample m as i + [t_m < f], with 2-bit thresholds t_m from the row's
stream (STREAM_SAMPLE, epoch, row): bit k of threshold plane q (t0, t1 of sample 0, then
of sample 1) of line l is bit k % 32 of draw((4 l + q) P + k // 32), P = ceil(K / 32).
"""

from __future__ import annotations

import numpy as np

from .rng import STREAM_SAMPLE, draw, stream_key

_U32 = np.uint32


def threshold_words(K: int) -> int:
    """Draws (32 threshold bits each) per threshold plane of a line of K values."""
    return (K + 31) // 32


def sample_stream_key(seed, epoch, rows) -> np.ndarray:
    """Keys of the rows' thresholds in epoch ``epoch`` under ``seed`` (broadcasting)."""
    return stream_key(seed, STREAM_SAMPLE, epoch, rows)


def threshold_planes(keys: np.ndarray, n_lines: int, K: int) -> np.ndarray:
    """Threshold bits of rows with ``keys`` (R,): (R, 4, n_lines * K) uint8, plane q of
    value k of line l at [:, q, l * K + k]."""
    P = threshold_words(K)
    lines = np.arange(n_lines)[:, None, None]
    index = (4 * lines + np.arange(4)[None, :, None]) * P + np.arange(P)[None, None, :]  # (L, 4, P)
    words = draw(np.asarray(keys, dtype=_U32).reshape(-1, 1, 1, 1), index.astype(_U32))  # (R, L, 4, P)
    bits = np.unpackbits(words.astype("<u4").view(np.uint8), axis=-1, bitorder="little")[..., :K]  # (R, L, 4, K)
    return bits.transpose(0, 2, 1, 3).reshape(len(words), 4, n_lines * K)


def resampled_up(f0, f1, t0, t1):
    """1 where the threshold t1 t0 < the fraction f1 f0 (2-bit numbers), elementwise."""
    return (f1 & ~t1 | ~(f1 ^ t1) & f0 & ~t0) & 1
