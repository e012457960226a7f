"""ZipMLRegressor on 2-D y (n_samples, n_targets): one model per target on the same
quantized data, against least squares per target and against fitting each column alone."""

import numpy as np
import pytest

from zipml_hls import ZipMLRegressor
from zipml_hls.model_io import load_model, save_model


def _data(n=3000, d=6, targets=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 3.0, size=d)
    W = rng.standard_normal((d, targets)) * 2.0
    Y = X @ W + rng.uniform(-5, 5, size=targets) + rng.standard_normal((n, targets))
    return X, Y


def _lstsq(X, Y):
    sol = np.linalg.lstsq(np.column_stack([X, np.ones(len(X))]), Y, rcond=None)[0]
    return sol[:-1].T, sol[-1]


@pytest.mark.parametrize("bits", [32, 8, 4])
def test_each_target_solves_its_least_squares(bits):
    X, Y = _data()
    m = ZipMLRegressor(bits=bits, random_state=0).fit(X, Y)
    assert m.coef_.shape == (3, 6) and m.intercept_.shape == (3,)
    pred = m.predict(X)
    assert pred.shape == (3000, 3)
    np.testing.assert_allclose(pred, X @ m.coef_.T + m.intercept_, rtol=1e-12, atol=1e-9)
    coef, intercept = _lstsq(X, Y)
    for t in range(3):
        best = 0.5 * np.mean((X @ coef[t] + intercept[t] - Y[:, t]) ** 2)
        got = 0.5 * np.mean((pred[:, t] - Y[:, t]) ** 2)
        assert got <= best * 1.01, t  # 1.0035 at most measured (4 bits)
    np.testing.assert_allclose(m.coef_, coef, atol=0.05)
    best = 1 - np.sum((X @ coef.T + intercept - Y) ** 2, axis=0) / np.sum((Y - Y.mean(0)) ** 2, axis=0)
    assert np.mean(best) - 0.002 < m.score(X, Y) <= np.mean(best)


@pytest.mark.parametrize("bits", [2, 8, 32])
def test_bit_equal_to_separate_fits(bits):
    # the same seed, scaling and step for every column: each target's model is the one a fit
    # of that column alone gives (the fixed schedule: the adaptive one runs targets in lockstep)
    X, Y = _data(n=500, seed=1)
    kw = dict(bits=bits, random_state=3, max_iter=4, decay_epochs=2)
    together = ZipMLRegressor(**kw).fit(X, Y)
    for t in range(Y.shape[1]):
        alone = ZipMLRegressor(**kw).fit(X, Y[:, t])
        assert np.array_equal(together.coef_[t], alone.coef_)
        assert np.array_equal(together.intercept_[t:t + 1], alone.intercept_)
    threads = ZipMLRegressor(n_jobs=3, **kw).fit(X, Y)  # targets in parallel: the same bits
    assert np.array_equal(threads.coef_, together.coef_)


def test_reference_backend_agrees():
    X, Y = _data(n=200, targets=2, seed=2)
    kw = dict(bits=4, random_state=5, max_iter=3, decay_epochs=0)
    a = ZipMLRegressor(backend="hls", **kw).fit(X, Y)
    b = ZipMLRegressor(backend="reference", **kw).fit(X, Y)
    assert np.array_equal(a.coef_, b.coef_) and np.array_equal(a.intercept_, b.intercept_)


def test_column_y_keeps_its_shape():
    X, Y = _data(n=400, targets=1, seed=4)
    kw = dict(bits=8, random_state=0, max_iter=3, decay_epochs=0)
    col = ZipMLRegressor(**kw).fit(X, Y)
    flat = ZipMLRegressor(**kw).fit(X, Y[:, 0])
    assert col.coef_.shape == (1, 6) and col.intercept_.shape == (1,) and col.predict(X).shape == (400, 1)
    assert flat.coef_.shape == (6,) and flat.predict(X).shape == (400,)
    assert np.array_equal(col.coef_[0], flat.coef_)


def test_partial_fit_warm_start_and_model_file(tmp_path):
    X, Y = _data(n=900, seed=6)
    # a constant step (decay_epochs=0): the adaptive schedule follows the targets' mean loss
    kw = dict(bits=8, random_state=0, feature_range=(X.min(0), X.max(0)), decay_epochs=0)
    m, alone = ZipMLRegressor(**kw), ZipMLRegressor(**kw)
    for _ in range(20):
        for part in np.array_split(np.arange(900), 3):
            m.partial_fit(X[part], Y[part])
            alone.partial_fit(X[part], Y[part, 0])
    assert np.array_equal(m.coef_[0], alone.coef_)  # every call: the same draws for every target
    coef, intercept = _lstsq(X, Y)
    pred = m.predict(X)
    for t in range(3):  # a constant step: within 1.061x of least squares measured
        assert np.mean((pred[:, t] - Y[:, t]) ** 2) < 1.1 * np.mean((X @ coef[t] + intercept[t] - Y[:, t]) ** 2)
    with pytest.raises(ValueError, match="the model was started on 3 targets"):
        m.partial_fit(X, Y[:, :2])
    with pytest.raises(ValueError, match="the model was started on 3 targets"):
        m.partial_fit(X, Y[:, 0])
    save_model(m, tmp_path / "m.npz")
    back = load_model(tmp_path / "m.npz")
    assert np.array_equal(back.predict(X), m.predict(X)) and back.predict(X).shape == (900, 3)
    warm = ZipMLRegressor(bits=8, random_state=0, warm_start=True, max_iter=2, decay_epochs=0).fit(X, Y)
    warm.fit(X, Y)
    with pytest.raises(ValueError, match="warm_start: the fitted model has"):
        warm.fit(X, Y[:, :2])


def test_bad_target_shapes():
    X, Y = _data(n=50)
    with pytest.raises(ValueError, match="0 feature"):
        ZipMLRegressor().fit(X, np.zeros((50, 0)))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        ZipMLRegressor().fit(X, Y[:40])
    with pytest.raises(ValueError, match="y must be 1-D"):  # quantized data store one label per row
        from zipml_hls import quantize
        ZipMLRegressor().fit(quantize(X, 8), Y)
