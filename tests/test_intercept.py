"""fit_intercept=False: the kernels' frozen intercept (bit for bit against the golden model
and its vectors), the scaling that puts x = 0 on a level, and the estimators against the
closed-form least squares without intercept."""

import re
from pathlib import Path

import numpy as np
import pytest

from zipml_hls import ZipMLClassifier, ZipMLRegressor, _kernels, quantize
from zipml_hls import reference as R
from zipml_hls.model_io import load_model, save_model
from zipml_hls.scaling import FeatureScaling, LabelScaling
from zipml_hls.spec import format as F

VECTORS = Path(__file__).resolve().parents[1] / "testbench" / "vectors"


def _frozen_cases():
    names = [line.split()[1] for line in (VECTORS / "index.txt").read_text().splitlines() if line.startswith("sgd ")]
    return [n for n in names if "fit_intercept 0" in (VECTORS / n / "params.txt").read_text()]


def _read(folder):
    params = {k: int(v) for k, v in (line.split() for line in (folder / "params.txt").read_text().splitlines())}

    def arr(name, dtype):
        path = folder / name
        return np.fromfile(path, dtype=dtype) if path.exists() else None
    return params, arr


def test_vectors_cover_the_frozen_intercept():
    assert len(_frozen_cases()) >= 6


@pytest.mark.parametrize("name", _frozen_cases())
@pytest.mark.parametrize("portable", [True, False])
def test_native_kernel_reproduces_the_frozen_intercept_vectors(name, portable):
    p, arr = _read(VECTORS / name)
    n, d, epochs = p["n"], p["d"], p["epochs"]
    model_in = arr("model_in.i32", np.int32)
    full = arr("full.u32", np.uint32)
    hist, pred, sat, ref = _kernels.sgd_linear(
        arr("data.u64", np.uint64).reshape(p["n_copies"], n, -1), arr("labels.i32", np.int32), d, p["bits"],
        p["sampling"], epochs, p["step_shift"], p["decay_epochs"], p["dot_mult"], model_in, loss=p["loss"],
        seed=p["rng_seed"], full=None if full is None else full.reshape(n, d),
        feature_shifts=arr("feature_shifts.u8", np.uint8), centers=arr("centers.i32", np.int32), portable=portable,
        stored_variance=arr("variances.i32", np.int32), sample_weights=arr("sample_weights.i32", np.int32),
        decay=arr("decay.i32", np.int32), l1=arr("l1.i32", np.int32), fit_intercept=False)
    assert np.array_equal(hist.ravel(), arr("expected.i32", np.int32))
    assert np.array_equal(pred.ravel(), arr("predictions.i32", np.int32))
    assert np.all(hist[:, d] == model_in[d])  # the intercept never moved
    assert np.any(hist[-1, :d] != model_in[:d])


@pytest.mark.parametrize("sampling", ["double", "naive", "nearest"])
@pytest.mark.parametrize("bits", F.SUPPORTED_BITS)
def test_frozen_intercept_bit_exact_on_random_data(bits, sampling):
    # the SIMD path (AVX2) takes a frozen intercept too: the same bits as the golden model
    rng = np.random.default_rng(bits)
    n, d = 40, 37
    X = rng.normal(size=(n, d))
    y = X @ rng.standard_normal(d) + 3.0
    q = quantize(X, bits, sampling=sampling, seed=5)
    labels = LabelScaling.fit(y).to_fixed(y)
    centers = rng.integers(0, F.max_code(bits) + 1, size=d).astype(np.int32)
    model_in = rng.integers(-(1 << 20), 1 << 20, size=d + 1).astype(np.int32)
    args = (q.lines, labels, d, bits, sampling, 3, 6, 2, F.dot_mult(bits), model_in)
    weights = rng.integers(1 << 14, 1 << 18, size=n).astype(np.int32)
    for kw in (dict(centers=centers), dict(), dict(centers=centers, sample_weights=weights)):
        want = R.sgd_linear(*args, seed=9, fit_intercept=False, **kw)
        for portable in (True, False):
            got = _kernels.sgd_linear(*args[:4], F.sampling_id(sampling), *args[5:], seed=9, portable=portable,
                                      fit_intercept=False, **kw)
            assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1]), (kw.keys(), portable)
        assert np.all(want[0][:, d] == model_in[d])
    # the flag is what froze it: trained, the intercept moves
    assert np.any(R.sgd_linear(*args, seed=9, centers=centers)[0][:, d] != model_in[d])


def test_fp32_kernel_frozen_intercept():
    rng = np.random.default_rng(1)
    X = rng.uniform(size=(50, 7)).astype(np.float32)
    y = (X @ rng.standard_normal(7) + 2.0).astype(np.float32)
    model_in = np.r_[np.zeros(7), 0.25].astype(np.float32)
    centers = rng.uniform(size=7).astype(np.float32)
    hist, pred = _kernels.sgd_fp32(X, y, 3, 4, 0, model_in, centers=centers, fit_intercept=False)
    want, want_pred = R.sgd_fp32(X, y, 3, 4, 0, model_in, centers=centers, fit_intercept=False)
    assert np.all(hist[:, 7] == np.float32(0.25)) and np.all(want[:, 7] == np.float32(0.25))
    np.testing.assert_allclose(hist, want, rtol=1e-5, atol=1e-6)
    assert not np.all(_kernels.sgd_fp32(X, y, 3, 4, 0, model_in, centers=centers)[0][:, 7] == np.float32(0.25))


# ------------------------------------------------------------------ the scaling
@pytest.mark.parametrize("bits", [2, 3, 4, 8, 32])
def test_through_origin_puts_zero_on_a_level(bits):
    rng = np.random.default_rng(bits)
    lo = np.array([-3.0, 0.5, -7.0, -1.0, -0.001, 2.0, 0.0], np.float32)
    hi = np.array([1.0, 4.0, -2.0, 1000.0, 5.0, 2.0, 0.0], np.float32)
    sc = FeatureScaling.from_range(lo, hi).through_origin(bits)
    assert np.all(sc.lo <= np.minimum(lo, 0)) and np.all(sc.hi >= np.maximum(hi, 0))
    zero = sc.transform(np.zeros((1, lo.size), np.float32))[0].astype(np.float64)
    origin = sc.origin(bits)
    if bits == 32:
        assert np.array_equal(origin, zero)
    else:
        s = F.max_code(bits)
        assert np.array_equal(origin * s, np.rint(origin * s))
        np.testing.assert_allclose(zero, origin, atol=1e-6)
        # widened least: a range that spans 0 grows by less than one level interval per side
        spans = (hi - lo).astype(np.float64)
        inside = (lo < 0) & (hi > 0)
        grown = (sc.hi - sc.lo).astype(np.float64)[inside] / spans[inside]
        assert np.all(grown < s / (s - 1) + 1e-6)
    X = rng.uniform(lo, hi, size=(100, lo.size)).astype(np.float32)
    assert sc.outside(X) == 0


def test_one_bit_needs_features_of_one_sign():
    sc = FeatureScaling.from_range(np.array([0.5, -2.0], np.float32), np.array([3.0, -1.0], np.float32))
    wide = sc.through_origin(1)
    assert np.array_equal(wide.lo, [0.0, -2.0]) and np.array_equal(wide.hi, [3.0, 0.0])
    assert np.array_equal(wide.origin(1), [0.0, 1.0])
    with pytest.raises(ValueError, match="bits=1 needs every feature on one side of 0"):
        FeatureScaling.from_range(np.array([-1.0], np.float32), np.array([1.0], np.float32)).through_origin(1)


# --------------------------------------------------------------- the estimators
def _data(n=3000, d=5, intercept=0.0, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * [1.0, 2.0, 0.5, 3.0, 1.0] + [0.5, -1.0, 2.0, 0.0, 1.0]
    y = X @ np.array([1.5, -0.7, 2.0, 0.3, -1.2]) + intercept + 0.3 * rng.standard_normal(n)
    return X, y


def _lstsq(X, y, intercept):
    A = np.column_stack([X, np.ones(len(X))]) if intercept else X
    sol = np.linalg.lstsq(A, y, rcond=None)[0]
    return (sol[:-1], sol[-1]) if intercept else (sol, 0.0)


def _loss(X, y, coef, intercept):
    return 0.5 * np.mean((X @ coef + intercept - y) ** 2)


@pytest.mark.parametrize("bits", [32, 8, 4])
@pytest.mark.parametrize("offset", [0.0, 4.0])
def test_regressor_without_intercept_solves_least_squares_through_the_origin(bits, offset):
    X, y = _data(intercept=offset)
    m = ZipMLRegressor(bits=bits, fit_intercept=False, random_state=0).fit(X, y)
    assert np.array_equal(m.intercept_, [0.0])
    np.testing.assert_array_equal(m.predict(X), X @ m.coef_)
    coef, _ = _lstsq(X, y, False)
    best = _loss(X, y, coef, 0.0)
    assert _loss(X, y, m.coef_, 0.0) <= best * (1.01 if bits != 4 else 1.03)
    np.testing.assert_allclose(m.coef_, coef, atol=0.03 if bits != 4 else 0.06)
    if offset:
        # the right problem: far from the solution with an intercept
        with_coef, _ = _lstsq(X, y, True)
        assert np.abs(m.coef_ - coef).max() < 0.2 * np.abs(with_coef - coef).max()
        fitted = ZipMLRegressor(bits=bits, random_state=0).fit(X, y)
        assert abs(fitted.intercept_[0] - offset) < 0.2


@pytest.mark.parametrize("bits", [2, 4, 8, 32])
def test_regressor_without_intercept_same_model_on_both_backends(bits):
    X, y = _data(n=300, seed=3)
    kw = dict(bits=bits, fit_intercept=False, random_state=4, max_iter=3, decay_epochs=0)
    a = ZipMLRegressor(backend="hls", **kw).fit(X, y)
    b = ZipMLRegressor(backend="reference", **kw).fit(X, y)
    if bits == 32:
        np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-4, atol=1e-6)
    else:
        assert np.array_equal(a.coef_, b.coef_)
    assert np.array_equal(a.intercept_, [0.0]) and np.array_equal(b.intercept_, [0.0])


def test_regressor_without_intercept_and_without_preconditioning():
    X, y = _data(intercept=2.0, seed=5)
    m = ZipMLRegressor(bits=8, fit_intercept=False, precondition=False, random_state=0, max_iter=300).fit(X, y)
    coef, _ = _lstsq(X, y, False)
    assert _loss(X, y, m.coef_, 0.0) <= _loss(X, y, coef, 0.0) * 1.02


def test_one_bit_on_nonnegative_features():
    rng = np.random.default_rng(7)
    X = rng.uniform(0, 1, size=(4000, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 3.0]) + 0.5 * rng.standard_normal(4000)
    m = ZipMLRegressor(bits=1, fit_intercept=False, random_state=0).fit(X, y)
    coef, _ = _lstsq(X, y, False)
    assert _loss(X, y, m.coef_, 0.0) <= _loss(X, y, coef, 0.0) * 1.05  # 1.016 measured (with intercept 1.020)
    with pytest.raises(ValueError, match="bits=1 needs every feature on one side of 0"):
        ZipMLRegressor(bits=1, fit_intercept=False).fit(X - 0.5, y)


@pytest.mark.parametrize("loss", ["squared_error", "hinge", "squared_hinge"])
def test_classifier_decision_function_has_no_offset(loss):
    rng = np.random.default_rng(11)
    X = rng.normal(size=(2000, 3)) + [1.0, 0.0, -1.0]
    y = (X @ np.array([1.0, -2.0, 0.5]) > 0).astype(int)  # separable through the origin
    m = ZipMLClassifier(bits=4, loss=loss, fit_intercept=False, random_state=0, max_iter=30,
                        decay_epochs=10).fit(X, y)
    assert np.array_equal(m.intercept_, [0.0])
    assert np.array_equal(m.decision_function(np.zeros((1, 3))), [0.0])
    np.testing.assert_array_equal(m.decision_function(X), X @ m.coef_[0])
    assert m.score(X, y) > 0.97
    three = ZipMLClassifier(bits=8, loss=loss, fit_intercept=False, random_state=0, max_iter=5, decay_epochs=0).fit(
        X, np.digitize(X[:, 0], [0.5, 1.5]))
    assert np.array_equal(three.intercept_, np.zeros(3))


@pytest.mark.parametrize("bits", [32, 8, 4])
def test_log_loss_without_intercept(bits):
    # The polynomial kernel centred at the level of x = 0 with its intercept frozen: the
    # decision function is X @ coef_ exactly, and it separates data through the origin
    # (features far from 0, so an intercept would have mattered).
    rng = np.random.default_rng(12)
    X = rng.normal(size=(1500, 3)) + 1.0
    y = (X @ np.array([1.0, -1.0, 0.5]) + 0.3 * rng.standard_normal(1500) > 0).astype(int)
    m = ZipMLClassifier(bits=bits, loss="log_loss", fit_intercept=False, random_state=0).fit(X, y)
    assert np.array_equal(m.intercept_, [0.0]) and np.all(m._models[:, -1] == 0)  # the kernel's stayed 0
    assert not m._conditioning.shifts.any()  # centred at the origin, one shared step
    np.testing.assert_allclose(m.decision_function(X), X @ m.coef_[0], rtol=1e-6, atol=1e-6)
    assert m.score(X, y) > 0.9


def test_features_far_from_0_without_intercept_warn_of_the_widening_not_of_outliers():
    # Features near 1e4 +- 3: their range widened to hold 0 is about 2e3 times theirs, so at
    # 4 bits their values lie within one step of the levels. The warning names the widening
    # and the cure (centre or keep the intercept); a column of a few true outliers (7 values
    # of 500 in N(0, 1)) keeps the outlier warning, and with an intercept only that one.
    r = np.random.default_rng(0)
    X = 1e4 + r.normal(size=(5000, 3))
    X[:, 2] = r.normal(size=5000)
    X[:7, 2] = 500
    y = (X - 1e4) @ [1.0, 2.0, 0.0] + r.normal(size=5000)
    with pytest.warns(UserWarning) as caught:
        ZipMLRegressor(bits=4, fit_intercept=False, max_iter=3, random_state=0).fit(X, y)
    messages = [str(w.message) for w in caught if w.category is UserWarning]
    assert len(messages) == 2
    assert re.match(r"2 feature\(s\) \(0, 1\) lie far from 0 \(feature 0 spans \[9996\.\d+, 10003\.\d+\]\): without an "
                    r"intercept \(fit_intercept=False\) each range is widened to hold 0, and their values then span up "
                    r"to 2\.\d+e\+03 times less than it, which at 4 bits lie within one step", messages[0])
    assert messages[0].endswith("Centre those features (subtract their means) or keep fit_intercept=True")
    assert messages[1].startswith("1 feature(s) (2) have a few values far outside the rest")
    with pytest.warns(UserWarning) as caught:
        ZipMLRegressor(bits=4, max_iter=3, random_state=0).fit(X, y)
    assert [str(w.message)[:50] for w in caught if w.category is UserWarning] == [messages[1][:50]]


def test_partial_fit_and_model_file_without_intercept(tmp_path):
    X, y = _data(intercept=3.0, seed=8)
    m = ZipMLRegressor(bits=8, fit_intercept=False, random_state=0, feature_range=(X.min(0), X.max(0)))
    for epoch in range(30):
        for part in np.array_split(np.arange(len(X)), 3):
            m.partial_fit(X[part], y[part])
    assert np.array_equal(m.intercept_, [0.0])
    coef, _ = _lstsq(X, y, False)
    assert _loss(X, y, m.coef_, 0.0) <= _loss(X, y, coef, 0.0) * 1.03
    m.set_params(fit_intercept=True)
    with pytest.raises(ValueError, match="fit_intercept is True now"):
        m.partial_fit(X, y)
    m.set_params(fit_intercept=False)
    save_model(m, tmp_path / "m.npz")
    back = load_model(tmp_path / "m.npz")
    assert np.array_equal(back.predict(X), m.predict(X)) and not back.fit_intercept
    back.partial_fit(X, y)  # continues: the same centers and frozen intercept
    assert np.array_equal(back.intercept_, [0.0])


def test_warm_start_and_coef_init_without_intercept():
    X, y = _data(intercept=1.0, seed=9)
    m = ZipMLRegressor(bits=8, fit_intercept=False, random_state=0, warm_start=True, max_iter=5, decay_epochs=0)
    m.fit(X, y)
    first = m.coef_.copy()
    m.fit(X, y)
    assert np.array_equal(m.intercept_, [0.0]) and not np.array_equal(m.coef_, first)
    coef, _ = _lstsq(X, y, False)
    started = ZipMLRegressor(bits=8, fit_intercept=False, random_state=0, max_iter=1, decay_epochs=0, eta0=2**-20)
    started.fit(X, y, coef_init=coef)
    np.testing.assert_allclose(started.coef_, coef, atol=1e-3)  # a tiny step keeps the start
    with pytest.raises(ValueError, match="intercept_init applies with fit_intercept=True"):
        started.fit(X, y, intercept_init=[1.0])


@pytest.mark.parametrize("kwargs,match", [
    (dict(levels="optimal"), "fit_intercept=False needs levels='uniform'"),
])
def test_errors_without_intercept(kwargs, match):
    X, y = _data(n=50)
    with pytest.raises(ValueError, match=match):
        ZipMLRegressor(fit_intercept=False, **kwargs).fit(X, y)


def test_quantized_and_sparse_data_need_an_intercept():
    from scipy.sparse import csr_matrix

    X, y = _data(n=60)
    q = quantize(X, 8, y=y)
    with pytest.raises(ValueError, match="fit_intercept=False needs dense float X"):
        ZipMLRegressor(fit_intercept=False).fit(q)
    with pytest.raises(ValueError, match="fit_intercept=False needs dense float X"):
        ZipMLRegressor(fit_intercept=False).fit(csr_matrix(X), y)


def test_command_line_no_intercept(tmp_path):
    import subprocess
    import sys

    from sklearn.datasets import dump_svmlight_file

    from zipml_hls.cli import main

    X, y = _data(n=400, intercept=5.0, seed=13)
    dump_svmlight_file(X, y, str(tmp_path / "d.libsvm"))
    model = tmp_path / "m.zipml"
    assert main(["train", str(tmp_path / "d.libsvm"), "--model-out", str(model), "--quiet", "--no-intercept",
                 "--seed", "0", "--task", "regression"]) == 0
    m = load_model(model)
    assert not m.fit_intercept and np.array_equal(m.intercept_, [0.0])
    assert main(["quantize", str(tmp_path / "d.libsvm"), "-o", str(tmp_path / "d.zq"), "--bits", "8"]) == 0
    out = subprocess.run([sys.executable, "-m", "zipml_hls", "train", str(tmp_path / "d.zq"), "--no-intercept",
                          "--model-out", str(tmp_path / "q.zipml"), "--quiet"], capture_output=True, text=True)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "--no-intercept needs dense float X" in out.stderr
