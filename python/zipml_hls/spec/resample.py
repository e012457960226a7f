"""Fresh samples every epoch from one stored copy: the Python mirror of
hls/include/zipml/resample.hpp.

Double data store each value once, stochastically rounded to a grid 2^FRACTION_BITS
times finer than its levels: an index i in [0, s] and a fraction f in [0, 3]. Every epoch
the kernel draws sample m as i + [t_m < f], with 2-bit thresholds t_m from the row's
stream (STREAM_SAMPLE, epoch, row): for M samples line l takes the 2MK-bit string of
draws l D .. l D + D - 1, D = MK/16 (little-endian: bit b is bit b % 32 of draw
l D + b // 32), and its threshold plane q (t0, t1 of sample 0, then of sample 1, ...) is
bits q K .. q K + K - 1. Double sampling draws M = 2 samples (D = K/8).
"""

from __future__ import annotations

import numpy as np

from .rng import STREAM_SAMPLE, draw, stream_key

_U32 = np.uint32


def threshold_words(K: int, samples: int = 2) -> int:
    """Draws (32 threshold bits each) of a line of K values for ``samples`` samples:
    2 samples K threshold bits (two planes per sample)."""
    return 2 * samples * K // 32


def sample_stream_key(seed, epoch, rows) -> np.ndarray:
    """Keys of the rows' thresholds in epoch ``epoch`` under ``seed`` (broadcasting)."""
    return stream_key(seed, STREAM_SAMPLE, epoch, rows)


def threshold_planes(keys: np.ndarray, n_lines: int, K: int, samples: int = 2) -> np.ndarray:
    """Threshold bits of rows with ``keys`` (R,) for ``samples`` samples: (R, 2 samples,
    n_lines * K) uint8, plane q of value k of line l at [:, q, l * K + k]."""
    D, planes = threshold_words(K, samples), 2 * samples
    index = np.arange(n_lines * D, dtype=_U32).reshape(n_lines, D)
    words = draw(np.asarray(keys, dtype=_U32).reshape(-1, 1, 1), index)  # (R, L, D)
    bits = np.unpackbits(words.astype("<u4").view(np.uint8), axis=-1, bitorder="little")  # (R, L, 2 samples K)
    return bits.reshape(len(words), n_lines, planes, K).transpose(0, 2, 1, 3).reshape(len(words), planes,
                                                                                       n_lines * K)


def resampled_up(f0, f1, t0, t1):
    """1 where the threshold t1 t0 < the fraction f1 f0 (2-bit numbers), elementwise."""
    return (f1 & ~t1 | ~(f1 ^ t1) & f0 & ~t0) & 1
