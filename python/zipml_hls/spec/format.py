"""Number formats and line sizes: the Python mirror of hls/include/zipml/format.hpp.

docs/FORMATS.md explains each constant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SUPPORTED_BITS = (1, 2, 3, 4, 6, 8)  #: the divisors of 24 up to 8 (s = 2^b - 1 divides 2^24 - 1)
FULL_PRECISION = 32  #: ``bits`` value that selects the float32 baseline kernel
MULTI_SAMPLES = (4, 6, 8)  #: sample counts compiled for 'multi' data (polynomial degrees 3, 5, 7)
#: how model_bits / grad_bits round (SgdOptions::quantization, sgd.hpp); the kernel id is the index
MODEL_QUANTIZATIONS = ("grid", "qsgd")

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
MAX_FEATURE_SHIFT = 15  #: largest per-feature step exponent (feature_shifts of sgd_linear)
LEVEL_VALUE_FRAC = 10  #: level-table values in the SGD: Q0.10 (1024 = 1.0)
TABLE_DOT_DROP = DOT_DROP + LEVEL_VALUE_FRAC - 8  #: model bits a level-table dot product drops (int32 sum)
TABLE_DOT_FRAC = DOT_MULT_FRAC - (TABLE_DOT_DROP - DOT_DROP)  #: ... and the shift of its acc * dot_mult
MAX_TABLE_VALUE = 1 << 30  #: largest |level-table value| the kernels take (a value minus a center stays in int32)
TABLE_DOT_MULT = 1 << (DOT_MULT_FRAC - LEVEL_VALUE_FRAC)
POLY_FRAC = 30  #: logistic polynomial coefficients and Horner accumulator: Q30
FRACTION_BITS = 2  #: double data: each value stored once on a grid 2^FRACTION_BITS finer than its levels
VARIANCE_FRAC = 32  #: double data's stored-rounding variances (sgd_linear's stored_variance): Q32
CORRECTION_ROWS = 32  #: ... corrected after every this many samples of a pass (and the last)
WEIGHT_FRAC = 16  #: sample weights: Q16 (a weight of 1 leaves every step exact)
PENALTY_FRAC = 32  #: L2 decay and L1 coefficients per unit step: Q32, below 2^31 (0.5)


@dataclass(frozen=True)
class Sampling:
    """How a value is sampled and stored (C++: ``enum class Sampling``).

    name: the user-facing name; kernel_id: the Sampling value; planar: stored as an
    index plane plus bit planes (double: 2 fraction bits; multi: one rounding bit per
    sample); samples: independent samples per value (None: chosen per data set, 'multi').
    """

    name: str
    kernel_id: int
    planar: bool
    samples: int | None
    doc: str


SAMPLINGS = {s.name: s for s in (
    Sampling("double", 0, True, 2, "two independent stochastic samples drawn every epoch from index + 2 fraction bits"),
    Sampling("naive", 1, False, 1, "one stochastic sample: the level code"),
    Sampling("nearest", 2, False, 1, "deterministic nearest rounding: the level code"),
    Sampling("multi", 3, True, None, "M independent samples: interval index + M rounding bits"),
)}
#: Samplings a user chooses for training; 'multi' is what 'double' becomes for log_loss.
TRAINING_SAMPLINGS = ("double", "naive", "nearest")


def sampling_id(sampling: str) -> int:
    return SAMPLINGS[sampling].kernel_id


def quantization_id(name: str) -> int:
    """Kernel id of a model_quantization name (its index in MODEL_QUANTIZATIONS)."""
    if name not in MODEL_QUANTIZATIONS:
        raise ValueError(f"model_quantization must be one of {MODEL_QUANTIZATIONS}, got {name!r}")
    return MODEL_QUANTIZATIONS.index(name)


def planar(sampling: str) -> bool:
    """Index plane + bit planes (double: fraction bits, multi: a rounding bit per sample)."""
    return SAMPLINGS[sampling].planar


def samples_of(sampling: str, samples_per_value: int = 2) -> int:
    """Samples per value: 2 for double, ``samples_per_value`` for multi, else 1."""
    fixed = SAMPLINGS[sampling].samples
    return samples_per_value if fixed is None else fixed


def max_code(bits: int) -> int:
    """Highest level code s = 2^bits - 1."""
    return (1 << bits) - 1


def index_bits(bits: int, sampling: str) -> int:
    """Bits of the index field of planar samplings: double's index runs over 0..s (the top
    level has fraction 0), so ``bits`` even at 1 bit; multi's interval index over 0..s-1,
    empty for 1-bit data."""
    return bits if sampling == "double" or bits > 1 else 0


def bit_planes(sampling: str, samples_per_value: int = 2) -> int:
    """Bit planes after the index plane: FRACTION_BITS for double, one per sample for multi."""
    return FRACTION_BITS if sampling == "double" else samples_of(sampling, samples_per_value)


def stored_bits(bits: int, sampling: str, samples_per_value: int = 2) -> int:
    """Bits stored per value before line padding: b + 2 for double, b + M for multi (M
    samples; its index is empty for b = 1), b otherwise."""
    if planar(sampling):
        return index_bits(bits, sampling) + bit_planes(sampling, samples_per_value)
    return bits


def strided_width(width: int) -> bool:
    """2- and 4-bit fields are stored strided; others in natural order."""
    return width in (2, 4)


def values_per_line(bits: int, sampling: str, samples_per_value: int = 2) -> int:
    """Values in one 512-bit line (a multiple of 16 for planar samplings)."""
    if planar(sampling):
        return LINE_BITS // stored_bits(bits, sampling, samples_per_value) // LANE_MULTIPLE * LANE_MULTIPLE
    return LINE_BITS // bits


def lines_per_row(n_features: int, bits: int, sampling: str, samples_per_value: int = 2) -> int:
    k = values_per_line(bits, sampling, samples_per_value)
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


def precision_label(bits: int, sampling: str) -> str:
    """'fp32' for the 32-bit baseline, else e.g. '4-bit double'."""
    return "fp32" if bits == FULL_PRECISION else f"{bits}-bit {sampling}"
