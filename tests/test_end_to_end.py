"""End-to-end low precision (model, gradient), logistic regression by polynomial
approximation, and SVM with refetching."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.model_selection import train_test_split

from zipml_hls import ZipMLClassifier, ZipMLRegressor, _kernels, quantize
from zipml_hls.spec import format as F
from zipml_hls import reference as R
from zipml_hls.datasets import make_synthetic_regression
from zipml_hls.polynomial import logistic_derivative, logistic_polynomial
from zipml_hls.scaling import LabelScaling
from zipml_hls.reference import fixed_point
from zipml_hls.spec import layout, rng
from zipml_hls.spec.losses import LOSSES


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return train_test_split(X, y, random_state=0)


def test_stochastic_shift_is_unbiased():
    x = np.full(200_000, 12345, dtype=np.int64)
    rnd = rng.draw(rng.stream_key(1, rng.STREAM_MODEL, 0, 0), np.arange(x.size))
    q = fixed_point.stochastic_shift(x, 8, rnd)
    assert set(np.unique(q)) == {48, 49}  # 12345 / 256 = 48.22
    assert abs(q.mean() * 256 - 12345) < 4 * 256 * np.sqrt(0.22 * 0.78 / x.size)
    assert fixed_point.grid_shift(1000, 127) == 3 and fixed_point.grid_shift(127, 127) == 0


@pytest.mark.parametrize("bits", [1, 4, 8])
@pytest.mark.parametrize("sampling", ["double", "naive"])
@pytest.mark.parametrize("model_bits, grad_bits", [(8, 0), (0, 8), (4, 6), (2, 2)])
def test_model_and_gradient_rounding_bit_exact(bits, sampling, model_bits, grad_bits):
    rng = np.random.default_rng(bits + model_bits)
    X = rng.uniform(size=(40, 37))
    y = X @ rng.standard_normal(37)
    q = quantize(X, bits, sampling=sampling, seed=2, n_copies=2)
    labels = LabelScaling.fit(y).to_fixed(y)
    init = rng.integers(-(1 << 22), 1 << 22, size=38).astype(np.int32)
    args = (q.lines, labels, 37, bits)
    tail = (3, 4, 1, F.dot_mult(bits), init)
    cpp = _kernels.sgd_linear(*args, F.sampling_id(sampling), *tail, model_bits=model_bits, grad_bits=grad_bits,
                              seed=9)
    ref = R.sgd_linear(*args, sampling, *tail, model_bits=model_bits, grad_bits=grad_bits, seed=9)
    for got, want in zip(cpp, ref):  # history, predictions, saturations, refetches
        assert np.array_equal(got, want)
    plain = _kernels.sgd_linear(*args, F.sampling_id(sampling), *tail)[0]
    assert not np.array_equal(cpp[0], plain)  # the rounding really happened


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # ends at max_iter on purpose
@pytest.mark.parametrize("model_bits, grad_bits", [(None, 6), (6, None), (4, 4)])
def test_estimator_backends_agree_end_to_end(model_bits, grad_bits):
    X, y = load_diabetes(return_X_y=True)
    kw = dict(bits=4, model_bits=model_bits, grad_bits=grad_bits, max_iter=2, random_state=5)
    a = ZipMLRegressor(**kw).fit(X[:100], y[:100])
    b = ZipMLRegressor(**kw, backend="reference").fit(X[:100], y[:100])
    assert np.array_equal(a.coef_, b.coef_)


@pytest.mark.parametrize("data", ["synthetic", "diabetes"])
def test_everything_at_8_bits_reaches_fp32_loss(data):
    X, y = (make_synthetic_regression(5000, 100, random_state=0)[:2] if data == "synthetic"
            else load_diabetes(return_X_y=True))
    fp32 = ZipMLRegressor(bits=32, random_state=0).fit(X, y)
    low = ZipMLRegressor(bits=8, model_bits=8, grad_bits=8, eta0=fp32.eta_, random_state=0).fit(X, y)
    assert low.loss_curve_[-1] <= 1.05 * fp32.loss_curve_[-1]


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
@pytest.mark.parametrize("sampling", ["multi", "naive", "nearest"])
@pytest.mark.parametrize("degree", [3, 5, 7])
def test_logistic_kernel_bit_exact(bits, sampling, degree):
    rng = np.random.default_rng(bits * degree)
    X = rng.uniform(size=(25, 41))
    y = np.where(X @ rng.standard_normal(41) > 0, 65536, -65536).astype(np.int32)
    poly = logistic_polynomial(degree, 4.0)
    extra = {"samples_per_value": degree + 1} if sampling == "multi" else {}
    q = quantize(X, bits, sampling=sampling, seed=2, n_copies=2, **extra)
    tail = (degree + 1, 3, 3, 1, F.dot_mult(bits), poly.fixed_coef(), poly.range_q16(), np.zeros(42, np.int32))
    cpp = _kernels.sgd_logistic(q.lines, y, 41, bits, F.sampling_id(sampling), *tail)
    ref = R.sgd_logistic(q.lines, y, 41, bits, sampling, *tail)
    for got, want in zip(cpp, ref, strict=True):  # history, predictions, saturations
        assert np.array_equal(got, want)


@pytest.mark.parametrize("degree, R_", [(3, 4.0), (5, 4.0), (7, 6.0), (7, 2.0**-16), (3, 32.0)])
def test_chebyshev_polynomial_and_its_error(degree, R_):
    p = logistic_polynomial(degree, R_)
    t = np.linspace(-R_, R_, 1001)
    assert np.max(np.abs(p(t) - logistic_derivative(t))) <= p.eps + 1e-12
    # it interpolates h(t) - h(R) t / R at the Chebyshev extrema, +-R among them
    nodes = R_ * np.cos(np.pi * np.arange(degree + 1) / degree)
    tilted = logistic_derivative(nodes) - logistic_derivative(R_) * nodes / R_
    np.testing.assert_allclose(p(nodes), tilted, atol=1e-12)
    # so rows past the range pull by h's limits (0 on the right side, 1 on the wrong one) ...
    np.testing.assert_allclose(p(np.array([R_, -R_])), [0.0, 1.0], atol=1e-12)
    # ... and the error is at least h(R): the value P gives up at R
    assert logistic_derivative(R_) - 1e-12 <= p.eps
    assert np.all(np.abs(p.fixed_coef()) < 2**62)  # (small ranges: rounding noise dropped, not overflowed)
    assert logistic_polynomial(5, 4.0).eps < 0.022 and logistic_polynomial(7, 4.0).eps < 0.019


@pytest.mark.parametrize("degree, R_", [(3, 4.0), (5, 4.0), (7, 4.0), (3, 24.0), (5, 10.0), (5, 2.0**-10)])
def test_rows_past_the_range_do_not_step_in_the_kernels(degree, R_):
    # Every margin past R: the kernels' fixed-point P(R) (Q30 coefficients, Q16 margins) is
    # exactly 0, so neither weights nor intercept move, natively and in the golden model.
    # (With plain Chebyshev interpolation P(4) = 0.0098 at degree 5: every row stepped.)
    rng_ = np.random.default_rng(degree)
    X = rng_.uniform(size=(24, 7))
    q = quantize(X, 4, sampling="double", seed=3, n_copies=1)
    poly = logistic_polynomial(degree, R_)
    model_in = np.zeros(8, np.int32)
    model_in[:7] = rng_.integers(-(1 << 12), 1 << 12, size=7)  # margins from the intercept alone, far past R
    model_in[7] = 1 << 30  # (64 in Q7.24)
    y = np.full(24, 1 << F.LABEL_FRAC, np.int32)
    tail = (degree + 1, 2, 2, 1, F.dot_mult(4), poly.fixed_coef(), poly.range_q16(), model_in)
    for history, predictions, _ in (_kernels.sgd_logistic(q.lines, y, 7, 4, F.sampling_id("double"), *tail),
                                    R.sgd_logistic(q.lines, y, 7, 4, "double", *tail)):
        assert np.all(predictions[:, 0] > poly.range_q16())
        assert np.array_equal(history, np.tile(model_in, (2, 1)))


def test_polynomial_estimator_unbiased_and_within_the_bias_bound():
    # E over the independent samples of -y Q0(a) P^(...) equals -y P(y a^T x) a, so it is
    # within eps ||a|| of the true gradient -y h(y a^T x) a. Checked with 4000 draws of
    # 6 samples of one row at 2 bits (fixed seed), per coordinate within 4 standard errors.
    degree, n = 5, 4000
    poly = logistic_polynomial(degree, 4.0)
    rng = np.random.default_rng(0)
    a = rng.uniform(size=8)
    x = rng.standard_normal(8) * 0.5
    y = 1.0
    rows = np.vstack([np.zeros(8), np.ones(8), np.tile(a, (n, 1))])  # min 0, max 1: no rescaling
    q = quantize(rows, 2, sampling="multi", samples_per_value=degree + 1, seed=11)
    samples = [q.dequantize(sample=m)[2:] for m in range(degree + 1)]
    z = [y * (s @ x) for s in samples[1:]]
    assert max(np.abs(zz).max() for zz in z) < poly.range  # nothing clamped
    h = np.full(n, poly.coef[degree])
    for m in range(degree, 0, -1):
        h = poly.coef[m - 1] + z[m - 1] * h
    g = -y * samples[0] * h[:, None]
    target = -y * poly(y * a @ x) * a
    se = g.std(axis=0) / np.sqrt(n)
    assert np.all(np.abs(g.mean(axis=0) - target) < 4 * se + 1e-12)
    true_grad = -y * logistic_derivative(y * a @ x) * a
    assert np.linalg.norm(target - true_grad) <= poly.eps * np.linalg.norm(a) + 1e-12


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # ends at max_iter on purpose
@pytest.mark.parametrize("loss", ["hinge", "log_loss"])
@pytest.mark.parametrize("bits", [8, 4])
def test_classifier_losses_work_at_low_precision(cancer, loss, bits):
    Xtr, Xte, ytr, yte = cancer
    # The schedule follows the kernels' pass loss, which quantization makes noisier on
    # these 426 rows: scikit-learn's patience of 5 epochs keeps noise from halving the step
    # too early (with 3, 4-bit log_loss stops after 52 epochs at 1.13x fp32's objective).
    fp32 = ZipMLClassifier(loss=loss, bits=32, random_state=0, n_iter_no_change=5).fit(Xtr, ytr)
    low = ZipMLClassifier(loss=loss, bits=bits, random_state=0, n_iter_no_change=5).fit(Xtr, ytr)
    assert fp32.score(Xte, yte) > 0.9
    assert low.score(Xte, yte) >= fp32.score(Xte, yte) - 0.02
    # the training objective of the final models on the full-precision data
    # (loss_curve_ is the kernels' pass estimate, which quantization noise raises for
    # these convex losses)
    signs = np.where(ytr == fp32.classes_[1], 1.0, -1.0)
    objective = [np.mean(LOSSES[loss].objective(signs, m.decision_function(Xtr))) for m in (fp32, low)]
    # measured (fp32 / 8 / 4 bits): hinge 0.0570 / 0.0575 / 0.0623, log_loss 0.0643 / 0.0678 / 0.0785.
    # log_loss's 4-bit ratio is 1.22 (1.15 with plain interpolation, 1.09 from least squares'
    # start): its 4x start took fp32 from 0.0848 to 0.0643, and its polynomial, pinned to 0
    # past a margin of 4, stops where the exact loss still falls on these nearly separable rows
    assert objective[1] <= {"hinge": 1.1, "log_loss": 1.25}[loss] * objective[0]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # ends at max_iter on purpose
def test_predict_proba(cancer):
    Xtr, Xte, ytr, yte = cancer
    m = ZipMLClassifier(loss="log_loss", bits=8, random_state=0).fit(Xtr, ytr)
    p = m.predict_proba(Xte)
    assert p.shape == (len(Xte), 2) and np.allclose(p.sum(axis=1), 1)
    assert np.array_equal(m.classes_[p.argmax(axis=1)], m.predict(Xte))
    np.testing.assert_allclose(np.exp(m.predict_log_proba(Xte)), p, rtol=1e-12)
    hinge = ZipMLClassifier(loss="hinge").fit(Xtr, ytr)
    for method in ("predict_proba", "predict_log_proba"):
        assert not hasattr(hinge, method)
        with pytest.raises(AttributeError, match=f"{method} is available with loss='log_loss'"):
            getattr(hinge, method)(Xte)
    X3 = np.vstack([Xtr, Xtr[:50] * 1.5])
    y3 = np.concatenate([ytr, np.full(50, 2)])
    p3 = ZipMLClassifier(loss="log_loss", bits=8, random_state=0).fit(X3, y3).predict_proba(Xte)
    assert p3.shape == (len(Xte), 3) and np.allclose(p3.sum(axis=1), 1)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # ends at max_iter on purpose
def test_hinge_refetching_band_and_fraction(cancer):
    Xtr, Xte, ytr, yte = cancer
    m8 = ZipMLClassifier(loss="hinge", bits=8, random_state=0).fit(Xtr, ytr)
    m2 = ZipMLClassifier(loss="hinge", bits=2, random_state=0).fit(Xtr, ytr)
    assert len(m8.refetch_fraction_) == m8.n_iter_
    assert 0 < m8.refetch_fraction_[-1] < m2.refetch_fraction_[-1] <= 1  # coarser data, wider band
    off = ZipMLClassifier(loss="hinge", bits=8, refetch=False, random_state=0).fit(Xtr, ytr)
    assert off.refetch_fraction_ == []
    # with every sample refetched the margin test is exact: the band covers the rounding error
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(30, 20))
    q = quantize(X, 2, sampling="double", seed=1)
    full = R.scaled_position(X.astype(np.float32), q.scaling.lo, q.scaling.inv)
    w = rng.integers(-(1 << 24), 1 << 24, size=21).astype(np.int64)
    first, _ = layout.decode_lines(q.lines[0].reshape(30, -1, 8), 2, "double", 20, np.arange(30))
    low = (first * (w[:20] >> 8)).sum(axis=1) * F.dot_mult(2) >> 24
    exact = (full.astype(np.int64) * (w[:20] >> 8)).sum(axis=1) >> 24
    band = ((np.abs(w[:20]).sum() >> 8) * F.dot_mult(2)) >> 24
    assert np.all(np.abs(low - exact) <= band + 1)


def test_bad_loss_parameters(cancer):
    Xtr, _, ytr, _ = cancer
    with pytest.raises(ValueError, match="loss must be one of"):
        ZipMLClassifier(loss="exp").fit(Xtr, ytr)
    with pytest.raises(ValueError, match="poly_degree"):
        ZipMLClassifier(loss="log_loss", poly_degree=4).fit(Xtr, ytr)
    with pytest.raises(ValueError, match="poly_range"):
        ZipMLClassifier(loss="log_loss", poly_range=-1).fit(Xtr, ytr)
    with pytest.raises(ValueError, match="model_bits must be"):
        ZipMLRegressor(model_bits=1).fit(Xtr, ytr)
    with pytest.raises(ValueError, match="bits=32"):
        ZipMLRegressor(bits=32, grad_bits=8).fit(Xtr, ytr)
    with pytest.raises(ValueError, match="not available with loss='log_loss'"):
        ZipMLClassifier(loss="log_loss", model_bits=8).fit(Xtr, ytr)


def test_levels_variance_ratio_and_bits_worth():
    # Lognormal features: optimal levels at b bits match uniform levels at about 1.6-1.9 b
    # bits (measured 1.84x, 1.73x, 1.60x at 2-4 bits on 20000x50); uniform features: no
    # gain, and the interpolated bits of uniform levels are b itself.
    from zipml_hls import experiments

    skewed = experiments.levels_variance(experiments.lognormal_regression(4000, 8, seed=0)[0])
    assert [r["bits"] for r in skewed] == [2, 3, 4]
    assert all(r["ratio"] > 4 and 1.4 < r["bits_ratio"] < 2.0 for r in skewed)
    flat = experiments.levels_variance(np.random.default_rng(0).uniform(size=(4000, 8)))
    assert all(0.95 < r["ratio"] < 1.1 and abs(r["bits_worth"] - r["bits"]) < 0.1 for r in flat)


def test_data_movement_counts_samples_model_and_gradient():
    # 1000 x 64 values per epoch: fp32 moves 32 bits of each of the three per value; 4-bit
    # double data only 6 + 32 + 32; end to end 6 + 4 + 4.
    from zipml_hls import experiments

    rows = {r["precision"]: r for r in experiments.data_movement(1000, 64, bits_list=(4,))}
    per_value = {name: r["total"] * 8 / 64000 for name, r in rows.items()}
    assert per_value == {"fp32": 96, "4-bit double, data only": 70, "4-bit naive, data only": 68,
                         "4-bit double, end to end": 14}
    assert rows["4-bit double, end to end"]["samples"] == 64000 * 6 / 8
