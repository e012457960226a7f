"""average_epochs: the output is the mean of the last epochs' models at the final step,
training continues from the last models, and over a whole run the mean is nearer the
least-squares solution than the last model."""

import numpy as np
import pytest

from zipml_hls import ZipMLClassifier, ZipMLRegressor


def model_of(est):
    return np.append(est.coef_, est.intercept_)


def distance_to_least_squares(est, solution):
    return np.linalg.norm(model_of(est) - solution) / np.linalg.norm(solution)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mean_of_a_constant_step_run_is_nearer_least_squares(linear_problem, seed):
    # A constant step leaves the last model fluctuating about the optimum; the mean of
    # the last 20 epochs' models cancels most of it. Measured at 2 bits, 40 epochs at the
    # automatic step (seeds 0-3), relative distance to least squares: last model
    # 0.118-0.136, mean 0.022-0.031 (ratio 0.18-0.24); at 4 bits ratio 0.11-0.24.
    X, y, solution = linear_problem
    kw = dict(bits=2, decay_epochs=0, max_iter=40, random_state=seed)
    last = ZipMLRegressor(**kw).fit(X, y)
    mean = ZipMLRegressor(average_epochs=20, **kw).fit(X, y)
    assert distance_to_least_squares(mean, solution) < 0.4 * distance_to_least_squares(last, solution)
    assert distance_to_least_squares(mean, solution) < 0.05
    # the pass loss follows the same last models in both runs
    assert mean.loss_curve_ == last.loss_curve_


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_the_mean_is_of_the_last_epochs_at_the_final_step(linear_problem):
    # Epoch e's models do not depend on max_iter (fixed schedule, per-epoch draws), so
    # the mean of a 9-epoch run's last 3 epochs is the mean of the 7-, 8- and 9-epoch
    # fits. Halving every 4 epochs, a 9-epoch run's last step ran its 9th epoch alone,
    # an 8-epoch run's its 5th to 8th: k = 5 averages those.
    X, y, _ = linear_problem
    kw = dict(bits=4, decay_epochs=0, random_state=3)
    ends = [model_of(ZipMLRegressor(max_iter=n, **kw).fit(X, y)) for n in (7, 8, 9)]
    averaged = ZipMLRegressor(max_iter=9, average_epochs=3, **kw).fit(X, y)
    np.testing.assert_allclose(model_of(averaged), np.mean(ends, axis=0), rtol=1e-10, atol=1e-12)
    halving = dict(bits=4, decay_epochs=4, random_state=3)
    last = ZipMLRegressor(max_iter=9, **halving).fit(X, y)
    assert np.array_equal(model_of(ZipMLRegressor(max_iter=9, average_epochs=5, **halving).fit(X, y)),
                          model_of(last))
    ends = [model_of(ZipMLRegressor(max_iter=n, **halving).fit(X, y)) for n in (5, 6, 7, 8)]
    np.testing.assert_allclose(model_of(ZipMLRegressor(max_iter=8, average_epochs=5, **halving).fit(X, y)),
                               np.mean(ends, axis=0), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("make", [ZipMLRegressor, ZipMLClassifier])
def test_one_epoch_average_is_the_last_model(linear_problem, make):
    X, y, _ = linear_problem
    if make is ZipMLClassifier:
        y = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))  # three classes: one-vs-rest models
    last = make(bits=4, random_state=0).fit(X, y)
    one = make(bits=4, random_state=0, average_epochs=1).fit(X, y)
    assert np.array_equal(one.coef_, last.coef_) and np.array_equal(one.intercept_, last.intercept_)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_partial_fit_continues_from_the_last_models_and_extends_the_mean(linear_problem):
    X, y, _ = linear_problem
    kw = dict(bits=4, decay_epochs=0, max_iter=5, random_state=1)
    plain, averaged = ZipMLRegressor(**kw).fit(X, y), ZipMLRegressor(average_epochs=3, **kw).fit(X, y)
    ends = [model_of(plain)]
    for _ in range(2):
        plain.partial_fit(X, y)
        averaged.partial_fit(X, y)
        ends.append(model_of(plain))
    assert averaged.loss_curve_ == plain.loss_curve_  # the same last models, epoch by epoch
    np.testing.assert_allclose(model_of(averaged), np.mean(ends, axis=0), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("value, error", [(-1, ValueError), (True, TypeError), (2.5, TypeError), ("3", TypeError)])
def test_average_epochs_is_checked(linear_problem, value, error):
    X, y, _ = linear_problem
    with pytest.raises(error, match="average_epochs"):
        ZipMLRegressor(average_epochs=value).fit(X[:50], y[:50])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_model_files_keep_the_mean_and_the_last_models(tmp_path, linear_problem):
    from zipml_hls.model_io import ModelFileError, load_model, save_model

    X, y, _ = linear_problem
    fitted = ZipMLRegressor(bits=2, decay_epochs=0, max_iter=8, average_epochs=4, random_state=0).fit(X, y)
    path = tmp_path / "m.zipml"
    save_model(fitted, path)
    loaded = load_model(path)
    assert np.array_equal(model_of(loaded), model_of(fitted))
    fitted.partial_fit(X, y)
    loaded.partial_fit(X, y)  # continues from the last models and extends the same mean
    assert np.array_equal(model_of(loaded), model_of(fitted))
    for change, match in ((lambda a, m: a.update(recent_models=np.concatenate([a["recent_models"]] * 2)),
                           r"'recent_models' is not 1 to average_epochs \(4\) models"),
                          (lambda a, m: m["params"].update(average_epochs=True), "'recent_models' is not 1 to"),
                          (lambda a, m: m.pop("recent_shift"), "'recent_shift' must be an integer in"),
                          (lambda a, m: m.update(recent_shift=True), "'recent_shift' must be an integer in"),
                          (lambda a, m: m.update(recent_shift=65), "'recent_shift' must be an integer in"),
                          (lambda a, m: a.update(recent_models=a["recent_models"] * np.inf),
                           "'recent_models' contains NaN or infinity"),
                          (lambda a, m: a.update(recent_models=np.full_like(a["recent_models"], 1e308)),
                           "coefficients that are not finite")):
        with pytest.raises(ModelFileError, match=match):
            load_model(rewritten(path, change))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("k", [0, 2, 6])
def test_set_params_after_fit_moves_the_output_and_the_file_with_it(tmp_path, linear_problem, k):
    # Lowering (or raising) average_epochs on a fitted model: coef_ at once becomes the
    # mean of the last k models kept (the last models at 0), save_model writes what
    # load_model accepts, and the copy predicts the same.
    from zipml_hls.model_io import load_model, save_model

    X, y, _ = linear_problem
    kw = dict(bits=2, decay_epochs=0, max_iter=8, random_state=0)
    fitted = ZipMLRegressor(average_epochs=4, **kw).fit(X, y)
    reference = ZipMLRegressor(average_epochs=min(k, 4), **kw).fit(X, y)  # 4 were kept
    fitted.set_params(average_epochs=k)
    assert np.array_equal(model_of(fitted), model_of(reference))
    save_model(fitted, tmp_path / "m.zipml")
    loaded = load_model(tmp_path / "m.zipml")
    assert np.array_equal(model_of(loaded), model_of(fitted))
    assert np.array_equal(loaded.predict(X), fitted.predict(X))
    fitted.set_params(average_epochs=-1)  # as scikit-learn's set_params, unchecked: fit refuses it,
    assert np.array_equal(model_of(fitted), model_of(reference))  # and it moves nothing meanwhile
    with pytest.raises(ValueError, match="average_epochs"):
        fitted.fit(X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_an_assigned_average_epochs_moves_coef_when_saved(tmp_path, linear_problem):
    # est.average_epochs = 1 bypasses set_params: save_model then moves coef_ as set_params
    # would, so the file and the estimator agree (they differed by up to 1.2 before).
    from zipml_hls.model_io import load_model, save_model

    X, y, _ = linear_problem
    kw = dict(bits=2, decay_epochs=0, max_iter=8, random_state=0)
    fitted = ZipMLRegressor(average_epochs=4, **kw).fit(X, y)
    fitted.average_epochs = 1
    save_model(fitted, tmp_path / "m.zipml")
    loaded = load_model(tmp_path / "m.zipml")
    assert np.array_equal(model_of(fitted), model_of(ZipMLRegressor(**kw).fit(X, y)))
    assert np.array_equal(loaded.predict(X), fitted.predict(X))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_pause_at_zero_restarts_the_mean(linear_problem):
    # average_epochs 3 -> 0 -> 3 across partial_fit calls: the mean after the pause is of
    # the epochs since, never of epochs on both sides of it.
    X, y, _ = linear_problem
    kw = dict(bits=4, decay_epochs=0, max_iter=4, random_state=2)
    plain, paused = ZipMLRegressor(**kw).fit(X, y), ZipMLRegressor(average_epochs=3, **kw).fit(X, y)
    paused.average_epochs = 0  # assigned, not set_params: the kept models stay until an epoch
    plain.partial_fit(X, y)
    paused.partial_fit(X, y)
    assert np.array_equal(model_of(paused), model_of(plain))
    paused.average_epochs = 3
    assert np.array_equal(model_of(paused), model_of(plain))  # nothing kept across the pause
    ends = []
    for _ in range(2):
        plain.partial_fit(X, y)
        paused.partial_fit(X, y)
        ends.append(model_of(plain))
    np.testing.assert_allclose(model_of(paused), np.mean(ends, axis=0), rtol=1e-10, atol=1e-12)


def rewritten(path, change):
    """The model file with ``change(arrays, meta)`` applied and its checksum recomputed."""
    import io
    import json

    from zipml_hls.model_io import _checksum

    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(str(arrays.pop("meta")))
    change(arrays, meta)
    meta["checksum"] = _checksum(arrays)
    buf = io.BytesIO()
    np.savez(buf, meta=np.array(json.dumps(meta)), **arrays)
    out = path.with_name("changed.zipml")
    out.write_bytes(buf.getvalue())
    return out
