"""``zipml_hls.quantize``: stochastic quantization of a data set into packed 512-bit lines."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import formats as F
from . import reference
from ._validation import check_bits, check_choice, check_int, check_matrix, check_seed
from .levels import level_tables
from .scaling import FeatureScaling

BACKENDS = ("hls", "reference")
LEVELS = ("uniform", "optimal")


@dataclass(frozen=True)
class QuantizedData:
    """A data set quantized and packed as the kernels read it (docs/FORMATS.md).

    Attributes
    ----------
    lines : ndarray of uint64, shape (n_copies, n_samples, words_per_row)
        Packed rows: ``lines_per_row`` 512-bit lines of 8 little-endian words each.
    bits, sampling, seed : the quantization parameters.
    scaling : FeatureScaling
        Per-feature min/max used to map positions back to original units.
    levels : ndarray of uint32, shape (n_features, 2**bits), or None
        Per-feature level positions (Q0.24); None means uniform levels.
    """

    lines: np.ndarray
    bits: int
    sampling: str
    seed: int
    n_features: int
    scaling: FeatureScaling
    levels: np.ndarray | None = None
    samples: int = 2  #: samples stored per value by 'multi'

    @property
    def n_copies(self) -> int:
        return self.lines.shape[0]

    @property
    def n_samples(self) -> int:
        return self.lines.shape[1]

    @property
    def n_stored_samples(self) -> int:
        """Independent samples stored per value: 2 (double), M (multi) or 1."""
        return F.samples_of(self.sampling, self.samples)

    @property
    def bits_per_value(self) -> int:
        """Bits stored per value: b + 2 for double, b + M for multi (the index is empty
        for b = 1), b otherwise."""
        return F.stored_bits(self.bits, self.sampling, self.samples)

    @property
    def level_values(self) -> np.ndarray | None:
        """Per-feature level values the SGD kernel uses (Q0.10, int32), None for uniform."""
        return None if self.levels is None else F.level_values(self.levels)

    @property
    def values_per_line(self) -> int:
        return F.values_per_line(self.bits, self.sampling, self.samples)

    @property
    def nbytes(self) -> int:
        """Bytes of packed data, line padding included (all copies)."""
        return int(self.lines.nbytes)

    def codes(self, sample: int = 0, copy: int = 0) -> np.ndarray:
        """Level codes (n_samples, n_features) of one stored sample of one copy."""
        check_int(sample, "sample", 0, self.n_stored_samples - 1)
        check_int(copy, "copy", 0, self.n_copies - 1)
        rows = self.lines[copy].reshape(self.n_samples, -1, F.LINE_WORDS)
        return reference.decode_samples(rows, self.bits, self.sampling, self.n_features, self.samples)[sample]

    def level_positions(self) -> np.ndarray:
        """(n_features, 2**bits) level positions in [0, 1]: k / (2**bits - 1) for uniform
        levels (their Q0.24 rounding thresholds differ by less than 2^-24)."""
        if self.levels is not None:
            return self.levels.astype(np.float64) / F.POS_ONE
        uniform = np.arange(1 << self.bits) / F.max_code(self.bits)
        return np.tile(uniform, (self.n_features, 1))

    def dequantize(self, sample: int = 0, copy: int = 0) -> np.ndarray:
        """The quantized values in original units, float64, shaped like X.

        ``sample`` selects the stored sample: 0 or 1 for ``double``, 0..M-1 for ``multi``.
        """
        codes = self.codes(sample, copy)
        pos = np.take_along_axis(self.level_positions().T, codes, axis=0)
        return self.scaling.lo.astype(np.float64) + pos * self.scaling.span()


def quantize(X, bits, *, sampling="double", levels="uniform", seed=0, n_copies=1, backend="hls",
             scaling: FeatureScaling | None = None, levels_method: str | None = None,
             grid_size: int | None = None, n_samples: int | None = None) -> QuantizedData:
    """Stochastically quantize ``X`` per feature to ``bits`` bits and pack it into lines.

    Each feature is scaled to [0, 1] by its min/max (kept in ``.scaling``), then each
    value v in [L_j, L_j+1] becomes L_j+1 with probability (v - L_j)/(L_j+1 - L_j),
    else L_j: unbiased, with variance (L_j+1 - v)(v - L_j). The draws come from the
    counter-based RNG (``seed``, copy, row, column), so results are reproducible and
    identical on both backends.

    Parameters
    ----------
    X : array-like (n_samples, n_features), finite. Converted to float32.
    bits : {1, 2, 4, 8}. All 2**bits codes are levels.
    sampling : {'double', 'naive', 'nearest', 'multi'}
        'double' stores two independent samples as interval index + 2 rounding bits;
        'naive' one stochastic sample; 'nearest' deterministic nearest rounding;
        'multi' ``n_samples`` independent samples (4, 6 or 8) as index + one rounding bit
        each (the polynomial estimator of logistic regression reads them).
    levels : {'uniform', 'optimal'}
        Level placement per feature: uniform levels k/(2**bits - 1) of the scaled range,
        or the levels minimising the total rounding variance of that feature's values
        (``zipml_hls.optimal_levels``).
    seed : int in [0, 2**32).
    n_copies : int >= 1. Independent quantized copies (fresh randomness each).
    backend : {'hls', 'reference'}. The C++ kernels or the NumPy golden model.
    scaling : FeatureScaling, optional. Reuse a fitted scaling instead of X's min/max.
    levels_method : {'exact', 'grid'}, optional. For optimal levels: the exact program
        (default up to 4096 rows) or the grid program (default above).
    grid_size : int, optional. Grid points for the grid method (default
        ``max(256, 8 * (2**bits - 1))``).
    n_samples : int, 'multi' only: samples stored per value (4, 6 or 8).

    Returns
    -------
    QuantizedData
    """
    bits = check_bits(bits)
    sampling = check_choice(sampling, "sampling", F.ENCODINGS + (F.MULTI,))
    if sampling == F.MULTI:
        if n_samples is None or isinstance(n_samples, bool) or n_samples not in F.MULTI_SAMPLES:
            raise ValueError(f"n_samples must be one of {F.MULTI_SAMPLES} for sampling='multi', got {n_samples!r}")
    elif n_samples is not None:
        raise ValueError("n_samples is only used with sampling='multi'")
    samples = int(n_samples) if sampling == F.MULTI else 2
    check_choice(levels, "levels", LEVELS)
    seed = check_seed(seed)
    n_copies = check_int(n_copies, "n_copies", 1)
    backend = check_choice(backend, "backend", BACKENDS)
    X = check_matrix(X)
    if scaling is None:
        scaling = FeatureScaling.fit(X)
    elif scaling.lo.shape != (X.shape[1],):
        raise ValueError(f"scaling is for {scaling.lo.shape[0]} features, X has {X.shape[1]}")
    table = None
    if levels == "optimal":
        table = level_tables(reference.scaled_position(X, scaling.lo, scaling.inv), bits, levels_method, grid_size)
    if backend == "hls":
        from . import _kernels

        lines = _kernels.quantize(X, scaling.lo, scaling.inv, table, bits, F.encoding_id(sampling), seed, n_copies,
                                  samples)
    else:
        lines = reference.quantize_matrix(X, scaling.lo, scaling.inv, table, bits, sampling, seed, n_copies, samples)
    return QuantizedData(lines=lines, bits=bits, sampling=sampling, seed=seed, n_features=X.shape[1],
                         scaling=scaling, levels=table, samples=samples)
