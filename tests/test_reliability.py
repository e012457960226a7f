"""Bad input and interrupted writes: one-line errors of the right type, explicit handling of
text and overflow, no temporary file left by a killed writer, line numbers of compressed files."""

import bz2
import gzip
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning

from zipml_hls import ZipMLClassifier, ZipMLRegressor
from zipml_hls import data
from zipml_hls.model_io import load_model, save_model

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def xy():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    return X, X @ [1.0, 2.0, 3.0]


def _fitted(xy, cls):
    X, y = xy
    return cls(max_iter=2, decay_epochs=0, random_state=0).fit(X, y if cls is ZipMLRegressor else y > 0)


def _one_line_error(call, kind, match):
    with pytest.raises(kind, match=match) as info:
        call()
    assert "\n" not in str(info.value), str(info.value)
    return str(info.value)


@pytest.mark.parametrize("cls", [ZipMLRegressor, ZipMLClassifier])
def test_scikit_learns_multi_line_input_errors_are_one_line(xy, cls):
    # scikit-learn prints the array (1-D, complex) or paragraphs of advice (NaN) after its
    # first line; the first line stays (check_estimator matches it), the type too.
    X, y = xy
    y = y if cls is ZipMLRegressor else (y > 0).astype(int)
    est = cls(max_iter=2, decay_epochs=0, random_state=0)
    msg = _one_line_error(lambda: est.fit(X[:, 0], y), ValueError,
                          "Expected 2D array.*shape \\(60,\\).*Reshape your data")
    assert "array=" not in msg
    _one_line_error(lambda: est.fit(X[0, 0], y), ValueError, "got scalar array.*Reshape your data")
    _one_line_error(lambda: est.fit(X + 1j, y), ValueError, "Complex data not supported: X holds complex")
    _one_line_error(lambda: est.fit(X, y + 1j), ValueError, "Complex data not supported: y holds complex")
    _one_line_error(lambda: est.fit(np.where(X > 1, np.nan, X), y), ValueError,
                    "Input X contains NaN; remove or impute")
    _one_line_error(lambda: est.fit([[1.0, 2.0], [3.0]], [1, 2]), ValueError, "rows have different lengths")
    fitted = est.fit(X, y)
    methods = [fitted.predict] + ([fitted.decision_function] if cls is ZipMLClassifier else [])
    for method in methods:
        _one_line_error(lambda: method(X[0]), ValueError, "Reshape your data")
        _one_line_error(lambda: method(X + 1j), ValueError, "Complex data not supported")
        _one_line_error(lambda: method(np.full((2, 3), np.nan)), ValueError, "contains NaN")
    # other multi-line messages keep every line, joined: the names a column check lists
    pd = pytest.importorskip("pandas")
    named = cls(max_iter=2, decay_epochs=0, random_state=0).fit(pd.DataFrame(X, columns=["a", "b", "c"]), y)
    _one_line_error(lambda: named.predict(pd.DataFrame(X, columns=["c", "b", "a"])), ValueError,
                    "should match those that were passed during fit: Feature names must be in the same order")
    _one_line_error(lambda: est.fit(pd.DataFrame(X, columns=["a", "b", "a"]), y), Exception, "'a' 2 times")


@pytest.mark.parametrize("cls", [ZipMLRegressor, ZipMLClassifier])
def test_numbers_in_object_arrays_are_converted_and_text_is_refused(xy, cls):
    # As scikit-learn's numeric estimators: an object array of numbers is the same data
    # (bit-identical fit). Unlike its validation, text is never parsed silently.
    X, y = xy
    y = y if cls is ZipMLRegressor else (y > 0).astype(int)
    make = lambda: cls(max_iter=2, decay_epochs=0, random_state=0)  # noqa: E731
    assert np.array_equal(make().fit(X.astype(object), y).coef_, make().fit(X, y).coef_)
    assert np.array_equal(make().fit(X.tolist(), y.tolist()).coef_, make().fit(X, y).coef_)
    numeric_text = X.astype(str)
    for bad in (numeric_text, numeric_text.astype(object), np.array([["a", "b", "c"]] * 60, dtype=object),
                [[1.0, "2", 3.0]] * 60):
        _one_line_error(lambda: make().fit(bad, y), TypeError, "X holds text .*convert it to numbers explicitly")
    fitted = make().fit(X, y)
    _one_line_error(lambda: fitted.predict(numeric_text), TypeError, "X holds text")
    mixed = X.astype(object)
    mixed[5, 1] = "7"
    _one_line_error(lambda: make().fit(mixed, y), TypeError, "X holds text \\('7'")


def test_regression_targets_must_be_numbers_and_class_labels_may_be_text(xy):
    X, y = xy
    _one_line_error(lambda: ZipMLRegressor().fit(X, y.astype(str)), TypeError, "y holds text")
    clf = ZipMLClassifier(max_iter=2, decay_epochs=0, random_state=0).fit(X, np.where(y > 0, "up", "down"))
    assert clf.classes_.tolist() == ["down", "up"]


@pytest.mark.parametrize("cls", [ZipMLRegressor, ZipMLClassifier])
def test_predictions_that_overflow_float64_are_an_error(xy, cls):
    est = _fitted((xy[0] * 1e-3, xy[1]), cls)  # |coef_| of hundreds
    X = np.full((3, 3), 1e300)
    assert np.isfinite(est.predict(X) if cls is ZipMLRegressor else est.decision_function(X)).all()
    X[1] = 1e308  # beyond float64 times any coefficient above 1.8
    methods = [est.predict] + ([est.decision_function] if cls is ZipMLClassifier else [])
    for method in methods:
        _one_line_error(lambda: method(X), ValueError, "predictions overflow float64: row 2 of X")


def test_a_fit_that_diverges_says_so_and_predicting_with_it_names_the_cause():
    # A user's step far too large for skewed columns (with their step multipliers): the loss
    # overflows. The warning advises a smaller step only (more epochs cannot help), and
    # predict names the non-finite coefficients instead of an overflow of X's values.
    from sklearn.datasets import make_classification

    X, y = make_classification(600, 12, n_informative=4, random_state=1)
    X[:, :3] = np.exp(X[:, :3])
    for eta0, finite in ((0.125, True), (0.25, False)):  # training loss 1.2e6, then an overflow
        with pytest.warns(ConvergenceWarning) as caught:
            est = ZipMLClassifier(bits=32, eta0=eta0, decay_epochs=0, max_iter=30, random_state=0).fit(X, y)
        message = str(caught[-1].message)
        assert "SGD diverged (training loss " in message and message.endswith(
            f"lower eta0 (now {eta0:g}), not more epochs"), message
        assert np.all(np.isfinite(est.coef_)) == finite
    _one_line_error(lambda: est.predict(X), ValueError, "coef_ or intercept_ is not finite: the fit diverged")


def test_cli_predict_overflow_is_one_line_exit_2(xy, tmp_path):
    X, y = xy
    np.savetxt(tmp_path / "d.csv", np.column_stack([y, X]), delimiter=",")
    big = np.column_stack([y[:2], np.full((2, 3), 1e308)])
    np.savetxt(tmp_path / "big.csv", big, delimiter=",")
    run = lambda *a: subprocess.run([sys.executable, "-m", "zipml_hls", *a], capture_output=True, text=True)  # noqa: E731
    trained = run("train", str(tmp_path / "d.csv"), "--model-out", str(tmp_path / "m.zipml"), "--epochs", "2")
    assert trained.returncode == 0, trained.stderr
    proc = run("predict", str(tmp_path / "m.zipml"), str(tmp_path / "big.csv"))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "predictions overflow float64" in proc.stderr


@pytest.mark.parametrize("opener, suffix", [(gzip.open, ".gz"), (bz2.open, ".bz2")])
def test_compressed_libsvm_errors_name_the_decompressed_line(tmp_path, opener, suffix):
    path = tmp_path / f"bad.libsvm{suffix}"
    with opener(path, "wb") as f:
        f.write(b"1 1:0.5 2:1\n0 1:0.2 2:0.3\n1 1:abc\n0 1:1\n")
    with pytest.raises(data.DataError, match="line 3: '1:abc' is not index:value"):
        data.load(path)
    path.write_bytes(path.read_bytes()[:20])  # a damaged stream: the reader's error, no position
    with pytest.raises(data.DataError, match="cannot read it as LIBSVM data|unknown position"):
        data.load(path)


_STALL_IN_SAVE = """
import sys, time
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from zipml_hls import ZipMLRegressor, data
from zipml_hls.model_io import save_model

est = ZipMLRegressor(max_iter=2, decay_epochs=0, random_state=0).fit(*load_diabetes(return_X_y=True))

def stall(fd):  # the model is written, not yet renamed into place
    print("saving", flush=True)
    time.sleep(600)

data.os.fsync = stall
save_model(est, sys.argv[1])
"""


def test_a_writer_killed_mid_save_leaves_a_temporary_file_the_next_save_removes(tmp_path):
    # SIGKILL cannot be caught, so the killed writer's temporary file stays until the next
    # save to the same path; a live writer's (it holds a lock, and its pid runs) is kept.
    path = tmp_path / "m.zipml"
    est = ZipMLRegressor(max_iter=2, decay_epochs=0, random_state=1).fit(*load_diabetes(return_X_y=True))
    save_model(est, tmp_path / "other.zipml")
    proc = subprocess.Popen([sys.executable, "-c", _STALL_IN_SAVE, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "saving"
        temporaries = lambda: sorted(p.name for p in tmp_path.glob(".zipml-*.tmp"))  # noqa: E731
        (left,) = temporaries()
        save_model(est, path)  # while the writer lives: its file is kept
        assert temporaries() == [left]
    finally:
        proc.kill()
        proc.wait(timeout=60)
        proc.stdout.close()
    assert temporaries() == [left]  # SIGKILL: nothing could remove it
    save_model(est, tmp_path / "other.zipml")  # another path's save leaves it
    assert temporaries() == [left]
    save_model(est, path)
    assert temporaries() == [] and np.array_equal(load_model(path).coef_, est.coef_)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.zipml", "other.zipml"]


def test_the_command_line_prints_one_line_of_any_error(monkeypatch, capsys):
    # whatever a library puts in a message, the command line prints its first line
    from zipml_hls import cli

    def fail(args):
        raise ValueError("what is wrong\narray=[1. 2. 3.]\nmore advice")

    monkeypatch.setattr(cli, "cmd_info", fail)
    assert cli.main(["info"]) == 2
    assert capsys.readouterr().err == "zipml-hls info: error: what is wrong\n"


def test_dataframes_are_checked_column_by_column(xy):
    pd = pytest.importorskip("pandas")
    X, y = xy
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    make = lambda: ZipMLRegressor(max_iter=2, decay_epochs=0, random_state=0)  # noqa: E731
    assert np.array_equal(make().fit(frame.astype(object), pd.Series(y)).coef_, make().fit(X, y).coef_)
    for bad in (frame.assign(c=frame["c"].astype(str)), frame.astype("string"),
                frame.assign(c=frame["c"].astype(str).astype("category"))):
        _one_line_error(lambda: make().fit(bad, y), TypeError, "X holds text")
    _one_line_error(lambda: make().fit(frame.assign(c=pd.to_datetime(frame["a"] * 1e9)), y), TypeError,
                    "X has dtype datetime64")
    _one_line_error(lambda: make().fit(frame, pd.Series(y).astype(str)), TypeError, "y holds text")


@pytest.mark.parametrize("bits", [32, 8, 2])
def test_features_of_ranges_near_float32s_smallest_train(bits):
    # inv near float32's largest: 2^p inv overflowed float32 in the step's row bound
    # (OverflowError at 1e-38 and 1e-39); values still normal in float32 train as any.
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(2000, 3))
    y = Z @ np.array([1.0, 2.0, 3.0]) + 0.1 * rng.normal(size=2000)
    ref = ZipMLRegressor(bits=bits, random_state=0).fit(Z, y)
    for scale in (1e-38, 1e-39):
        m = ZipMLRegressor(bits=bits, random_state=0).fit(Z * scale, y)
        assert m.score(Z * scale, y) > 0.99 and m.eta_ <= 2 * ref.eta_
    # float32 X: coefficients above float32's largest would overflow in the full-precision products
    # of the restart judge and the classifier's class count, which then use float64
    X32 = (Z * 1e-39).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        m = ZipMLRegressor(bits=bits, random_state=0).fit(X32, y)
        assert np.max(np.abs(m.coef_)) > 3.5e38 and m._training_ratio(X32, y[:, None]) < 0.01
        labels = (y > 0).astype(int)
        assert ZipMLClassifier(bits=bits, random_state=0).fit(X32, labels).score(X32, labels) > 0.9


@pytest.mark.parametrize("value", [1.0, 1e-40])
def test_constant_features_say_so_instead_of_advising_a_smaller_step(value):
    # Every feature constant (1e-40 is 0 in float32): no step can beat the mean, so fit says
    # what is wrong with X once, instead of retrying smaller steps and advising a lower eta0.
    y = np.random.default_rng(0).normal(size=200)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = ZipMLRegressor(random_state=0).fit(np.full((200, 3), value), y)
    assert [str(w.message)[:35] for w in caught] == ["every feature of X is constant (in "]
    assert abs(m.intercept_[0] - y.mean()) < 0.1
