"""The SGD fast path with per-feature level tables (AVX2: sgd_avx2.hpp, LevelLookup) gives
the same bits as the portable kernel and the golden model."""

import numpy as np
import pytest

from zipml_hls import _kernels, quantize
from zipml_hls.backend import get_backend
from zipml_hls.spec import format as F
from zipml_hls.spec.layout import decode_lines

from kernel_checks import assert_same, problem


def random_tables(rng, d, bits):
    inner = [np.sort(rng.choice(np.arange(1, 1 << F.LEVEL_VALUE_FRAC), (1 << bits) - 2, replace=False)) for _ in range(d)]
    return np.array([np.concatenate([[0], t, [1 << F.LEVEL_VALUE_FRAC]]) for t in inner], dtype=np.int32)


def three_kernels_agree(args, where, **kw):
    """The AVX2 (or AVX-512) module's SgdResult of sgd_linear(*args, **kw), checked equal to
    the portable kernel's and the golden model's."""
    fast = get_backend("hls").sgd_linear(*args, **kw)
    assert_same(fast, (get_backend("hls").sgd_linear(*args, portable=True, **kw),
                       get_backend("reference").sgd_linear(*args, **kw)), where)
    return fast


def table_case(seed, kind, n, d, bits, sampling):
    """(rng, data, labels, tables) of a small problem quantized at ``bits`` with tables of
    ``kind`` (tables_of)."""
    rng = np.random.default_rng(seed)
    X, labels = problem(rng, n, d)
    q = quantize(X, bits, sampling=sampling, seed=3)
    return rng, q, labels, tables_of(kind, rng, q, d, bits)


def tables_of(kind, rng, q, d, bits):
    """The tables a case runs: the quantizer's, random per-feature ones, one random table
    for every feature (the shared lookup), or that with the last feature's table replaced
    (which must not take the shared lookup)."""
    if kind in ("optimal", "shared_optimal"):
        return q.level_values
    if kind == "random":
        return random_tables(rng, d, bits)
    tables = np.tile(random_tables(rng, 1, bits), (d, 1))
    if kind == "near_shared":  # the last feature's values one lower, but for code 0's (0)
        tables[-1, 1:] -= 1
    return tables


@pytest.mark.parametrize("bits", F.SUPPORTED_BITS)
@pytest.mark.parametrize("sampling", F.TRAINING_SAMPLINGS)
@pytest.mark.parametrize("conditioned", [False, True])
def test_level_tables_fast_path_equals_the_portable_kernel_and_golden(bits, sampling, conditioned):
    # Tables of the variance-optimal levels and random ones (strictly increasing from 0 to
    # 2^10, as the quantizer writes them): one row, one feature, d not a multiple of 8
    # lanes, many lines per row; rows shuffled,
    # two copies, sample weights, the three linear losses and (double data) the
    # stored-rounding correction; steps of 1/2 and 1/4 make rows take the per-value path
    # of steps too large for int32 lanes.
    rng = np.random.default_rng(bits * 7 + len(sampling) + conditioned)
    k = F.values_per_line(bits, sampling)
    # One table for every feature (levels_method='shared', or random) takes the shared
    # lookup (registers up to 16 levels, else a gather from the one table); a table that
    # differs in one feature must not.
    cases = [(1, 1, 3, "squared_error", "optimal"), (9, 13, 4, "hinge", "random"),
             (33, k + 3, 2, "squared_error", "optimal"), (20, 3 * k - 5, 6, "squared_hinge", "random"),
             (12, 40, 1, "squared_error", "random"), (16, 2 * k + 1, 5, "squared_error", "optimal"),
             (17, 2 * k + 3, 3, "squared_error", "shared"), (10, k + 9, 5, "squared_hinge", "near_shared"),
             (25, 50, 2, "squared_error", "shared_optimal"), (1, 1, 4, "squared_error", "shared")]
    for n, d, step, loss, tables in cases:
        X, labels = problem(rng, n, d)
        if loss != "squared_error":
            labels = np.where(labels > 0, 1 << 16, -(1 << 16)).astype(np.int32)
        q = quantize(X, bits, sampling=sampling, levels="optimal", seed=4, n_copies=2,
                     levels_method="shared" if tables == "shared_optimal" else None)
        values = tables_of(tables, rng, q, d, bits)
        kw = dict(values=values, loss=loss, seed=11, rows=rng.permutation(n),
                  sample_weights=rng.integers(1 << 14, 1 << 17, n).astype(np.int32))
        labels = labels[kw["rows"]]
        if conditioned:
            kw.update(feature_shifts=rng.integers(0, 4, d).astype(np.uint8),
                      centers=rng.integers(0, 1025, d).astype(np.int32))
        if sampling == "double":
            kw["stored_variance"] = rng.integers(0, 1 << 24, d).astype(np.int32)
        model_in = rng.integers(-(1 << 22), 1 << 22, size=d + 1).astype(np.int32)
        args = (q.lines, labels, d, bits, sampling, 3, step, 1, F.TABLE_DOT_MULT, model_in)
        fast = three_kernels_agree(args, (n, d, step, loss, tables), **kw)
        assert not np.array_equal(fast.history[0], fast.history[-1])  # it trained


@pytest.mark.parametrize("bits", [2, 8])
def test_tables_outside_the_unit_interval_give_the_portable_kernels_bits(bits):
    # Table values outside [0, 2^10] (the module takes up to 2^30 in magnitude) would overflow the int32
    # lanes; such calls run the portable kernel (simd::unit_level_tables), so the bits agree.
    rng = np.random.default_rng(bits)
    n, d = 24, 21
    X, labels = problem(rng, n, d)
    q = quantize(X, bits, sampling="double", seed=2)
    values = rng.integers(-(1 << 20), 1 << 20, (d, 1 << bits)).astype(np.int32)
    values[:, 0] = 0  # code 0 is 0 in every table (else a ValueError, below)
    args = (q.lines, labels, d, bits, F.sampling_id("double"), 2, 12, 0, F.TABLE_DOT_MULT, np.zeros(d + 1, np.int32))
    fast = _kernels.sgd_linear(*args, values=values)
    portable = _kernels.sgd_linear(*args, values=values, portable=True)
    assert all(np.array_equal(a, b) for a, b in zip(fast, portable))
    assert np.abs(fast[0].astype(np.int64)).max() > 1 << 28  # values that large: steps beyond int32 lanes


def test_info_says_which_fast_path_takes_level_tables():
    info = _kernels.info()
    assert info["fast_sgd_tables"] == (info["fast_sgd"] == "avx2")
    assert ("level tables" in info["fast_path"]) == info["fast_sgd_tables"]


@pytest.mark.parametrize("backend", ["hls", "reference"])
def test_tables_the_kernels_could_disagree_on_are_refused(backend):
    # The zero codes past a row's last feature (3- and 6-bit naive lines of 170 and 85
    # values) read feature 0's code 0: it must be 0, as the quantizer writes, for the
    # kernels to agree with the golden model, which has no such lanes. And a value minus a
    # center (up to 2^10) must stay in int32: values within 2^30 in magnitude.
    rng = np.random.default_rng(0)
    n, d = 6, 9
    X, labels = problem(rng, n, d)
    run = get_backend(backend).sgd_linear
    for bits, values, message in (
            (3, np.tile(np.arange(8, dtype=np.int32) * 140 + 40, (d, 1)),
             r"values\[0, 0\] is 40: every table's code 0 must have value 0"),
            (2, np.tile(np.array([0, 5, 9, -(1 << 30) - 1], np.int32), (d, 1)),
             r"values must lie in \[-2\^30, 2\^30\]")):
        q = quantize(X, bits, sampling="naive", seed=1)
        args = (q.lines, labels, d, bits, "naive", 1, 4, 0, F.TABLE_DOT_MULT, np.zeros(d + 1, np.int32))
        with pytest.raises(ValueError, match=message):
            run(*args, values=values)
    run(*args, values=np.tile(np.array([0, 5, 9, 1 << 30], np.int32), (d, 1)))  # 2^30 itself is taken


@pytest.mark.parametrize("tables", ["shared", "random"])
def test_table_dot_product_wraps_in_int32_against_w_shifted_by_10(tables):
    # FORMATS.md section 7: a level-table dot product is sum_j (v_j - m_j) (w_j >> 10),
    # wrapped to int32; the prediction shifts it times dot_mult by 22. Weights of 48 in scaled units
    # over 90 features give predictions past +-128, where the sum wraps: every kernel wraps
    # it alike (the first prediction is computed here from the decoded codes).
    n, d, bits = 6, 90, 4
    rng, q, labels, values = table_case(5, tables, n, d, bits, "naive")
    centers = rng.integers(0, 1025, d).astype(np.int32)
    model_in = rng.integers(40 << 24, 56 << 24, d + 1).astype(np.int32)
    args = (q.lines, labels, d, bits, "naive", 1, 12, 0, F.TABLE_DOT_MULT, model_in)
    fast = three_kernels_agree(args, tables, values=values, centers=centers)
    codes = decode_lines(q.lines.reshape(1, n, -1, F.LINE_WORDS)[0, :1], bits, "naive", d)[0][0]
    centred = values[np.arange(d), codes].astype(np.int64) - centers
    exact = int(np.dot(centred, model_in[:d].astype(np.int64) >> F.TABLE_DOT_DROP))
    wrapped = (exact + (1 << 31)) % (1 << 32) - (1 << 31)
    assert wrapped != exact  # the case wraps
    expected = (wrapped * F.TABLE_DOT_MULT >> F.TABLE_DOT_FRAC) + (int(model_in[d]) >> F.DOT_DROP)
    assert F.TABLE_DOT_FRAC == F.DOT_MULT_FRAC - 2  # the 2^2 of w >> 10 against w >> 8, in the shift
    assert fast.predictions[0, 0] == max(-(1 << 31), min((1 << 31) - 1, expected))


@pytest.mark.parametrize("tables", ["shared", "random"])
def test_any_dot_mult_with_tables_gives_the_golden_bits(tables):
    # The prediction shifts acc * dot_mult by TABLE_DOT_FRAC instead of scaling acc by 2^2
    # first: with dot_mult up to 2^31 - 1 the product stays in int64 (it overflowed and
    # differed from the golden model's exact one when the sum was scaled first).
    n, d, bits = 8, 40, 4
    rng, q, labels, values = table_case(6, tables, n, d, bits, "double")
    model_in = rng.integers(-(1 << 31), 1 << 31, d + 1).astype(np.int32)
    for dot_mult in (1 << 30, (1 << 31) - 1):
        args = (q.lines, labels, d, bits, "double", 2, 20, 0, dot_mult, model_in)
        three_kernels_agree(args, (tables, dot_mult), values=values)
