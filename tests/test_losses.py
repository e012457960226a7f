"""Every registered loss on both backends, the registry against its own residuals, and the
squared hinge loss (added through the registry) against its optimum."""

import numpy as np
import pytest
from scipy.optimize import minimize

from zipml_hls import ZipMLClassifier, quantize
from zipml_hls.backend import get_backend
from zipml_hls.reference.losses import FIXED_RESIDUALS, FLOAT_RESIDUALS
from zipml_hls.scaling import LabelScaling
from zipml_hls.spec import format as F
from zipml_hls.spec.losses import CLASSIFIER_LOSSES, LOSSES

LINEAR = [name for name, loss in LOSSES.items() if loss.kernel == "linear"]


def labels_for(loss, y):
    if LOSSES[loss].margin:
        return np.where(y > np.median(y), 1 << F.LABEL_FRAC, -(1 << F.LABEL_FRAC)).astype(np.int32)
    return LabelScaling.fit(y).to_fixed(y)


@pytest.mark.parametrize("loss", LINEAR)
@pytest.mark.parametrize("bits, sampling", [(1, "double"), (2, "double"), (3, "nearest"), (4, "naive"),
                                            (6, "double"), (8, "double")])
def test_linear_kernel_bit_exact_for_every_loss(loss, bits, sampling):
    rng = np.random.default_rng(bits * 7 + len(loss))
    X = rng.uniform(-1, 1, size=(40, 29)).astype(np.float32)
    y = X @ rng.standard_normal(29) + 0.2 * rng.standard_normal(40)
    q = quantize(X, bits, sampling=sampling, seed=5, n_copies=2)
    full = get_backend("hls").positions(X, q.scaling.lo, q.scaling.inv) if LOSSES[loss].refetch else None
    model_in = rng.integers(-(1 << 22), 1 << 22, size=30).astype(np.int32)
    args = (q.lines, labels_for(loss, y), 29, bits, sampling, 3, 4, 1, F.dot_mult(bits), model_in)
    native = get_backend("hls").sgd_linear(*args, loss=loss, full=full)
    golden = get_backend("reference").sgd_linear(*args, loss=loss, full=full)
    for name in native._fields:  # history, predictions, saturations, refetches
        assert np.array_equal(getattr(native, name), getattr(golden, name)), name
    assert not np.array_equal(native.history[-1], model_in)  # it trained


@pytest.mark.parametrize("loss", list(LOSSES))
def test_fp32_kernel_matches_golden_for_every_loss(loss):
    rng = np.random.default_rng(3)
    X = rng.uniform(size=(200, 23)).astype(np.float32)
    y = X @ rng.standard_normal(23)
    y = np.where(y > np.median(y), 1.0, -1.0).astype(np.float32) if LOSSES[loss].margin else y.astype(np.float32)
    init = np.zeros(24, np.float32)
    native = get_backend("hls").sgd_fp32(X, y, 4, 4, 2, init, loss=loss)
    golden = get_backend("reference").sgd_fp32(X, y, 4, 4, 2, init, loss=loss)
    for name in ("history", "predictions"):  # summation order only (docs/FORMATS.md)
        np.testing.assert_allclose(getattr(native, name), getattr(golden, name), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("loss", list(LOSSES))
def test_residual_is_the_derivative_of_the_registered_objective(loss):
    # The kernels' residual r(f, y) must be d/df of the objective the estimators report.
    rng = np.random.default_rng(0)
    f = rng.uniform(-3, 3, 400)
    y = rng.choice([-1.0, 1.0], 400) if LOSSES[loss].margin else rng.uniform(-2, 2, 400)
    f = f[np.abs(y * f - 1) > 1e-3]  # away from the kink of the hinge
    y = y[: f.size]
    h = 1e-6
    numeric = (LOSSES[loss].objective(y, f + h) - LOSSES[loss].objective(y, f - h)) / (2 * h)
    analytic = np.array([FLOAT_RESIDUALS[loss](np.float32(a), np.float32(b)) for a, b in zip(f, y)], np.float64)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-4, atol=1e-4)
    if loss in FIXED_RESIDUALS:  # the fixed-point residual is the same function in Q16
        one = 1 << F.LABEL_FRAC
        fixed = [FIXED_RESIDUALS[loss](int(round(a * one)), int(round(b * one))) / one for a, b in zip(f, y)]
        np.testing.assert_allclose(fixed, numeric, atol=1e-3)


def test_every_registered_loss_is_a_classifier_loss_and_has_a_kernel():
    assert set(CLASSIFIER_LOSSES) == set(LOSSES)
    assert {loss.kernel for loss in LOSSES.values()} <= {"linear", "polynomial"}
    assert len({loss.kernel_id for loss in LOSSES.values()}) == len(LOSSES)


def squared_hinge_optimum(X, y):
    """min over (w, c) of mean (1/2) max(0, 1 - y (X w + c))^2, by L-BFGS (smooth, convex)."""
    A = np.hstack([X, np.ones((X.shape[0], 1))])

    def objective(theta):
        slack = np.maximum(0.0, 1.0 - y * (A @ theta))
        return 0.5 * np.mean(slack**2), -(A.T @ (y * slack)) / len(y)

    res = minimize(objective, np.zeros(A.shape[1]), jac=True, method="L-BFGS-B", options={"maxiter": 5000})
    return res.fun


def test_squared_hinge_reaches_its_optimum():
    rng = np.random.default_rng(4)
    X = rng.uniform(0, 1, size=(3000, 8))
    y = np.where(X @ rng.standard_normal(8) + 0.3 * rng.standard_normal(3000) > 0, 1.0, -1.0)  # not separable
    best = squared_hinge_optimum(X, y)
    # measured: 1.0035 (fp32, 8 bits) and 1.021 at 4 bits, where the pass loss's noise (1% of
    # the loss on 3000 rows) makes the adaptive schedule halve sooner and stop after 29 epochs
    for bits, bound in ((32, 1.01), (8, 1.01), (4, 1.025)):
        est = ZipMLClassifier(loss="squared_hinge", bits=bits, max_iter=60, random_state=0).fit(X, y)
        objective = np.mean(LOSSES["squared_hinge"].objective(y, est.decision_function(X)))
        assert objective <= bound * best, (bits, objective, best)
        assert est.score(X, y) > 0.85


def test_log_loss_reaches_its_optimum():
    # Skewed features (uniform cubed: means near 0.25 of their ranges), labels not separable;
    # the optimum of the exact logistic loss by L-BFGS. Measured 1.0002 (fp32), 1.0061 (8
    # bits) and 1.0041 (4 bits): the polynomial's approximation and the last steps' noise.
    rng = np.random.default_rng(4)
    X = rng.uniform(0, 1, size=(3000, 8)) ** 3
    y = np.where((X - X.mean(0)) @ rng.standard_normal(8) * 4 + 0.5 * rng.standard_normal(3000) > 0, 1.0, -1.0)
    A = np.c_[X, np.ones(len(X))]
    best = minimize(lambda w: np.mean(np.logaddexp(0, -y * (A @ w))), np.zeros(9),
                    jac=lambda w: A.T @ (-y / (1 + np.exp(y * (A @ w)))) / len(y), method="L-BFGS-B",
                    options={"maxiter": 10000, "gtol": 1e-12}).fun
    for bits in (32, 8, 4):
        est = ZipMLClassifier(loss="log_loss", bits=bits, max_iter=60, random_state=0).fit(X, y)
        objective = np.mean(LOSSES["log_loss"].objective(y, est.decision_function(X)))
        assert objective <= 1.012 * best, (bits, objective, best)


def test_log_loss_on_imbalanced_classes_does_not_drift_over_a_long_run():
    # 97/3 classes: most rows lie past the polynomial's range of 4. Interpolating h there
    # left P(4) = 0.0098, a pull that never stops: 8 bits at a constant step of 1/16 for 100
    # epochs ended at 1.236x LogisticRegression's training log loss (0.0875), its pass loss
    # 1.207x its lowest of the first 20 epochs; pinned at P(4) = 0, 1.031x and 0.987x (measured).
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    X, y = make_classification(3500, 20, weights=[0.97], random_state=0)
    signs = np.where(y == 1, 1.0, -1.0)
    A = StandardScaler().fit_transform(X)
    best = np.mean(LOSSES["log_loss"].objective(signs, LogisticRegression(C=1e4, max_iter=10000).fit(A, y)
                                                .decision_function(A)))
    est = ZipMLClassifier(loss="log_loss", bits=8, eta0=2**-4, decay_epochs=0, max_iter=100, random_state=0).fit(X, y)
    curve = np.ravel(est.loss_curve_)
    objective = np.mean(LOSSES["log_loss"].objective(signs, est.decision_function(X)))
    assert objective <= 1.06 * best, (objective, best)
    assert curve[-1] <= 1.02 * np.min(curve[:20])  # (the pass loss: no rise after the first epochs)


def test_log_loss_starts_at_a_larger_step_for_its_flatter_curvature():
    # The logistic loss's second derivative is at most 1/4 (Loss.flatter = 2): the automatic
    # start is 4x least squares' (at most 1/2), and halves as far as before. One-vs-rest
    # on iris (splits of seeds 0-2, 8 bits, defaults): training log loss 0.2086, 1.16x
    # LogisticRegression's 0.1794; from least squares' start 0.2307, 1.29x (measured).
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from zipml_hls.step_size import automatic_start

    assert automatic_start(10.0, 1.0, 5.0, 0.05, 4, True, flatter=2) == (2, 5, 1, True)
    assert automatic_start(1.0, 1.0, 0.0, 0.05, 4, True, flatter=2) == (1, 0, 0, False)  # (at most 1/2)
    assert automatic_start(10.0, 1.0, 5.0, 0.05, 4, False, flatter=2) == (7, 0, 0, False)  # damped: as before
    assert LOSSES["log_loss"].flatter == 2 and all(LOSSES[n].flatter == 0 for n in LOSSES if n != "log_loss")

    X, y = load_iris(return_X_y=True)
    ours, reference = [], []
    for seed in range(3):
        Xtr, _, ytr, _ = train_test_split(X, y, test_size=0.3, random_state=seed, stratify=y)
        est = ZipMLClassifier(loss="log_loss", bits=8, random_state=seed).fit(Xtr, ytr)
        A = StandardScaler().fit_transform(Xtr)
        for k, scores in enumerate(est.decision_function(Xtr).T):
            signs = np.where(ytr == k, 1.0, -1.0)
            ours.append(np.mean(LOSSES["log_loss"].objective(signs, scores)))
            lr = LogisticRegression(C=1e4, max_iter=20000).fit(A, ytr == k)
            reference.append(np.mean(LOSSES["log_loss"].objective(signs, lr.decision_function(A))))
    assert np.mean(ours) <= 1.2 * np.mean(reference), (np.mean(ours), np.mean(reference))


def test_the_margin_losses_double_a_start_that_the_heaviest_row_set():
    # digits 8-vs-rest: rare pixels carry step multipliers up to 2^10, so the largest row's R
    # (1806) is 13x the median row's and sets a start of 2^-11. Doubling while the loss falls
    # (Loss.doublings) ends squared hinge at 1.241x / 1.345x LinearSVC's objective at 8 / 4
    # bits; without, 1.714x / 1.875x (measured).
    from sklearn.datasets import load_digits
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    from zipml_hls.step_size import automatic_start

    assert automatic_start(10.0, 1.0, 5.0, 0.05, 4, True, doublings=4) == (4, 3, 4, True)
    assert automatic_start(10.0, 1.0, 5.0, 2.5, 2, True, doublings=4) == (7, 0, 4, True)  # damped starts too
    assert automatic_start(10.0, 1.0, 5.0, 0.05, 4, False, doublings=4) == (7, 0, 0, False)  # not fixed schedules
    assert [n for n in LOSSES if LOSSES[n].doublings] == ["hinge", "squared_hinge"]

    X, y = load_digits(return_X_y=True)
    X, y = X[:1257], y[:1257] == 8
    signs = np.where(y, 1.0, -1.0)
    A = StandardScaler().fit_transform(X)
    best = np.mean(LOSSES["squared_hinge"].objective(signs, LinearSVC(C=1e4, max_iter=200000, tol=1e-8)
                                                     .fit(A, y).decision_function(A)))
    for bits in (8, 4):
        est = ZipMLClassifier(bits=bits, random_state=0).fit(X, y)
        objective = np.mean(LOSSES["squared_hinge"].objective(signs, est.decision_function(X)))
        assert objective <= 1.45 * best, (bits, objective / best)


def test_a_low_precision_fit_that_falls_towards_one_class_warns():
    # 5000 x 50 Gaussian features, 60/40 (LogisticRegression: 0.93 on the training rows).
    # Squared hinge at 1 bit predicted 80% of the rows as the 60% class (measured, seed 0)
    # and warns; hinge at 1 bit (39% predicted positive) and squared hinge at 4 bits do not.
    import warnings

    rng = np.random.default_rng(0)
    X = rng.normal(size=(5000, 50))
    y = (X @ rng.normal(size=50) + rng.logistic(size=5000) > 2).astype(int)
    with pytest.warns(UserWarning, match=r"at 1 bit the model predicts 8\d\.\d% of the training rows as class 0, "
                                         r"which holds 60\.\d% of them: at this width loss='squared_hinge'"):
        ZipMLClassifier(bits=1, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ZipMLClassifier(bits=1, loss="hinge", random_state=0).fit(X, y)
        ZipMLClassifier(bits=4, random_state=0).fit(X, y)
        # weights move the shares on purpose: 'balanced' (50/50 by weight) puts about 45% in
        # class 1, between its 40% of the rows and 50% of the weight: silent
        ZipMLClassifier(bits=1, class_weight="balanced", random_state=0).fit(X, y)
    # class 1 at 3 times the weight holds 66% of it, and fp32 and 4 bits predict 46% of the
    # rows as class 1; 1 bit predicts 83%, beyond both shares
    with pytest.warns(UserWarning, match=r"predicts 8\d\.\d% of the training rows as class 1, which holds 39\.\d% "
                                         r"of them and 66\.\d% of their weight"):
        ZipMLClassifier(bits=1, class_weight={0: 1.0, 1: 3.0}, random_state=0).fit(X, y)


def test_a_margin_run_that_drifts_stops_and_starts_again_at_half_the_step(monkeypatch):
    # Squared hinge at 2 bits on 20000 x 50 Gaussian rows, 60/40: from the automatic start
    # (2^-8) the weights grow and the loss with them, to 300 times the zero model's at 2^-8
    # and 200 times at 2^-9, and each such run ran its 25 epochs before it was judged and
    # started again at half the step (100 epochs in all, the last run at 2^-11). A run now
    # stops once its loss passes twice the zero model's, the pass loss and at full precision
    # on 4096 rows: after 2 and 4 epochs there (2^-10's run stays under twice at full
    # precision, so it runs on), the same last run and model in 56 epochs.
    from zipml_hls import linear_model, step_size

    rng = np.random.default_rng(0)
    X = rng.normal(size=(20000, 50))
    y = (X @ rng.normal(size=50) + rng.logistic(size=20000) > 2).astype(int)
    epochs = []
    update = step_size.AdaptiveSchedule.update
    monkeypatch.setattr(step_size.AdaptiveSchedule, "update",
                        lambda self, *a: (epochs.append(self.shift), update(self, *a))[1])
    fits = []
    for ratio in (np.inf, linear_model.MARGIN_DRIFT_RATIO):
        monkeypatch.setattr(linear_model, "MARGIN_DRIFT_RATIO", ratio)
        epochs.clear()
        fits.append((ZipMLClassifier(bits=2, random_state=0).fit(X, y), list(epochs)))
    (slow, slow_epochs), (fast, fast_epochs) = fits
    assert np.array_equal(slow.coef_, fast.coef_) and slow.eta_ == fast.eta_ == 2.0**-11
    # (a stopped run's last epoch is not counted by its schedule)
    assert slow_epochs.count(8) == 4 and fast_epochs.count(8) == 1
    assert len(slow_epochs) == 100 and len(fast_epochs) == 54


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning", "ignore::UserWarning")
def test_a_run_stopped_for_drift_keeps_its_curves_in_step(monkeypatch):
    # every run stops after its first epoch (a ratio of 0): the last run's training and
    # held-out curves still have one entry per epoch, and the fit is judged a failure
    from zipml_hls import linear_model

    monkeypatch.setattr(linear_model, "MARGIN_DRIFT_RATIO", -1.0)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 5))
    y = (X[:, 0] > 0).astype(int)
    m = ZipMLClassifier(bits=2, early_stopping=True, random_state=0).fit(X, y)
    assert m.n_iter_ == 1 and len(m.loss_curve_) == len(m.validation_loss_curve_) == 1


def test_the_majority_warning_suggests_other_losses_and_more_bits():
    # the losses named are the others, and a fit at more bits tells the width from the data
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5000, 50))
    y = (X @ rng.normal(size=50) + rng.logistic(size=5000) > 2).astype(int)
    with pytest.warns(UserWarning, match=r"loss='squared_hinge' can fall towards one class; compare a fit at more "
                                         r"bits \(where it does the same, the data do it\) and the losses "
                                         r"'squared_error', 'hinge', 'log_loss' \("):
        ZipMLClassifier(bits=1, random_state=0).fit(X, y)


@pytest.mark.parametrize("offset, share", [(-4.0, "14\\.0"), (-8.0, "1\\.6")])
def test_a_low_precision_fit_that_loses_a_minority_class_warns(offset, share):
    # 50000 rows, 14% positives (Gaussian, log-normal and one-hot columns): at 1 bit squared
    # hinge predicted 0.05% of the rows positive (fp32: 7.5%), which the 15%-excess test
    # cannot see (86% -> 99.95%); a class predicted for at most a quarter of its rows warns.
    # With 1.6% positives: none at 1 bit, 0.12% at 2 bits (fp32 0.66%, 4 bits 0.70%).
    import warnings

    r = np.random.default_rng(0)
    n = 50000
    X = np.column_stack([r.normal(size=(n, 8)), r.lognormal(size=(n, 5)), np.eye(4)[r.integers(0, 4, n)]])
    z = X @ r.normal(size=17) * 0.5 + offset
    y = (r.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    with pytest.warns(UserWarning, match=r"at 1 bit the model predicts 0\.\d% of the training rows as class 1, "
                                         rf"which holds {share}% of them"):
        ZipMLClassifier(bits=1, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ZipMLClassifier(bits=4, random_state=0).fit(X, y)


def test_centring_speeds_log_loss_up_on_breast_cancer():
    # 30 correlated min/max-scaled features with large means: centred (precondition, the
    # default) the fit's training log loss after 30 epochs is 0.077-0.082 at 32, 8 and 4
    # bits; uncentred 0.084-0.090 (measured, seed 0). (From least squares' smaller start,
    # Loss.flatter = 0, centring saved 18-19%: 0.102-0.105 against 0.127-0.128.)
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    for bits in (32, 8, 4):
        losses = []
        for precondition in (True, False):
            est = ZipMLClassifier(loss="log_loss", bits=bits, precondition=precondition, max_iter=30, tol=0.0,
                                  n_iter_no_change=1000, random_state=0)
            with pytest.warns(Warning, match="max_iter"):
                est.fit(X, y)
            assert est.n_iter_ == 30
            losses.append(np.mean(LOSSES["log_loss"].objective(np.where(y == 1, 1.0, -1.0),
                                                               est.decision_function(X))))
        assert losses[0] < 0.95 * losses[1], (bits, losses)


def test_margin_losses_stop_on_their_own_on_digits():
    # The adaptive schedule's floor for margin losses (a quarter of the zero model's loss):
    # squared hinge at 8 bits on digits stopped after 75 epochs (74 before its doublings,
    # Loss.doublings); without the floor it ran all 100 and warned, the loss still creeping
    # down by more than tol relative.
    import warnings

    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = ZipMLClassifier(bits=8, random_state=0).fit(X_train, y_train)
    assert est.n_iter_ < 90 and est.score(X_test, y_test) > 0.94


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge"])
@pytest.mark.parametrize("bits", [1, 2, 4, 8])
@pytest.mark.parametrize("sampling", ["double", "naive", "nearest"])
@pytest.mark.parametrize("conditioned", [False, True])
def test_margin_losses_on_the_fast_path_equal_the_portable_kernel_and_golden(loss, bits, sampling, conditioned):
    # The AVX-512 path (where built) covers the margin losses: rows with a zero residual
    # (margin beyond 1) step nothing, refetched rows step by their full-precision values
    # and the band's l1 follows the model; rows in a shuffled order, 2.5 lines per row.
    rng = np.random.default_rng(bits * 31 + len(loss) + conditioned)
    k = F.values_per_line(bits, sampling)
    d = 2 * k + k // 2
    X = rng.uniform(-1, 1, size=(120, d)).astype(np.float32)
    y = X @ rng.standard_normal(d)
    q = quantize(X, bits, sampling=sampling, seed=3)
    full = get_backend("hls").positions(X, q.scaling.lo, q.scaling.inv) if loss == "hinge" else None
    order = rng.permutation(120)
    labels = labels_for(loss, y)[order]
    extra = {}
    if conditioned:
        extra = dict(feature_shifts=rng.integers(0, 3, d).astype(np.uint8),
                     centers=rng.integers(0, F.max_code(bits) + 1, d).astype(np.int32))
    args = (q.lines, labels, d, bits, sampling, 4, 3, 1, F.dot_mult(bits), np.zeros(d + 1, np.int32))
    kw = dict(loss=loss, full=full, rows=order, seed=9, **extra)
    fast = get_backend("hls").sgd_linear(*args, **kw)
    for other in (get_backend("hls").sgd_linear(*args, portable=True, **kw),
                  get_backend("reference").sgd_linear(*args, **kw)):
        for name in fast._fields:  # history, predictions, saturations, refetches
            assert np.array_equal(getattr(fast, name), getattr(other, name)), name
    margins = (labels / 2.0**F.LABEL_FRAC) * fast.predictions[:, 0] / 2.0**F.LABEL_FRAC
    assert (margins > 1).sum() >= 10  # rows without a step were visited
    if loss == "hinge":
        assert fast.refetches.sum() >= 5


@pytest.mark.parametrize("bits, sampling", [(3, "double"), (4, "naive"), (6, "double"), (8, "nearest")])
def test_refetching_hinge_with_sample_weights_equals_the_portable_kernel_and_golden(bits, sampling):
    # The SIMD paths' refetch (AVX2: every width; AVX-512: 1, 2, 4, 8 bits) with weighted
    # residuals (weights up to 2^12: steps past the narrow lanes), per-feature step
    # exponents and centers, d not a multiple of 8 (the positions' scalar tail), rows shuffled.
    rng = np.random.default_rng(bits)
    d = 37
    X = rng.uniform(-1, 1, size=(150, d)).astype(np.float32)
    y = X @ rng.standard_normal(d)
    q = quantize(X, bits, sampling=sampling, seed=2)
    full = get_backend("hls").positions(X, q.scaling.lo, q.scaling.inv)
    order = rng.permutation(150)
    labels = labels_for("hinge", y)[order]
    weights = (rng.uniform(0, 1, 150) ** 4 * 2.0**28).astype(np.int32)  # Q16: mostly small, a few up to 2^12
    kw = dict(loss="hinge", full=full, rows=order, seed=4, sample_weights=weights,
              feature_shifts=rng.integers(0, 4, d).astype(np.uint8),
              centers=rng.integers(0, F.max_code(bits) + 1, d).astype(np.int32))
    args = (q.lines, labels, d, bits, sampling, 3, 4, 1, F.dot_mult(bits), np.zeros(d + 1, np.int32))
    fast = get_backend("hls").sgd_linear(*args, **kw)
    for other in (get_backend("hls").sgd_linear(*args, portable=True, **kw),
                  get_backend("reference").sgd_linear(*args, **kw)):
        for name in fast._fields:  # history, predictions, saturations, refetches
            assert np.array_equal(getattr(fast, name), getattr(other, name)), name
    assert 20 <= fast.refetches.sum() < 3 * 150  # refetched rows and rows stepped by their codes
