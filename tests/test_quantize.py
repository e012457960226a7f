"""Quantization: C++ equals the golden model bit for bit; the statistics are right."""

import numpy as np
import pytest

from zipml_hls import _kernels, quantize
from zipml_hls.spec import format as F
from zipml_hls import reference as R
from zipml_hls.scaling import FeatureScaling
from zipml_hls.reference import quantize as RQ
from zipml_hls.spec import rng

SAMPLINGS = F.TRAINING_SAMPLINGS


def awkward_shapes(bits, sampling):
    k = F.values_per_line(bits, sampling)
    return [(1, 1), (1, k), (3, k + 1), (4, 2 * k - 1), (2, 5000)]


@pytest.mark.parametrize("bits", F.SUPPORTED_BITS)
@pytest.mark.parametrize("sampling", SAMPLINGS)
def test_cpp_equals_golden(bits, sampling):
    rng = np.random.default_rng(bits * 10 + SAMPLINGS.index(sampling))
    for n, d in awkward_shapes(bits, sampling):
        X = rng.standard_normal((n, d)) * rng.uniform(0.01, 100, d)
        for n_copies in (1, 3):
            hls = quantize(X, bits, sampling=sampling, seed=1234, n_copies=n_copies)
            ref = quantize(X, bits, sampling=sampling, seed=1234, n_copies=n_copies, backend="reference")
            assert hls.lines.shape == (n_copies, n, F.lines_per_row(d, bits, sampling) * 8)
            assert np.array_equal(hls.lines, ref.lines), (n, d, n_copies)


@pytest.mark.parametrize("bits", F.SUPPORTED_BITS)
@pytest.mark.parametrize("sampling", SAMPLINGS)
def test_module_quantizer_equals_portable_quantizer(bits, sampling):
    # The module's default path (the AVX-512 quantizer where compiled in) and the
    # portable (synthesizable) one agree bit for bit, also on values exactly at the
    # levels, at the range ends, on constant features and on a partial last line.
    rng = np.random.default_rng(7 * bits + SAMPLINGS.index(sampling))
    s = F.max_code(bits)
    for n, d in awkward_shapes(bits, sampling):
        X = rng.standard_normal((n, d)).astype(np.float32)
        X[:, 0] = 2.5  # constant feature
        on_levels = rng.integers(0, s + 1, size=(n, d)) / s
        X[n // 2:, 1::3] = on_levels[n // 2:, 1::3]
        scaling = FeatureScaling.fit(X)
        args = (X, scaling.lo, scaling.inv, None, bits, F.sampling_id(sampling), 99, 2)
        assert np.array_equal(_kernels.quantize(*args), _kernels.quantize(*args, portable=True)), (n, d)


@pytest.mark.parametrize("bits", (1, 2, 4, 8))
@pytest.mark.parametrize("sampling", ("naive",))
def test_top_interval_is_one_position_wider(bits, sampling):
    # The top interval of uniform levels is q + 1 positions wide (q = (2^24 - 1) // s).
    # Positions are chosen from the draws so that rounding up happens with width q but
    # not with q + 1: every quantizer must round them down.
    n, d, seed, s = 6, 40, 17, F.max_code(bits)
    q = (F.POS_ONE - 1) // s
    X = np.zeros((n, d), np.float32)
    X[1] = 1.0  # row 0 and row 1 fix lo = 0 and inv = 1
    a = (rng.draw(rng.sample_key(seed, 0, 0, np.arange(2, n))[:, None], np.arange(d)[None, :]) >> 8).astype(np.int64)
    off = -(-a * q // F.POS_ONE)  # ceil(a q / 2^24): a q < off 2^24
    crafted = off * F.POS_ONE <= a * (q + 1)  # ... <= a (q + 1): down with the true width
    X[2:] = (((s - 1) * q + off) / F.POS_ONE).astype(np.float32)
    assert crafted.mean() > 0.3
    ref = quantize(X, bits, sampling=sampling, seed=seed, backend="reference")
    assert np.array_equal(ref.codes(0)[2:][crafted], np.full(crafted.sum(), s - 1))
    scaling = FeatureScaling.fit(X)
    args = (X, scaling.lo, scaling.inv, None, bits, F.sampling_id(sampling), seed, 1)
    assert np.array_equal(_kernels.quantize(*args), ref.lines)
    assert np.array_equal(_kernels.quantize(*args, portable=True), ref.lines)


def strictly_increasing_tables(rng, d, bits):
    s = F.max_code(bits)
    inner = np.sort(rng.choice(np.arange(1, F.POS_ONE), size=(d, s - 1), replace=False), axis=1)
    return np.concatenate([np.zeros((d, 1)), inner, np.full((d, 1), F.POS_ONE)], axis=1).astype(np.uint32)


@pytest.mark.parametrize("bits", F.SUPPORTED_BITS)
@pytest.mark.parametrize("sampling", SAMPLINGS)
def test_level_tables_cpp_equals_golden(bits, sampling):
    # Per-feature level tables (the entry point for non-uniform levels).
    rng = np.random.default_rng(bits)
    X = rng.standard_normal((5, 77)).astype(np.float32)
    sc = FeatureScaling.fit(X)
    tables = strictly_increasing_tables(rng, 77, bits)
    enc = F.sampling_id(sampling)
    cpp = _kernels.quantize(X, sc.lo, sc.inv, tables, bits, enc, 9, 2)
    ref = R.quantize_matrix(X, sc.lo, sc.inv, tables, bits, sampling, 9, 2)
    assert np.array_equal(cpp, ref)
    # Uniform tables through the table path give the closed-form result.
    uni = np.tile(RQ.uniform_levels(bits), (77, 1))
    assert np.array_equal(_kernels.quantize(X, sc.lo, sc.inv, uni, bits, enc, 9, 2),
                          _kernels.quantize(X, sc.lo, sc.inv, None, bits, enc, 9, 2))


def test_bad_level_tables_rejected_by_bindings():
    X = np.zeros((2, 3), np.float32)
    lo, inv = np.zeros(3, np.float32), np.ones(3, np.float32)
    bad = np.tile(RQ.uniform_levels(2), (3, 1))
    bad[1, 2] = bad[1, 1]
    with pytest.raises(ValueError, match="strictly increasing"):
        _kernels.quantize(X, lo, inv, bad, 2, 0, 0, 1)
    with pytest.raises(ValueError, match="shape"):
        _kernels.quantize(X, lo, inv, bad[:, :3], 2, 0, 0, 1)


def one_value_column(value, n):
    """A feature whose min is 0 and max 1, then n copies of ``value``."""
    return np.concatenate([[0.0, 1.0], np.full(n, value)])[:, None]


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
@pytest.mark.parametrize("value", [0.37, 0.9013])
def test_stochastic_rounding_unbiased_with_predicted_variance(bits, value):
    n = 40000
    q = quantize(one_value_column(value, n), bits, sampling="naive", seed=2017)
    got = q.dequantize()[2:, 0]
    levels = np.arange(1 << bits) / F.max_code(bits)
    j = min(int(value * F.max_code(bits)), F.max_code(bits) - 1)
    var = (levels[j + 1] - value) * (value - levels[j])
    assert set(np.unique(got)) <= {levels[j], levels[j + 1]}
    assert abs(got.mean() - value) < 4 * np.sqrt(var / n)  # 4 standard errors
    assert got.var() == pytest.approx(var, rel=0.05)


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_double_samples_are_fresh_and_independent_given_the_stored_value(bits):
    # Double data store each value once on the grid 4x finer than the levels (fraction f
    # in quarters of an interval); every epoch draws both samples afresh: each is up with
    # probability f/4, independently of the other sample and of other epochs' samples.
    n, value, s = 40000, 0.4321, F.max_code(bits)
    q = quantize(one_value_column(value, n), bits, sampling="double", seed=5)
    fine = q.fine_codes()[2:, 0]
    assert abs(fine.mean() / (4 * s) - value) < 0.002  # the stored value is unbiased
    index = fine >> 2
    draws = [(q.codes(m, epoch=e)[2:, 0] - index).astype(bool) for e in (0, 1) for m in (0, 1)]
    for f in np.unique(fine & 3):
        sel = (fine & 3) == f
        p, m = f / 4, sel.sum()
        assert m > 1000
        for a in draws:
            assert abs(a[sel].mean() - p) < 4 * np.sqrt(p * (1 - p) / m) + 1e-12
        for a, b in ((draws[0], draws[1]), (draws[0], draws[2]), (draws[1], draws[3])):  # pairs, and epochs
            assert abs((a[sel] & b[sel]).mean() - p * p) < 4 * np.sqrt(p * p * (1 - p * p) / m) + 1e-12
    for m in (0, 1):  # both samples unbiased for the value itself
        assert abs(q.dequantize(sample=m)[2:, 0].mean() - value) < 0.01


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_nearest_is_deterministic_and_nearest(bits):
    rng = np.random.default_rng(0)
    X = np.concatenate([[[0.0], [1.0]], rng.uniform(size=(5000, 1))])
    q1 = quantize(X, bits, sampling="nearest", seed=1)
    q2 = quantize(X, bits, sampling="nearest", seed=999)
    assert np.array_equal(q1.lines, q2.lines)
    levels = np.arange(1 << bits) / F.max_code(bits)
    got = q1.dequantize()[:, 0]
    dist = np.abs(X[:, 0, None] - levels[None, :])
    assert np.all(np.abs(got - X[:, 0]) <= dist.min(axis=1) + 1e-6)


def test_copies_use_fresh_randomness():
    X = np.random.default_rng(0).uniform(size=(200, 50))
    q = quantize(X, 2, sampling="naive", seed=3, n_copies=3)
    assert not np.array_equal(q.lines[0], q.lines[1])
    assert not np.array_equal(q.lines[1], q.lines[2])
    # copy 0 does not depend on how many copies were made
    assert np.array_equal(quantize(X, 2, sampling="naive", seed=3).lines[0], q.lines[0])


def test_scaling_maps_back_to_original_units_and_handles_constant_features():
    X = np.array([[5.0, -2.0, 7.0], [5.0, 2.0, 7.0], [5.0, 0.0, 7.0]])
    q = quantize(X, 8, sampling="nearest")
    out = q.dequantize()
    assert np.array_equal(out[:, 0], X[:, 0]) and np.array_equal(out[:, 2], X[:, 2])
    assert np.allclose(out[:, 1], X[:, 1], atol=4 / 255)
    assert q.scaling.inv[0] == 0 and q.scaling.inv[2] == 0


@pytest.mark.parametrize("bits, sampling, bpv", [(1, "double", 3), (4, "double", 6), (8, "double", 10),
                                                 (4, "naive", 4), (2, "nearest", 2)])
def test_sizes_reported(bits, sampling, bpv):
    X = np.random.default_rng(0).uniform(size=(10, 300))
    q = quantize(X, bits, sampling=sampling, n_copies=2)
    assert q.bits_per_value == bpv
    assert q.nbytes == 2 * 10 * F.lines_per_row(300, bits, sampling) * 64
    assert q.sampling == sampling and q.bits == bits and q.dequantize().shape == X.shape


def test_accepts_non_contiguous_and_other_dtypes():
    X = np.random.default_rng(0).uniform(size=(20, 40))
    a = quantize(X[:, ::2], 4, seed=1)
    b = quantize(np.ascontiguousarray(X[:, ::2], dtype=np.float32), 4, seed=1)
    c = quantize((X[:, ::2] * 1000).astype(np.int64), 4, seed=1)
    assert np.array_equal(a.lines, b.lines)
    assert c.lines.shape == a.lines.shape


@pytest.mark.parametrize("X, kwargs, error, match", [
    (np.array([[1.0, np.nan]]), {}, ValueError, "NaN or infinity"),
    (np.array([[1.0, np.inf]]), {}, ValueError, "NaN or infinity"),
    (np.ones(5), {}, ValueError, "must be 2-D"),
    (np.ones((0, 3)), {}, ValueError, "empty"),
    (np.ones((2, 2)), {"bits": 5}, ValueError, "bits must be one of"),
    (np.ones((2, 2)), {"bits": True}, ValueError, "bits must be one of"),
    (np.ones((2, 2)), {"sampling": "triple"}, ValueError, "sampling must be one of"),
    (np.ones((2, 2)), {"levels": "log"}, ValueError, "levels must be one of"),
    (np.ones((2, 2)), {"seed": 1.5}, TypeError, "seed must be an integer"),
    (np.ones((2, 2)), {"seed": -1}, ValueError, "seed must be"),
    (np.ones((2, 2)), {"seed": 2**32}, ValueError, "seed must be"),
    (np.ones((2, 2)), {"n_copies": 0}, ValueError, "n_copies must be"),
    (np.array([["a", "b"]]), {}, TypeError, "numeric"),
    (np.array([[1e39, 0.0]]), {}, ValueError, "too large for float32"),
    # (found by the feature summary's pass, not by a pass of its own)
    (np.array([[1.0, np.nan], [2.0, 3.0]], dtype=np.float32), {}, ValueError, "X contains NaN or infinity"),
    (np.array([[-1e39, np.nan]]), {}, ValueError, "X contains NaN or infinity"),
    (np.array([[1.0, -np.inf]]), {"scaling": FeatureScaling.fit(np.eye(2))}, ValueError, "X contains NaN or infinity"),
    (np.array([[1.0, 1e39]]), {"scaling": FeatureScaling.fit(np.eye(2))}, ValueError, "too large for float32"),
])
def test_bad_input_is_a_clear_error(X, kwargs, error, match):
    kwargs = {"bits": 4, **kwargs}
    bits = kwargs.pop("bits")
    with pytest.raises(error, match=match):
        quantize(X, bits, **kwargs)


def test_dequantize_rejects_missing_sample():
    q = quantize(np.ones((3, 2)), 4, sampling="naive")
    with pytest.raises(ValueError, match="sample must be"):
        q.dequantize(sample=1)


@pytest.mark.parametrize("bits, sampling", [(4, "double"), (1, "naive"), (3, "double"), (8, "nearest")])
def test_rows_quantize_a_row_order_without_a_copy(bits, sampling):
    # Output row i is X[rows[i]] with the draws of output row i: the same bits as
    # quantizing the reordered copy, on the fast path, the portable kernel and the golden model.
    gen = np.random.default_rng(bits)
    X = gen.normal(size=(70, 53)).astype(np.float32)
    sc = FeatureScaling.fit(X)
    rows = gen.permutation(70)[:50].astype(np.int64)
    args = (sc.lo, sc.inv, None, bits, F.sampling_id(sampling), 9, 2)
    want = _kernels.quantize(np.ascontiguousarray(X[rows]), *args)
    assert np.array_equal(_kernels.quantize(X, *args, rows=rows), want)
    assert np.array_equal(_kernels.quantize(X, *args, portable=True, rows=rows), want)
    assert np.array_equal(R.quantize_matrix(X, sc.lo, sc.inv, None, bits, sampling, 9, 2, rows=rows), want)


def test_rows_out_of_range_are_rejected():
    X = np.zeros((5, 3), np.float32)
    lo, inv = np.zeros(3, np.float32), np.ones(3, np.float32)
    with pytest.raises(ValueError, match="not a row of X"):
        _kernels.quantize(X, lo, inv, None, 2, 0, 0, 1, rows=np.array([0, 5]))
    with pytest.raises(ValueError, match="not a row of X"):
        _kernels.quantize(X, lo, inv, None, 2, 0, 0, 1, rows=np.array([-1]))
    with pytest.raises(ValueError, match="1-D"):
        _kernels.quantize(X, lo, inv, None, 2, 0, 0, 1, rows=np.zeros((2, 2), np.int64))


@pytest.mark.parametrize("sampling", ["double", "naive", "nearest"])
def test_rows_split_among_threads_give_the_golden_bits(sampling):
    # The binding splits more than 8192 rows among the cores; every row's draws depend on
    # its index only, so the result is the golden model's, split or not.
    X = np.random.default_rng(3).standard_normal((9001, 19)).astype(np.float32)
    for bits in (2, 3):
        hls = quantize(X, bits, sampling=sampling, seed=8, n_copies=2)
        ref = quantize(X, bits, sampling=sampling, seed=8, n_copies=2, backend="reference")
        assert np.array_equal(hls.lines, ref.lines)


def test_many_samples_drawn_from_double_data_are_independent_given_the_stored_value():
    # log_loss draws degree + 1 samples per value from double data (two threshold planes
    # per sample): each is up with probability f/4 and every pair is independent.
    from zipml_hls.spec.layout import decode_resampled
    from zipml_hls.spec.resample import sample_stream_key

    n, s = 30000, F.max_code(2)
    q = quantize(one_value_column(0.4321, n), 2, sampling="double", seed=9)
    fine = q.fine_codes()[2:, 0]
    rows = q.lines[0].reshape(n + 2, -1, F.LINE_WORDS)
    draws = [(c[2:, 0] - (fine >> 2)).astype(bool)
             for c in decode_resampled(rows, 2, 1, sample_stream_key(9, 0, np.arange(n + 2)), 6)]
    for f in np.unique(fine & 3):
        sel = (fine & 3) == f
        p, m = f / 4, sel.sum()
        for a in range(6):
            assert abs(draws[a][sel].mean() - p) < 4 * np.sqrt(p * (1 - p) / m) + 1e-12
            for b in range(a + 1, 6):
                assert abs((draws[a][sel] & draws[b][sel]).mean() - p * p) < 4 * np.sqrt(p * p * (1 - p * p) / m) + 1e-12
    assert abs(fine.mean() / (4 * s) - 0.4321) < 0.002


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # three epochs on purpose
def test_log_loss_reads_double_data_quantized_once():
    # The polynomial kernel draws its degree + 1 samples from the stored fine grid every
    # epoch: no per-epoch quantization, and the run is the golden model's bit for bit.
    from zipml_hls import ZipMLClassifier
    from zipml_hls.engine import EpochData, SgdConfig
    from zipml_hls.scaling import FeatureScaling

    X = np.random.default_rng(2).uniform(size=(200, 9)).astype(np.float32)
    config = SgdConfig(2, "double", "uniform", 4, 0, 1, 5, "hls", loss="log_loss", shuffle=True, fresh_samples=True)
    assert not config.resamples and config.samples_per_value == 6
    data = EpochData(X, FeatureScaling.fit(X), config)
    try:
        first, second = data.epoch(0)[0], data.epoch(1)[0]  # one stored copy, read in each epoch's order
        assert np.shares_memory(first.lines, second.lines) and not np.array_equal(first.rows, second.rows)
    finally:
        data.close()
    y = (X[:, 0] + X[:, 1] > 1).astype(int)
    models = [ZipMLClassifier(loss="log_loss", bits=2, max_iter=3, random_state=4, backend=b).fit(X, y)
              for b in ("hls", "reference")]
    assert np.array_equal(models[0].coef_, models[1].coef_)


def test_codes_take_an_epoch_only_for_double_data():
    X = np.random.default_rng(0).uniform(size=(5, 3))
    naive = quantize(X, 2, sampling="naive")
    with pytest.raises(ValueError, match="epoch must be 0, got 2"):
        naive.codes(epoch=2)
    with pytest.raises(ValueError, match="sample must be 0, got 1"):
        naive.codes(sample=1)
    double = quantize(np.random.default_rng(1).uniform(size=(50, 20)), 2)
    with pytest.raises(ValueError, match=r"epoch must be in \[0, 4294967295\], got -1"):
        double.codes(epoch=-1)
    assert not np.array_equal(double.codes(epoch=0), double.codes(epoch=1))  # drawn afresh each epoch


def test_sizes_and_scalings_are_checked_before_any_work():
    from zipml_hls import optimal_levels
    from zipml_hls.scaling import FeatureScaling

    X = np.random.default_rng(0).uniform(size=(50, 3))
    with pytest.raises(ValueError, match=r"n_levels must be an integer in \[2, 4097\]"):
        optimal_levels([1.0, 2.0, 3.0], 10**9)  # used to run for minutes
    for size in (0, 10**9):
        with pytest.raises(ValueError, match=r"grid_size must be in \[2, 1048576\]"):
            optimal_levels(np.arange(5.0), 3, method="grid", grid_size=size)
        with pytest.raises(ValueError, match=r"grid_size must be in \[2, 1048576\]"):
            quantize(X, 2, levels="optimal", levels_method="grid", grid_size=size)
    with pytest.raises(TypeError, match="values must be real"):
        optimal_levels(np.array([1 + 1j, 2]), 2)
    with pytest.raises(ValueError, match=r"1000000000 quantized copies of 50 x 3 values would need .* GiB, more than"):
        quantize(X, 2, n_copies=10**9)
    with pytest.raises(TypeError, match="scaling must be a FeatureScaling"):
        quantize(X, 4, scaling="minmax")
    ones = np.ones(3, np.float32)
    with pytest.raises(ValueError, match="scaling.lo contains NaN or infinity"):
        quantize(X, 4, scaling=FeatureScaling(lo=np.array([np.nan, 0, 0], np.float32), hi=ones, inv=ones))
    with pytest.raises(ValueError, match=r"scaling.lo must be float32 of shape \(3,\)"):
        quantize(X, 4, scaling=FeatureScaling(lo=np.zeros(4, np.float32), hi=ones, inv=ones))


def test_work_and_range_limits_of_the_level_programs():
    # found by an adversarial run: each ran for minutes or returned inf/unsorted levels
    from zipml_hls import optimal_levels, quantization_variance

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    with pytest.raises(ValueError, match=r"is above the grid program's limit of 2\*\*22"):
        optimal_levels(rng.normal(size=1000), 256, method="grid", grid_size=2**18)
    with pytest.raises(ValueError, match=r"is above the grid program's limit of 2\*\*22"):
        quantize(X, 8, levels="optimal", levels_method="grid", grid_size=2**20)
    with pytest.raises(ValueError, match="values span more than float64 can hold"):
        optimal_levels(np.r_[-1e308, rng.normal(size=100), 1e308], 4, backend="reference")
    with pytest.raises(ValueError, match="levels span more than float64 can hold"):
        quantization_variance([0.0], [-1e308, 1e308])
    with pytest.raises(ValueError, match=r"epoch must be in \[0, 4294967295\]"):
        quantize(X, 4).codes(epoch=2**40)
    with pytest.raises(ValueError, match="levels_method and grid_size are only used with levels='optimal'"):
        quantize(X, 4, grid_size=64)
    with pytest.raises(ValueError, match="grid_size is only used with levels_method='grid'"):
        quantize(X, 4, levels="optimal", levels_method="exact", grid_size=64)


def test_the_build_compiles_the_widest_quantizer_fast_path():
    # AVX-512 where the build has it, else AVX2 (quantize_fast.hpp): a build for an AVX2
    # machine must not quietly run the portable quantizer.
    info = _kernels.info()
    assert info["fast_quantize"] == {"avx512": "avx512", "avx2": "avx2"}.get(info["isa"], "none")
    if info["fast_quantize"] != "none":
        assert f"{info['fast_quantize']} quantizer (" in info["fast_path"]
    # AVX2 also packs 3- and 6-bit data; AVX-512 leaves them to the portable quantizer
    widths = {"avx512": "1, 2, 4, 8", "avx2": "1, 2, 3, 4, 6, 8"}.get(info["fast_quantize"])
    assert widths is None or f"quantizer ({widths} bits x double, naive, nearest)" in info["fast_path"]


@pytest.mark.parametrize("bits", F.SUPPORTED_BITS)
@pytest.mark.parametrize("sampling", SAMPLINGS)
def test_fast_quantizer_equals_portable_and_golden(bits, sampling):
    # Every format the fast paths cover: d ending inside a group of 8 lanes, inside a
    # line and one past a line (tails inside a line and across lines; 3- and 6-bit naive
    # and nearest lines also end inside a group of 8), values on levels,
    # at the range ends and on constant features; a row order with repeats, 1 and 3
    # copies, many seeds; the golden model decides.
    gen = np.random.default_rng(31 * bits + SAMPLINGS.index(sampling))
    k, s = F.values_per_line(bits, sampling), F.max_code(bits)
    for n, d in [(1, 1), (5, 3), (4, 9), (3, k - 5), (6, k + 1), (2, 2 * k + 13)]:
        X = (gen.standard_normal((n, d)) * gen.uniform(0.01, 100, d)).astype(np.float32)
        X[:, 0] = -1.5  # constant feature
        X[n // 2:, 1::4] = gen.integers(0, s + 1, size=(n - n // 2, len(range(1, d, 4)))) / s
        sc = FeatureScaling.fit(X)
        if n > 1:
            X[0, :] = sc.lo - 1.0  # below the range (clamped to 0); row 1 above it
            X[1, :] = sc.lo + 2 / np.where(sc.inv > 0, sc.inv, 1)
        for seed in gen.integers(0, 2**32, 4, dtype=np.uint64).tolist():
            for n_copies, rows in [(1, None), (3, gen.integers(0, n, n + 2).astype(np.int64))]:
                args = (X, sc.lo, sc.inv, None, bits, F.sampling_id(sampling), seed, n_copies)
                want = R.quantize_matrix(X, sc.lo, sc.inv, None, bits, sampling, seed, n_copies, rows=rows)
                assert np.array_equal(_kernels.quantize(*args, rows=rows), want), (n, d, seed, n_copies)
                assert np.array_equal(_kernels.quantize(*args, portable=True, rows=rows), want), (n, d, seed)


@pytest.mark.parametrize("bits, sampling", [(2, "double"), (4, "naive"), (8, "nearest"), (1, "naive"), (3, "naive"),
                                           (6, "double")])
def test_fast_quantizer_split_among_threads_equals_portable(bits, sampling):
    # Enough rows that the module splits them among threads: each part starts its rows
    # at row_begin > 0 with the draws of its output rows.
    gen = np.random.default_rng(bits)
    X = gen.standard_normal((3 * 4096 + 77, 21)).astype(np.float32)
    sc = FeatureScaling.fit(X)
    args = (X, sc.lo, sc.inv, None, bits, F.sampling_id(sampling), 5, 2)
    fast = _kernels.quantize(*args)
    assert np.array_equal(fast, _kernels.quantize(*args, portable=True))
    assert np.array_equal(fast, R.quantize_matrix(X, sc.lo, sc.inv, None, bits, sampling, 5, 2))


@pytest.mark.parametrize("bits", F.SUPPORTED_BITS)
@pytest.mark.parametrize("sampling", SAMPLINGS)
def test_fast_quantizer_at_interval_boundaries(bits, sampling):
    # Exact positions (lo = 0, inv = 1: x = v / 2^24 is position v) on every level, one
    # away from it, and at and around the midpoint of the top interval, the one interval
    # of even width (q + 1) where nearest rounding meets a tie.
    s = F.max_code(bits)
    q = (F.POS_ONE - 1) // s
    levels = np.arange(s + 1) * q + (np.arange(s + 1) == s)
    tie = (s - 1) * q + (q + 1) // 2
    v = np.unique(np.clip(np.concatenate([levels - 1, levels, levels + 1, [tie - 1, tie, tie + 1]]), 0, F.POS_ONE))
    gen = np.random.default_rng(bits)
    X = (gen.choice(v, size=(40, 29)) / F.POS_ONE).astype(np.float32)
    X[0], X[1] = 0.0, 1.0
    lo, inv = np.zeros(29, np.float32), np.ones(29, np.float32)
    assert np.array_equal(_kernels.positions(X, lo, inv), (X * F.POS_ONE).astype(np.uint32))
    args = (X, lo, inv, None, bits, F.sampling_id(sampling), 3, 2)
    want = R.quantize_matrix(X, lo, inv, None, bits, sampling, 3, 2)
    assert np.array_equal(_kernels.quantize(*args), want)
    assert np.array_equal(_kernels.quantize(*args, portable=True), want)
