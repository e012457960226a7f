"""Variance-optimal levels: exact = brute force, grid guarantees, end to end."""

import importlib
import itertools

import numpy as np
import pytest

from zipml_hls import ZipMLRegressor, _kernels, optimal_levels, quantization_variance, quantize
from zipml_hls.spec import format as F
from zipml_hls import reference as R
from zipml_hls import levels as levels_mod
from zipml_hls.levels import grid_points, level_tables
from zipml_hls.reference.levels import levels_dp as reference_levels_dp


def brute_force(v, n_levels):
    x = np.unique(v)
    best = np.inf
    for inner in itertools.combinations(x[1:-1], n_levels - 2):
        best = min(best, quantization_variance(v, [x[0], *inner, x[-1]]))
    return best


def test_quantization_variance_formula():
    v = np.array([0.0, 0.25, 0.5, 1.0, 0.9])
    assert quantization_variance(v, [0, 1]) == pytest.approx(0.25 * 0.75 + 0.25 + 0.09)
    assert quantization_variance(v, [0, 0.5, 1]) == pytest.approx(0.0625 + 0 + 0 + 0.04)
    with pytest.raises(ValueError, match="outside the levels"):
        quantization_variance([2.0], [0, 1])


@pytest.mark.parametrize("trial", range(60))
def test_exact_equals_brute_force(trial):
    rng = np.random.default_rng(trial)
    n = int(rng.integers(3, 16))
    v = rng.integers(0, 10, n).astype(float) if trial % 2 else rng.standard_normal(n)  # even: ties
    k = len(np.unique(v))
    for n_levels in range(2, min(6, k) + 1):
        best = brute_force(v, n_levels)
        for backend in ("hls", "reference"):
            got = quantization_variance(v, optimal_levels(v, n_levels, backend=backend))
            assert got == pytest.approx(best, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_fast_search_matches_quadratic_oracle(seed):
    rng = np.random.default_rng(seed)
    v = np.round(rng.lognormal(size=700), 2)  # heavy tail, many ties
    x, c = np.unique(v, return_counts=True)
    for s in (1, 3, 7, 15, 31):
        fast = _kernels.levels_dp(x, c.astype(float), s, 0, True)[0]
        slow = _kernels.levels_dp(x, c.astype(float), s, 0, False)[0]
        ref = reference_levels_dp(x, c.astype(float), s)
        vf, vs, vr = (quantization_variance(v, lev) for lev in (fast, slow, ref))
        assert vf == pytest.approx(vs, rel=1e-12) and vf == pytest.approx(vr, rel=1e-9)
        assert fast[0] == v.min() and fast[-1] == v.max() and np.all(np.diff(fast) > 0)


@pytest.mark.parametrize("offset, scale", [(0.0, 1.0), (1e6, 1.0), (0.0, 1e170), (0.0, 1e-170)])
def test_grid_program_in_double_matches_the_quadratic_oracle_with_many_levels(offset, scale):
    # Many levels on a fine grid take Knuth's windows in double precision (the oracle runs
    # every pair in long double); values far from 0 must not cost precision (the sums are
    # taken about the smallest value), nor values whose squares double cannot hold (the
    # double costs are in units of the grid's span).
    rng = np.random.default_rng(11)
    v = offset + np.round(rng.lognormal(size=3000), 3) * scale
    x, c = np.unique(v, return_counts=True)
    for s, m in ((63, 300), (127, 600)):
        fast = _kernels.levels_dp(x, c.astype(float), s, m, True)[0]
        slow = _kernels.levels_dp(x, c.astype(float), s, m, False)[0]
        # (the variance in the data's own units would overflow at 1e170)
        got, want = (quantization_variance(v / scale, levels / scale) for levels in (fast, slow))
        assert got == pytest.approx(want, rel=1e-9)
        assert np.all(np.diff(fast) > 0)


def test_grid_between_exact_and_uniform_and_converges():
    rng = np.random.default_rng(0)
    v = rng.exponential(size=3000) ** 2
    n_levels = 8
    exact = quantization_variance(v, optimal_levels(v, n_levels))
    uniform = quantization_variance(v, np.linspace(v.min(), v.max(), n_levels))
    for m in (8, 15, 64, 256, 2048, 16384):
        grid = quantization_variance(v, optimal_levels(v, n_levels, method="grid", grid_size=m))
        assert exact * (1 - 1e-12) <= grid <= uniform * (1 + 1e-12)
        bound = exact + v.size * (v.max() - v.min()) ** 2 / (grid_points(v.min(), v.max(), m, n_levels - 1) - 1)
        assert grid <= bound
    assert grid == pytest.approx(exact, rel=2e-3)



def test_grid_level_columns_equal_the_program_on_each_column():
    # Columns go to the cores in blocks of 16: 37 columns make three blocks; each column's
    # levels must be those of the program run on that column alone (one-hot, constant and
    # skewed columns among them).
    rng = np.random.default_rng(5)
    p = (rng.lognormal(size=(300, 37)) * 1e6).astype(np.uint32)
    p[:, 3] = np.where(rng.random(300) < 0.1, 1 << 24, 0)
    p[:, 20] = 7
    for s, m in ((3, 64), (15, 256), (255, 1025)):
        tables = _kernels.grid_level_columns(p, s, m)
        for j in range(p.shape[1]):
            x, counts = np.unique(p[:, j].astype(np.float64), return_counts=True)
            want = np.full(s + 1, x[0]) if x.size == 1 else _kernels.levels_dp(x, counts.astype(float), s, m, True)[0]
            np.testing.assert_array_equal(tables[j], want, err_msg=f"column {j}, s={s}")


@pytest.mark.parametrize("clustered", [False, True])
def test_grid_optimum_equals_brute_force_over_every_grid_point(clustered):
    # The solver keeps only the ends of occupied cells as candidates; the optimum over all
    # grid points must not be lost. Clustered data leave most cells empty (and at 6 levels
    # fewer occupied ends than levels in one seed), spread data few.
    for seed in range(6):
        rng = np.random.default_rng(seed)
        v = rng.choice([0.0, 0.13, 0.5, 0.52, 1.0], 40) if clustered else rng.uniform(0, 1, 12) ** 3
        for n_levels, m in ((3, 12), (4, 13), (6, 11)):
            M = grid_points(v.min(), v.max(), m, n_levels - 1)
            points = np.linspace(v.min(), v.max(), M)
            best = min(quantization_variance(v, [points[0], *inner, points[-1]])
                       for inner in itertools.combinations(points[1:-1], n_levels - 2))
            levels = optimal_levels(v, n_levels, method="grid", grid_size=m)
            assert np.all(np.diff(levels) > 0) and np.abs(levels[:, None] - points).min(axis=1).max() < 1e-12
            assert quantization_variance(v, levels) == pytest.approx(best, rel=1e-9, abs=1e-12), (seed, n_levels)

def test_invariant_under_shift_and_positive_scale():
    v = np.random.default_rng(3).gamma(0.5, size=500)
    base = optimal_levels(v, 6)
    np.testing.assert_allclose(optimal_levels(3.5 * v - 7.0, 6), 3.5 * base - 7.0, rtol=1e-12, atol=1e-9)
    g = optimal_levels(v, 6, method="grid", grid_size=100)
    np.testing.assert_allclose(optimal_levels(2 * v + 1, 6, method="grid", grid_size=100), 2 * g + 1, rtol=1e-9)


def test_edge_cases():
    assert optimal_levels([2.0, 2.0, 2.0], 4).tolist() == [2.0] * 4  # one distinct value
    lev = optimal_levels([0.0, 1.0, 1.0, 5.0], 6)  # fewer distinct values than levels
    assert len(lev) == 6 and {0.0, 1.0, 5.0} <= set(lev.tolist()) and np.all(np.diff(lev) > 0)
    assert quantization_variance([0.0, 1.0, 1.0, 5.0], lev) == 0.0
    with pytest.raises(ValueError, match="NaN"):
        optimal_levels([0.0, np.nan], 2)
    with pytest.raises(ValueError, match="n_levels"):
        optimal_levels([0.0, 1.0], 1)
    with pytest.raises(ValueError, match="empty"):
        optimal_levels([], 2)
    with pytest.raises(ValueError, match="method"):
        optimal_levels([0.0, 1.0], 2, method="kmeans")
    with pytest.raises(ValueError, match="grid_size"):
        optimal_levels([0.0, 1.0], 2, grid_size=10)


@pytest.mark.parametrize("method", ["exact", "grid", "shared"])
def test_level_tables_meet_kernel_requirements(method):
    rng = np.random.default_rng(1)
    X = np.column_stack([rng.lognormal(size=300), np.full(300, 2.0), rng.integers(0, 3, 300)])
    pos = R.scaled_position(X.astype(np.float32), X.min(0).astype(np.float32),
                            np.array([1 / np.ptp(X[:, 0]), 0, 0.5], np.float32))
    for bits in F.SUPPORTED_BITS:
        t = level_tables(pos, bits, method)
        assert t.shape == (3, 1 << bits) and t.dtype == np.uint32
        assert np.all(t[:, 0] == 0) and np.all(t[:, -1] == F.POS_ONE) and np.all(np.diff(t.astype(np.int64)) > 0)


@pytest.mark.parametrize("method", ["exact", "grid", "shared", None])
def test_8bit_level_tables_keep_every_level_as_a_distinct_sgd_value(method):
    # Lognormal data crowd optimal levels near 0: tables lie on the grid of the SGD's Q0.10
    # values, so all 256 levels stay distinct values (rounding the positions to Q0.10 after
    # the fact merged about a fifth of them) and each value is exactly its level's position.
    X = np.random.default_rng(5).lognormal(sigma=2.0, size=(3000, 4)).astype(np.float32)
    pos = R.scaled_position(X, X.min(0), (1 / (X.max(0) - X.min(0))).astype(np.float32))
    t = level_tables(pos, 8, method).astype(np.int64)
    values = F.level_values(t)
    step = 1 << (F.POS_FRAC - F.LEVEL_VALUE_FRAC)
    assert np.all(t % step == 0) and np.array_equal(values.astype(np.int64) * step, t)
    assert np.all(np.diff(values, axis=1) > 0) and values.shape == (4, 256)
    if method is None:  # the default: the optimum over the value grid, no worse than the exact one moved onto it
        exact = level_tables(pos, 8, "exact")
        for j in range(4):
            v = pos[:, j].astype(np.float64)
            assert quantization_variance(v, t[j]) <= quantization_variance(v, exact[j])


@pytest.mark.parametrize("method", [None, "shared"])
def test_8bit_optimal_quantizer_is_unbiased_in_the_sgd_values(method):
    # The SGD reads a code's Q0.10 value: over 200 seeds its mean is each scaled value a,
    # within 4 standard errors of stochastic rounding between the levels L <= a < U around
    # it (variance (U - a)(a - L)); reading Q0.10 copies of off-grid levels missed by up to
    # 2^-11, far outside that.
    X = np.random.default_rng(6).lognormal(sigma=2.0, size=(400, 3))
    kw = dict(sampling="naive", levels="optimal", levels_method=method)
    first = quantize(X, 8, seed=0, **kw)
    values = first.level_values.astype(np.float64) / (1 << F.LEVEL_VALUE_FRAC)
    scaled = first.scaling.transform(X.astype(np.float32)).astype(np.float64)
    draws = [np.take_along_axis(values.T, quantize(X, 8, seed=s, **kw).codes(), 0) for s in range(200)]
    upper = np.stack([np.searchsorted(values[j], scaled[:, j], side="right") for j in range(3)], axis=1)
    lo = np.take_along_axis(values.T, np.clip(upper - 1, 0, 255), 0)
    hi = np.take_along_axis(values.T, np.clip(upper, 0, 255), 0)
    error = np.sqrt(np.maximum((hi - scaled) * (scaled - lo), 0) / 200)
    assert np.all(np.abs(np.mean(draws, axis=0) - scaled) <= 4 * error + 2**-20)


def table_variance(pos, tables):
    return sum(quantization_variance(pos[:, j].astype(np.float64), tables[j]) for j in range(pos.shape[1]))


@pytest.mark.parametrize("bits", [2, 4, 8])
def test_shared_table_lies_between_per_feature_tables_and_uniform_levels(bits):
    # Lognormal, Gaussian and one-hot columns (scaled to [0, 1] each): one table for all
    # (every row the same) whose total rounding variance is at most 1.001x that of the grid
    # program on the pooled values themselves (the histogram's 2^-16 bins cost less), above
    # the per-feature tables' and below uniform levels'.
    rng = np.random.default_rng(bits)
    X = np.column_stack([rng.lognormal(sigma=1.5, size=(3000, 3)), rng.normal(size=(3000, 2)),
                         rng.random((3000, 1)) < 0.1]).astype(np.float32)
    pos = R.scaled_position(X, X.min(0), (1 / (X.max(0) - X.min(0))).astype(np.float32))
    shared = level_tables(pos, bits, "shared")
    assert np.all(shared == shared[0])
    s = F.max_code(bits)
    uniform = np.tile(np.round(np.arange(s + 1) * F.POS_ONE / s), (X.shape[1], 1))
    m = levels_mod.VALUE_GRID_POINTS if bits == 8 else grid_points(0, F.POS_ONE, levels_mod.default_grid_size(bits), s)
    pooled = levels_mod._on_value_grid(optimal_levels(pos.ravel(), s + 1, method="grid", grid_size=m), s + 1)
    v = {name: table_variance(pos, t) for name, t in
         (("per_feature", level_tables(pos, bits, "grid")), ("shared", shared), ("uniform", uniform),
          ("pooled", np.tile(pooled, (X.shape[1], 1))))}
    assert v["shared"] <= 1.001 * v["pooled"]
    # measured: shared 0.885, 0.561, 0.365 of uniform at 2, 4, 8 bits; per feature 0.62, 0.34, 0.19
    assert v["per_feature"] < v["shared"] < {2: 0.9, 4: 0.65, 8: 0.45}[bits] * v["uniform"]


@pytest.mark.parametrize("method", [None, "grid", "shared"])
def test_tables_for_a_given_wider_scaling_keep_their_ends(method):
    # Values that do not reach a given scaling's ends (a later batch of partial_fit, or
    # quantize(scaling=...)): the tables still run from 0 to 2^24 with 2^b distinct levels
    # (the ends were once added beside the program's own, one or two levels too many).
    X = np.random.default_rng(2).lognormal(size=(400, 5))
    scaling = quantize(X[:200], 2).scaling
    inside = np.clip(X[200:], scaling.lo, scaling.hi) * 0.5 + 0.5 * np.median(X[:200], axis=0)
    for bits in (2, 4, 8):
        t = quantize(inside, bits, levels="optimal", levels_method=method, scaling=scaling).level_table
        t = t.astype(np.int64)
        assert t.shape == (5, 1 << bits) and np.all(t[:, 0] == 0) and np.all(t[:, -1] == F.POS_ONE)
        assert np.all(np.diff(t, axis=1) > 0)


def test_a_bad_levels_method_is_named_before_any_work():
    X = np.random.default_rng(0).random((50, 3))
    with pytest.raises(ValueError, match="levels_method must be one of"):
        quantize(X, 4, levels="optimal", levels_method="pooled")
    with pytest.raises(ValueError, match="levels_method and grid_size are only used with levels='optimal'"):
        quantize(X, 4, levels_method="shared")


def test_shared_levels_train_to_the_least_squares_optimum():
    # A whole run on data quantized with one shared table, fresh samples every epoch: the
    # 8-bit fit's training loss within 2% of the closed-form least squares on lognormal features.
    rng = np.random.default_rng(3)
    X = rng.lognormal(sigma=1.0, size=(4000, 6))
    y = X @ rng.normal(size=6) + 0.3 * rng.normal(size=4000)
    A = np.column_stack([X, np.ones(len(X))])
    best = np.mean((A @ np.linalg.lstsq(A, y, rcond=None)[0] - y) ** 2)
    q = quantize(X, 8, levels="optimal", levels_method="shared", y=y)
    model = ZipMLRegressor(bits=8, levels="optimal", max_iter=40, random_state=0).fit(q)
    assert np.mean((model.predict(X) - y) ** 2) <= 1.02 * best


@pytest.mark.parametrize("requantize", [False, True])
def test_estimators_place_one_shared_table_with_levels_method_shared(monkeypatch, requantize):
    # fit(X) with levels_method='shared' quantizes with one table for every feature, once
    # (requantize=False) or every epoch (the table found once): every table placed is the
    # shared one, and the 8-bit fit's training loss is within 2% of least squares.
    quantize_mod = importlib.import_module("zipml_hls.quantize")  # the module (the package exports a function)

    methods = []

    def recorded(positions, bits, method=None, grid_size=None):
        methods.append(method)
        return level_tables(positions, bits, method, grid_size)

    monkeypatch.setattr(quantize_mod, "level_tables", recorded)
    rng = np.random.default_rng(4)
    X = rng.lognormal(sigma=1.0, size=(3000, 6))
    y = X @ rng.normal(size=6) + 0.3 * rng.normal(size=3000)
    A = np.column_stack([X, np.ones(len(X))])
    best = np.mean((A @ np.linalg.lstsq(A, y, rcond=None)[0] - y) ** 2)
    model = ZipMLRegressor(bits=8, levels="optimal", levels_method="shared", requantize=requantize, max_iter=40,
                           random_state=0).fit(X, y)
    assert methods == ["shared"]
    assert np.mean((model.predict(X) - y) ** 2) <= 1.02 * best
    assert model.get_params()["levels_method"] == "shared"


def test_estimators_check_levels_method():
    X, y = np.random.default_rng(0).random((40, 3)), np.arange(40.0)
    per_feature = quantize(X, 2, levels="optimal", y=y)
    with pytest.raises(ValueError, match="levels_method='shared', but the quantized data hold per-feature"):
        ZipMLRegressor(bits=2, levels="optimal", levels_method="shared").fit(per_feature)
    ZipMLRegressor(bits=2, levels="optimal", levels_method="shared", decay_epochs=1, max_iter=2, random_state=0).fit(
        quantize(X, 2, levels="optimal", levels_method="shared", y=y, seed=0))  # its own kind of table: taken
    with pytest.raises(ValueError, match="levels_method must be one of"):
        ZipMLRegressor(levels="optimal", levels_method="pooled").fit(X, y)
    with pytest.raises(ValueError, match="levels_method='shared' places optimal levels: it needs levels='optimal'"):
        ZipMLRegressor(levels_method="shared").fit(X, y)
    with pytest.raises(ValueError, match="levels='optimal' places the levels of quantized data; bits=32"):
        ZipMLRegressor(bits=32, levels="optimal").fit(X, y)
    model = ZipMLRegressor(bits=2, levels="optimal", levels_method="shared", random_state=0).partial_fit(X, y)
    with pytest.raises(ValueError, match="levels_method is None now but the model was fitted with levels_method='sh"):
        model.set_params(levels_method=None).partial_fit(X, y)


def test_optimal_levels_train_conditioned_as_uniform_levels_do():
    # Level tables train on centred features with per-feature step multipliers too: on
    # make_regression's 400 Gaussian features (2100 training rows) 4-bit optimal levels
    # reach held-out R^2 0.9994 (uniform levels 0.9986); unconditioned they ended at 0.91.
    from sklearn.datasets import make_regression
    from sklearn.model_selection import train_test_split

    X, y = make_regression(3000, 400, n_informative=40, noise=5, random_state=0)
    a, b, c, d = train_test_split(X, y, test_size=0.3, random_state=0)
    conditioned = ZipMLRegressor(bits=4, levels="optimal", random_state=0).fit(a, c)
    assert conditioned._conditioning.shifts.any() and conditioned.score(b, d) >= 0.998
    plain = ZipMLRegressor(bits=4, levels="optimal", precondition=False, random_state=0).fit(a, c)
    assert plain.score(b, d) <= 0.95


def test_optimal_levels_reduce_quantization_variance_end_to_end():
    X = np.random.default_rng(0).lognormal(sigma=1.5, size=(2000, 5))
    for bits in (2, 4):
        uni = quantize(X, bits, sampling="naive", seed=1)
        opt = quantize(X, bits, sampling="naive", levels="optimal", seed=1)
        err = [np.mean((q.dequantize() - X) ** 2) for q in (uni, opt)]
        assert err[1] < 0.5 * err[0]
        assert abs(np.mean(opt.dequantize() - X)) < 0.05 * np.std(X)  # still unbiased


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # ends at max_iter on purpose
@pytest.mark.parametrize("bits", F.SUPPORTED_BITS)
@pytest.mark.parametrize("sampling", F.TRAINING_SAMPLINGS)
def test_optimal_levels_bit_identical_on_both_backends(bits, sampling):
    X = np.random.default_rng(bits).lognormal(size=(150, 13))
    y = X @ np.arange(13.0)
    kw = dict(bits=bits, sampling=sampling, levels="optimal", max_iter=3, random_state=4)
    hls = ZipMLRegressor(**kw).fit(X, y)
    ref = ZipMLRegressor(**kw, backend="reference").fit(X, y)
    assert np.array_equal(hls.coef_, ref.coef_) and hls.intercept_ == ref.intercept_
