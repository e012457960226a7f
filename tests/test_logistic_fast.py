"""The SIMD fast path of sgd_logistic (zipml_cpu/sgd_logistic_avx2.hpp) against the portable
kernel and the golden model, bit for bit."""

from pathlib import Path

import numpy as np
import pytest

from zipml_hls import _kernels, quantize
from zipml_hls.backend import get_backend
from zipml_hls.polynomial import logistic_polynomial
from zipml_hls.spec import format as F

from kernel_checks import AVX2_LOGISTIC

SAMPLINGS = ["double", "multi", "naive", "nearest"]


def classification(rng, n, d):
    X = rng.uniform(-3, 3, size=(n, d))
    y = np.where(X @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n) > 0, 1 << 16, -(1 << 16))
    return X, y.astype(np.int32)


def three_ways(lines, labels, d, bits, sampling, degree, epochs, step, model_in, **kw):
    """The fast path's SgdResult, after checking that the portable kernel and the golden
    model give the same bits."""
    poly = logistic_polynomial(degree, 4.0)
    args = (lines, labels, d, bits, sampling, degree + 1, epochs, step, 1, F.dot_mult(bits), poly.fixed_coef(),
            poly.range_q16(), model_in)
    fast = get_backend("hls").sgd_logistic(*args, require_fast=AVX2_LOGISTIC, **kw)  # (it covers every format)
    for other in (get_backend("hls").sgd_logistic(*args, portable=True, **kw),
                  get_backend("reference").sgd_logistic(*args, **kw)):
        for name in ("history", "predictions", "saturations"):
            assert np.array_equal(getattr(fast, name), getattr(other, name)), (name, sampling, bits, degree, d)
    return fast


VECTORS = Path(__file__).resolve().parents[1] / "testbench" / "vectors"
LOGISTIC_CASES = [line.split()[1] for line in (VECTORS / "index.txt").read_text().splitlines()
                  if line.startswith("logistic ")]


@pytest.mark.parametrize("name", LOGISTIC_CASES)
@pytest.mark.parametrize("portable", [True, False])
def test_native_kernel_reproduces_every_logistic_vector(name, portable):
    # The golden model wrote them (scripts/make_golden_vectors.py): weights, penalties,
    # centers and step multipliers, a frozen intercept, every width and sampling.
    folder = VECTORS / name
    p = {k: int(v) for k, v in (line.split() for line in (folder / "params.txt").read_text().splitlines())}

    def arr(fname, dtype):
        return np.fromfile(folder / fname, dtype=dtype) if (folder / fname).exists() else None
    hist, pred, sat = _kernels.sgd_logistic(
        arr("data.u64", np.uint64).reshape(p["n_copies"], p["n"], -1), arr("labels.i32", np.int32), p["d"],
        p["bits"], p["sampling"], p["samples"], p["epochs"], p["step_shift"], p["decay_epochs"], p["dot_mult"],
        arr("coef.i64", np.int64), p["range_q16"], arr("model_in.i32", np.int32), seed=p.get("rng_seed", 0),
        sample_weights=arr("sample_weights.i32", np.int32), decay=arr("decay.i32", np.int32),
        l1=arr("l1.i32", np.int32), feature_shifts=arr("feature_shifts.u8", np.uint8),
        centers=arr("centers.i32", np.int32), fit_intercept=bool(p.get("fit_intercept", 1)), portable=portable)
    assert np.array_equal(hist.ravel(), arr("expected.i32", np.int32))
    assert np.array_equal(pred.ravel(), arr("predictions.i32", np.int32))
    assert np.array_equal(sat, arr("saturations.i32", np.int32))


def test_the_avx2_build_compiles_the_logistic_fast_path():
    # A build for an AVX2 (or AVX-512) machine must not quietly run the portable kernel.
    info = _kernels.info()
    assert info["fast_logistic"] == ("avx2" if info["isa"] in ("avx2", "avx512") else "none")
    if info["fast_logistic"] != "none":
        assert "log_loss: 1, 2, 3, 4, 6, 8 bits x double, naive, nearest, multi" in info["fast_path"]


@pytest.mark.parametrize("bits", F.SUPPORTED_BITS)
@pytest.mark.parametrize("sampling", SAMPLINGS)
@pytest.mark.parametrize("degree", [3, 5, 7])
def test_fast_path_equals_the_portable_kernel_and_golden(bits, sampling, degree):
    # Every format the fast path covers: one row and one feature, d not a multiple of 8 or
    # 16 lanes, several lines per row (3- and 6-bit naive and nearest lines of 170 and 85
    # values end inside a group of 8); rows shuffled, two copies, sample weights (some 0:
    # rows without a step); step 1/2 makes the larger codes' steps leave int32 lanes (the
    # per-value path), step 1/64 keeps them in.
    rng = np.random.default_rng(bits * 31 + degree + len(sampling))
    extra = {"samples_per_value": degree + 1} if sampling == "multi" else {}
    k = F.values_per_line(bits, sampling, degree + 1)
    for n, d, step in [(1, 1, 2), (17, 13, 1), (9, 2 * k + 5, 6), (12, 45, 3)]:
        X, labels = classification(rng, n, d)
        q = quantize(X, bits, sampling=sampling, seed=4, n_copies=2, **extra)
        order = rng.permutation(n)
        weights = rng.integers(1 << 14, 1 << 17, n).astype(np.int32)
        weights[rng.random(n) < 0.2] = 0
        model_in = rng.integers(-(1 << 21), 1 << 21, size=d + 1).astype(np.int32)
        fast = three_ways(q.lines, labels[order], d, bits, sampling, degree, 3, step, model_in, seed=11, rows=order,
                          sample_weights=weights)
        if weights.any():
            assert not np.array_equal(fast.history[0], fast.history[-1])  # it trained


@pytest.mark.parametrize("bits", F.SUPPORTED_BITS)
@pytest.mark.parametrize("sampling", SAMPLINGS)
def test_conditioned_fast_path_equals_the_portable_kernel_and_golden(bits, sampling):
    # Centers and step multipliers 2^p_j at random (the LogisticOptions the estimators pass):
    # every format, d not a multiple of 8 and rows of several lines; step 2^-16 with
    # multipliers up to 2^15 (steps in the int32 lanes), step 2^-1 with multipliers up to
    # 2^12 (steps past them: the per-value path, and saturations), and a frozen intercept.
    degree = 3
    rng = np.random.default_rng(bits * 7 + len(sampling))
    extra = {"samples_per_value": degree + 1} if sampling == "multi" else {}
    k = F.values_per_line(bits, sampling, degree + 1)
    for n, d, step, top_shift, fit_intercept in [(17, 13, 16, 15, True), (9, 2 * k + 5, 1, 12, True),
                                                 (12, 45, 10, 6, False)]:
        X, labels = classification(rng, n, d)
        q = quantize(X, bits, sampling=sampling, seed=4, n_copies=2, **extra)
        order = rng.permutation(n)
        shifts = rng.integers(0, top_shift + 1, d).astype(np.uint8)
        centers = rng.integers(0, F.max_code(bits) + 1, d).astype(np.int32)
        model_in = rng.integers(-(1 << 21), 1 << 21, size=d + 1).astype(np.int32)
        fast = three_ways(q.lines, labels[order], d, bits, sampling, degree, 3, step, model_in, seed=11, rows=order,
                          feature_shifts=shifts, centers=centers, fit_intercept=fit_intercept)
        assert not np.array_equal(fast.history[0, :d], fast.history[-1, :d])  # it trained
        assert (fast.history[:, d] == model_in[d]).all() == (not fit_intercept)
        plain = get_backend("hls").sgd_logistic(q.lines, labels[order], d, bits, sampling, degree + 1, 3, step, 1,
                                                F.dot_mult(bits), logistic_polynomial(degree, 4.0).fixed_coef(),
                                                logistic_polynomial(degree, 4.0).range_q16(), model_in, seed=11,
                                                rows=order)
        assert not np.array_equal(plain.history, fast.history)  # the conditioning took part


def test_zero_centers_and_shifts_give_the_unconditioned_run():
    # The conditioned arithmetic with every center and exponent 0 is the plain kernel's.
    rng = np.random.default_rng(5)
    X, labels = classification(rng, 30, 21)
    q = quantize(X, 2, sampling="double", seed=1)
    model_in = np.zeros(22, np.int32)
    plain = three_ways(q.lines, labels, 21, 2, "double", 5, 2, 6, model_in, seed=2)
    zero = three_ways(q.lines, labels, 21, 2, "double", 5, 2, 6, model_in, seed=2,
                      feature_shifts=np.zeros(21, np.uint8), centers=np.zeros(21, np.int32))
    assert np.array_equal(plain.history, zero.history)


@pytest.mark.parametrize("sampling", ["double", "multi"])
@pytest.mark.parametrize("bits", F.SUPPORTED_BITS)
def test_rounding_bits_on_the_top_index_stay_the_top_code(sampling, bits):
    # Lines of all ones (never written by the quantizer): every index is the top code and
    # every fraction or rounding bit set; no sample rounds up from the top level. Whole
    # lines (d = 2K): the golden model reads no value past d, the kernels the line's tail.
    degree = 3
    extra = {"samples_per_value": degree + 1} if sampling == "multi" else {}
    d = 2 * F.values_per_line(bits, sampling, degree + 1)
    X, labels = classification(np.random.default_rng(bits), 6, d)
    q = quantize(X, bits, sampling=sampling, seed=2, **extra)
    lines = np.full_like(q.lines, np.uint64(2**64 - 1))
    three_ways(lines, labels, d, bits, sampling, degree, 2, 12, np.zeros(d + 1, np.int32), seed=5)


@pytest.mark.parametrize("bits", F.SUPPORTED_BITS)
@pytest.mark.parametrize("sampling", SAMPLINGS)
def test_penalties_on_the_fast_path_equal_the_portable_kernel_and_golden(bits, sampling):
    # The fast path decays and thresholds in its lanes around the step: the same bits with
    # either penalty or both, sample weights (rows of weight 0 take the penalties alone),
    # centers and step multipliers, rows of several lines, steps large enough for the
    # per-value path (step 2^-1), and the last shift at which the decay acts (30: 32 + 30 =
    # 62, on weights of up to 2^31, where it moves them by 1) and one past it (31).
    degree = 3
    rng = np.random.default_rng(bits * 13 + len(sampling))
    extra = {"samples_per_value": degree + 1} if sampling == "multi" else {}
    n, d = 24, F.values_per_line(bits, sampling, degree + 1) + 13
    X, labels = classification(rng, n, d)
    q = quantize(X, bits, sampling=sampling, seed=4, n_copies=2, **extra)
    decay = rng.integers(0, 1 << 31, d).astype(np.int32)
    l1 = rng.integers(0, 1 << 29, d).astype(np.int32)
    weights = np.where(rng.random(n) < 0.25, 0, rng.integers(1 << 14, 1 << 17, n)).astype(np.int32)
    conditioning = dict(centers=rng.integers(0, F.max_code(bits) + 1, d).astype(np.int32),
                        feature_shifts=rng.integers(0, 4, d).astype(np.uint8))
    cases = [dict(decay=decay), dict(l1=l1), dict(decay=decay, l1=l1, sample_weights=weights),
             dict(decay=decay, l1=l1, sample_weights=weights, **conditioning)]
    model_in = rng.integers(-(1 << 21), 1 << 21, size=d + 1).astype(np.int32)
    big = rng.integers(-(1 << 31) + 1, 1 << 31, size=d + 1).astype(np.int32)
    order = rng.permutation(n)
    for step, start in ((1, model_in), (6, model_in), (30, big), (31, big)):
        runs = [three_ways(q.lines, labels[order], d, bits, sampling, degree, 3, step, start, seed=11, rows=order, **kw)
                for kw in cases]
        plain = three_ways(q.lines, labels[order], d, bits, sampling, degree, 3, step, start, seed=11, rows=order)
        # each penalty acted; at 2^-30 the thresholds round to 0 but the decay acts, at
        # 2^-31 neither does
        acted = [not np.array_equal(run.history, plain.history) for run in runs]
        assert acted[:2] == {1: [True, True], 6: [True, True], 30: [True, False], 31: [False, False]}[step], step
        assert all(acted[2:]) or step == 31


@pytest.mark.parametrize("sampling", SAMPLINGS)
@pytest.mark.parametrize("bits", F.SUPPORTED_BITS)
def test_codes_past_d_make_every_later_pass_take_the_tail(sampling, bits):
    # The fast path stops its passes at d while the last line's tail (values past d) is
    # zero codes with zero weights. One row in the middle of the pass whose last line is
    # random bits (codes and rounding bits past d, which the quantizer never writes) must
    # move the tail's weights as the portable kernel does, and every later row's dot
    # products must then read them, with all their samples decoded there. (The golden model
    # reads no value past d, so only the two kernels are compared.)
    degree = 3
    extra = {"samples_per_value": degree + 1} if sampling == "multi" else {}
    k = F.values_per_line(bits, sampling, degree + 1)
    d = k + 3  # a tail of k - 3 values in the second line
    rng = np.random.default_rng(bits + len(sampling))
    X, labels = classification(rng, 10, d)
    q = quantize(X, bits, sampling=sampling, seed=2, **extra)
    lines = q.lines.copy()
    row = lines.reshape(lines.shape[0], 10, -1, F.LINE_WORDS)[:, 6]  # the pass's 5th row below
    row[:, -1] = rng.integers(0, 2**63, size=(lines.shape[0], F.LINE_WORDS), dtype=np.uint64)
    order = np.array([3, 1, 0, 8, 6, 2, 9, 4, 7, 5])
    poly = logistic_polynomial(degree, 4.0)
    model_in = rng.integers(-(1 << 21), 1 << 21, size=d + 1).astype(np.int32)
    args = (lines, labels[order], d, bits, sampling, degree + 1, 2, 4, 0, F.dot_mult(bits), poly.fixed_coef(),
            poly.range_q16(), model_in)
    native = get_backend("hls")
    fast = native.sgd_logistic(*args, seed=3, rows=order)
    portable = native.sgd_logistic(*args, seed=3, rows=order, portable=True)
    for name in ("history", "predictions", "saturations"):
        assert np.array_equal(getattr(fast, name), getattr(portable, name)), name
    clean = native.sgd_logistic(q.lines, *args[1:], seed=3, rows=order)
    assert not np.array_equal(clean.history, fast.history)  # the altered row changed the run
