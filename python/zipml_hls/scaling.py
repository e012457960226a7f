"""Per-feature min/max scaling of data and centring/scaling of labels.

The kernels work on features in [0, 1] and labels with unit spread; these objects
keep what is needed to map models back to original units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import non_finite_error
from .backend import get_backend
from .spec import format as F


@dataclass(frozen=True)
class FeatureScaling:
    """x_scaled = clip((x - lo) * inv, 0, 1), all in float32 (as the kernels).

    ``inv`` is 1/(hi - lo) in float32; a constant feature (hi == lo), or one whose
    range is not representable, gets ``inv = 0`` and is quantized as 0.
    """

    lo: np.ndarray
    hi: np.ndarray
    inv: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray) -> "FeatureScaling":
        """The scaling of finite X's feature ranges (``FeatureSummary``)."""
        return FeatureSummary.of(X).scaling

    @classmethod
    def from_range(cls, lo: np.ndarray, hi: np.ndarray) -> "FeatureScaling":
        lo, hi = np.asarray(lo, dtype=np.float32), np.asarray(hi, dtype=np.float32)
        span = hi.astype(np.float64) - lo.astype(np.float64)
        with np.errstate(divide="ignore", over="ignore"):
            inv = np.where(span > 0, 1.0 / np.where(span > 0, span, 1.0), 0.0).astype(np.float32)
        inv[~np.isfinite(inv)] = 0.0
        return cls(lo=lo, hi=hi, inv=inv)

    def check(self, n_features: int) -> None:
        """A ValueError unless this is a scaling of ``n_features`` features that the
        kernels can use: finite float32 lo <= hi and 0 <= inv."""
        arrays = {"lo": self.lo, "hi": self.hi, "inv": self.inv}
        for name, a in arrays.items():
            a = np.asarray(a)
            if a.shape != (n_features,) or a.dtype != np.float32:
                raise ValueError(f"scaling.{name} must be float32 of shape ({n_features},) for X's features, "
                                 f"got {a.dtype} {a.shape}")
            if not np.isfinite(a).all():
                raise ValueError(f"scaling.{name} contains NaN or infinity")
        if np.any(self.hi < self.lo) or np.any(self.inv < 0):
            raise ValueError("scaling needs lo <= hi and inv >= 0 for every feature")

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Scaled float32 data, exactly the values the fp32 kernel and quantizer see."""
        t = np.subtract(X, self.lo, dtype=np.float32)  # one new array, then in place
        t *= self.inv
        return np.clip(t, np.float32(0), np.float32(1), out=t)

    def outside(self, X: np.ndarray) -> int:
        """How many values of X (finite float32, C order) lie outside [lo, hi]: those
        ``transform`` clips. One native pass finds the features that leave their range;
        only those columns are compared value by value."""
        lo, hi, *_ = get_backend("hls").feature_summary(X)
        columns = np.flatnonzero((lo < self.lo) | (hi > self.hi))
        if columns.size == 0:
            return 0
        part = X[:, columns]
        return int(np.count_nonzero((part < self.lo[columns]) | (part > self.hi[columns])))

    def span(self) -> np.ndarray:
        """Feature range used to map positions back: hi - lo (0 for constant features)."""
        return np.where(self.inv > 0, self.hi.astype(np.float64) - self.lo.astype(np.float64), 0.0)

    def through_origin(self, bits: int) -> "FeatureScaling":
        """This scaling widened so that x = 0 lies in every feature's range and, at
        ``bits`` < 32, on a level of the uniform grid k/s (s = 2^bits - 1): a model without
        intercept (fit_intercept=False) centres every feature at the level of 0, so that
        w.(v - k/s) is w.x in the user's units. A feature of one sign gets lo = 0 or hi = 0
        (k = 0 or s); one that spans 0 gets the k in [1, s - 1] that widens its range least,
        lo = -k hi / (s - k) or hi = -lo (s - k) / k. A ValueError at bits = 1 for a feature
        that spans 0 (two levels cannot have 0 between them)."""
        lo = np.minimum(self.lo.astype(np.float64), 0.0)
        hi = np.maximum(self.hi.astype(np.float64), 0.0)
        if bits != F.FULL_PRECISION:
            s = F.max_code(bits)
            inside = np.flatnonzero((lo < 0) & (hi > 0))
            if inside.size and s == 1:
                j = inside[0]
                raise ValueError(f"fit_intercept=False at bits=1 needs every feature on one side of 0 (its two "
                                 f"levels must include 0); feature {j} spans [{lo[j]:.6g}, {hi[j]:.6g}]: use "
                                 "bits >= 2 or fit_intercept=True")
            p0 = -lo[inside] / (hi[inside] - lo[inside])
            up = np.minimum(np.ceil(p0 * s), s - 1)  # k/s >= p0 (clipped: then hi widens)
            down = np.maximum(np.floor(p0 * s), 1)  # k/s <= p0 (clipped: then lo widens)
            # widening lo to put 0 at k/s: span hi s / (s - k); widening hi: span -lo s / k
            span_lo = np.where(up / s >= p0, hi[inside] * s / (s - up), np.inf)
            span_hi = np.where(down / s <= p0, -lo[inside] * s / down, np.inf)
            widen_lo = span_lo <= span_hi
            lo[inside] = np.where(widen_lo, -up * hi[inside] / (s - up), lo[inside])
            hi[inside] = np.where(widen_lo, hi[inside], -lo[inside] * (s - down) / down)
        lo32 = np.minimum(lo.astype(np.float32), self.lo)
        hi32 = np.maximum(hi.astype(np.float32), self.hi)
        return FeatureScaling.from_range(lo32, hi32)

    def origin(self, bits: int) -> np.ndarray:
        """The scaled position of x = 0 of every feature (float64): as ``transform`` maps it
        (float32) at bits = 32, else rounded to the uniform grid k/s. For a scaling from
        ``through_origin``."""
        zero = self.transform(np.zeros((1, self.lo.size), np.float32))[0].astype(np.float64)
        if bits == F.FULL_PRECISION:
            return zero
        s = F.max_code(bits)
        return np.rint(zero * s) / s


#: The least share of zeros of a feature that ``FeatureSummary.zeros_on_levels`` may widen.
ZERO_SHARE = 0.05
#: Rows (``FeatureSummary.zeros_on_levels``) and columns (``stretched_features``) read at a time.
SAMPLE_BLOCK = 256


@dataclass(frozen=True)
class FeatureSummary:
    """What fit()'s set-up needs of X's features, from one native pass on every core
    (the same result on any number of cores): the min/max ``scaling``, and the ``mean``
    and variance ``var`` of each feature's scaled values (float64, scaled units; the values
    the scaling was fitted on lie in [0, 1], so no clipping enters)."""

    scaling: FeatureScaling
    mean: np.ndarray
    var: np.ndarray

    @classmethod
    def of(cls, X: np.ndarray, name: str = "X", scaling: FeatureScaling | None = None,
           source=None) -> "FeatureSummary":
        """Of ``X``, a 2-D array (converted to float32 C order if it is not): a
        ValueError if it holds a NaN or an infinity (``_validation.non_finite_error`` of
        ``source``, the data X was converted from, if given). ``scaling``: express the
        moments in the units of this scaling instead of X's own min/max (values outside it
        count unclipped)."""
        lo, hi, mean, var, finite = get_backend("hls").feature_summary(X)
        if not finite:
            raise non_finite_error(X if source is None else source, name)
        return cls.of_moments(lo, hi, mean, var, scaling)

    @classmethod
    def of_moments(cls, lo, hi, mean, var, scaling: FeatureScaling | None = None) -> "FeatureSummary":
        """From the features' float32 minimum ``lo`` and maximum ``hi`` and float64 ``mean``
        and variance ``var`` in original units (the native pass's, or those of chunks merged),
        in the units of ``scaling`` (default: from lo and hi)."""
        scaling = FeatureScaling.from_range(lo, hi) if scaling is None else scaling
        inv = scaling.inv.astype(np.float64)
        return cls(scaling=scaling, mean=(mean - scaling.lo.astype(np.float64)) * inv, var=var * inv * inv)

    def rescaled(self, scaling: FeatureScaling) -> "FeatureSummary":
        """The same moments in the units of another ``scaling`` (one whose ranges contain
        this one's, e.g. ``through_origin``): no second pass over X."""
        span, lo = self.scaling.span(), self.scaling.lo.astype(np.float64)
        return FeatureSummary.of_moments(lo, self.scaling.hi, lo + self.mean * span, self.var * span * span, scaling)

    def zeros_on_levels(self, X: np.ndarray, bits: int, rows: np.ndarray | None = None) -> "FeatureSummary":
        """This summary, with each feature that spans 0 and is 0 in at least ZERO_SHARE of
        the rows ``rows`` of X (None: all of them) widened to hold x = 0 on a level of the
        uniform grid (``FeatureScaling.through_origin``) where that lowers the mean rounding
        variance, in X's units, of its values in those rows. Sparse and zero-inflated
        columns gain: a zero between two levels rounds at random to either, and where most
        values are 0 that noise is most of the data's (3500 x 2000 signed, 1% filled:
        held-out R^2 0.003-0.005 at 2 bits and 0.63-0.67 at 4 bits on the features' own
        ranges, 0.84 and 0.98 with 0 on a level; ``python scripts/sparse_regression.py``).
        Widening coarsens the grid of the feature's other values (by up to 1.5x at 2 bits),
        so columns with few zeros keep their ranges, even where a shifted grid would happen
        to fit their values better. At 2 to 8 bits (one bit has no level between two
        others; 32 bits no rounding). Zeros are counted over blocks of SAMPLE_BLOCK rows, so
        the copies stay small on wide data; the variances come from two native passes over
        the rows (``RoundingStats``' pass, at both ranges)."""
        scaling = self.scaling
        spans = (scaling.lo < 0) & (scaling.hi > 0) & (scaling.inv > 0)
        if not spans.any() or not 2 <= bits <= 8:
            return self
        picked = np.arange(X.shape[0]) if rows is None else rows
        zeros = np.zeros(scaling.lo.size, dtype=np.int64)
        for start in range(0, picked.size, SAMPLE_BLOCK):
            zeros += np.count_nonzero(X[picked[start:start + SAMPLE_BLOCK]] == 0, axis=0)
        candidates = spans & (zeros >= ZERO_SHARE * picked.size)
        if not candidates.any():
            return self
        wide = scaling.through_origin(bits)
        now, then = (get_backend("hls").rounding_stats(X, rows, s.lo, s.inv, bits, None)[0] * np.square(s.span())
                     for s in (scaling, wide))
        widen = candidates & (then < now)
        if not widen.any():
            return self
        return self.rescaled(FeatureScaling.from_range(np.where(widen, wide.lo, scaling.lo),
                                                       np.where(widen, wide.hi, scaling.hi)))


#: The least stretch (range over the middle 98% of values) ``stretched_features`` flags.
MIN_STRETCH = 100.0
#: The fewest values besides its zeros with which ``stretched_features`` judges a feature
#: whose zeros are on a level.
MIN_OTHER_VALUES = 20


def _trimmed(m: int) -> int:
    """How many of m sampled values lie below the 1st percentile, and above the 99th, as
    ``stretched_features`` takes them (data values: inverted CDF, ranks ceil(m q) - 1, no
    interpolation; so a 0/1 column's middle span is 0 or 1)."""
    return max(int(np.ceil(m * 0.01)) - 1, 0)


def stretched_features(X: np.ndarray, scaling: FeatureScaling, bits: int, rows: np.ndarray,
                       min_stretch: float = MIN_STRETCH) -> tuple[np.ndarray, np.ndarray]:
    """(features, stretch) of dense ``X`` whose min/max range a few far values stretch so
    much that the middle 98% of the sampled ``rows`` (1st to 99th percentile) spans less
    than one step of the 2^bits - 1 between the levels: stretch = range / that span is at
    least ``min_stretch`` and above 2^bits - 1. Such a feature is read mostly as rounding
    noise (unbiased, but its coefficient converges slowly and noisily). Features with a
    middle span of 0 (constant or rare-valued, e.g. a rare one-hot column) are not flagged.
    Where x = 0 is a level (``FeatureSummary.zeros_on_levels``; features of one sign too),
    zeros are read exactly, and a sparse column's 1st and 99th percentiles would be two
    values next to 0 however its values spread: for a feature whose sample holds zeros,
    the middle span is that of 0 and its other values less as many at each end as the
    percentiles leave out of all the rows (a few far values among many zeros), or, where
    that would leave fewer than half of them, less 1% of them at each end; with fewer than
    MIN_OTHER_VALUES other values it is 0 (a handful of values tells no stretch).
    Percentiles in blocks of SAMPLE_BLOCK columns, so the sample's copy stays small."""
    steps = float((1 << bits) - 1)
    flagged, stretch = [], []
    span = scaling.span()
    zero = scaling.transform(np.zeros((1, span.size), np.float32))[0] * steps
    exact_zero = (span > 0) & (np.abs(zero - np.rint(zero)) < 1e-3)
    trim = _trimmed(rows.size)
    for start in range(0, X.shape[1], SAMPLE_BLOCK):
        block = np.ascontiguousarray(X[rows, start:start + SAMPLE_BLOCK].T)
        part = np.partition(block, [trim, rows.size - 1 - trim], axis=1)
        middle = part[:, rows.size - 1 - trim].astype(np.float64) - part[:, trim].astype(np.float64)
        exact = np.flatnonzero(exact_zero[start:start + block.shape[0]] & np.any(block == 0, axis=1))
        if exact.size:  # their other values sorted first (zeros as +inf), counted per feature
            values = np.sort(np.where(block[exact] == 0, np.inf, block[exact]), axis=1).astype(np.float64)
            count = np.count_nonzero(block[exact], axis=1)
            cut = np.where(count >= 4 * trim, trim, [_trimmed(int(c)) for c in count])
            ends = values[np.arange(exact.size)[:, None], np.stack([cut, np.maximum(count - 1 - cut, 0)], axis=1)]
            middle[exact] = np.where(count >= MIN_OTHER_VALUES,
                                     np.maximum(ends[:, 1], 0.0) - np.minimum(ends[:, 0], 0.0), 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = span[start:start + block.shape[0]] / middle
        hit = np.flatnonzero((middle > 0) & (ratio >= max(min_stretch, steps)))
        flagged.append(start + hit)
        stretch.append(ratio[hit])
    return np.concatenate(flagged), np.concatenate(stretch)


#: The farthest a scaled label may lie from 0: the kernels' model and predictions are Q7.24,
#: ±128 in scaled units, past which they wrap, so a label beyond about 100 standard
#: deviations (a few extreme values among tens of thousands of rows) would put the least
#: squares optimum out of their range; the scale widens to keep every label within this.
LABEL_REACH = 32.0


@dataclass(frozen=True)
class LabelScaling:
    """y_scaled = (y - center) / scale; stored on chip as int32 Q15.16."""

    center: float
    scale: float

    @classmethod
    def fit(cls, y: np.ndarray, centred: bool = True) -> "LabelScaling":
        """center = mean(y), scale = std(y); ``centred`` False (a model without
        intercept, whose 0 must stay 0): center = 0, scale = sqrt(mean(y^2)). The scale is
        at least max|y - center| / LABEL_REACH, so no scaled label lies beyond it."""
        with np.errstate(over="ignore", invalid="ignore"):
            if centred:
                center, scale = float(np.mean(y)), float(np.std(y))
            else:
                center, scale = 0.0, float(np.sqrt(np.mean(np.square(y))))
            reach = float(np.max(np.abs(np.asarray(y, dtype=np.float64) - center))) if np.size(y) else 0.0
            scale = max(scale, reach / LABEL_REACH)
        if not (np.isfinite(center) and np.isfinite(scale)):
            raise ValueError(f"the labels' mean or spread overflows float64 (|y| up to {np.max(np.abs(y)):.3g}); "
                             "divide y by a power of ten first")
        return cls(center=center, scale=scale if scale > 0 else 1.0)

    def transform(self, y: np.ndarray) -> np.ndarray:
        return (np.asarray(y, dtype=np.float64) - self.center) / self.scale

    def to_fixed(self, y: np.ndarray) -> np.ndarray:
        """Labels as int32 Q15.16, rounded to nearest and saturated."""
        return F.to_fixed(self.transform(y), F.LABEL_FRAC)


def sample_rows(n: int, m: int) -> np.ndarray:
    """About ``m`` distinct row indices spread over ``n`` rows (all of them when n <= m),
    sorted: floor(n frac(i / phi)) for i < m, a low-discrepancy sequence with no period, so
    a periodic row layout (every 4th row a different kind) cannot alias an estimate taken
    on them, as every (n // m)-th row can."""
    if n <= m:
        return np.arange(n)
    return np.unique((np.floor(np.modf(np.arange(m) * 0.6180339887498949)[0] * n)).astype(np.int64))


def unscale_models(history: np.ndarray, features: FeatureScaling, labels: LabelScaling,
                   centers: np.ndarray | None = None):
    """Scaled-space models (m, d+1: weights, then the intercept) -> original-unit
    coefficients (m, d) and intercepts (m,): f(x) = ls.center + ls.scale *
    (w^T ((x - lo) * inv - mu) + c), mu the per-feature centers the kernels subtracted
    (scaled units; None: 0)."""
    w = history[:, :-1] * features.inv.astype(np.float64)
    shift = w @ features.lo.astype(np.float64)
    if centers is not None:
        shift = shift + history[:, :-1] @ centers
    return labels.scale * w, labels.center + labels.scale * (history[:, -1] - shift)
