"""Sample weights, class weights and the L2 / L1 penalties: in the kernels (bit for bit
against the golden model and its vectors), and in the estimators with scikit-learn's
meanings (weighted least squares, ridge, lasso, elastic net as closed-form or
scikit-learn's solvers give them)."""

import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import ElasticNet, Lasso, Ridge
from sklearn.utils.class_weight import compute_sample_weight

from zipml_hls import ZipMLClassifier, ZipMLRegressor, _kernels, quantize
from zipml_hls import reference as R
from zipml_hls.backend import get_backend
from zipml_hls.scaling import FeatureScaling
from zipml_hls.spec import format as F

from kernel_checks import AVX2_LINEAR

VECTORS = Path(__file__).resolve().parents[1] / "testbench" / "vectors"


def _case(name):
    folder = VECTORS / name
    params = dict(line.split() for line in (folder / "params.txt").read_text().splitlines())
    params = {k: int(v) for k, v in params.items()}

    def arr(fname, dtype):
        return np.fromfile(folder / fname, dtype=dtype)
    return folder, params, arr


def _regularized_cases(kind):
    cases = [line.split()[1] for line in (VECTORS / "index.txt").read_text().splitlines() if line.startswith(kind)]
    return [c for c in cases if any((VECTORS / c / f"{k}.i32").exists() for k in ("sample_weights", "decay", "l1"))]


def _reg_arrays(folder):
    return {k: np.fromfile(folder / f"{k}.i32", dtype=np.int32) if (folder / f"{k}.i32").exists() else None
            for k in ("sample_weights", "decay", "l1")}


@pytest.mark.parametrize("name", _regularized_cases("sgd"))
@pytest.mark.parametrize("portable", [True, False])
def test_native_linear_kernel_reproduces_the_weighted_and_penalized_vectors(name, portable):
    # The golden model wrote these; the C++ (portable, and the AVX-512 path where it covers
    # the case: sample weights) must give the same model history, predictions and counts.
    folder, p, arr = _case(name)
    n, d, epochs = p["n"], p["d"], p["epochs"]
    data = arr("data.u64", np.uint64).reshape(p["n_copies"], n, -1)
    values = arr("values.i32", np.int32).reshape(d, -1) if p["tables"] else None
    shifts = arr("feature_shifts.u8", np.uint8) if p.get("feature_shifts") else None
    centers = arr("centers.i32", np.int32) if p.get("centers") else None
    variance = arr("variances.i32", np.int32) if p.get("stored_variance") else None
    full = arr("full.u32", np.uint32).reshape(n, d) if (folder / "full.u32").exists() else None
    hist, pred, sat, ref = _kernels.sgd_linear(
        data, arr("labels.i32", np.int32), d, p["bits"], p["sampling"], epochs, p["step_shift"], p["decay_epochs"],
        p["dot_mult"], arr("model_in.i32", np.int32), values=values, loss=p["loss"], model_bits=p["model_bits"],
        grad_bits=p["grad_bits"], model_quantization=p.get("model_quantization", 0), seed=p["rng_seed"], full=full,
        feature_shifts=shifts, centers=centers, portable=portable, stored_variance=variance,
        fit_intercept=bool(p.get("fit_intercept", 1)), **_reg_arrays(folder))
    assert np.array_equal(hist.ravel(), arr("expected.i32", np.int32))
    assert np.array_equal(pred.ravel(), arr("predictions.i32", np.int32))
    assert np.array_equal(sat, arr("saturations.i32", np.int32))
    if full is not None:
        assert np.array_equal(ref, arr("refetches.i32", np.int32))


def _quantized_problem(bits, sampling, n=40, d=37, seed=5):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, d)).astype(np.float32)
    y = X @ rng.standard_normal(d)
    sc = FeatureScaling.fit(X)
    data = R.quantize_matrix(X, sc.lo, sc.inv, None, bits, sampling, 3, 1)
    labels = np.round(y / np.abs(y).max() * (1 << F.LABEL_FRAC)).astype(np.int32)
    model_in = rng.integers(-(1 << 20), 1 << 20, size=d + 1).astype(np.int32)
    return data, labels, d, model_in


@pytest.mark.parametrize("bits,sampling", [(1, "double"), (2, "naive"), (4, "double"), (8, "double"), (3, "nearest")])
@pytest.mark.parametrize("portable", [True, False])
def test_unit_weights_and_zero_penalties_are_the_plain_kernel_bit_for_bit(bits, sampling, portable):
    # A weight of 1 (2^16) leaves each residual exact and a zero coefficient decays and
    # thresholds by 0, so these calls equal the plain kernel's outputs exactly.
    data, labels, d, model_in = _quantized_problem(bits, sampling)
    args = (data, labels, d, bits, F.sampling_id(sampling), 3, 4, 1, F.dot_mult(bits), model_in)
    plain = _kernels.sgd_linear(*args, seed=9, portable=portable)
    ones = np.full(len(labels), 1 << F.WEIGHT_FRAC, np.int32)
    zeros = np.zeros(d, np.int32)
    for extra in ({"sample_weights": ones}, {"decay": zeros}, {"l1": zeros},
                  {"sample_weights": ones, "decay": zeros, "l1": zeros}):
        got = _kernels.sgd_linear(*args, seed=9, portable=portable, **extra)
        for a, b in zip(plain, got):
            assert np.array_equal(a, b), extra


def test_kernel_rejects_bad_weights_and_penalties():
    data, labels, d, model_in = _quantized_problem(2, "double")
    args = (data, labels, d, 2, F.sampling_id("double"), 1, 4, 0, F.dot_mult(2), model_in)
    with pytest.raises(ValueError, match=r"sample_weights must be in \[0, 2147483647\].*at sample 3"):
        w = np.full(len(labels), 1 << 16, np.int32)
        w[3] = -1
        _kernels.sgd_linear(*args, sample_weights=w)
    with pytest.raises(ValueError, match=r"decay must be an int32 array of shape \(37,\)"):
        _kernels.sgd_linear(*args, decay=np.zeros(5, np.int32))
    with pytest.raises(ValueError, match="sample_weights must be an int32 array of shape"):
        _kernels.sgd_linear(*args, sample_weights=np.zeros(len(labels) + 1, np.int32))


# ------------------------------------------------------------------ estimators
def _regression(n=400, d=6, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ rng.uniform(-2, 2, d) + 0.5 + 0.3 * rng.standard_normal(n)
    return X, y


def _standardized_diabetes():
    """scikit-learn's diabetes data, features standardized and the target too."""
    from sklearn.datasets import load_diabetes
    from sklearn.preprocessing import StandardScaler

    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), (y - y.mean()) / y.std()


def _weighted_least_squares(X, y, w):
    A = np.c_[X, np.ones(len(y))]
    s = np.sqrt(w)
    return np.linalg.lstsq(A * s[:, None], y * s, rcond=None)[0]


def _model(m):
    return np.r_[m.coef_, m.intercept_]


def _rel(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


@pytest.mark.parametrize("bits,each,means", [(8, 0.003, 0.002), (2, 0.1, 0.05)])
def test_integer_weights_equal_repeated_rows_in_expectation(bits, each, means):
    # Weights 0..3 against the data with each row repeated that many times, 5 seeds each:
    # every fit is within `each` (relative) of the weighted least-squares solution, and the
    # two means over seeds within `means` of each other; ignoring the weights would miss
    # by far more (checked first, so the test can fail).
    X, y = _regression()
    w = np.random.default_rng(0).integers(0, 4, len(y)).astype(float)
    y = y + (3.0 - w) * X[:, 0]  # the slope of feature 0 depends on the weight: weights matter
    wls = _weighted_least_squares(X, y, w)
    assert _rel(_weighted_least_squares(X, y, np.ones(len(y))), wls) > 2 * each
    repeated = np.repeat(np.arange(len(y)), w.astype(int))
    weighted = [_model(ZipMLRegressor(bits=bits, random_state=s).fit(X, y, sample_weight=w)) for s in range(5)]
    copies = [_model(ZipMLRegressor(bits=bits, random_state=s).fit(X[repeated], y[repeated])) for s in range(5)]
    for a in weighted + copies:
        assert _rel(a, wls) < each
    assert _rel(np.mean(weighted, axis=0), np.mean(copies, axis=0)) < means


def test_zero_weight_equals_removal():
    # Every fifth row is an outlier (+100) with weight 0: the fit matches least squares on
    # the other rows, as a fit without them does (within 0.003 relative, 8 bits).
    X, y = _regression()
    y = y.copy()
    y[::5] += 100.0
    w = np.ones(len(y))
    w[::5] = 0.0
    kept = w > 0
    ls = _weighted_least_squares(X[kept], y[kept], np.ones(kept.sum()))
    weighted = ZipMLRegressor(random_state=1).fit(X, y, sample_weight=w)
    removed = ZipMLRegressor(random_state=1).fit(X[kept], y[kept])
    assert _rel(_model(weighted), ls) < 0.003 and _rel(_model(removed), ls) < 0.003


@pytest.mark.parametrize("backend_pair", [("hls", "reference")])
@pytest.mark.parametrize("kwargs", [
    dict(bits=8, penalty="elasticnet", alpha=0.01),
    dict(bits=2, sampling="naive", penalty="l2", alpha=0.05),
    dict(bits=4, penalty="l1", alpha=0.01, n_jobs=2),
])
def test_weighted_penalized_regressor_is_bit_identical_on_both_backends(backend_pair, kwargs):
    X, y = _regression(n=120, d=5)
    w = np.random.default_rng(2).uniform(0, 3, len(y))
    models = [ZipMLRegressor(random_state=4, max_iter=4, decay_epochs=2, backend=b, **kwargs).fit(X, y, sample_weight=w)
              for b in backend_pair]
    assert np.array_equal(models[0].coef_, models[1].coef_)
    assert np.array_equal(models[0].intercept_, models[1].intercept_)


@pytest.mark.parametrize("kwargs", [dict(loss="hinge", bits=2), dict(loss="log_loss", bits=4, poly_degree=3),
                                    dict(loss="squared_hinge", bits=8)])
def test_class_weighted_penalized_classifier_is_bit_identical_on_both_backends(kwargs):
    rng = np.random.default_rng(6)
    X = rng.standard_normal((90, 4))
    y = np.where(X[:, 0] + 0.3 * rng.standard_normal(90) > 0.6, "b", "a")
    models = [ZipMLClassifier(random_state=4, max_iter=3, decay_epochs=1, backend=b, class_weight="balanced",
                              penalty="elasticnet", alpha=0.01, **kwargs).fit(X, y) for b in ("hls", "reference")]
    assert np.array_equal(models[0].coef_, models[1].coef_)
    assert np.array_equal(models[0].intercept_, models[1].intercept_)


def test_fp32_weights_and_penalties_match_the_reference_to_float32_rounding():
    X, y = _regression(n=120, d=5)
    w = np.random.default_rng(2).uniform(0, 3, len(y))
    a, b = (ZipMLRegressor(bits=32, random_state=4, max_iter=4, decay_epochs=2, backend=be, penalty="elasticnet",
                           alpha=0.05).fit(X, y, sample_weight=w) for be in ("hls", "reference"))
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_class_weight_balanced_equals_its_sample_weights(n_classes):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((150, 4))
    y = np.digitize(X[:, 0] + 0.5 * X[:, 1], [0.5, 1.2][:n_classes - 1])
    a = ZipMLClassifier(random_state=0, class_weight="balanced").fit(X, y)
    b = ZipMLClassifier(random_state=0).fit(X, y, sample_weight=compute_sample_weight("balanced", y))
    assert np.array_equal(a.coef_, b.coef_) and np.array_equal(a.intercept_, b.intercept_)
    c = ZipMLClassifier(random_state=0, class_weight={k: 1.0 + k for k in range(n_classes)}).fit(X, y)
    d = ZipMLClassifier(random_state=0).fit(X, y, sample_weight=1.0 + y)
    assert np.array_equal(c.coef_, d.coef_)
    assert not np.array_equal(a.coef_, ZipMLClassifier(random_state=0).fit(X, y).coef_)


def test_class_weight_moves_the_boundary_towards_the_light_class():
    # 90% of the rows in class 0: 'balanced' weights raise the recall of class 1.
    rng = np.random.default_rng(8)
    X = rng.standard_normal((600, 2))
    y = (X[:, 0] + 0.8 * rng.standard_normal(600) > 1.3).astype(int)
    plain = ZipMLClassifier(random_state=0).fit(X, y)
    balanced = ZipMLClassifier(random_state=0, class_weight="balanced").fit(X, y)
    recall = [np.mean(m.predict(X[y == 1]) == 1) for m in (plain, balanced)]
    assert recall[1] > recall[0] + 0.2


@pytest.mark.parametrize("bits", [8, 32])
@pytest.mark.parametrize("alpha", [0.01, 0.1, 1.0])
def test_l2_penalty_converges_to_ridge(bits, alpha):
    # (1/2n) sum (f - y)^2 + (alpha/2) |w|^2 is Ridge(alpha=n alpha) (intercept unpenalised):
    # within 0.01 relative of its solution, and the norm shrinks as alpha grows.
    X, y = _regression()
    ridge = Ridge(alpha=len(y) * alpha).fit(X, y)
    m = ZipMLRegressor(bits=bits, alpha=alpha, random_state=0).fit(X, y)
    assert _rel(_model(m), np.r_[ridge.coef_, ridge.intercept_]) < 0.01
    assert np.linalg.norm(ridge.coef_) < np.linalg.norm(ZipMLRegressor(bits=bits, random_state=0).fit(X, y).coef_)


def test_nearly_even_weights_step_once_by_their_weight():
    # Positive weights with E[u^2] / E[u]^2 up to 1.25 are not split (splitting would make
    # up to 1.5n visits for noise at most 25% above even weights'): uniform(0.5, 1.5) (1.08),
    # 'balanced' classes at 45/55 (1.01) and 30/70 (1.19), but 20/80 (1.56) and
    # Exponential(1) weights (2.0) are; rows of weight 0 do not count, and unshuffled rows
    # are never split.
    from sklearn.utils.class_weight import compute_sample_weight

    rng = np.random.default_rng(0)
    m = ZipMLRegressor()
    balanced = [compute_sample_weight("balanced", (np.arange(1000) < 10 * p).astype(int)) for p in (45, 30, 20)]
    assert m._visits(rng.uniform(0.5, 1.5, 1000)) is None
    assert m._visits(balanced[0]) is None and m._visits(balanced[1]) is None
    assert m._visits(balanced[2]).sum() == 1400  # its 200 rows of weight 2.5: 3 visits each
    assert m._visits(np.r_[np.zeros(500), np.ones(500)]) is None
    assert m._visits(rng.exponential(size=1000)) is not None
    assert ZipMLRegressor(shuffle=False)._visits(rng.exponential(size=1000)) is None


@pytest.mark.parametrize("penalty", ["l2", "l1"])
def test_penalties_with_heavy_rows_split_into_visits_keep_the_weighted_objective(penalty):
    # Lognormal weights split the heavy rows into 1.5 n visits an epoch; the penalty acts at
    # every visit, so each takes n / (visits) of it: the weighted Ridge and Lasso solutions
    # (Lasso rescales the weights to sum to n: alpha over the mean weight) within 0.01
    # relative (measured 0.0007); the whole penalty at every visit misses by 0.035.
    X, y = _regression()
    w = np.random.default_rng(5).lognormal(0.0, 1.0, len(y))
    # and with 80% of the rows at weight 0, visited once each (never visited, the other
    # rows' visits took about 3 times the penalty each, past the kernels' bound of 1/2 per step:
    # 0.015 off Ridge, 0.16 off Lasso)
    for weights, alpha in ((w, 0.1), (np.where(np.arange(len(y)) % 5 == 0, w, 0.0), 0.07)):
        if penalty == "l2":
            ref = Ridge(alpha=len(y) * alpha).fit(X, y, sample_weight=weights)
        else:
            ref = Lasso(alpha=alpha / weights.mean()).fit(X, y, sample_weight=weights)
        m = ZipMLRegressor(bits=8, penalty=penalty, alpha=alpha, random_state=0).fit(X, y, sample_weight=weights)
        visits = m._visits(m._gained(weights, False, len(y)))
        assert 1.1 < visits.sum() / len(y) < 1.6
        assert _rel(_model(m), np.r_[ref.coef_, ref.intercept_]) < 0.01


def test_l2_penalty_on_features_of_different_ranges_is_in_original_units():
    # Feature ranges 0.1 to 50: the penalty is on the original coefficients, as Ridge's.
    X, y = _regression()
    X = X * np.array([0.1, 1.0, 5.0, 50.0, 2.0, 0.5])
    ridge = Ridge(alpha=len(y) * 0.05).fit(X, y)
    m = ZipMLRegressor(alpha=0.05, random_state=0).fit(X, y)
    np.testing.assert_allclose(m.coef_, ridge.coef_, rtol=0.02, atol=0.01 * np.abs(ridge.coef_).max())


@pytest.mark.parametrize("penalty,reference", [("l1", lambda a: Lasso(alpha=a)),
                                               ("elasticnet", lambda a: ElasticNet(alpha=a, l1_ratio=0.15))])
def test_l1_and_elasticnet_converge_to_scikit_learns_solutions(penalty, reference):
    # scikit-learn's Lasso and ElasticNet minimise the same objective: within 0.02 of their
    # coefficients; Lasso's two zeros (irrelevant features) stay below 1e-3 (the proximal
    # step of SGD leaves the last sample's gradient noise on them, not an exact 0).
    X, y = _regression()
    X[:, 4:] = np.random.default_rng(9).standard_normal((len(y), 2))
    y = X[:, :4] @ np.array([1.5, -2.0, 0.7, 0.2]) + 0.3 * np.random.default_rng(1).standard_normal(len(y))
    alpha = 0.1
    ref = reference(alpha).fit(X, y)
    m = ZipMLRegressor(penalty=penalty, alpha=alpha, random_state=0).fit(X, y)
    np.testing.assert_allclose(m.coef_, ref.coef_, atol=0.02)
    if penalty == "l1":
        assert np.all(ref.coef_[4:] == 0.0) and np.all(np.abs(m.coef_[4:]) < 1e-3)


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_a_large_l1_penalty_on_standardized_data_reaches_lassos_objective(penalty):
    # On standardized diabetes, 2^p_j alpha / (s range_j) passes the kernels' 1/2 per unit
    # step from alpha of about 0.1 at the preconditioner's multipliers: those are lowered
    # for it (as for L2), so every alpha keeps its own objective, with no capping warning.
    # The objective 0.5 MSE + alpha (r |w|_1 + (1 - r)/2 |w|^2) within 0.5% of
    # scikit-learn's (and its all-zero model at alpha = 1 for the lasso); before, every
    # alpha from 0.1 up gave one model.
    X, y = _standardized_diabetes()
    r = 1.0 if penalty == "l1" else 0.5
    for alpha in (0.3, 1.0):
        ref = (Lasso(alpha=alpha) if penalty == "l1" else ElasticNet(alpha=alpha, l1_ratio=r)).fit(X, y)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no capping warning
            m = ZipMLRegressor(penalty=penalty, alpha=alpha, l1_ratio=r, random_state=0).fit(X, y)

        def objective(coef, intercept):
            return (0.5 * np.mean((X @ coef + intercept - y) ** 2) + alpha * r * np.abs(coef).sum()
                    + 0.5 * alpha * (1 - r) * coef @ coef)
        assert objective(m.coef_, m.intercept_) <= 1.005 * objective(ref.coef_, ref.intercept_), alpha
    if penalty == "l1":
        assert np.all(ref.coef_ == 0.0) and np.abs(m.coef_).max() < 1e-3


def test_partial_fit_with_a_new_alpha_lowers_the_multipliers_for_it():
    # The step multipliers are lowered for the penalty of the first call; a larger alpha set
    # between calls lowers them again, so it is not capped: on standardized diabetes the
    # lasso at alpha 1 after one call at 0.01 ends at Lasso's all-zero model (before: the
    # cap of the first call's multipliers left |coef|_1 = 0.76, silently).
    X, y = _standardized_diabetes()
    m = ZipMLRegressor(penalty="l1", alpha=0.01, random_state=0).partial_fit(X, y)
    m.set_params(alpha=1.0)
    for _ in range(60):
        m.partial_fit(X, y)
    assert np.abs(m.coef_).max() < 1e-3


def test_penalty_none_or_alpha_zero_is_the_unregularised_fit():
    X, y = _regression(n=100)
    base = ZipMLRegressor(random_state=0).fit(X, y).coef_
    for kwargs in (dict(penalty=None, alpha=1.0), dict(penalty="l1", alpha=0.0)):
        assert np.array_equal(ZipMLRegressor(random_state=0, **kwargs).fit(X, y).coef_, base)


def test_partial_fit_takes_sample_weight():
    X, y = _regression(n=200)
    w = np.random.default_rng(0).integers(0, 3, len(y)).astype(float)
    m = ZipMLRegressor(random_state=0, eta0=2**-6)
    for _ in range(30):
        m.partial_fit(X, y, sample_weight=w)
    assert _rel(_model(m), _weighted_least_squares(X, y, w)) < 0.03  # a constant step's noise


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_heavy_rows_are_split_into_visits_of_at_most_the_mean_weight():
    # ceil(u_i / m) visits of u_i over that count each (m the mean positive weight; rows of
    # weight 0 once): the visits' weights add up to the rows', none weighs more than m, and
    # every epoch lists each row that often, in a fresh order
    from zipml_hls import engine

    u = np.array([0.0, 0.5, 1.0, 1.5, 4.0, 17.0])  # m = 4.8
    visits = engine.split_visits(u)
    assert np.array_equal(visits, [1, 1, 1, 1, 1, 4])
    share = u / visits
    assert np.isclose(np.sum(visits * share), np.sum(u)) and share.max() <= 4.8
    orders = [engine.epoch_order(7, e, u.size, "hls", visits) for e in range(2)]
    for order in orders:
        assert np.array_equal(np.bincount(order, minlength=u.size), visits)
    assert not np.array_equal(orders[0], orders[1])
    assert np.array_equal(engine.epoch_order(7, 1, u.size, "reference", visits), orders[1])
    # the pass loss stays the mean of u_i L_i over the 6 rows (not over the 9 visits)
    config = engine.SgdConfig(bits=32, sampling="double", levels="uniform", step_shift=4, decay_epochs=0,
                              n_copies=1, seed=7, backend="hls", shuffle=True)
    y = np.linspace(-1.0, 1.0, u.size)
    run = engine.KernelRun(y, config, weights=u, visits=visits)
    data = engine.EpochData(np.zeros((u.size, 2), np.float32), FeatureScaling.from_range(np.zeros(2), np.ones(2)),
                            config, visits=visits)
    epoch, order = data.epoch(0, prefetch=False)
    result = run(epoch, 1, 30, 0, np.zeros(3), order)  # (a step of 2^-30: the zero model's predictions)
    assert np.isclose(run.pass_loss(result, order)[0], np.mean(u * 0.5 * y**2), rtol=1e-6)
    data.close()


def test_split_rows_of_quantized_data_train_as_those_of_float_data():
    # the visits read stored rows of a QuantizedData (its copy is the one fit(X) stores): the
    # same model bit for bit, also with 2 workers
    from zipml_hls import quantize

    X, y = _regression(n=300)
    w = np.random.default_rng(8).lognormal(0.0, 1.5, len(y))
    for jobs in (1, 2):
        params = dict(bits=4, random_state=5, max_iter=4, decay_epochs=2, n_jobs=jobs)
        a = ZipMLRegressor(**params).fit(quantize(X, 4, seed=5, y=y), sample_weight=w)
        b = ZipMLRegressor(requantize=False, **params).fit(X, y, sample_weight=w)
        assert np.array_equal(a.coef_, b.coef_) and a.loss_curve_ == b.loss_curve_


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_partial_fit_after_a_fit_of_split_rows_splits_them_too():
    # A short fit (3 epochs) of lognormal-weighted rows starts and sets its halving period for
    # split rows; partial_fit calls on the same rows then stepped once by the whole weight at
    # that step: held-out R^2 0.996 fell to 0.627 on the second call. Splitting them the same
    # way, no call ends below 0.99.
    from sklearn.datasets import make_regression
    from sklearn.metrics import r2_score

    X, y = make_regression(3000, 50, n_informative=20, noise=10, random_state=2)
    w = np.random.default_rng(2).lognormal(0.0, 1.5, 2000)
    m = ZipMLRegressor(bits=4, random_state=2, max_iter=3).fit(X[:2000], y[:2000], sample_weight=w)
    for _ in range(5):
        m.partial_fit(X[:2000], y[:2000], sample_weight=w)
        assert r2_score(y[2000:], m.predict(X[2000:])) > 0.99


def test_the_pass_loss_of_split_rows_at_two_bits_is_as_unbiased_as_that_of_unweighted_rows():
    # One epoch at step 2^-20 from the weighted least-squares solution, 200 seeds, 2 bits
    # double sampling: the pass loss less the stored rounding's correction estimates the
    # weighted loss there. The correction leaves a small ridge in (step_size.correction_margin),
    # so both runs read about 0.02 above the true loss; with Exponential(1) weights split
    # into visits the correction must be the rows' mean weight, not the visits' (0.63 of
    # it here: 0.08 above, once).
    X, y = _regression(n=2000)
    bias = []
    for w in (np.ones(len(y)), np.random.default_rng(2).exponential(size=len(y))):
        sol = _weighted_least_squares(X, y, w)
        true = np.mean(w * 0.5 * (y - X @ sol[:-1] - sol[-1]) ** 2)
        losses = [ZipMLRegressor(bits=2, eta0=2**-20, decay_epochs=0, max_iter=1, random_state=s).fit(
            X, y, sample_weight=w, coef_init=sol[:-1], intercept_init=sol[-1]).loss_curve_[0] for s in range(200)]
        bias.append(np.mean(losses) - true)  # standard error 0.005
    assert abs(bias[1] - bias[0]) < 0.02 and abs(bias[0]) < 0.035


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_lognormal_weights_at_two_bits_train_near_weighted_ridge():
    # lognormal (sigma 1.5) weights, E[u^2] / E[u]^2 = 9.5, on the rows of scripts/weighted_rows.py:
    # stepping once by its weight the heaviest rows' steps set the noise and the halvings
    # (held-out R^2 0.55 and 0.62 at seeds 0 and 1, weighted Ridge 0.98); split into visits
    # 0.83 and 0.85
    from sklearn.metrics import r2_score

    for seed in (0, 1):
        rng = np.random.default_rng(seed)
        n, d = 3000, 600
        X = rng.standard_normal((n, d))
        y = X @ rng.standard_normal(d) + 0.5 * np.sqrt(d) / 5 * rng.standard_normal(n)
        w = rng.lognormal(0.0, 1.5, n)
        train, test = slice(0, 2250), slice(2250, None)
        m = ZipMLRegressor(bits=2, random_state=0).fit(X[train], y[train], sample_weight=w[train])
        assert r2_score(y[test], m.predict(X[test])) > 0.78, seed


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_exponential_weights_on_wide_data_train_as_far_as_weighted_ridge():
    # Exponential(1) weights on 3000 x 600 Gaussian rows, weighted Ridge 0.981 held out.
    # Shuffled (the default), a row of k times the mean weight is visited ceil(k) times an
    # epoch: 0.981 (fp32), 0.977 (4 bits), 0.905 (2 bits). Stepping once by its weight
    # (shuffle=False) the start is at E[u^2] / E[u] and halvings every n / n_eff x 20
    # epochs: 0.981, 0.969, 0.867 (before that, a start at the heaviest row and halvings
    # every 20 epochs: 0.921 and 0.862 at fp32 and 4 bits).
    from sklearn.metrics import r2_score

    rng = np.random.default_rng(0)
    n, d = 3000, 600
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + 0.5 * np.sqrt(d) / 5 * rng.standard_normal(n)
    w = rng.exponential(size=n)
    train, test = slice(0, 2250), slice(2250, None)
    ridge = r2_score(y[test], Ridge(alpha=1e-3).fit(X[train], y[train], sample_weight=w[train]).predict(X[test]))
    for bits, shuffle, within, every in ((32, True, 0.005, 24), (4, True, 0.01, 24), (2, True, 0.09, 24),
                                         (32, False, 0.005, 40), (4, False, 0.02, 40)):
        m = ZipMLRegressor(bits=bits, shuffle=shuffle, random_state=0).fit(X[train], y[train], sample_weight=w[train])
        # E[v^2] / E[v]^2 of the visits' weights 1.2 (split rows), of the rows' 1.97
        assert m._schedule.halve_every == every
        assert r2_score(y[test], m.predict(X[test])) > ridge - within, (bits, shuffle)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_fixed_schedule_starts_below_the_heaviest_row_and_the_adaptive_one_at_the_weights_spread():
    # Rows stepping once by their weight (shuffle=False): a fixed schedule's start bounds
    # every later step: ceil(log2(u_max / 2)) halvings for the heaviest row; the adaptive
    # one starts ceil(log2(E[u^2] / (2 E[u]))) lower and may halve the rest of the way.
    # Shuffled rows are split into visits of at most the mean weight: the plain start.
    X, y = _regression(n=400)
    w = np.ones(len(y))
    w[:4] = 30.0  # mean 1.29, so halved (the gain, 2^-1): u_max / 2 = 7.5, 3 halvings; E[u^2] / E[u] = 3.87: 1
    plain = ZipMLRegressor(max_iter=1, random_state=0).fit(X, y)
    fixed_plain = ZipMLRegressor(max_iter=1, decay_epochs=0, random_state=0).fit(X, y)
    fixed = ZipMLRegressor(max_iter=1, decay_epochs=0, shuffle=False, random_state=0).fit(X, y, sample_weight=w)
    adaptive = ZipMLRegressor(max_iter=1, shuffle=False, random_state=0).fit(X, y, sample_weight=w)
    assert fixed.eta_ == fixed_plain.eta_ / 8
    assert adaptive.eta_ == plain.eta_ / 2 and adaptive._extra_halvings == plain._extra_halvings + 2
    split = [ZipMLRegressor(max_iter=1, decay_epochs=decay, random_state=0).fit(X, y, sample_weight=w)
             for decay in (None, 0)]
    assert split[0].eta_ == plain.eta_ and split[0]._extra_halvings == plain._extra_halvings
    assert split[1].eta_ == fixed_plain.eta_


def test_weights_scaled_down_train_as_the_weights_themselves():
    # Weights are scaled by the power of two that brings their mean into (1/2, 1] (alpha and
    # the reported losses with them): scaled by 2^-20 or 2^5 they give the same fit bit for
    # bit, and normalised to sum to 1 (each about 1/400, which once barely moved the model)
    # the weighted least-squares solution.
    X, y = _regression()
    w = np.random.default_rng(4).uniform(0.5, 1.5, len(y))
    base = ZipMLRegressor(random_state=0).fit(X, y, sample_weight=w)
    small = ZipMLRegressor(random_state=0).fit(X, y, sample_weight=w * 2**-20)
    assert np.array_equal(_model(small), _model(base))
    assert np.array_equal(np.array(small.loss_curve_), np.array(base.loss_curve_) * 2**-20)
    heavy = ZipMLRegressor(random_state=0).fit(X, y, sample_weight=w * 2**5)
    assert np.array_equal(_model(heavy), _model(base))
    # every weight 4 at 1 bit: the unweighted fit, its stored-rounding correction uncapped (a
    # mean weight above about 1.5 once capped it at the kernel's 1/64, the fit of none)
    one_bit = [ZipMLRegressor(bits=1, random_state=0).fit(X, y, sample_weight=u) for u in (None, np.full(len(y), 4.0))]
    assert np.array_equal(_model(one_bit[1]), _model(one_bit[0]))
    assert np.array_equal(one_bit[1]._stored_variance, one_bit[0]._stored_variance)
    normalised = ZipMLRegressor(random_state=0).fit(X, y, sample_weight=w / w.sum())
    assert _rel(_model(normalised), _weighted_least_squares(X, y, w)) < 0.01
    # the objective (1/n) sum u_i L_i + alpha R: weights times 2^-10 weigh alpha 2^10 times more
    ridge = ZipMLRegressor(random_state=0, alpha=0.001 * 2**10).fit(X, y, sample_weight=w)
    assert np.array_equal(_model(ZipMLRegressor(random_state=0, alpha=0.001).fit(X, y, sample_weight=w * 2**-10)),
                          _model(ridge))
    steps = [ZipMLRegressor(random_state=0, eta0=2**-6) for _ in range(2)]
    for _ in range(5):
        steps[0].partial_fit(X, y, sample_weight=w)
        steps[1].partial_fit(X, y, sample_weight=w * 2**-20)
    assert np.array_equal(_model(steps[0]), _model(steps[1]))
    Xc, yc = X, (y > np.median(y)).astype(int)
    light = ZipMLClassifier(random_state=0, class_weight={0: 2**-12, 1: 1.5 * 2**-12}).fit(Xc, yc)
    assert np.array_equal(light.coef_, ZipMLClassifier(random_state=0, class_weight={0: 1, 1: 1.5}).fit(Xc, yc).coef_)


def test_partial_fit_and_model_files_keep_the_first_fits_weight_scale(tmp_path):
    # After a fit whose weights were scaled up by 2^19 (their mean into (1/2, 1]), partial_fit takes weights on that
    # fit's scale (the same steps as unscaled ones, bit for bit, also from a model file);
    # unit weights would be 2^20 on it, beyond the kernels: a one-line error.
    from zipml_hls.model_io import load_model, save_model

    X, y = _regression()
    w = np.random.default_rng(4).uniform(0.5, 1.5, len(y))
    base = ZipMLRegressor(random_state=0).fit(X, y, sample_weight=w)
    small = ZipMLRegressor(random_state=0).fit(X, y, sample_weight=w * 2**-20)
    save_model(small, tmp_path / "m.zipml")
    loaded = load_model(tmp_path / "m.zipml")
    for m, scale in ((base, 1.0), (small, 2**-20), (loaded, 2**-20)):
        m.partial_fit(X, y, sample_weight=w * scale)
    assert np.array_equal(_model(small), _model(base)) and np.array_equal(_model(loaded), _model(base))
    heavy = ZipMLRegressor(random_state=0).fit(X, y, sample_weight=w * 2**7)  # scaled down by 2^7 or 2^8
    save_model(heavy, tmp_path / "heavy.zipml")
    assert load_model(tmp_path / "heavy.zipml")._weight_gain == heavy._weight_gain < 2**-6
    with pytest.raises(ValueError, match="sample weights up to 1 on the scale of the first fit's, which it "
                                         "multiplied by 524288, exceed"):
        small.partial_fit(X, y)


def test_intercept_is_an_array_as_scikit_learns():
    X, y = _regression(n=60)
    m = ZipMLRegressor(random_state=0, max_iter=2, decay_epochs=0).fit(X, y)
    assert isinstance(m.intercept_, np.ndarray) and m.intercept_.shape == (1,)
    np.testing.assert_allclose(m.predict(X), X @ m.coef_ + m.intercept_)


def test_coef_init_and_warm_start():
    X, y = _regression()
    fitted = ZipMLRegressor(random_state=0).fit(X, y)
    # from coef_init at a step of 2^-40 nothing moves: the conversion to the kernel's units
    # and back is exact up to Q7.24 rounding
    frozen = ZipMLRegressor(random_state=0, eta0=2.0**-40, max_iter=1, decay_epochs=0).fit(
        X, y, coef_init=fitted.coef_, intercept_init=fitted.intercept_)
    np.testing.assert_allclose(_model(frozen), _model(fitted), atol=1e-5)
    # warm start: the first epoch starts at the optimum (its loss within 10% of the fitted
    # model's; a cold start's first epoch is 5x above it)
    warm = ZipMLRegressor(random_state=1, warm_start=True, max_iter=1, decay_epochs=0).fit(X, y)
    assert warm.loss_curve_[0] > 5 * fitted.loss_curve_[-1]
    warm.fit(X, y)
    warm.fit(X, y)
    assert warm.loss_curve_[0] < 1.1 * fitted.loss_curve_[-1]
    with pytest.raises(ValueError, match="coef_init must have 1 x 6 values"):
        ZipMLRegressor().fit(X, y, coef_init=np.zeros(5))


def test_classifier_warm_start_needs_the_same_classes():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    m = ZipMLClassifier(random_state=0, warm_start=True, max_iter=2, decay_epochs=0).fit(X, X[:, 0] > 0)
    with pytest.raises(ValueError, match="warm_start: the classes"):
        m.fit(X, np.digitize(X[:, 0], [-0.5, 0.5]))


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(penalty="l3"), ValueError, "penalty"),
    (dict(alpha=-1.0), ValueError, "alpha must be a finite float"),
    (dict(alpha="0.1"), TypeError, "alpha must be a float"),
    (dict(l1_ratio=1.5), ValueError, "l1_ratio"),
    (dict(warm_start=1), TypeError, "warm_start must be True or False"),
])
def test_parameter_errors(kwargs, error, match):
    X, y = _regression(n=30)
    with pytest.raises(error, match=match):
        ZipMLRegressor(**kwargs).fit(X, y)


def test_sample_weight_errors():
    X, y = _regression(n=30)
    with pytest.raises(ValueError, match="Negative values"):
        ZipMLRegressor().fit(X, y, sample_weight=-np.ones(30))
    with pytest.raises(ValueError, match="at least one non-zero"):
        ZipMLRegressor().fit(X, y, sample_weight=np.zeros(30))
    with pytest.raises(ValueError, match="below 32768"):
        ZipMLRegressor().fit(X, y, sample_weight=np.full(30, 1e5))
    Xc, yc = X, (X[:, 0] > 0).astype(int)
    with pytest.raises(ValueError, match="1 class"):
        ZipMLClassifier().fit(Xc, yc, sample_weight=(yc == 1).astype(float))
    with pytest.raises(ValueError, match="class_weight='balanced' needs"):
        ZipMLClassifier(class_weight="balanced").partial_fit(Xc, yc, classes=[0, 1])


def test_reliability_messages():
    X, y = _regression(n=40)
    with pytest.raises(TypeError, match=r"ZipMLRegressor\.__init__\(\) got an unexpected keyword argument 'loss'"):
        ZipMLRegressor(loss="hinge")
    with pytest.raises(TypeError, match="poly_degree must be an int"):
        ZipMLClassifier(loss="log_loss", poly_degree=5.0).fit(X, X[:, 0] > 0)
    m = ZipMLRegressor(random_state=0, max_iter=2, decay_epochs=0).fit(X, y)
    m.set_params(bits=4)
    with pytest.raises(ValueError, match="bits is 4 now but the model was fitted with bits=8"):
        m.partial_fit(X, y)


def _kernel_penalties(rng, n, d, bits, decay_top, l1_top, zeros):
    """Random kernel inputs, drawn in this order: decay a_j below 2^decay_top and l1 t_j
    below 2^l1_top (Q32), n sample weights (Q16, a share `zeros` of them 0), centers (codes
    of `bits`) and step exponents 0-3."""
    decay = rng.integers(0, 1 << decay_top, size=d).astype(np.int32)
    l1 = rng.integers(0, 1 << l1_top, size=d).astype(np.int32)
    weights = np.where(rng.random(n) < zeros, 0, rng.integers(1 << 14, 1 << 18, size=n)).astype(np.int32)
    centers = rng.integers(0, F.max_code(bits) + 1, size=d).astype(np.int32)
    shifts = rng.integers(0, 4, size=d).astype(np.uint8)
    return decay, l1, weights, centers, shifts


@pytest.mark.parametrize("sampling", ["double", "naive", "nearest"])
@pytest.mark.parametrize("bits", F.SUPPORTED_BITS)
def test_penalties_on_the_simd_path_equal_the_golden_model(bits, sampling):
    # The AVX2 path decays and thresholds in its lanes: the same bits as the golden model
    # with either penalty or both, sample weights (rows of weight 0 take no step, only the
    # penalties), centers and step multipliers, level tables, steps large enough for the
    # per-value path (shift 2), the last shift at which the decay acts (30: 32 + shift = 62,
    # on weights of up to 2^31, where it moves them by 1) and one past it (31).
    rng = np.random.default_rng(10 * bits + ["double", "naive", "nearest"].index(sampling))
    n, d = 60, 45
    X = rng.normal(size=(n, d))
    y = X @ rng.standard_normal(d)
    q = quantize(X, bits, sampling=sampling, seed=5)
    labels = np.round(y / np.abs(y).max() * (1 << F.LABEL_FRAC)).astype(np.int32)
    model_in = rng.integers(-(1 << 22), 1 << 22, size=d + 1).astype(np.int32)
    decay, l1, weights, centers, shifts = _kernel_penalties(rng, n, d, bits, decay_top=31, l1_top=29, zeros=0.2)
    cases = [dict(decay=decay), dict(l1=l1), dict(decay=decay, l1=l1, sample_weights=weights),
             dict(decay=decay, l1=l1, centers=centers, feature_shifts=shifts)]
    big = rng.integers(-(1 << 31) + 1, 1 << 31, size=d + 1).astype(np.int32)
    for step_shift, start in ((2, model_in), (6, model_in), (30, big), (31, big)):
        args = (q.lines, labels, d, bits, sampling, 3, step_shift, 0, F.dot_mult(bits), start)
        if step_shift == 30:  # the decay does act there
            assert not np.array_equal(R.sgd_linear(*args, seed=9, decay=decay)[0], R.sgd_linear(*args, seed=9)[0])
        for kw in cases:
            want = R.sgd_linear(*args, seed=9, **kw)
            got = _kernels.sgd_linear(*args[:4], F.sampling_id(sampling), *args[5:], seed=9, require_fast=AVX2_LINEAR,
                                      **kw)
            for a, b in zip(got[:3], want[:3]):
                assert np.array_equal(a, b), (step_shift, list(kw))
    tables = quantize(X, bits, sampling=sampling, levels="optimal", levels_method="shared", seed=5)
    args = (tables.lines, labels, d, bits, sampling, 3, 6, 1, F.TABLE_DOT_MULT, model_in)
    values = tables.level_values
    want = R.sgd_linear(*args, values=values, seed=9, decay=decay, l1=l1, sample_weights=weights)
    got = _kernels.sgd_linear(*args[:4], F.sampling_id(sampling), *args[5:], values=values, seed=9, decay=decay,
                              l1=l1, sample_weights=weights, require_fast=AVX2_LINEAR)
    for a, b in zip(got[:3], want[:3]):
        assert np.array_equal(a, b), "tables"
    # the penalties did act: without them the history differs
    assert not np.array_equal(got[0], R.sgd_linear(*args, values=values, seed=9, sample_weights=weights)[0])


@pytest.mark.parametrize("sampling", ["double", "naive", "nearest"])
@pytest.mark.parametrize("bits", F.SUPPORTED_BITS)
def test_penalties_with_refetching_on_the_simd_path_equal_the_golden_model(bits, sampling):
    # The hinge with its full-precision rows: refetched rows decay and threshold around the
    # exact update, rows without a step take the penalties alone, and the band follows the
    # penalized model's sum |w| (the same bits as the golden model, with rows refetched).
    rng = np.random.default_rng(7 * bits + ["double", "naive", "nearest"].index(sampling))
    n, d = 60, 45
    X = rng.normal(size=(n, d))
    labels = np.where(X @ rng.standard_normal(d) > 0, 1 << F.LABEL_FRAC, -(1 << F.LABEL_FRAC)).astype(np.int32)
    q = quantize(X, bits, sampling=sampling, seed=5)
    full = R.scaled_position(X.astype(np.float32), q.scaling.lo, q.scaling.inv)
    # a decay mild enough that the model, and so the band, stays wide; an L1 step and rows of
    # weight 0 (penalties alone) that move the band's sum |w| between refetches
    decay, l1, weights, centers, shifts = _kernel_penalties(rng, n, d, bits, decay_top=27, l1_top=28, zeros=0.5)
    model_in = rng.integers(-(1 << 22), 1 << 22, size=d + 1).astype(np.int32)
    refetched = 0
    for step_shift in (3, 8):
        args = (q.lines, labels, d, bits, sampling, 3, step_shift, 0, F.dot_mult(bits), model_in)
        for kw in (dict(decay=decay, l1=l1), dict(decay=decay, l1=l1, sample_weights=weights, centers=centers,
                                                  feature_shifts=shifts)):
            want = get_backend("reference").sgd_linear(*args, loss="hinge", full=full, seed=9, **kw)
            got = get_backend("hls").sgd_linear(*args, loss="hinge", full=full, seed=9, require_fast=AVX2_LINEAR, **kw)
            for name in ("history", "predictions", "saturations", "refetches"):
                assert np.array_equal(getattr(got, name), getattr(want, name)), (name, step_shift, list(kw))
            refetched += got.refetches.sum()
            plain = get_backend("reference").sgd_linear(*args, loss="hinge", full=full, seed=9,
                                                        **{k: v for k, v in kw.items() if k not in ("decay", "l1")})
            assert not np.array_equal(got.history, plain.history)  # the penalties acted
    assert refetched > 0  # (fewer at 8 bits, whose band is narrower)
