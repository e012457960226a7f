"""``zipml_hls.quantize``: stochastic quantization of a data set into packed 512-bit lines."""

from __future__ import annotations

import numbers
from dataclasses import dataclass, replace

import numpy as np

from ._validation import (check_allocation, check_bits, check_choice, check_int, check_matrix, check_seed,
                          check_sparse)
from .backend import BACKENDS, get_backend
from .datastats import DataStats
from .levels import TABLE_METHODS, level_tables
from .scaling import FeatureScaling, FeatureSummary, sample_rows
from .step_size import SAMPLED_ROWS
from .spec import format as F
from .spec.layout import decode_lines, decode_samples, fine_codes
from .spec.resample import sample_stream_key

LEVELS = ("uniform", "optimal")  #: level placement: uniform, or variance-optimal per feature
#: The estimators' requantize='auto' quantizes X again every epoch up to this many values
#: (4 MiB of float32); above it, one stored copy gives every epoch's samples.
REQUANTIZE_MAX_VALUES = 1 << 20


@dataclass(frozen=True)
class QuantizedData:
    """A data set quantized and packed as the kernels read it (docs/FORMATS.md).

    Attributes
    ----------
    lines : ndarray of uint64, shape (n_copies, n_samples, words_per_row)
        Packed rows: ``lines_per_row`` 512-bit lines of 8 little-endian words each.
    bits, sampling, seed : the quantization parameters.
    n_features : int
    scaling : FeatureScaling
        Per-feature min/max used to map positions back to original units.
    level_table : ndarray of uint32, shape (n_features, 2**bits), or None
        Per-feature level positions (Q0.24); None means uniform levels.
    samples_per_value : int
        Independent samples stored per value: 2 for 'double', M for 'multi', else 1.
    stats : datastats.DataStats or None
        What fit()'s set-up needs of the data (``quantize`` computes it from X; None for
        the training path's own quantizations): estimators train from this object alone.
    labels : ndarray of float64, shape (n_samples,), or None
        Labels stored with the data (``quantize(..., y=y)``), the targets of ``fit(q)``.
    feature_names : tuple of str, or None
        The columns' names where X had them (a DataFrame whose column names are all
        strings, or a CSV, Parquet or Arrow file with a header): ``fit(q)`` sets
        ``feature_names_in_`` from them, as fitting on the DataFrame would.
    """

    lines: np.ndarray
    bits: int
    sampling: str
    seed: int
    n_features: int
    scaling: FeatureScaling
    level_table: np.ndarray | None = None
    samples_per_value: int = 2
    stats: DataStats | None = None
    labels: np.ndarray | None = None
    feature_names: tuple | None = None

    @property
    def levels(self) -> str:
        """'optimal' with per-feature level tables, else 'uniform'."""
        return "uniform" if self.level_table is None else "optimal"

    @property
    def n_copies(self) -> int:
        return self.lines.shape[0]

    @property
    def n_samples(self) -> int:
        """Rows of the data set."""
        return self.lines.shape[1]

    @property
    def bits_per_value(self) -> int:
        """Bits stored per value: b + 2 for double, b + M for multi (its index is empty
        for b = 1), b otherwise."""
        return F.stored_bits(self.bits, self.sampling, self.samples_per_value)

    @property
    def level_values(self) -> np.ndarray | None:
        """Per-feature level values the SGD kernel uses (Q0.10, int32), None for uniform."""
        return None if self.level_table is None else F.level_values(self.level_table)

    @property
    def values_per_line(self) -> int:
        return F.values_per_line(self.bits, self.sampling, self.samples_per_value)

    @property
    def nbytes(self) -> int:
        """Bytes of packed data, line padding included (all copies)."""
        return int(self.lines.nbytes)

    def codes(self, sample: int = 0, copy: int = 0, epoch: int = 0) -> np.ndarray:
        """Level codes (n_samples, n_features) of one sample of one copy. Double data store
        each value once on a 4x finer grid and the kernel draws both samples afresh every
        epoch: ``epoch`` selects those of epoch ``epoch`` (seed ``seed``, as the kernel
        run with that seed draws them); other samplings store their samples."""
        check_int(sample, "sample", 0, F.samples_of(self.sampling, self.samples_per_value) - 1)
        check_int(copy, "copy", 0, self.n_copies - 1)
        check_int(epoch, "epoch", 0, 2**32 - 1 if self.sampling == "double" else 0)  # other data store their samples
        rows = self.lines[copy].reshape(self.n_samples, -1, F.LINE_WORDS)
        if self.sampling == "double":
            keys = sample_stream_key(self.seed, epoch, np.arange(self.n_samples))
            return decode_lines(rows, self.bits, self.sampling, self.n_features, keys)[sample]
        return decode_samples(rows, self.bits, self.sampling, self.n_features, self.samples_per_value)[sample]

    def fine_codes(self, copy: int = 0) -> np.ndarray:
        """Double data: the stored values on the fine grid, (n_samples, n_features) int64
        in units of 1/4 level interval (index * 4 + fraction); each sample is drawn from
        them, up with probability fraction / 4."""
        if self.sampling != "double":
            raise ValueError(f"fine_codes is for double data, this is {self.sampling!r}")
        check_int(copy, "copy", 0, self.n_copies - 1)
        return fine_codes(self.lines[copy].reshape(self.n_samples, -1, F.LINE_WORDS), self.bits, self.n_features)

    def level_positions(self) -> np.ndarray:
        """(n_features, 2**bits) level positions in [0, 1]: k / (2**bits - 1) for uniform
        levels (their Q0.24 rounding thresholds differ by less than 2^-24)."""
        if self.level_table is not None:
            return self.level_table.astype(np.float64) / F.POS_ONE
        uniform = np.arange(1 << self.bits) / F.max_code(self.bits)
        return np.tile(uniform, (self.n_features, 1))

    def dequantize(self, sample: int = 0, copy: int = 0, epoch: int = 0) -> np.ndarray:
        """The quantized values in original units, float64, shaped like X.

        ``sample`` selects the sample: 0 or 1 for ``double`` (drawn for epoch ``epoch``,
        see :meth:`codes`), 0..M-1 for ``multi``.
        """
        codes = self.codes(sample, copy, epoch)
        pos = np.take_along_axis(self.level_positions().T, codes, axis=0)
        return self.scaling.lo.astype(np.float64) + pos * self.scaling.span()

    def save(self, path) -> None:
        """Write this quantization, its set-up statistics and labels to ``path`` atomically
        as a quantized data file (docs/FORMATS.md); ``zipml_hls.load_quantized`` maps it."""
        from .quantized_io import save_quantized

        save_quantized(self, path)


def quantize(X, bits, *, sampling="double", levels="uniform", seed=0, n_copies=1, backend="hls",
             scaling: FeatureScaling | None = None, levels_method: str | None = None,
             grid_size: int | None = None, samples_per_value: int | None = None, y=None) -> QuantizedData:
    """Stochastically quantize ``X`` per feature to ``bits`` bits and pack it into lines.

    Each feature is scaled to [0, 1] by its min/max (kept in ``.scaling``), then each
    value v in [L_j, L_j+1] becomes L_j+1 with probability (v - L_j)/(L_j+1 - L_j),
    else L_j: unbiased, with variance (L_j+1 - v)(v - L_j). The draws come from the
    counter-based RNG (``seed``, sample, copy, row, column), so results are reproducible
    and identical on both backends.

    Parameters
    ----------
    X : array-like (n_samples, n_features), finite. Converted to float32. A SciPy sparse
        matrix is quantized block by block without its dense form (uniform levels, its
        own scaling, the native backend; ``ingest.quantize_sparse``: blocks of 64 MiB of
        float32, block c drawn with seed ``ingest.chunk_seed(seed, c)``).
    bits : {1, 2, 3, 4, 6, 8}. All 2**bits codes are levels.
    sampling : {'double', 'naive', 'nearest', 'multi'}
        'double' stores each value once, stochastically rounded to a grid 4x finer than
        the levels, as index + 2 fraction bits, from which two independent samples are
        drawn afresh every epoch (in the kernel; ``.codes(sample, epoch=e)``);
        'naive' one stochastic sample; 'nearest' deterministic nearest rounding;
        'multi' ``samples_per_value`` independent samples (4, 6 or 8) as index + one
        rounding bit each (the polynomial estimator of logistic regression reads them).
    levels : {'uniform', 'optimal'}
        Level placement per feature: uniform levels k/(2**bits - 1) of the scaled range,
        or the levels minimising the total rounding variance of that feature's values
        (``zipml_hls.optimal_levels``).
    seed : int in [0, 2**32).
    n_copies : int >= 1. Independent quantized copies (fresh randomness each).
    backend : {'hls', 'reference'}. The C++ kernels or the NumPy golden model.
    scaling : FeatureScaling, optional. Reuse a fitted scaling instead of X's min/max (which
        ``fit`` widens to put 0 on a level of sparse and zero-inflated features at uniform
        levels, and so does this without ``scaling``).
    levels_method : {'exact', 'grid', 'shared'}, optional. For optimal levels: per feature,
        the exact program (default up to 4096 rows below 8 bits) or the grid program (default
        otherwise); or 'shared', one table for every feature, the grid program on all
        features' scaled values together: a compromise whose rounding variance is typically
        between per-feature tables' and uniform levels' (docs/LEVELS.md has it on real data
        sets), found in a fraction of the time and read faster by the AVX2 SGD kernel at 2 to
        8 bits (docs/BENCH.md). The levels are then moved
        onto the 1025 values the SGD kernel reads (Q0.10), so every level is read exactly
        and none merge (``levels.level_tables``).
    grid_size : int, optional. Grid points for the grid and shared methods (default
        ``min(max(256, 8 * (2**bits - 1)), 1025)``: at 8 bits the 1025 values themselves).
    samples_per_value : int, 'multi' only: samples stored per value (4, 6 or 8).
    y : array-like (n_samples,), optional. Finite labels kept with the data (``.labels``).
    A DataFrame X whose column names are all strings keeps them (``.feature_names``).

    Returns
    -------
    QuantizedData
        With ``.stats``, what the estimators' set-up needs of X (ranges, moments, rounding
        variances of 4096 sampled rows, step bounds): ``fit(q)`` needs no float data.
    """
    bits = check_bits(bits)
    sampling = check_choice(sampling, "sampling", tuple(F.SAMPLINGS))
    if sampling == "multi":
        if (not isinstance(samples_per_value, numbers.Integral) or isinstance(samples_per_value, bool)
                or samples_per_value not in F.MULTI_SAMPLES):
            raise ValueError(f"samples_per_value must be one of {F.MULTI_SAMPLES} for sampling='multi', "
                             f"got {samples_per_value!r}")
    elif samples_per_value is not None:
        raise ValueError("samples_per_value is only used with sampling='multi'")
    check_choice(levels, "levels", LEVELS)
    if levels_method is not None:
        check_choice(levels_method, "levels_method", TABLE_METHODS)
    if levels != "optimal" and (levels_method is not None or grid_size is not None):
        raise ValueError("levels_method and grid_size are only used with levels='optimal'")
    if grid_size is not None and levels_method == "exact":
        raise ValueError("grid_size is only used with levels_method='grid' or 'shared'")
    if hasattr(X, "tocsr"):  # SciPy sparse: quantized block by block, never made dense
        if levels != "uniform" or scaling is not None or sampling == "multi" or backend != "hls":
            raise ValueError("sparse X is quantized with uniform levels, its own scaling, sampling 'double', 'naive' "
                             "or 'nearest' and the native backend; densify it (X.toarray()) for the others")
        from .ingest import quantize_sparse

        X = check_sparse(X)
        return quantize_sparse(X, bits, sampling, check_seed(seed), check_int(n_copies, "n_copies", 1, 2**31 - 1),
                               None if y is None else check_labels(y, X.shape[0]))
    names, source = feature_names_of(X), X
    X = check_matrix(X, finite="summary")  # (FeatureSummary.of's pass checks it)
    if scaling is not None:
        if not isinstance(scaling, FeatureScaling):
            raise TypeError(f"scaling must be a FeatureScaling (e.g. another quantization's .scaling) or None, "
                            f"got {type(scaling).__name__}")
        scaling.check(X.shape[1])
    labels = None if y is None else check_labels(y, X.shape[0])
    summary = FeatureSummary.of(X, scaling=scaling, source=source)
    if scaling is None and levels == "uniform":  # (as fit(X) scales X)
        summary = summary.zeros_on_levels(X, bits, sample_rows(X.shape[0], SAMPLED_ROWS))
    q = quantize_checked(X, bits, sampling, levels, check_seed(seed), check_int(n_copies, "n_copies", 1, 2**31 - 1),
                         check_choice(backend, "backend", BACKENDS), summary.scaling, levels_method, grid_size,
                         F.samples_of(sampling, samples_per_value or 2))
    return replace(q, stats=DataStats.of(X, bits, summary, q.level_table), labels=labels,
                   feature_names=names)


def feature_names_of(X) -> tuple | None:
    """X's column names where it has them, all strings (scikit-learn's rule for
    ``feature_names_in_``), distinct and not empty (as a quantized data file keeps them),
    else None."""
    columns = getattr(X, "columns", None)
    return None if columns is None else valid_names(tuple(columns))


def valid_names(names) -> tuple | None:
    """``names`` as a tuple where they are distinct non-empty strings, else None."""
    names = tuple(names)
    ok = all(isinstance(c, str) and c for c in names) and len(set(names)) == len(names)
    return names if ok else None


def check_labels(y, n: int, name: str = "y") -> np.ndarray:
    """``y`` as finite float64 labels of ``n`` rows, or a ValueError saying what is wrong."""
    try:
        labels = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must hold numbers") from None
    if labels.shape != (n,):
        raise ValueError(f"{name} must be 1-D with one label per row ({n}), got shape {labels.shape}")
    if not np.isfinite(labels).all():
        raise ValueError(f"{name} contains NaN or infinity")
    return labels


def quantize_checked(X: np.ndarray, bits: int, sampling: str, levels: str, seed: int, n_copies: int, backend: str,
                     scaling: FeatureScaling | None = None, levels_method: str | None = None,
                     grid_size: int | None = None, samples_per_value: int = 2,
                     table: np.ndarray | None = None, rows: np.ndarray | None = None) -> QuantizedData:
    """:func:`quantize` on arguments already validated (X: a finite float32 C array).
    ``table``: optimal level tables computed before (reused, e.g. for every epoch);
    ``rows``: quantize X[rows] (an epoch's row order) without a reordered copy of X."""
    kernels = get_backend(backend)
    n_rows = X.shape[0] if rows is None else len(rows)
    check_allocation(8.0 * n_copies * n_rows * F.lines_per_row(X.shape[1], bits, sampling, samples_per_value)
                     * F.LINE_WORDS, f"{n_copies} quantized copies of {n_rows} x {X.shape[1]} values")
    if scaling is None:
        scaling = FeatureScaling.fit(X)
    if levels == "optimal" and table is None:
        table = optimal_level_table(X, bits, scaling, backend, levels_method, grid_size)
    lines = kernels.quantize(X, scaling.lo, scaling.inv, table, bits, sampling, seed, n_copies, samples_per_value,
                             rows=rows)
    return QuantizedData(lines=lines, bits=bits, sampling=sampling, seed=seed, n_features=X.shape[1],
                         scaling=scaling, level_table=table, samples_per_value=samples_per_value)


def optimal_level_table(X: np.ndarray, bits: int, scaling: FeatureScaling, backend: str,
                        levels_method: str | None = None, grid_size: int | None = None) -> np.ndarray:
    """Per-feature variance-optimal level tables (Q0.24, (d, 2^bits)) of scaled X."""
    return level_tables(get_backend(backend).positions(X, scaling.lo, scaling.inv), bits, levels_method, grid_size)
