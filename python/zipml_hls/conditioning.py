"""Conditioning of the scaled least-squares problem: per-feature centers and per-feature
power-of-two step multipliers, both applied inside the kernels.

Min/max scaling to [0, 1] keeps the stored codes unsigned, but leaves the problem badly
conditioned: every feature has a large mean (one direction of the Hessian, shared with the
intercept, is far stiffer than the rest) and rare one-hot or heavy-tailed columns have tiny
variances (their weights move thousands of times slower than the others'). The kernels
therefore train on centred values ``v_j - m_j`` (``m_j`` the feature's mean, rounded onto the
kernel's level grid, so centering is one integer subtraction per value) with feature j's step
multiplied by ``2^p_j``: a diagonal preconditioner in powers of two, one lane shift. Both keep
the gradient unbiased (a change of coordinates, and a fixed positive diagonal times it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .spec import format as F

#: Largest per-feature step exponent chosen (a step 4096 times the shared one).
MAX_FEATURE_SHIFT = 12


def level_unit(bits: int, tables: bool = False) -> int | None:
    """Level-value units per scaled unit: s = 2^bits - 1 on the kernel's uniform grid, 1024
    for level tables (their Q0.10 values; ``tables``), or None for the fp32 kernel."""
    if bits == F.FULL_PRECISION:
        return None
    return 1 << F.LEVEL_VALUE_FRAC if tables else F.max_code(bits)


@dataclass(frozen=True)
class Conditioning:
    """centers: (d,) float64 centers in scaled units, on the kernel's grid (m_j / unit);
    shifts: (d,) uint8 step exponents p_j."""

    centers: np.ndarray
    shifts: np.ndarray

    @classmethod
    def fit(cls, summary, bits: int, rounding=None, centers: np.ndarray | None = None,
            tables: bool = False) -> "Conditioning":
        """From ``summary`` (a ``scaling.FeatureSummary`` of X), for the levels of ``bits``
        bits (32: the fp32 kernel): m_j = the feature's mean, rounded to a multiple of 1/s
        (1/1024 with ``tables``; exact at 32 bits), and p_j = clip(round(log2(1 / v_j)), 0, 12),
        v_j = mean_i E[(Q(a_ij) - m_j)^2] = var_j + (mean_j - m_j)^2 + mean Var[Q(a)],
        the centred quantized feature's diagonal of the Hessian, against the intercept's 1
        (the rounding variance matters at 1 and 2 bits: a value of 1/2 stored in one bit
        spreads as 0 or 1; it is ``rounding.mean``, a ``step_size.RoundingStats`` of sampled
        values, needed below 32 bits). A constant feature gets p_j = 0. ``centers``: given
        centers on that grid instead of the means (a model without intercept centres at the
        position of x = 0, ``FeatureScaling.origin``); v_j is then the mean square about them.
        ``tables``: for per-feature level tables, centers on their grid of 1/1024 (fit() and
        quantize() give ``rounding`` at the tables' levels; older quantized files of optimal
        levels hold uniform levels' variances)."""
        unit = level_unit(bits, tables)
        mean = summary.mean
        if centers is None:
            centers = (np.float32(mean).astype(np.float64) if unit is None
                       else np.clip(np.round(mean * unit), 0, unit) / unit)
        spread = summary.var + (mean - centers) ** 2
        if unit is not None:
            spread = spread + rounding.mean
        with np.errstate(divide="ignore"):
            p = np.where(spread > 1e-12, np.round(-np.log2(np.where(spread > 1e-12, spread, 1.0))), 0.0)
        return cls(centers=centers, shifts=np.clip(p, 0, MAX_FEATURE_SHIFT).astype(np.uint8))

    def center_values(self, unit: int | None) -> np.ndarray:
        """The centers as the kernel takes them: int32 level values (unit s or 1024), or
        float32 scaled values for the fp32 kernel (unit None)."""
        if unit is None:
            return self.centers.astype(np.float32)
        return np.rint(self.centers * unit).astype(np.int32)


def stored_variance_values(variance: np.ndarray) -> np.ndarray:
    """The variances as the kernel takes them: int32 Q32 (VARIANCE_FRAC), at most 2^26."""
    return np.clip(np.rint(np.asarray(variance) * 2.0**F.VARIANCE_FRAC), 0, 1 << 26).astype(np.int32)
