"""Variance-optimal quantization levels (the paper's optimal quantization).

For values v_i and levels L_0 < ... < L_s, stochastic rounding has total variance
``sum_i (L_{j+1} - v_i)(v_i - L_j)`` (v_i in [L_j, L_{j+1}]). :func:`optimal_levels`
minimises it exactly by dynamic programming over the sorted distinct values
(docs/LEVELS.md has the algorithm and its proofs).
"""

from __future__ import annotations

import numbers

import numpy as np

from ._validation import check_choice, check_int
from .backend import BACKENDS, get_backend
from .spec import format as F

METHODS = ("exact", "grid")
#: How quantize(levels='optimal') places the tables: per feature by either method, or one
#: table shared by every feature (the grid program on all features' scaled values).
TABLE_METHODS = METHODS + ("shared",)
DEFAULT_GRID_SIZE = 256
#: Most levels optimal_levels places (12-bit codes; this project stores at most 8 bits), most
#: grid points, and most intervals times grid points of one grid program (its time grows as
#: s M log M: s M = 2^26 took 43 s here, 2^22 about 3 s).
MAX_LEVELS = (1 << 12) + 1
MAX_GRID_SIZE = 1 << 20
MAX_GRID_WORK = 1 << 22


def _values(values, name="values") -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real, got dtype {arr.dtype}")
    arr = arr.astype(np.float64).ravel()
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinity")
    with np.errstate(over="ignore"):
        if not np.isfinite(arr.max() - arr.min()):
            raise ValueError(f"{name} span more than float64 can hold ({arr.min():g} to {arr.max():g}); rescale them")
    return arr


def quantization_variance(values, levels) -> float:
    """Total variance of stochastic rounding of ``values`` to the sorted ``levels``:
    sum_i (L_{j+1} - v_i)(v_i - L_j) for the interval [L_j, L_{j+1}] holding v_i.

    Every value must lie within [levels[0], levels[-1]].
    """
    v = _values(values)
    lev = _values(levels, "levels")
    if np.any(np.diff(lev) < 0):
        raise ValueError("levels must be sorted")
    if v.min() < lev[0] or v.max() > lev[-1]:
        raise ValueError(f"values span [{v.min():g}, {v.max():g}], outside the levels [{lev[0]:g}, {lev[-1]:g}]")
    if lev.size == 1:
        return 0.0
    j = np.clip(np.searchsorted(lev, v, side="right") - 1, 0, lev.size - 2)
    return float(np.sum((lev[j + 1] - v) * (v - lev[j])))


def grid_points(lo: float, hi: float, grid_size: int, s: int) -> int:
    """Grid size actually used: at least s + 1, and (M - 1) a multiple of s, so the grid
    contains the uniform levels. A ValueError if s M is above MAX_GRID_WORK."""
    m = max(grid_size, s + 1)
    m = s * -(-(m - 1) // s) + 1
    if s * m > MAX_GRID_WORK:
        raise ValueError(f"{s + 1} levels on a grid of {m} points: (levels - 1) x points = {s * m} is above the grid "
                         "program's limit of 2**22 (it would run for minutes); use fewer levels or grid points")
    return m


def _fill(levels: np.ndarray, n_levels: int) -> np.ndarray:
    """Add levels at the midpoints of the widest gaps until there are n_levels."""
    levels = list(levels)
    while len(levels) < n_levels:
        gaps = np.diff(levels)
        k = int(np.argmax(gaps))
        levels.insert(k + 1, levels[k] + gaps[k] / 2)
    return np.asarray(levels)


def optimal_levels(values, n_levels, *, method="exact", grid_size=None, backend="hls") -> np.ndarray:
    """The ``n_levels`` levels minimising :func:`quantization_variance` of ``values``.

    Parameters
    ----------
    values : array-like of finite numbers (flattened).
    n_levels : int >= 2 (s + 1 levels, s intervals).
    method : {'exact', 'grid'}
        'exact': the optimum over levels at data points, which is the global optimum
        (O(s N log N) at most, N = distinct values; each layer by divide and conquer or Knuth's
        window, both from the Monge property).
        'grid': the optimum over levels on ``grid_size`` evenly spaced points between
        the minimum and the maximum (rounded up so (M - 1) is a multiple of s, so the
        grid holds the uniform levels), in O(N + s M log M). Its variance V_grid
        satisfies V_exact <= V_grid <= V_uniform and V_grid <= V_exact + n R^2 / (M - 1),
        R = max - min: it converges to the optimum as M grows.
    grid_size : int >= 2, default 256 (grid method only).
    backend : {'hls', 'reference'}: the C++ module, or the NumPy O(s N^2) program
        (exact method only).

    Returns
    -------
    ndarray (n_levels,): sorted levels, first = min, last = max. With fewer distinct
    values than levels, every distinct value is a level (variance 0) and the rest
    split the widest gaps; a single distinct value gives n_levels copies of it. Levels
    repeat only where the values' range holds fewer doubles than levels (1 and the next
    double after it: 4 levels of those two values).
    """
    v = _values(values)
    if (isinstance(n_levels, bool) or not isinstance(n_levels, numbers.Integral)
            or not 2 <= n_levels <= MAX_LEVELS):
        raise ValueError(f"n_levels must be an integer in [2, {MAX_LEVELS}], got {n_levels!r}")
    n_levels = int(n_levels)
    check_choice(method, "method", METHODS)
    solver = get_backend(check_choice(backend, "backend", BACKENDS))
    if grid_size is not None and method != "grid":
        raise ValueError("grid_size is only used with method='grid'")
    x, counts = np.unique(v, return_counts=True)
    if x.size == 1:
        return np.full(n_levels, x[0])
    if x.size <= n_levels and method == "exact":
        return _fill(x, n_levels)
    s = n_levels - 1
    counts = counts.astype(np.float64)
    if method == "grid":
        m = grid_points(x[0], x[-1], _grid_size(grid_size, DEFAULT_GRID_SIZE), s)
        return solver.levels_dp(x, counts, s, m)
    return solver.levels_dp(x, counts, s)


#: Rows up to which ``quantize(levels='optimal')`` uses the exact method by default.
EXACT_MAX_ROWS = 4096

#: Points of the grid of every level value the SGD reads (Q0.10, 0 to 1): on it the grid
#: program finds the best table that a kernel reads exactly.
VALUE_GRID_POINTS = (1 << F.LEVEL_VALUE_FRAC) + 1


def _grid_size(grid_size, default: int) -> int:
    return check_int(default if grid_size is None else grid_size, "grid_size", 2, MAX_GRID_SIZE)


def default_grid_size(bits: int) -> int:
    """Grid size for b-bit levels: 256 points, or 8 per interval when that is more, but no
    finer than the SGD's level values (VALUE_GRID_POINTS, which 8 bits reach)."""
    return min(max(DEFAULT_GRID_SIZE, 8 * F.max_code(bits)), VALUE_GRID_POINTS)


def level_tables(positions: np.ndarray, bits: int, method: str | None = None, grid_size: int | None = None):
    """Per-feature optimal level tables for Q0.24 positions (n, d): uint32 (d, 2^bits),
    strictly increasing from 0 to 2^24 as the kernels require, on the grid of the SGD's
    Q0.10 level values (``_on_value_grid``).

    ``method=None`` picks 'exact' up to EXACT_MAX_ROWS rows below 8 bits, else 'grid' with
    ``default_grid_size(bits)`` points; at 8 bits that is the grid of the level values
    themselves, on which the program's optimum is the best table the SGD can read exactly
    (the exact optimum moved onto the value grid came out 5-25% above it on lognormal data).
    ``method='shared'``: the grid program on all features' positions together, one table
    for every feature (the SGD kernels look it up in registers, docs/BENCH.md).
    """
    n, d = positions.shape
    s = F.max_code(bits)
    method = method or ("exact" if n <= EXACT_MAX_ROWS and bits < 8 else "grid")
    check_choice(method, "method", TABLE_METHODS)
    if method != "exact":
        size = _grid_size(grid_size, default_grid_size(bits))
        m = VALUE_GRID_POINTS if size == VALUE_GRID_POINTS else grid_points(0, F.POS_ONE, size, s)
        if method == "shared":
            return np.tile(_shared_table(positions, s, m), (d, 1))
        raw = get_backend("hls").grid_level_columns(positions, s, m)
    else:
        raw = np.stack([optimal_levels(positions[:, j], s + 1) for j in range(d)])
    return np.stack([_on_value_grid(raw[j], s + 1) for j in range(d)]).astype(np.uint32)


#: Bits the shared table's histogram drops from each Q0.24 position: its bins are 2^-16 wide,
#: so it fits the caches; the rounding variance of a value moved by at most 2^-17 changes by
#: under 2^-17 of its interval's width.
SHARED_HISTOGRAM_DROP = 8


def is_shared(table: np.ndarray) -> bool:
    """Whether every feature's row of the level tables ``table`` (d, 2^bits) is the same
    table (``levels_method='shared'``, or per-feature tables that came out alike)."""
    return bool(np.all(table == table[:1]))


def _shared_table(positions: np.ndarray, s: int, grid_size: int) -> np.ndarray:
    """One table for all columns of ``positions``: the grid program on their pooled values,
    counted in a histogram of 2^16 + 1 bins (a block of rows at a time) rather than sorted."""
    bins = (F.POS_ONE >> SHARED_HISTOGRAM_DROP) + 1
    counts = np.zeros(bins, np.int64)
    block = max(1, (1 << 22) // max(1, positions.shape[1]))
    for start in range(0, positions.shape[0], block):
        counts += np.bincount((positions[start:start + block] >> SHARED_HISTOGRAM_DROP).ravel(), minlength=bins)
    x = np.flatnonzero(counts)
    if x.size == 1:  # one value in every feature: any table; _on_value_grid spreads it from 0 to 1
        return _on_value_grid(np.full(s + 1, float(x[0] << SHARED_HISTOGRAM_DROP)), s + 1).astype(np.uint32)
    # each bin's values at its middle (the last bin holds 2^24 alone)
    middles = np.minimum((x << SHARED_HISTOGRAM_DROP) + (1 << (SHARED_HISTOGRAM_DROP - 1)), F.POS_ONE)
    raw = get_backend("hls").levels_dp(middles.astype(np.float64), counts[x].astype(np.float64), s, grid_size)
    return _on_value_grid(raw, s + 1).astype(np.uint32)


def _on_value_grid(levels: np.ndarray, n_levels: int) -> np.ndarray:
    """Sorted levels (Q0.24) as ``n_levels`` strictly increasing Q0.24 positions from 0
    to 2^24, each a multiple of 2^14: the SGD kernel reads level values in Q0.10, so a
    level off that grid would be read as another value than the one the quantizer rounded
    to (a bias), and levels closer than 2^-10 as one value (8-bit optimal levels on dense
    data lost about a fifth of their levels that way). Each level goes to its nearest grid
    point, the ends to the kernel's fixed 0 and 1, merged levels are split again at the
    widest gaps (which hold 2 grid points or more: 2^10 intervals, at most 255 levels)."""
    step = 1 << (F.POS_FRAC - F.LEVEL_VALUE_FRAC)
    top = float(1 << F.LEVEL_VALUE_FRAC)
    grid = np.clip(np.rint(np.asarray(levels, dtype=np.float64) / step), 0.0, top)
    grid[0], grid[-1] = 0.0, top  # the ends, where a given scaling's range is wider than the values
    grid = np.unique(grid)
    return np.floor(_fill(grid, n_levels)).astype(np.int64) * step
