"""Number formats and line layouts (the Python mirror of hls/include/zipml/format.hpp).

docs/FORMATS.md explains each constant; ``tests/test_formats.py`` checks that these
values equal the compiled kernels'.
"""

from __future__ import annotations

import numpy as np

ENCODINGS = ("double", "naive", "nearest")  #: index = the kernels' Encoding value
MULTI = "multi"  #: Encoding 3: M samples stored as index + M rounding bits (logistic regression)
MULTI_SAMPLES = (4, 6, 8)  #: sample counts compiled for Multi (polynomial degrees 3, 5, 7)
SUPPORTED_BITS = (1, 2, 3, 4, 6, 8)  #: the divisors of 24 up to 8

LINE_BITS = 512
LINE_WORDS = 8
LANE_MULTIPLE = 16
POS_FRAC = 24  #: scaled value in [0, 1] as a Q0.24 position
POS_ONE = 1 << POS_FRAC
LABEL_FRAC = 16  #: labels: int32 Q15.16
MODEL_FRAC = 24  #: model and intercept: int32 Q7.24
DOT_DROP = MODEL_FRAC - LABEL_FRAC
DOT_MULT_FRAC = 24
UPDATE_FRAC = 8
MAX_SHIFT = 40
LEVEL_VALUE_FRAC = 10  #: level-table values in the SGD: Q0.10 (1024 = 1.0)
TABLE_DOT_MULT = 1 << (DOT_MULT_FRAC - LEVEL_VALUE_FRAC)


def encoding_id(sampling: str) -> int:
    return 3 if sampling == MULTI else ENCODINGS.index(sampling)


def planar(sampling: str) -> bool:
    """Index plane + one rounding-bit plane per sample (double, multi)."""
    return sampling in ("double", MULTI)


def samples_of(sampling: str, samples: int = 2) -> int:
    """Samples stored per value: 2 for double, ``samples`` for multi, else 1."""
    return 2 if sampling == "double" else samples if sampling == MULTI else 1


def max_code(bits: int) -> int:
    """Highest level code s = 2^bits - 1."""
    return (1 << bits) - 1


def index_bits(bits: int) -> int:
    """Bits of the interval-index field of ``double`` (empty for 1-bit data)."""
    return 0 if bits == 1 else bits


def stored_bits(bits: int, sampling: str, samples: int = 2) -> int:
    """Bits stored per value before line padding: b + M for planar encodings (M samples;
    the index is empty for b = 1), b otherwise."""
    return index_bits(bits) + samples_of(sampling, samples) if planar(sampling) else bits


def strided_width(width: int) -> bool:
    """2- and 4-bit fields are stored strided; others in natural order."""
    return width in (2, 4)


def values_per_line(bits: int, sampling: str, samples: int = 2) -> int:
    """Values in one 512-bit line (a multiple of 16 for planar encodings)."""
    if planar(sampling):
        return LINE_BITS // stored_bits(bits, sampling, samples) // LANE_MULTIPLE * LANE_MULTIPLE
    return LINE_BITS // bits


def lines_per_row(n_features: int, bits: int, sampling: str, samples: int = 2) -> int:
    k = values_per_line(bits, sampling, samples)
    return (n_features + k - 1) // k


def dot_mult(bits: int) -> int:
    """Q24 factor from a uniform level code to its scaled value: round(2^24 / s)."""
    s = max_code(bits)
    return ((1 << DOT_MULT_FRAC) + s // 2) // s


def to_fixed(values, frac: int):
    """float -> int32 with ``frac`` fraction bits, rounded to nearest, saturated."""
    q = np.rint(np.asarray(values, dtype=np.float64) * (1 << frac))
    return np.clip(q, -(2**31), 2**31 - 1).astype(np.int32)


def level_values(positions: np.ndarray) -> np.ndarray:
    """SGD values (Q0.10, int32) of level tables given as Q0.24 positions."""
    q = np.asarray(positions, dtype=np.int64)
    half = 1 << (POS_FRAC - LEVEL_VALUE_FRAC - 1)
    return ((q + half) >> (POS_FRAC - LEVEL_VALUE_FRAC)).astype(np.int32)
