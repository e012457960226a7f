"""SGD kernels: the C++ model history equals the golden model's, bit for bit."""

import numpy as np
import pytest

from zipml_hls import _kernels, quantize
from zipml_hls.spec import format as F
from zipml_hls import reference as R
from zipml_hls.backend import get_backend
from zipml_hls.spec import schedule

from kernel_checks import AVX2_LINEAR, assert_same, problem


def both(q, labels, d, bits, sampling, epochs, step_shift, decay, model_in):
    args = (epochs, step_shift, decay, F.dot_mult(bits), model_in)
    cpp = _kernels.sgd_linear(q.lines, labels, d, bits, F.sampling_id(sampling), *args)[0]
    portable = _kernels.sgd_linear(q.lines, labels, d, bits, F.sampling_id(sampling), *args, portable=True)[0]
    ref = R.sgd_linear(q.lines, labels, d, bits, sampling, *args)[0]
    # the module's default kernel (the CPU fast path where compiled in) and the
    # portable (synthesizable) kernel are both checked
    assert np.array_equal(cpp, portable)
    return cpp, ref


@pytest.mark.parametrize("bits", F.SUPPORTED_BITS)
@pytest.mark.parametrize("sampling", F.TRAINING_SAMPLINGS)
def test_history_bit_exact(bits, sampling):
    rng = np.random.default_rng(bits)
    k = F.values_per_line(bits, sampling)
    for n, d, copies in [(1, 1, 1), (7, 3, 2), (40, k + 1, 3), (25, 2 * k - 3, 1), (6, 3 * k, 2)]:
        X, labels = problem(rng, n, d)
        q = quantize(X, bits, sampling=sampling, seed=42, n_copies=copies)
        model_in = rng.integers(-(1 << 22), 1 << 22, size=d + 1).astype(np.int32)
        cpp, ref = both(q, labels, d, bits, sampling, 4, 4, 2, model_in)
        assert cpp.shape == (4, d + 1) and cpp.dtype == np.int32
        assert np.array_equal(cpp, ref), (n, d, copies)
        assert not np.array_equal(cpp[0], cpp[-1])  # it trained


def test_history_bit_exact_when_the_model_wraps():
    # A far too large step: the int32 model and the dot product wrap; both halves agree.
    rng = np.random.default_rng(0)
    X, labels = problem(rng, 30, 20)
    q = quantize(X, 8, sampling="double", seed=1)
    cpp, ref = both(q, labels, 20, 8, "double", 3, 1, 0, np.zeros(21, np.int32))
    assert np.array_equal(cpp, ref)
    assert np.abs(cpp.astype(np.int64)).max() > 2**30


def test_8bit_update_both_multiply_paths():
    # The AVX-512 path computes round(g c / 2^8) with one multiply while |g| < 2^23 and
    # with two above; labels alternating between tiny and huge make rows take both.
    rng = np.random.default_rng(3)
    n, d = 40, 70
    X = rng.uniform(0, 1, size=(n, d))
    labels = np.where(np.arange(n) % 2 == 0, 1 << 12, -(1 << 29)).astype(np.int32)
    q = quantize(X, 8, sampling="double", seed=5)
    g = labels.astype(np.int64) * F.dot_mult(8) >> (8 + 2)  # |g| of each row's first step, roughly
    assert (np.abs(g) < 1 << 23).any() and (np.abs(g) >= 1 << 23).any()
    cpp, ref = both(q, labels, d, 8, "double", 2, 2, 0, np.zeros(d + 1, np.int32))
    assert np.array_equal(cpp, ref)


def lane_step_bits(vmax):
    """sgd_avx2.hpp's lane_step_bits: the widest |g 2^q| whose steps are exact in int32 lanes."""
    bits = 0
    while ((1 << (bits + 1)) - 1) * vmax + 128 < 1 << 31:
        bits += 1
    return bits


@pytest.mark.parametrize("bits", F.SUPPORTED_BITS)
def test_steps_at_the_edge_of_the_int32_lanes(bits):
    # The AVX2 path multiplies g 2^q v in int32 lanes while |g| 2^q_max < 2^lane_step_bits(S)
    # (30 bits at 1 bit, 23 at 8 bits) and takes a per-value pass above. One-hot rows (row
    # i: the top code S at feature i, so no step feeds a later prediction but through the
    # intercept), step multipliers 2^2, and residuals spread over 2^-5..2^4 of that bound:
    # rows fall on both sides of it, including the bit just above it, where int32 lanes
    # would wrap (a bound one bit wider fails this test at 2, 4 and 8 bits; at 1 bit only
    # steps within 2^7 of 2^31 would wrap).
    rng = np.random.default_rng(bits)
    n = d = 96
    q, shift = 2, 1
    s, mult = F.max_code(bits), F.dot_mult(bits)
    edge = lane_step_bits(s)
    q_data = quantize(np.eye(n), bits, sampling="naive", seed=1)
    # residual r gives |g| = |r| mult / 2^(8 + shift); choose |g| 2^q at 2^(edge - 5 .. edge + 4)
    g = np.exp2(rng.uniform(edge - 5, edge + 4, n) - q)
    labels = np.clip(rng.choice([-1, 1], n) * g * 2.0 ** (8 + shift) / mult, -2**31 + 1, 2**31 - 1).astype(np.int32)
    kw = dict(feature_shifts=np.full(d, q, np.uint8), centers=np.zeros(d, np.int32))
    args = (q_data.lines, labels, d, bits, "naive", 1, shift, 0, mult, np.zeros(d + 1, np.int32))
    fast = get_backend("hls").sgd_linear(*args, **kw)
    assert_same(fast, (get_backend("hls").sgd_linear(*args, portable=True, **kw),
                       get_backend("reference").sgd_linear(*args, **kw)), bits)
    # the rows' actual steps (from the kernel's own predictions) straddle the edge
    pred = fast.predictions[:, 0].astype(np.int64)
    r = np.clip(pred - labels, -2**31, 2**31 - 1)
    steps = np.abs(np.round(r * mult / 2.0 ** (8 + shift))) * 2**q
    exact = np.abs(pred) < 2**31 - 1
    assert ((steps[exact] >= 2.0 ** (edge - 1)) & (steps[exact] < 2.0 ** edge)).sum() >= 3
    assert ((steps[exact] >= 2.0 ** edge) & (steps[exact] < 2.0 ** (edge + 1))).sum() >= 3


def test_epoch_copy_cycling():
    # With n_copies=2, epoch e reads copy e % 2: training copy 1 alone from epoch 0's
    # model reproduces epoch 1 (naive data: the samples are stored, not drawn per epoch).
    rng = np.random.default_rng(5)
    X, labels = problem(rng, 20, 9)
    q = quantize(X, 4, sampling="naive", seed=3, n_copies=2)
    naive = F.sampling_id("naive")
    hist = _kernels.sgd_linear(q.lines, labels, 9, 4, naive, 2, 3, 0, F.dot_mult(4), np.zeros(10, np.int32))[0]
    one = _kernels.sgd_linear(q.lines[1:], labels, 9, 4, naive, 1, 3, 0, F.dot_mult(4), hist[0])[0]
    assert np.array_equal(one[0], hist[1])


def test_double_samples_are_drawn_afresh_every_epoch():
    # Double data: epoch e draws its samples with stream (STREAM_SAMPLE, e, row) of the
    # seed, so a second epoch differs from a one-epoch run from the same model, and the
    # seed changes the draws; the golden model agrees bit for bit.
    rng = np.random.default_rng(6)
    X, labels = problem(rng, 30, 50)
    q = quantize(X, 2, sampling="double", seed=3)
    args = (q.lines, labels, 50, 2, 0)
    two = _kernels.sgd_linear(*args, 2, 3, 0, F.dot_mult(2), np.zeros(51, np.int32), seed=11)[0]
    one = _kernels.sgd_linear(*args, 1, 3, 0, F.dot_mult(2), two[0], seed=11)[0]
    assert not np.array_equal(one[0], two[1])
    other = _kernels.sgd_linear(*args, 2, 3, 0, F.dot_mult(2), np.zeros(51, np.int32), seed=12)[0]
    assert not np.array_equal(other, two)
    golden = R.sgd_linear(q.lines, labels, 50, 2, "double", 2, 3, 0, F.dot_mult(2), np.zeros(51, np.int32), seed=11)
    assert np.array_equal(golden[0], two)


def test_step_schedule():
    assert [schedule.epoch_shift(3, 2, e) for e in range(6)] == [3, 3, 4, 4, 5, 5]
    assert [schedule.epoch_shift(3, 0, e) for e in range(3)] == [3, 3, 3]
    assert schedule.epoch_shift(39, 1, 10) == F.MAX_SHIFT


def test_fp32_kernel_matches_reference_within_tolerance():
    rng = np.random.default_rng(1)
    X = rng.uniform(size=(300, 37)).astype(np.float32)
    y = (X @ rng.standard_normal(37)).astype(np.float32)
    init = np.zeros(38, np.float32)
    cpp = _kernels.sgd_fp32(X, y, 5, 5, 2, init)
    ref = R.sgd_fp32(X, y, 5, 5, 2, init)
    # documented tolerance: summation order only (docs/FORMATS.md); history and predictions
    for got, want in zip(cpp, ref, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("call, match", [
    (lambda q, l: _kernels.sgd_linear(q.lines, l, 70000, 4, 0, 1, 3, 0, F.dot_mult(4), np.zeros(70001, np.int32)),
     "compile-time maximum"),
    (lambda q, l: _kernels.sgd_linear(q.lines, l, 100, 4, 0, 1, 3, 0, F.dot_mult(4), np.zeros(101, np.int32)),
     "words"),
    (lambda q, l: _kernels.sgd_linear(q.lines, l[:-1], 8, 4, 0, 1, 3, 0, F.dot_mult(4), np.zeros(9, np.int32)),
     "labels must have shape"),
    (lambda q, l: _kernels.sgd_linear(q.lines, l, 8, 4, 0, 0, 3, 0, F.dot_mult(4), np.zeros(9, np.int32)),
     "epochs"),
    (lambda q, l: _kernels.sgd_linear(q.lines, l, 8, 4, 0, 1, 0, 0, F.dot_mult(4), np.zeros(9, np.int32)),
     "step_shift"),
    (lambda q, l: _kernels.sgd_linear(q.lines, l, 8, 5, 0, 1, 3, 0, F.dot_mult(4), np.zeros(9, np.int32)),
     "bits must be"),
    (lambda q, l: _kernels.sgd_linear(q.lines, l, 8, 4, 5, 1, 3, 0, F.dot_mult(4), np.zeros(9, np.int32)),
     "sampling must be"),
    (lambda q, l: _kernels.sgd_linear(q.lines[0], l, 8, 4, 0, 1, 3, 0, F.dot_mult(4), np.zeros(9, np.int32)),
     "3-D"),
    (lambda q, l: _kernels.sgd_fp32(np.zeros((3, 70000), np.float32), np.zeros(3, np.float32), 1, 3, 0,
                                    np.zeros(70001, np.float32)), "compile-time maximum"),
])
def test_bindings_check_sizes_before_the_kernel_runs(call, match):
    rng = np.random.default_rng(0)
    X, labels = problem(rng, 6, 8)
    q = quantize(X, 4, sampling="double")
    with pytest.raises(ValueError, match=match):
        call(q, labels)


@pytest.mark.parametrize("bits", F.SUPPORTED_BITS)
@pytest.mark.parametrize("sampling", F.TRAINING_SAMPLINGS)
def test_level_table_mode_bit_exact(bits, sampling):
    # Non-uniform per-feature levels: Q0.24 positions for the quantizer, Q0.10 values for the SGD.
    from zipml_hls.levels import level_tables

    rng = np.random.default_rng(bits + 7)
    X, labels = problem(rng, 30, 45)
    X = np.exp(X)  # skewed features
    q = quantize(X, bits, sampling=sampling, levels="optimal", seed=8, n_copies=2)
    assert q.level_table is not None
    assert np.array_equal(q.level_table, level_tables(R.scaled_position(X.astype(np.float32), q.scaling.lo,
                                                                    q.scaling.inv), bits))
    values = q.level_values
    assert np.all(values[:, 0] == 0) and np.all(values[:, -1] == 1 << F.LEVEL_VALUE_FRAC)
    args = (3, 4, 1, F.TABLE_DOT_MULT, np.zeros(46, np.int32))
    cpp = _kernels.sgd_linear(q.lines, labels, 45, bits, F.sampling_id(sampling), *args, values=values)[0]
    ref = R.sgd_linear(q.lines, labels, 45, bits, sampling, *args, values=values)[0]
    assert np.array_equal(cpp, ref)


@pytest.mark.parametrize("sampling, loss", [("double", "squared_error"), ("naive", "squared_error"),
                                            ("double", "hinge"), ("nearest", "squared_hinge")])
def test_row_order_reads_the_same_as_reordered_data(sampling, loss):
    # rows=order visits row order[i] of each copy (and of the refetch positions) as sample
    # i: the same bits as data reordered by the host, on the AVX-512, portable and golden
    # kernels.
    rng = np.random.default_rng(9)
    X, labels = problem(rng, 40, 70)
    if loss != "squared_error":
        labels = np.where(labels > 0, 1 << 16, -(1 << 16)).astype(np.int32)
    q = quantize(X, 4, sampling=sampling, seed=2, n_copies=2)
    full = R.scaled_position(X.astype(np.float32), q.scaling.lo, q.scaling.inv) if loss == "hinge" else None
    order = rng.permutation(40)
    args = (4, sampling, 3, 4, 1, F.dot_mult(4), np.zeros(71, np.int32))
    kw = dict(loss=loss, seed=5)
    want = get_backend("hls").sgd_linear(np.ascontiguousarray(q.lines[:, order]), labels[order], 70, *args,
                                         full=None if full is None else full[order], **kw)
    for backend, extra in (("hls", {}), ("hls", {"portable": True}), ("reference", {})):
        got = get_backend(backend).sgd_linear(q.lines, labels[order], 70, *args, full=full, rows=order, **kw, **extra)
        for a, b in zip(got, want):
            assert (a is None and b is None) or np.array_equal(a, b), (backend, extra)


def test_logistic_row_order_reads_the_same_as_reordered_data():
    from zipml_hls.polynomial import logistic_polynomial

    rng = np.random.default_rng(10)
    X, labels = problem(rng, 30, 20)
    labels = np.where(labels > 0, 1 << 16, -(1 << 16)).astype(np.int32)
    q = quantize(X, 2, sampling="multi", samples_per_value=4, seed=2)
    poly = logistic_polynomial(3, 4.0)
    order = rng.permutation(30)
    args = (20, 2, "multi", 4, 2, 3, 0, F.dot_mult(2), poly.fixed_coef(), poly.range_q16(), np.zeros(21, np.int32))
    want = get_backend("hls").sgd_logistic(np.ascontiguousarray(q.lines[:, order]), labels[order], *args)
    for backend in ("hls", "reference"):
        got = get_backend(backend).sgd_logistic(q.lines, labels[order], *args, rows=order)
        assert all(np.array_equal(a, b) for a, b in zip(got[:3], want[:3])), backend


@pytest.mark.parametrize("bits", F.SUPPORTED_BITS)
@pytest.mark.parametrize("tables", [False, True])
def test_a_fraction_on_the_top_index_decodes_to_the_top_code(bits, tables):
    # Lines of all ones: every value stores the top index with fraction 3, which the
    # quantizer never writes (a damaged or hand-made file). No sample rounds up from the
    # top level (FORMATS.md section 5): codes stay in [0, s], so neither the step table nor
    # a level table is read past its end, and the portable kernel and the golden model give
    # the same bits, as does the AVX2 path. The AVX-512 path (uniform levels) does not clamp,
    # at no cost per epoch; it runs without reading outside its tables (the ASan testbench build covers the
    # portable kernels; this covers the module's paths).
    from zipml_hls.spec.layout import decode_resampled
    from zipml_hls.spec.resample import sample_stream_key

    k = F.values_per_line(bits, "double")
    rng = np.random.default_rng(bits)
    X, labels = problem(rng, 12, k)
    q = quantize(X, bits, sampling="double", levels="optimal" if tables else "uniform", seed=3)
    lines = np.full_like(q.lines, np.uint64(2**64 - 1))
    keys = sample_stream_key(0, 0, np.arange(12))
    assert all(c.max() == F.max_code(bits) for c in decode_resampled(lines[0], bits, k, keys))
    values = q.level_values if tables else None
    args = (3, 4, 1, F.TABLE_DOT_MULT if tables else F.dot_mult(bits), np.zeros(k + 1, np.int32))
    cpp = _kernels.sgd_linear(lines, labels, k, bits, F.sampling_id("double"), *args, values=values)[0]
    portable = _kernels.sgd_linear(lines, labels, k, bits, F.sampling_id("double"), *args, values=values,
                                   portable=True)[0]
    ref = R.sgd_linear(lines, labels, k, bits, "double", *args, values=values)[0]
    assert np.array_equal(portable, ref)
    assert cpp.shape == ref.shape
    # level tables, 3 and 6 bits: portable on AVX-512 builds; 1 bit: the AVX-512 path ORs
    # codes; AVX2 clamps
    if tables or bits in (1, 3, 6) or _kernels.info()["fast_sgd"] != "avx512":
        assert np.array_equal(cpp, ref)


@pytest.mark.parametrize("bits", [3, 6])
@pytest.mark.parametrize("sampling", ["naive", "nearest"])
def test_the_unused_bits_at_the_end_of_a_line_are_never_read(bits, sampling):
    # 3- and 6-bit naive and nearest lines hold 170 and 85 values in 510 bits: lines of all
    # ones (a hand-made file; the quantizer writes 0 there) set the last 2 bits too, and
    # every kernel reads each value as the top code and ignores those bits. Whole lines
    # (d = 2K), so that the golden model, which reads no value past d, reads every value.
    k = F.values_per_line(bits, sampling)
    X, labels = problem(np.random.default_rng(bits), 10, 2 * k)
    q = quantize(X, bits, sampling=sampling, seed=3)
    lines = np.full_like(q.lines, np.uint64(2**64 - 1))
    args = (lines, labels, 2 * k, bits, sampling, 3, 9, 1, F.dot_mult(bits), np.zeros(2 * k + 1, np.int32))
    fast = get_backend("hls").sgd_linear(*args)
    for other in (get_backend("hls").sgd_linear(*args, portable=True), get_backend("reference").sgd_linear(*args)):
        assert np.array_equal(fast.history, other.history) and np.array_equal(fast.predictions, other.predictions)
    assert not np.array_equal(fast.history[0], fast.history[-1])


@pytest.mark.parametrize("bits, sampling, tables", [(3, "naive", False), (6, "nearest", False), (3, "double", False),
                                                   (4, "naive", False), (6, "naive", True), (3, "double", True)])
def test_codes_past_d_are_read_as_the_portable_kernel_reads_them(bits, sampling, tables):
    # The fast path skips the last line's tail (past d) while it is zero; codes there (a
    # hand-made file: the quantizer writes zeros) in two rows part-way through make every
    # later pass take the tail again, and the bits stay the portable kernel's.
    rng = np.random.default_rng(bits + len(sampling))
    k = F.values_per_line(bits, sampling)
    n, d = 16, k + 21
    X, labels = problem(rng, n, d)
    q = quantize(X, bits, sampling=sampling, levels="optimal" if tables else "uniform", seed=3)
    lines = q.lines.copy()
    lines[0, [5, 11], -3:] = np.uint64(2**64 - 1)  # the second line's last 192 bits: all past d
    args = (bits, sampling, 3, 6, 1, F.TABLE_DOT_MULT if tables else F.dot_mult(bits), np.zeros(d + 1, np.int32))
    kw = dict(values=q.level_values if tables else None, seed=4)
    fast = get_backend("hls").sgd_linear(lines, labels, d, *args, **kw)
    assert_same(fast, [get_backend("hls").sgd_linear(lines, labels, d, *args, portable=True, **kw)], "past d")
    clean = get_backend("hls").sgd_linear(q.lines, labels, d, *args, **kw)
    assert not np.array_equal(fast.history, clean.history)  # the codes past d moved the model


def test_a_rounding_bit_on_the_top_index_of_multi_data_stays_the_top_code():
    from zipml_hls.polynomial import logistic_polynomial
    from zipml_hls.spec.layout import decode_samples

    k = F.values_per_line(2, "multi", 4)
    X, labels = problem(np.random.default_rng(5), 10, k)
    labels = np.where(labels > 0, 1 << 16, -(1 << 16)).astype(np.int32)
    q = quantize(X, 2, sampling="multi", samples_per_value=4, seed=2)
    lines = np.full_like(q.lines, np.uint64(2**64 - 1))
    assert all(c.max() == 3 for c in decode_samples(lines[0], 2, "multi", k, 4))
    poly = logistic_polynomial(3, 4.0)
    args = (k, 2, "multi", 4, 2, 3, 0, F.dot_mult(2), poly.fixed_coef(), poly.range_q16(), np.zeros(k + 1, np.int32))
    got = [get_backend(b).sgd_logistic(lines, labels, *args)[0] for b in ("hls", "reference")]
    assert np.array_equal(got[0], got[1])


def test_kernels_run_on_threads_with_small_stacks():
    # The on-chip model (MaxFeatures entries, up to 256 KiB) lives on the heap in software
    # builds (model_store.hpp): a 256 KiB thread stack, which it used to overflow, is enough
    # for the portable kernels (model_bits; 3 bits where the build has no AVX2 path), fp32
    # and the SIMD paths.
    import subprocess
    import sys

    code = """
import threading, warnings
import numpy as np
from zipml_hls import ZipMLRegressor
warnings.simplefilter("ignore")
X = np.random.default_rng(0).uniform(size=(200, 5)); y = X @ np.arange(5.0)
threading.stack_size(262144)
out = []
def run():
    for kw in (dict(bits=3), dict(bits=32), dict(bits=4, model_bits=8), dict(bits=4)):
        out.append(ZipMLRegressor(max_iter=2, decay_epochs=0, random_state=0, **kw).fit(X, y).score(X, y))
t = threading.Thread(target=run); t.start(); t.join()
print(len(out))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "4", (result.returncode, result.stderr[-2000:])


def test_the_build_compiles_the_widest_sgd_fast_path():
    # AVX-512 where the build has it, else AVX2 (sgd_fast.hpp): a build for an AVX2 machine
    # must not quietly run the portable kernel, and its path takes 3 and 6 bits too (the
    # AVX-512 path does not: kNaturalWidths).
    info = _kernels.info()
    assert info["fast_sgd"] == {"avx512": "avx512", "avx2": "avx2"}.get(info["isa"], "none")
    widths = {"avx512": "1, 2, 4, 8", "avx2": "1, 2, 3, 4, 6, 8"}.get(info["fast_sgd"])
    for loss in ("squared_error", "hinge", "squared_hinge"):
        assert widths is None or f"{info['fast_sgd']} SGD ({loss}: {widths} bits x double, naive, nearest)" in \
            info["fast_path"], info["fast_path"]


@pytest.mark.parametrize("bits", F.SUPPORTED_BITS)
@pytest.mark.parametrize("sampling", F.TRAINING_SAMPLINGS)
@pytest.mark.parametrize("conditioned", [False, True])
def test_fast_path_equals_the_portable_kernel_and_golden(bits, sampling, conditioned):
    # Every (bits, sampling) the SIMD paths cover, with and without conditioning: one row,
    # one feature, d < 8, d not a multiple of 8 or 16 lanes, many lines per row (3- and
    # 6-bit naive and nearest lines of 170 and 85 values end inside a group of 8, and
    # their fields straddle bytes and words); rows shuffled, two copies, sample weights and
    # (double data) the stored-rounding correction; a large step (1/2) makes rows take the
    # per-value path of steps too large for int32 lanes.
    rng = np.random.default_rng(bits * 7 + len(sampling) + conditioned)
    k = F.values_per_line(bits, sampling)
    for n, d, step in [(1, 1, 3), (9, 13, 4), (7, 5, 3), (33, k + 3, 2), (20, 9 * k - 5, 6), (12, 40, 1),
                       (10, 2 * k, 4)]:
        X, labels = problem(rng, n, d)
        q = quantize(X, bits, sampling=sampling, seed=4, n_copies=2)
        kw = dict(seed=11, rows=rng.permutation(n), sample_weights=rng.integers(1 << 14, 1 << 17, n).astype(np.int32))
        labels = labels[kw["rows"]]
        if conditioned:
            kw.update(feature_shifts=rng.integers(0, 4, d).astype(np.uint8),
                      centers=rng.integers(0, F.max_code(bits) + 1, d).astype(np.int32))
        if sampling == "double":
            kw["stored_variance"] = rng.integers(0, 1 << 24, d).astype(np.int32)
        model_in = rng.integers(-(1 << 22), 1 << 22, size=d + 1).astype(np.int32)
        args = (q.lines, labels, d, bits, sampling, 3, step, 1, F.dot_mult(bits), model_in)
        fast = get_backend("hls").sgd_linear(*args, **kw)
        assert_same(fast, (get_backend("hls").sgd_linear(*args, portable=True, **kw),
                           get_backend("reference").sgd_linear(*args, **kw)), (n, d, step))
        assert not np.array_equal(fast.history[0], fast.history[-1])  # it trained


@pytest.mark.parametrize("sampling", ["double", "naive", "nearest"])
@pytest.mark.parametrize("bits", F.SUPPORTED_BITS)
def test_model_and_gradient_rounding_on_the_simd_path_equal_the_golden_model(bits, sampling):
    # Grid rounding of the model before each dot product and of each step: the AVX2 path
    # draws and rounds in its lanes (double data at uniform levels; the rest runs the
    # portable kernel), only below d (d = 37: a vector holding d; 40: none; rows of several
    # lines), with penalties, sample weights and conditioning, the per-value path (step
    # 2^-2), the margin losses (the hinge refetching with rounded steps), level tables, and
    # widths from 2 to 24 bits; the same bits as the portable kernel and the golden model.
    rng = np.random.default_rng(3 * bits + len(sampling))
    hls, reference = get_backend("hls"), get_backend("reference")
    k = F.values_per_line(bits, sampling)
    for n, d in ((30, 37), (20, 40), (12, k + 19)):
        X, labels = problem(rng, n, d)
        signs = np.where(labels > 0, 1 << 16, -(1 << 16)).astype(np.int32)
        q = quantize(X, bits, sampling=sampling, seed=2, n_copies=2)
        full = R.scaled_position(X.astype(np.float32), q.scaling.lo, q.scaling.inv)
        init = rng.integers(-(1 << 22), 1 << 22, size=d + 1).astype(np.int32)
        extras = dict(decay=rng.integers(0, 1 << 28, d).astype(np.int32),
                      l1=rng.integers(0, 1 << 22, d).astype(np.int32),
                      sample_weights=np.where(rng.random(n) < 0.2, 0, rng.integers(1 << 14, 1 << 17, n)).astype(np.int32),
                      centers=rng.integers(0, F.max_code(bits) + 1, d).astype(np.int32),
                      feature_shifts=rng.integers(0, 3, d).astype(np.uint8))
        cases = [(8, 0, "squared_error", 4, {}), (0, 8, "squared_error", 4, {}), (4, 6, "squared_error", 2, {}),
                 (2, 2, "squared_error", 6, extras), (24, 24, "squared_error", 4, {}), (6, 3, "squared_hinge", 4, {}),
                 (0, 5, "hinge", 3, {"full": full})]
        for model_bits, grad_bits, loss, step, kw in cases:
            y = labels if loss == "squared_error" else signs
            args = (q.lines, y, d, bits, sampling, 3, step, 1, F.dot_mult(bits), init)
            kw = dict(kw, model_bits=model_bits, grad_bits=grad_bits, loss=loss, seed=9)
            fast = hls.sgd_linear(*args, require_fast=AVX2_LINEAR and sampling == "double", **kw)
            assert_same(fast, [hls.sgd_linear(*args, portable=True, **kw), reference.sgd_linear(*args, **kw)],
                        (n, d, model_bits, grad_bits, loss))
            exact = hls.sgd_linear(*args, **dict(kw, model_bits=0, grad_bits=0))
            # the rounding took part (at 24 bits it may not: grids of 2^0 or 2^1; where the
            # hinge refetched every row, its steps were exact)
            if model_bits < 24 and (fast.refetches < n).any():
                assert not np.array_equal(fast.history, exact.history), (n, d, model_bits, grad_bits, loss)
    # with the stored-rounding correction (double data) and rows in a shuffled order with a
    # second copy, from weights near +-2^31 (grids up to 2^31)
    n, d = 70, 21
    X, labels = problem(rng, n, d)
    q = quantize(X, bits, sampling=sampling, seed=4, n_copies=2)
    order = rng.permutation(n)
    big = rng.choice(np.array([-(1 << 31), (1 << 31) - 1, 3], np.int32), size=d + 1)
    extra = {"stored_variance": rng.integers(0, 1 << 24, d).astype(np.int32)} if sampling == "double" else {}
    for model_bits, grad_bits, init in ((2, 3, big), (6, 6, rng.integers(-(1 << 22), 1 << 22, d + 1).astype(np.int32))):
        args = (q.lines, labels[order], d, bits, sampling, 3, 5, 1, F.dot_mult(bits), init)
        kw = dict(extra, model_bits=model_bits, grad_bits=grad_bits, seed=4, rows=order)
        assert_same(hls.sgd_linear(*args, require_fast=AVX2_LINEAR and sampling == "double", **kw),
                    [hls.sgd_linear(*args, portable=True, **kw), reference.sgd_linear(*args, **kw)], "order")
    if AVX2_LINEAR:  # the hinge's refetching with a rounded model runs the portable kernel
        full = R.scaled_position(X.astype(np.float32), q.scaling.lo, q.scaling.inv)
        signs = np.where(labels > 0, 1 << 16, -(1 << 16)).astype(np.int32)
        with pytest.raises(ValueError, match="require_fast"):
            hls.sgd_linear(q.lines, signs, d, bits, sampling, 1, 5, 0, F.dot_mult(bits), init, loss="hinge", full=full,
                           model_bits=6, require_fast=True)
    tables = quantize(X, bits, sampling=sampling, levels="optimal", levels_method="shared", seed=5)
    args = (tables.lines, labels, d, bits, sampling, 2, 6, 1, F.TABLE_DOT_MULT, init)
    kw = dict(values=tables.level_values, model_bits=5, grad_bits=4, seed=3)
    assert_same(hls.sgd_linear(*args, **kw),
                [hls.sgd_linear(*args, portable=True, **kw), reference.sgd_linear(*args, **kw)], "tables")
    if AVX2_LINEAR:  # QSGD rounding, and rounding with level tables, run the portable kernel
        for extra in ({"model_quantization": "qsgd"}, {}):
            with pytest.raises(ValueError, match="require_fast"):
                hls.sgd_linear(*args, require_fast=True, **kw, **extra)
