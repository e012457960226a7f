"""ZipMLRegressor: API, backends, and the science of double vs naive sampling."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning

from zipml_hls import ZipMLRegressor
from zipml_hls.spec import format as F
from zipml_hls.datasets import make_synthetic_regression


@pytest.fixture(scope="module")
def synthetic():
    X, y, _ = make_synthetic_regression(5000, 100, random_state=0)
    return X, y


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True)


def scaled_model(m):
    """The fitted model in the scaled space (features in [0,1], labels standardised)."""
    return m._model


def scaled_problem(m, X, y):
    A = np.hstack([m.scaling_.transform(X).astype(np.float64), np.ones((len(X), 1))])
    return A, m.label_scaling_.transform(y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # ends at max_iter on purpose
@pytest.mark.parametrize("bits", [1, 2, 4, 8])
@pytest.mark.parametrize("sampling", F.TRAINING_SAMPLINGS)
def test_backends_give_identical_coefficients(bits, sampling, diabetes):
    X, y = diabetes[0][:120], diabetes[1][:120]
    kw = dict(bits=bits, sampling=sampling, max_iter=3, random_state=7)
    hls = ZipMLRegressor(**kw).fit(X, y)
    ref = ZipMLRegressor(**kw, backend="reference").fit(X, y)
    assert np.array_equal(hls.coef_, ref.coef_)
    assert hls.intercept_ == ref.intercept_
    assert hls.loss_curve_ == ref.loss_curve_


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # ends at max_iter on purpose
def test_fp32_backends_agree_within_tolerance(diabetes):
    X, y = diabetes
    hls = ZipMLRegressor(bits=32, max_iter=3, random_state=0).fit(X, y)
    ref = ZipMLRegressor(bits=32, max_iter=3, random_state=0, backend="reference").fit(X, y)
    np.testing.assert_allclose(hls.coef_, ref.coef_, rtol=1e-3, atol=1e-3 * np.abs(ref.coef_).max())


@pytest.mark.parametrize("data", ["synthetic", "diabetes"])
@pytest.mark.parametrize("bits", [8, 4])
def test_double_sampling_reaches_fp32_loss(data, bits, request):
    X, y = request.getfixturevalue(data)
    fp32 = ZipMLRegressor(bits=32, random_state=0).fit(X, y)
    low = ZipMLRegressor(bits=bits, sampling="double", eta0=fp32.eta_, random_state=0).fit(X, y)
    assert low.eta_ == fp32.eta_  # the same schedule
    assert low.loss_curve_[-1] <= 1.05 * fp32.loss_curve_[-1]


def test_double_sampling_approaches_least_squares_as_epochs_grow(synthetic):
    X, y = synthetic
    dists = []
    for epochs in (2, 8, 32):
        m = ZipMLRegressor(bits=4, sampling="double", max_iter=epochs, decay_epochs=4, random_state=1).fit(X, y)
        A, b = scaled_problem(m, X, y)
        w_ls = np.linalg.lstsq(A, b, rcond=None)[0]
        dists.append(np.linalg.norm(scaled_model(m) - w_ls) / np.linalg.norm(w_ls))
    assert dists[0] > dists[1] > dists[2]
    assert dists[2] < 0.5 * dists[0]


def test_naive_sampling_is_biased_towards_ridge(synthetic):
    X, y = synthetic
    naive = ZipMLRegressor(bits=2, sampling="naive", random_state=0).fit(X, y)
    double = ZipMLRegressor(bits=2, sampling="double", random_state=0).fit(X, y)
    A, b = scaled_problem(naive, X, y)
    n = len(b)
    # D: mean rounding variance per feature of 2-bit uniform levels (0 for the intercept)
    a = A[:, :-1]
    k = np.minimum(np.floor(a * 3), 2)
    D = np.append(np.mean(((k + 1) / 3 - a) * (a - k / 3), axis=0), 0.0)
    w_ls = np.linalg.lstsq(A, b, rcond=None)[0]
    w_ridge = np.linalg.solve(A.T @ A + n * np.diag(D), A.T @ b)
    wn, wd = scaled_model(naive), scaled_model(double)
    assert np.linalg.norm(wn - w_ridge) < 0.75 * np.linalg.norm(wn - w_ls)
    assert np.linalg.norm(wd - w_ls) < np.linalg.norm(wd - w_ridge)
    # naive's loss floor is clearly above double's
    assert naive.loss_curve_[-1] > 1.05 * double.loss_curve_[-1]


def test_predictions_in_original_units(synthetic):
    X, y = synthetic
    m = ZipMLRegressor(bits=8, random_state=0).fit(X, y)
    assert m.coef_.shape == (100,) and isinstance(m.intercept_, np.ndarray) and m.intercept_.shape == (1,)
    np.testing.assert_allclose(m.predict(X), X @ m.coef_ + m.intercept_)
    assert m.score(X, y) > 0.78  # the generator's R^2 is 0.8
    assert 1 <= m.n_iter_ <= 100 and len(m.loss_curve_) == m.n_iter_
    # loss_curve_ comes from the kernel's last pass (the model moves during it): close to
    # the final model's loss, measured 0.6% apart here
    assert m.loss_curve_[-1] == pytest.approx(0.5 * np.mean((m.predict(X) - y) ** 2), rel=0.03)


def test_partial_fit_goes_on_with_the_adaptive_schedule(tmp_path):
    # 60 calls on shuffled batches of 1000 rows (3 passes over 20000), 2 bits: the adaptive
    # schedule halves the step across calls as fit() does across epochs (measured, seeds 0-2:
    # 1.03-1.05x least squares, two calls per 1024-row window; 1.18-1.40x with windows of 4096;
    # the first call's step kept for every call, as partial_fit once did, and as
    # decay_epochs=0 still does: 4.1-5.0x).
    from zipml_hls.model_io import load_model, save_model

    rng = np.random.default_rng(8)
    Z = rng.normal(size=(20000, 10))
    y = Z @ rng.normal(size=10) + 0.5 * rng.normal(size=20000) + 5
    A = np.column_stack([Z, np.ones(len(y))])
    best = 0.5 * np.mean((A @ np.linalg.lstsq(A, y, rcond=None)[0] - y) ** 2)
    batches = [b for _ in range(3) for b in np.array_split(rng.permutation(20000), 20)]
    kw = dict(bits=2, random_state=0, feature_range=(Z.min(0), Z.max(0)))
    adaptive, constant, resumed = ZipMLRegressor(**kw), ZipMLRegressor(decay_epochs=0, **kw), None
    for k, b in enumerate(batches):
        adaptive.partial_fit(Z[b], y[b])
        constant.partial_fit(Z[b], y[b])
        if k == 29:  # a model file goes on with the schedule's counts, bit for bit
            save_model(adaptive, tmp_path / "m.zipml")
            resumed = load_model(tmp_path / "m.zipml")
        elif k > 29:
            resumed.partial_fit(Z[b], y[b])
    ratio = lambda m: 0.5 * np.mean((m.predict(Z) - y) ** 2) / best  # noqa: E731
    assert ratio(adaptive) < 1.15 and ratio(constant) > 3.0
    assert adaptive.final_eta_ <= adaptive.eta_ / 16 and constant.final_eta_ == constant.eta_
    assert np.array_equal(resumed.coef_, adaptive.coef_) and resumed.final_eta_ == adaptive.final_eta_


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_partial_fit_keeps_the_halvings_a_wide_start_adds_across_a_model_file(tmp_path):
    # 2 bits on 2000 x 300: the adaptive start is 2^-ceil(log2(R + 1 + V)), some halvings
    # above the damped one, which the schedule may add to its 6. partial_fit's own schedule
    # and one loaded from a model file keep them (files saved without the count mean 6).
    from sklearn.datasets import make_regression

    from zipml_hls.model_io import load_model, save_model

    X, y = make_regression(2000, 300, noise=10, random_state=0)
    X = X.astype(np.float32)
    fitted = ZipMLRegressor(bits=2, max_iter=10, random_state=0).fit(X, y)
    assert fitted._extra_halvings > 0 and fitted._schedule.max_halvings == 6 + fitted._extra_halvings
    fresh = ZipMLRegressor(bits=2, random_state=0)
    fresh.partial_fit(X, y)
    assert fresh._schedule.max_halvings == 6 + fitted._extra_halvings
    save_model(fitted, tmp_path / "m.zipml")
    loaded = load_model(tmp_path / "m.zipml")
    for _ in range(30):
        fitted.partial_fit(X, y)
        loaded.partial_fit(X, y)
    assert fitted._schedule.halvings > 6
    assert np.array_equal(loaded.coef_, fitted.coef_) and loaded.final_eta_ == fitted.final_eta_


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_partial_fit_warns_once_of_labels_beyond_the_models_range():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 3))
    y = X @ np.array([1.0, 2.0, 3.0])
    m = ZipMLRegressor(bits=4, random_state=0, feature_range=(X.min(axis=0), X.max(axis=0)))
    m.partial_fit(X[:1000], y[:1000])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # labels and weights within 96 of the first batch's scale: silent
        m.partial_fit(X[1000:], 4 * y[1000:])
    far = 100 * y[1000:]
    reach = np.max(np.abs(m.label_scaling_.transform(far)))
    with pytest.warns(UserWarning, match=f"this batch's labels lie up to {reach:.3g} from its mean and the model's"):
        m.partial_fit(X[1000:], far)
    with warnings.catch_warnings(record=True) as later:  # once a fit (the run diverges: warned of that)
        warnings.simplefilter("always")
        m.partial_fit(X[1000:], far)
    assert not [w for w in later if "label scale" in str(w.message)] and later


def test_partial_fit_counts_and_warns_about_clipped_values(diabetes, tmp_path):
    X, y = diabetes
    first, later = X[:200] * 0.5, X[200:]
    m = ZipMLRegressor(bits=4, decay_epochs=0, random_state=1).partial_fit(first, y[:200])
    assert m.n_clipped_ == 0
    X32 = later.astype(np.float32)
    expected = int(np.count_nonzero((X32 < m.scaling_.lo) | (X32 > m.scaling_.hi)))
    assert expected > 500
    with pytest.warns(UserWarning, match=f"{expected} of this call's {later.size} values lie outside"):
        m.partial_fit(later, y[200:])
    assert m.n_clipped_ == expected
    with warnings.catch_warnings():  # later batches: counted, not warned about each time
        warnings.simplefilter("error")
        m.partial_fit(later, y[200:])
    assert m.n_clipped_ == 2 * expected
    # known ranges covering every batch: the same scaling for all, nothing clipped, no warning
    lo, hi = X.min(axis=0), X.max(axis=0)
    known = ZipMLRegressor(bits=4, decay_epochs=0, random_state=1, feature_range=(lo, hi))
    known.partial_fit(first, y[:200]).partial_fit(later, y[200:])
    assert known.n_clipped_ == 0
    assert np.array_equal(known.scaling_.lo, lo.astype(np.float32))
    assert np.array_equal(known.scaling_.hi, hi.astype(np.float32))
    # the data's own ranges given as known ranges: fit() is unchanged, bit for bit
    params = dict(bits=4, max_iter=6, decay_epochs=3, random_state=2)
    assert np.array_equal(ZipMLRegressor(feature_range=(lo, hi), **params).fit(X, y).coef_,
                          ZipMLRegressor(**params).fit(X, y).coef_)
    narrow = ZipMLRegressor(feature_range=(lo / 2, hi / 2), **params)
    with pytest.warns(UserWarning, match="clipped"):
        narrow.fit(X, y)
    assert narrow.n_clipped_ > 0
    from zipml_hls.model_io import load_model, save_model

    save_model(narrow, tmp_path / "m.zipml")
    back = load_model(tmp_path / "m.zipml")
    assert back.n_clipped_ == narrow.n_clipped_
    assert np.array_equal(np.asarray(back.feature_range), np.asarray([lo / 2, hi / 2]))
    for bad, words in (((lo, hi[:3]), "two 1-D arrays"), ((hi, lo), "lo <= hi"), (5, "pair"),
                       ((lo * np.inf, hi), "finite"), ((lo[:3], hi[:3]), "feature_range has 3 features")):
        with pytest.raises(ValueError, match=words):
            ZipMLRegressor(feature_range=bad).fit(X, y)
    from zipml_hls import quantize

    with pytest.raises(ValueError, match="quantized data carry their own scaling"):
        ZipMLRegressor(bits=4, feature_range=(lo, hi)).fit(quantize(X, 4, y=y))


def test_heavy_tailed_features_that_rounding_reads_as_noise_are_warned_about():
    # Student-t features (3 degrees of freedom) crowd into the middle of their range: at 2
    # bits stochastic rounding's variance is about 16 times theirs (3 at 3 bits, 0.6 at 4),
    # and the default fit ended at 14.4x least squares (measured, seed 0); Gaussian features
    # (about 1) and 4 bits stay silent.
    rng = np.random.default_rng(0)
    X = rng.standard_t(3, (10000, 50))
    y = X @ rng.normal(size=50) + rng.normal(size=10000)
    with pytest.warns(UserWarning, match=r"at 2 bits stochastic rounding's variance is 1\d\.\d times the features' "
                      r"own \(the most: \d+, .*\): heavy tails or skew .* use more bits, levels='optimal', or transform"):
        ZipMLRegressor(bits=2, max_iter=2, decay_epochs=0, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ZipMLRegressor(bits=4, max_iter=2, decay_epochs=0, random_state=0).fit(X, y)
        ZipMLRegressor(bits=2, max_iter=2, decay_epochs=0, random_state=0).fit(rng.normal(size=(10000, 50)), y)


def test_a_few_far_values_that_squeeze_a_feature_are_warned_about():
    # Five readings of 1e6 in feature 3 stretch its range 2e5-fold beyond its middle 98%,
    # whose values then all lie within one step of the 255: measured, the 8-bit model's
    # held-out R^2 is -0.06 (least squares: 0.99999). Skewed but ordinary columns
    # (lognormal, sigma 2: range 30-60x the middle) and one-hot columns do not warn.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20000, 10))
    X[:, 8] = rng.lognormal(0, 2, size=20000)
    X[:, 9] = rng.random(20000) < 0.015  # a one-hot column: middle span 1 (interpolated percentiles gave 0.01)
    X[rng.choice(20000, 5, replace=False), 3] = 1e6
    y = X @ rng.normal(size=10)
    with pytest.warns(UserWarning, match=r"1 feature\(s\) \(3\) have a few values far outside the rest: their range is "
                      r"up to 2\.\d+e\+05 times .* at 8 bits lie within one step") as caught:
        ZipMLRegressor(bits=8, max_iter=3, decay_epochs=0, random_state=0).fit(X, y)
    assert len(caught) == 1
    # level tables place their levels where the values are, but on the kernel's grid of 1/1024
    for bits in (1, 4):  # (1-bit tables are the uniform levels)
        width = "1 bit" if bits == 1 else f"{bits} bits"
        with pytest.warns(UserWarning, match=rf"1 feature\(s\) \(3\) have .* at {width} lie within "
                          r"1/\(2\^bits - 1\) of the range, where the level tables' grid of 1/1024 holds fewer "
                          r"points than the levels"):
            ZipMLRegressor(bits=bits, levels="optimal", max_iter=3, decay_epochs=0, random_state=0).fit(X, y)
    X[:, 3] = rng.normal(size=20000)
    y = X @ rng.normal(size=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for bits in (1, 8):  # nothing else to warn of, at any width
            ZipMLRegressor(bits=bits, max_iter=3, decay_epochs=0, random_state=0).fit(X, y)
        ZipMLRegressor(bits=4, levels="optimal", max_iter=3, decay_epochs=0, random_state=0).fit(X, y)
        ZipMLRegressor(bits=32, max_iter=3, decay_epochs=0, random_state=0).fit(X, y)


@pytest.mark.parametrize("bits", [4, 32])
def test_features_that_float32_rounds_coarsely_are_warned_about(bits):
    # N(0, 1) around 3e7 (timestamps, coordinates): float32, which every kernel reads, holds
    # 3 or 4 steps of 2 in such a range (held-out R^2 0.939 at 8 bits against least squares'
    # 0.999, docs/API.md). Around 1e5 (801 steps of 2^-7) nothing is said.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 3))
    y = X @ np.array([1.0, 2.0, 3.0])
    X[:, 1:] += 3e7
    with pytest.warns(UserWarning, match=r"2 feature\(s\) \(1, 2\) vary little around a large offset: feature [12] "
                      r"spans \[\d+, \d+\], where float32, which the kernels read, holds only [34] steps of 2; "
                      r"subtract an offset first"):
        ZipMLRegressor(bits=bits, max_iter=2, decay_epochs=0, random_state=0).fit(X, y)
    X[:, 1:] -= 3e7 - 1e5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ZipMLRegressor(bits=bits, max_iter=2, decay_epochs=0, random_state=0).fit(X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # ends at max_iter on purpose
def test_partial_fit_continues_training(synthetic):
    X, y = synthetic
    one = ZipMLRegressor(bits=4, max_iter=1, eta0=2**-12, random_state=3).fit(X, y)
    inc = ZipMLRegressor(bits=4, eta0=2**-12, random_state=3).partial_fit(X, y)
    assert np.array_equal(one.coef_, inc.coef_)
    for _ in range(4):
        inc.partial_fit(X, y)
    assert inc.n_iter_ == 5 and len(inc.loss_curve_) == 5
    # a small step: the loss falls while far from the optimum, and the model ends within 2%
    # of the least-squares loss (measured: pass losses 2.37, 1.15, 1.10, 1.09, 1.08; 1.004x)
    A = np.hstack([X, np.ones((len(X), 1))])
    best = 0.5 * np.mean((A @ np.linalg.lstsq(A, y, rcond=None)[0] - y) ** 2)
    assert np.all(np.diff(inc.loss_curve_[:3]) < 0)
    assert 0.5 * np.mean((inc.predict(X) - y) ** 2) < 1.02 * best


def test_auto_step_backs_off_when_a_run_diverges(diabetes):
    X, y = diabetes
    m = ZipMLRegressor(bits=1, sampling="double", random_state=0).fit(X, y)
    assert m.loss_curve_[-1] < 0.5 * np.var(y)


@pytest.mark.parametrize("case", ["gaussian, optimal levels", "lognormal, uniform levels"])
def test_the_backoff_judges_runs_at_full_precision(case):
    # 1 bit: the pass loss's estimate is unbiased but its noise can hide a run gone wrong.
    # 20000 x 10 Gaussian with optimal levels (the stored-rounding correction at a large step)
    # ended at training R^2 -2229 with a pass estimate of -12000; 7584 x 28 lognormal at
    # uniform levels at R^2 -0.26 with an estimate of -1.4 (zero model: 68). Judged on
    # sampled rows at full precision they restart at smaller steps: 0.931 and 0.604 (least
    # squares 0.943 and 0.993).
    if case.startswith("gaussian"):
        r = np.random.default_rng(0)
        X = r.normal(size=(20000, 10))
        y = X @ r.normal(size=10) + r.normal(size=20000)
        model, floor = ZipMLRegressor(bits=1, levels="optimal", random_state=0), 0.9
    else:
        r = np.random.default_rng(101)
        n, d = int(r.integers(2000, 20000)), int(r.integers(2, 30))
        X = r.lognormal(sigma=1.0, size=(n, d))
        y = X @ r.normal(size=d) + r.normal(size=n)
        model, floor = ZipMLRegressor(bits=1, random_state=0), 0.5
    assert model.fit(X, y).score(X, y) > floor


@pytest.mark.filterwarnings("error")
def test_a_fit_as_good_as_least_squares_is_not_restarted_for_a_label_far_out():
    # 20000 rows, one label 1e5 (the rest within about +-15): least squares' R^2 is 0.00084,
    # and the fit's at every precision too. Judged on a sample of 4096 rows that missed
    # that row, the fit was 5-14x worse than the mean (so was least squares: its weights
    # follow the far label), and it restarted 8 times and warned "did not beat predicting
    # the mean ... lower eta0". Judged on every row it keeps its step and stays silent.
    from sklearn.linear_model import LinearRegression

    r = np.random.default_rng(0)
    X = r.normal(size=(20000, 10))
    y = X @ r.normal(size=10) + r.normal(size=20000)
    y[123] = 1e5
    least_squares = LinearRegression().fit(X, y).score(X, y)
    for bits in (32, 4):
        model = ZipMLRegressor(bits=bits, random_state=0).fit(X, y)
        assert model.score(X, y) > 0.9 * least_squares
        assert model._training_ratio(X, y[:, None]) < 1.0


def test_the_backoff_judges_each_target_and_weighted_rows():
    # The worst target decides (a target of large scale does not hide a broken small one);
    # rows whose weights are all 0 leave the judgement to the pass loss.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 4))
    Y = np.column_stack([1000 * X @ [1.0, 2.0, 3.0, 4.0], 0.01 * X @ [4.0, -3.0, 2.0, 1.0]])
    model = ZipMLRegressor(bits=8, random_state=0).fit(X, Y)
    assert model._training_ratio(X, Y) < 0.01
    # float32 X multiplies in float32 (no float64 copy), to the same judgement
    assert model._training_ratio(X.astype(np.float32), Y) == pytest.approx(model._training_ratio(X, Y), rel=1e-4)
    model._coef[1] *= -5
    assert model._training_ratio(X, Y) > 10
    assert model._training_ratio(X, Y, np.zeros(3000)) is None


def test_divergence_with_fixed_step_warns(synthetic):
    X, y = synthetic
    # (training loss 1.2e14: a smaller step, not more epochs)
    with pytest.warns(ConvergenceWarning, match=r"SGD diverged .* lower eta0 \(now 0.5\), not more epochs"):
        ZipMLRegressor(bits=8, eta0=0.5, random_state=0).fit(X, y)


def test_eta0_maps_to_nearest_power_of_two(diabetes):
    X, y = diabetes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert ZipMLRegressor(eta0=0.01, max_iter=1).fit(X, y).eta_ == 2.0**-7
        assert ZipMLRegressor(eta0=0.2, max_iter=1).fit(X, y).eta_ == 2.0**-2
        assert ZipMLRegressor(eta0=5.0, max_iter=1).fit(X, y).eta_ == 0.5


@pytest.mark.parametrize("params, error, match", [
    ({"bits": 5}, ValueError, "bits must be one of"),
    ({"sampling": "x"}, ValueError, "sampling must be one of"),
    ({"levels": "x"}, ValueError, "levels must be one of"),
    ({"max_iter": 0}, ValueError, "max_iter must be"),
    ({"max_iter": 2.5}, TypeError, "max_iter must be an integer"),
    ({"eta0": -1.0}, ValueError, "eta0 must be"),
    ({"eta0": "big"}, TypeError, "eta0 must be"),
    ({"backend": "gpu"}, ValueError, "backend must be one of"),
    ({"random_state": 1.5}, TypeError, "random_state must be an integer"),
    ({"n_copies": 0}, ValueError, "n_copies must be"),
])
def test_bad_parameters(params, error, match, diabetes):
    X, y = diabetes
    with pytest.raises(error, match=match):
        ZipMLRegressor(**params).fit(X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # ends at max_iter on purpose
def test_bad_data(diabetes):
    X, y = diabetes
    with pytest.raises(ValueError, match="NaN"):
        ZipMLRegressor().fit(np.where(X > 0.1, np.nan, X), y)
    with pytest.raises(ValueError):
        ZipMLRegressor().fit(X, y[:-1])
    m = ZipMLRegressor(max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        m.predict(X[:, :3])


def test_adaptive_schedule_halves_on_plateaus_and_stops(diabetes):
    X, y = diabetes
    m = ZipMLRegressor(bits=8, random_state=0).fit(X, y)
    assert m.n_iter_ < 100  # stopped by the schedule, not by max_iter
    assert m.final_eta_ < m.eta_  # the step was halved
    fixed = ZipMLRegressor(bits=8, random_state=0, decay_epochs=3, max_iter=20).fit(X, y)
    assert fixed.n_iter_ == 20 and fixed.final_eta_ == fixed.eta_ * 2.0**-6
    assert m.loss_curve_[-1] <= 1.01 * fixed.loss_curve_[-1]
    # the same decisions on both backends
    ref = ZipMLRegressor(bits=8, random_state=0, backend="reference").fit(X[:150], y[:150])
    hls = ZipMLRegressor(bits=8, random_state=0).fit(X[:150], y[:150])
    assert np.array_equal(ref.coef_, hls.coef_) and ref.n_iter_ == hls.n_iter_


def test_adaptive_schedule_on_iris_reaches_logistic_regression_accuracy():
    from sklearn.datasets import load_iris
    from sklearn.model_selection import train_test_split

    from zipml_hls import ZipMLClassifier

    X, y = load_iris(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, random_state=0)
    assert ZipMLClassifier(loss="log_loss", bits=8, random_state=0).fit(Xtr, ytr).score(Xte, yte) >= 0.85


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_level_tables_hold_weights_beyond_32():
    # One outlier squeezes a feature into a sliver of its min/max range, so its weight in
    # the scaled space passes 32. The Q0.10 level-table dot product is summed in int64:
    # an int32 sum wrapped there and gave R^2 -1.4 (uniform levels: 1.000).
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1500, 3))
    X[0, 0] = 100.0
    y = X.sum(axis=1)
    for levels in ("uniform", "optimal"):
        m = ZipMLRegressor(bits=8, levels=levels, random_state=0, max_iter=40).fit(X, y)
        assert m.score(X, y) > 0.99, levels
        assert sum(m.saturations_) == 0


def test_labels_stay_within_32_of_their_center_after_scaling():
    from zipml_hls.scaling import LABEL_REACH, LabelScaling

    rng = np.random.default_rng(0)
    y = rng.normal(size=20000)
    assert LabelScaling.fit(y).scale == np.std(y)  # usual labels: their standard deviation
    y[:3] = [-1700.0, 800.0, 40.0]  # the first over 100 standard deviations out
    for centred in (True, False):
        ls = LabelScaling.fit(y, centred)
        assert ls.scale > np.std(y) and np.max(np.abs(ls.transform(y))) == pytest.approx(LABEL_REACH, rel=1e-12)


@pytest.mark.filterwarnings("ignore:.*far outside the rest:UserWarning")
def test_extreme_labels_keep_the_quantized_model_in_its_range(monkeypatch):
    # Three readings of 1e3 in lognormal columns (the rest near 1) with labels that follow
    # them: one label lies 132 standard deviations out, and so would the least-squares
    # optimum's scaled weight, past the Q7.24 model's +-128, where it wrapped (6.5x least
    # squares at 4 and 8 bits, 650x in one seed). Labels scaled to within 32: least squares.
    rng = np.random.default_rng(9)
    n = 20000
    lognormal = rng.lognormal(sigma=0.3, size=(n, 3))
    lognormal[[10328, 14151, 377], np.arange(3)] = 1e3
    X = np.hstack([rng.normal(size=(n, 5)), lognormal, (rng.uniform(size=(n, 4)) < 0.002).astype(float)])
    y = X @ np.array([0.37, 0.71, -1.42, 0.69, -0.08, -0.58, 0.14, -1.72, -0.5, -0.7, -0.02, -0.33])
    y += 0.5 * rng.normal(size=n)
    A = np.hstack([X, np.ones((n, 1))])
    best = 0.5 * np.mean((A @ np.linalg.lstsq(A, y, rcond=None)[0] - y) ** 2)
    for bits, levels in ((4, "uniform"), (4, "optimal"), (8, "uniform"), (8, "optimal")):
        for seed in (0, 1):
            m = ZipMLRegressor(bits=bits, levels=levels, random_state=seed).fit(X, y)
            assert 0.5 * np.mean((m.predict(X) - y) ** 2) < 1.15 * best, (bits, levels, seed)
    # With labels divided by their standard deviation alone, fit sees the weights pass 64
    # and starts again with 4 times the label scale.
    monkeypatch.setattr("zipml_hls.scaling.LABEL_REACH", np.inf)
    for bits, levels, seed in ((4, "optimal", 1), (8, "uniform", 0)):
        m = ZipMLRegressor(bits=bits, levels=levels, random_state=seed).fit(X, y)
        assert m.label_scaling_.scale == 4 * np.std(y)
        assert 0.5 * np.mean((m.predict(X) - y) ** 2) < 1.15 * best, (bits, levels, seed)


def test_dates_and_overflowing_labels_are_refused():
    X = np.random.default_rng(0).uniform(size=(50, 3))
    y = X[:, 0]
    with pytest.raises(TypeError, match="X has dtype datetime64"):
        ZipMLRegressor().fit(X.astype("datetime64[s]"), y)
    with pytest.raises(TypeError, match="y has dtype timedelta64"):
        ZipMLRegressor().fit(X, y.astype("timedelta64[s]"))
    with pytest.raises(ValueError, match="the labels' mean or spread overflows float64"):
        ZipMLRegressor().fit(X, np.where(y > 0.5, 1e308, -1e308))


def test_tol_none_runs_every_epoch_as_scikit_learn():
    # The adaptive schedule stops this easy fit early; tol=None runs all max_iter epochs, at
    # the halved steps, without a ConvergenceWarning, and ends at least as close.
    rng = np.random.default_rng(1)
    X = rng.normal(size=(2000, 5))
    y = X @ rng.normal(size=5) + 0.1 * rng.normal(size=2000)
    stopped = ZipMLRegressor(bits=8, max_iter=200, random_state=0).fit(X, y)
    assert stopped.n_iter_ < 100
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        full = ZipMLRegressor(bits=8, max_iter=200, tol=None, random_state=0).fit(X, y)
    assert full.n_iter_ == 200 and full.final_eta_ <= stopped.final_eta_
    assert full.loss_curve_[:stopped.n_iter_] == stopped.loss_curve_
    assert full.score(X, y) >= stopped.score(X, y) - 1e-4


def test_parameter_and_size_limits_found_by_an_adversarial_run():
    from zipml_hls import ZipMLClassifier

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(9, 2)), np.arange(9.0)
    with pytest.raises(ValueError, match="tol must be a finite number >= 0"):
        ZipMLRegressor(tol=10**400).fit(X, y)  # was an OverflowError
    with pytest.raises(ValueError, match=r"poly_range must be a number in \[2\*\*-16, 32\] \(the kernel holds it in Q16\), got True"):
        ZipMLClassifier(loss="log_loss", poly_range=True).fit(X, y > 4)
    with pytest.raises(ValueError, match="X has 70000 features; the kernels' on-chip model holds at most 65536"):
        ZipMLRegressor(levels="optimal").fit(rng.normal(size=(4, 70000)), y[:4])  # minutes of level tables before


def test_more_limits_found_by_an_adversarial_run(tmp_path):
    from zipml_hls import ZipMLClassifier
    from zipml_hls.model_io import load_model, save_model

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 2)), np.arange(30.0)
    with pytest.raises(ValueError, match="eta0 must be 'auto' or a positive finite float"):
        ZipMLRegressor(eta0=10**400).fit(X, y)  # was a TypeError from np.isfinite
    with pytest.raises(ValueError, match=r"poly_range must be a number in \[2\*\*-16, 32\]"):
        ZipMLClassifier(loss="log_loss", poly_range=1e-300).fit(X, y > 15)  # was the kernel's "range_q16" message
    est = ZipMLRegressor(max_iter=2, decay_epochs=0, random_state=0).fit(X, y)
    long_name = tmp_path / ("a" * 251 + ".zip")  # a legal name: the temporary one must not be longer
    save_model(est, long_name)
    assert np.array_equal(load_model(long_name).coef_, est.coef_)
