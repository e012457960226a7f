"""Data loading and model files."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_diabetes, load_iris, make_regression

from zipml_hls import ZipMLClassifier, ZipMLRegressor
from zipml_hls import data
from zipml_hls.model_io import ModelFileError, load_model, save_model


def test_libsvm_is_one_based_and_dense(tmp_path):
    path = tmp_path / "a.libsvm"
    path.write_text("1 1:0.5 3:2\n-1 2:1.5\n")
    X, y = data.load(path)
    assert X.tolist() == [[0.5, 0.0, 2.0], [0.0, 1.5, 0.0]] and y.tolist() == [1, -1]


@pytest.mark.parametrize("text, line", [("1 1:0.5\n-1 2:x\n", "line 2"), ("1 1:0.5\nfoo 1:1\n", "line 2"),
                                        ("1 3:1 2:1\n", "line 1")])
def test_malformed_libsvm_names_the_line(tmp_path, text, line):
    path = tmp_path / "bad.libsvm"
    path.write_text(text)
    with pytest.raises(data.DataError, match=f"bad.libsvm.*{line}"):
        data.load(path)


def test_csv_with_header_and_label_column(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b,label\n1,2,10\n3,4,20\n")
    X, y = data.load(path, label_column=-1)
    assert X.tolist() == [[1, 2], [3, 4]] and y.tolist() == [10, 20]
    path.write_text("a,b,label\n1,2,10\n3,oops,20\n")
    with pytest.raises(data.DataError, match="line 3"):
        data.load(path)
    path.write_text("1,2,10\n3,4\n")
    with pytest.raises(data.DataError, match="line 2: 2 columns"):
        data.load(path)


def test_libsvm_too_large_to_densify_is_the_files_data_error(tmp_path):
    # found by scripts/fuzz_loaders.py libsvm: a plain ValueError, not DataError
    path = tmp_path / "wide.libsvm"
    path.write_text("11 0000994603962:06\n")
    with pytest.raises(data.DataError, match=r"wide.libsvm: the dense form of this 1 x 994603962 sparse matrix"):
        data.load_svmlight(path)


def test_csv_read_as_libsvm_says_it_looks_like_csv(tmp_path):
    path = tmp_path / "table.txt"  # not .csv: read as LIBSVM by the extension rule
    path.write_text("1.0,2.0,3\n4.0,5.0,6\n")
    with pytest.raises(data.DataError, match=r"line 1: label '1.0,2.0,3' is not a number \(comma-separated: a CSV "
                                             r"file\? name it .csv, or pass --format csv / fmt='csv'\)"):
        data.load(path)


def test_sparse_densify_limit():
    X = sp.random(1000, 1000, density=0.01, format="csr", random_state=0)
    assert data.densify(X).shape == (1000, 1000)
    with pytest.raises(ValueError, match="max_dense_bytes"):
        data.densify(X, max_dense_bytes=1000)


@pytest.mark.parametrize("make", [
    lambda: ZipMLRegressor(bits=4, random_state=1).fit(*load_diabetes(return_X_y=True)),
    lambda: ZipMLClassifier(bits=2, random_state=1).fit(*load_iris(return_X_y=True)),
    lambda: ZipMLClassifier(bits=2, loss="squared_error", random_state=1).fit(*load_iris(return_X_y=True)),
])
def test_model_round_trip(tmp_path, make):
    est = make()
    path = tmp_path / "m.zipml"
    save_model(est, path)
    back = load_model(path)
    X = load_diabetes().data if isinstance(est, ZipMLRegressor) else load_iris().data
    assert np.array_equal(back.predict(X), est.predict(X))
    assert back.get_params() == est.get_params() and back.n_iter_ == est.n_iter_
    assert back.final_eta_ == est.final_eta_ and back.loss_curve_ == est.loss_curve_
    # training continues identically from the loaded model
    y = load_diabetes().target if isinstance(est, ZipMLRegressor) else load_iris().target
    kw = {} if isinstance(est, ZipMLRegressor) else {"classes": np.unique(y)}
    assert np.array_equal(back.partial_fit(X, y, **kw).coef_, est.partial_fit(X, y, **kw).coef_)


def test_model_files_keep_feature_names_and_check_them(tmp_path):
    # feature_names_in_ as scikit-learn sets it from a DataFrame's columns (object strings)
    X, y = load_diabetes(return_X_y=True)
    est = ZipMLRegressor(bits=4, random_state=1).fit(X, y)
    est.feature_names_in_ = np.array(load_diabetes().feature_names, dtype=object)
    path = tmp_path / "m.zipml"
    save_model(est, path)
    back = load_model(path)
    assert back.feature_names_in_.dtype == object and list(back.feature_names_in_) == list(est.feature_names_in_)
    plain = tmp_path / "plain.zipml"
    del est.feature_names_in_
    save_model(est, plain)
    assert not hasattr(load_model(plain), "feature_names_in_")
    for names in (np.array(["a", "b"]), np.arange(10.0)):
        with pytest.raises(ModelFileError, match="'feature_names' is not 10 strings"):
            load_model(_rewritten(path, change_arrays=lambda a, names=names: a.update(feature_names=names)))
    for bad in ({"label_column": True}, {"label_column": 1.5}, {"label_column": " "}, {"zero_based": 1}, [],
                {"feature_names": ["a"] * 10}, {"feature_names": [f"x{i}" for i in range(9)]},
                {"feature_names": "x0"}, {"feature_names": [""] + [f"x{i}" for i in range(9)]}):
        with pytest.raises(ModelFileError, match="'data_format' must be an object"):
            load_model(_rewritten(path, change_meta=lambda m, bad=bad: {**m, "data_format": bad}))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # ends at max_iter on purpose
def test_model_write_is_atomic_and_loading_checks(tmp_path, monkeypatch):
    est = ZipMLRegressor(max_iter=2, random_state=0).fit(*load_diabetes(return_X_y=True))
    path = tmp_path / "m.zipml"
    save_model(est, path)
    good = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(data.os, "replace", crash)
    with pytest.raises(OSError):
        save_model(est, path)
    monkeypatch.undo()
    assert path.read_bytes() == good and list(tmp_path.iterdir()) == [path]  # old model intact, no temp left
    path.write_bytes(b"not a model")
    with pytest.raises(ModelFileError, match="not a zipml-hls model"):
        load_model(path)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # ends at max_iter on purpose
def test_model_version_is_checked(tmp_path):
    import io
    import json

    est = ZipMLRegressor(max_iter=1, random_state=0).fit(*load_diabetes(return_X_y=True))
    path = tmp_path / "m.zipml"
    save_model(est, path)
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(str(arrays["meta"]))
    meta["format_version"] = 99
    arrays["meta"] = np.array(json.dumps(meta))
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    path.write_bytes(buf.getvalue())
    with pytest.raises(ModelFileError, match="version 99"):
        load_model(path)


def test_tabular_generator_has_the_columns_it_promises():
    from zipml_hls.datasets import make_tabular_regression

    X, y, coef = make_tabular_regression(4000, n_numeric=3, n_skewed=2, categories=(5, 4), random_state=1)
    assert X.shape == (4000, 3 + 2 + 9) and y.shape == (4000,) and coef.shape == (14,)
    onehot = X[:, 5:]
    assert set(np.unique(onehot)) == {0.0, 1.0}
    assert np.array_equal(onehot[:, :5].sum(axis=1), np.ones(4000))
    assert np.array_equal(onehot[:, 5:].sum(axis=1), np.ones(4000))
    skewed = X[:, 3:5]
    assert np.all(skewed > 0) and np.all(skewed.max(axis=0) > 10 * np.median(skewed, axis=0))  # heavy tails
    assert np.array_equal(X, make_tabular_regression(4000, n_numeric=3, n_skewed=2, categories=(5, 4),
                                                     random_state=1)[0])


def _model_file(tmp_path):
    est = ZipMLRegressor(bits=4, max_iter=2, decay_epochs=0, random_state=0).fit(*load_diabetes(return_X_y=True))
    path = tmp_path / "m.zipml"
    save_model(est, path)
    return path


def _rewritten(path, change_meta=None, change_arrays=None, keep_checksum=False):
    """The file with its metadata and arrays changed (checksum recomputed unless kept)."""
    import io
    import json

    from zipml_hls.model_io import _checksum

    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(str(arrays.pop("meta")))
    if change_arrays:
        change_arrays(arrays)
    if not keep_checksum:
        meta["checksum"] = _checksum(arrays)
    meta = change_meta(meta) if change_meta else meta
    buf = io.BytesIO()
    np.savez(buf, meta=np.array(json.dumps(meta)), **arrays)
    out = path.with_name("changed.zipml")
    out.write_bytes(buf.getvalue())
    return out


def test_log_loss_model_files_keep_the_centers_and_read_files_without_them(tmp_path):
    # log_loss trains centred (precondition): its file holds the centers (and zero step
    # exponents), and the loaded model predicts the same. A file of a log_loss model
    # written before that kernel had centers (precondition=True in its parameters, no
    # arrays) loads as the unconditioned model it was trained as.
    X, y = load_iris(return_X_y=True)
    path = tmp_path / "m.zipml"
    centred = ZipMLClassifier(bits=4, loss="log_loss", max_iter=5, random_state=0)
    with pytest.warns(Warning, match="max_iter"):
        centred.fit(X, y)
    assert not centred._conditioning.shifts.any() and centred._conditioning.centers.any()
    save_model(centred, path)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.decision_function(X), centred.decision_function(X))
    np.testing.assert_array_equal(loaded._conditioning.centers, centred._conditioning.centers)
    plain = ZipMLClassifier(bits=4, loss="log_loss", max_iter=5, random_state=0, precondition=False)
    with pytest.warns(Warning, match="max_iter"):
        plain.fit(X, y)
    save_model(plain, path)
    old = load_model(_rewritten(path, change_meta=lambda m: {**m, "params": {**m["params"], "precondition": True}}))
    assert old._conditioning is None and old.precondition
    np.testing.assert_array_equal(old.decision_function(X), plain.decision_function(X))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # a few epochs on purpose
def test_optimal_level_model_files_keep_the_centers_and_read_files_without_them(tmp_path):
    # Optimal levels train conditioned (centers on the tables' grid of 1/1024, step
    # multipliers): the file holds both, and the loaded model predicts the same and goes on
    # training as the original does. A file written before level tables had conditioning
    # (precondition=True in its parameters, no arrays) loads unconditioned, as trained.
    X, y = load_diabetes(return_X_y=True)
    path = tmp_path / "m.zipml"
    model = ZipMLRegressor(bits=4, levels="optimal", max_iter=3, decay_epochs=0, random_state=0).fit(X, y)
    centers = model._conditioning.centers
    assert np.array_equal(centers * 1024, np.rint(centers * 1024)) and model._conditioning.shifts.any()
    save_model(model, path)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(loaded.partial_fit(X, y).coef_, model.partial_fit(X, y).coef_)
    plain = ZipMLRegressor(bits=4, levels="optimal", max_iter=3, decay_epochs=0, random_state=0,
                           precondition=False).fit(X, y)
    save_model(plain, path)
    old = load_model(_rewritten(path, change_meta=lambda m: {**m, "params": {**m["params"], "precondition": True}}))
    assert old._conditioning is None and old.precondition
    np.testing.assert_array_equal(old.predict(X), plain.predict(X))
    # 32-bit fits once took levels='optimal' and read no levels: such files load as uniform
    full = ZipMLRegressor(bits=32, max_iter=3, decay_epochs=0, random_state=0).fit(X, y)
    save_model(full, path)
    old = load_model(_rewritten(path, change_meta=lambda m: {**m, "params": {**m["params"], "levels": "optimal"}}))
    assert old.levels == "uniform"
    np.testing.assert_array_equal(old.predict(X), full.predict(X))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # two epochs on purpose
@pytest.mark.parametrize("change, match", [
    (dict(change_meta=lambda m: None), "not a zipml-hls model file"),
    (dict(change_meta=lambda m: [m]), "not a zipml-hls model file"),
    (dict(change_meta=lambda m: {k: v for k, v in m.items() if k != "step_shift"}), "'step_shift' must be"),
    (dict(change_meta=lambda m: {**m, "n_features": "10"}), "'n_features' must be an integer >= 1"),
    (dict(change_meta=lambda m: {**m, "seed": -1}), r"'seed' must be an integer in \[0, 2\*\*32\)"),
    (dict(change_meta=lambda m: {**m, "loss_curve": [1, "x"]}), "'loss_curve' must be a list of numbers"),
    (dict(change_meta=lambda m: {**m, "params": {**m["params"], "bits": 5}}), "bits must be one of"),
    (dict(change_meta=lambda m: {**m, "params": {**m["params"], "colour": 1}}), "unexpected keyword"),
    (dict(change_arrays=lambda a: a.update(models=a["models"] + 1), keep_checksum=True), "checksum mismatch"),
    (dict(change_arrays=lambda a: a.update(lo=a["lo"].astype(np.int64))), "array 'lo' missing or not of shape"),
])
def test_damaged_model_metadata_gives_one_model_file_error(tmp_path, change, match):
    with pytest.raises(ModelFileError, match=match):
        load_model(_rewritten(_model_file(tmp_path), **change))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # two epochs on purpose
def test_truncated_and_flipped_model_files_give_model_file_errors(tmp_path):
    # 600 damaged copies (truncations, single bit flips, random bytes), seed 0: each loads
    # (a flip in a part nothing reads, or in a metadata number) or raises ModelFileError;
    # before the archive, checksum and field checks 8 other exception types came out.
    import random

    path = _model_file(tmp_path)
    good = path.read_bytes()
    rng, outcomes = random.Random(0), {"loaded": 0, "refused": 0}
    bad = tmp_path / "bad.zipml"
    for trial in range(600):
        data = bytearray(good)
        if trial % 3 == 0:
            data = data[:rng.randrange(len(data))]
        elif trial % 3 == 1:
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        else:
            for _ in range(rng.randrange(1, 5)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        bad.write_bytes(bytes(data))
        try:
            load_model(bad)
            outcomes["loaded"] += 1
        except ModelFileError:
            outcomes["refused"] += 1
    assert outcomes["refused"] > 500, outcomes
    bad.write_bytes(b"")
    with pytest.raises(ModelFileError, match="not a zipml-hls model file"):
        load_model(bad)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # two epochs on purpose
def test_numpy_scalar_parameters_are_saved_as_numbers(tmp_path):
    X, y = load_diabetes(return_X_y=True)
    est = ZipMLRegressor(bits=np.int64(4), eta0=np.float32(2**-7), max_iter=np.int32(2), decay_epochs=0,
                         random_state=0).fit(X, y)
    save_model(est, tmp_path / "m.zipml")
    back = load_model(tmp_path / "m.zipml")
    assert back.bits == 4 and type(back.bits) is int and back.eta0 == 2**-7
    assert np.array_equal(back.predict(X), est.predict(X))


@pytest.mark.parametrize("text, rows", [
    ("\ufeff1,2,3\n4,5,6\n7,8,9\n", 3),  # a byte-order mark is not a header
    ("y,a,b\n1,2,3\n4,5,6\n", 2),  # a header: a cell that is neither a number nor empty
    (",a,b\n1,2,3\n4,5,6\n", 2),  # (an empty first cell, as an index column writes it)
])
def test_csv_headers_are_only_lines_with_words(tmp_path, text, rows):
    path = tmp_path / "d.csv"
    path.write_text(text, encoding="utf-8")
    X, y = data.load_csv(path)
    assert X.shape == (rows, 2) and y[-1] == 7.0 - 3 * (rows == 2)


@pytest.mark.parametrize("text, match", [
    ("1,,3\n4,5,6\n", "line 1: an empty value in column 2"),  # no longer dropped as a header
    ("1,2,3\n4,x,6\n", "line 2: non-numeric value 'x' in column 2"),
    ("1,2,3\n4,,6\n", "line 2: an empty value in column 2"),
    ("1,nan,3\n4,5,6\n", r"X has a NaN or infinite value \(1 in all; the first at row 1, feature 1\)"),
])
def test_csv_errors_name_the_line_and_column(tmp_path, text, match):
    path = tmp_path / "d.csv"
    path.write_text(text)
    with pytest.raises(data.DataError, match=match):
        data.load_csv(path)


def test_npz_arrays_are_checked(tmp_path):
    X, y = load_diabetes(return_X_y=True)
    cases = {"X must be 2-D": dict(X=X[:, 0], y=y), "y must be 1-D": dict(X=X, y=X),
             "X must hold real numbers, got dtype complex128": dict(X=X.astype(complex), y=y),
             "X has 442 rows but y has 441 labels": dict(X=X, y=y[1:]),
             "y has a NaN or infinite value": dict(X=X, y=np.where(y > 300, np.inf, y)),
             "needs arrays 'X' and 'y'": dict(A=X)}
    for match, arrays in cases.items():
        np.savez(tmp_path / "d.npz", **arrays)
        with pytest.raises(data.DataError, match=match):
            data.load_npz(tmp_path / "d.npz")
    (tmp_path / "e.npz").write_bytes(b"")
    with pytest.raises(data.DataError, match="not a readable .npz file"):
        data.load_npz(tmp_path / "e.npz")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # two epochs on purpose
def test_concurrent_saves_to_one_path_leave_a_whole_model(tmp_path):
    # 100 rounds of two threads saving different models to one path: every call succeeds,
    # the file always loads (as one of the two), and no temporary file is left.
    import threading

    X, y = load_diabetes(return_X_y=True)
    models = [ZipMLRegressor(max_iter=2, decay_epochs=0, random_state=s).fit(X, y) for s in range(2)]
    path, errors = tmp_path / "m.zipml", []

    def save(est):
        try:
            save_model(est, path)
        except Exception as exc:  # noqa: BLE001 - counted
            errors.append(exc)

    for _ in range(100):
        threads = [threading.Thread(target=save, args=(m,)) for m in models]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        coef = load_model(path).coef_
        assert any(np.array_equal(coef, m.coef_) for m in models)
    assert errors == [] and list(tmp_path.iterdir()) == [path]


def test_saving_never_replaces_what_is_not_a_regular_file(tmp_path):
    import os

    est = ZipMLRegressor(max_iter=2, decay_epochs=0).fit(*load_diabetes(return_X_y=True))
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for target in (fifo, tmp_path):
        with pytest.raises(ValueError, match="exists and is not a regular file; refusing to replace it"):
            save_model(est, target)
    assert fifo.is_fifo()
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_model(est, tmp_path / "missing" / "m.zipml")


@pytest.mark.parametrize("fmt", ["npz", "csv", "libsvm"])
def test_mutated_data_files_load_or_raise_data_error(tmp_path, fmt):
    # 400 mutations (truncation, bit flip, overwritten and inserted bytes; seed 0) of a
    # 40-row file: each loads or raises DataError (measured over 1500 per format: no other
    # exception type).
    import io
    import random

    from sklearn.datasets import dump_svmlight_file

    X, y = load_diabetes(return_X_y=True)
    X, y = X[:40], y[:40]
    good_path = tmp_path / f"good.{fmt}"
    if fmt == "npz":
        np.savez(good_path, X=X, y=y)
    elif fmt == "csv":
        buf = io.StringIO()
        np.savetxt(buf, np.column_stack([y, X]), delimiter=",", header="y," + ",".join(f"x{i}" for i in range(10)),
                   comments="")
        good_path.write_text(buf.getvalue())
    else:
        dump_svmlight_file(X, y, str(good_path))
    good, path, rng = good_path.read_bytes(), tmp_path / f"m.{fmt}", random.Random(0)
    outcomes = {"loaded": 0, "refused": 0}
    for trial in range(400):
        b = bytearray(good)
        kind = trial % 4
        if kind == 0:
            b = b[:rng.randrange(len(b))]
        elif kind == 1:
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        elif kind == 2:
            for _ in range(rng.randrange(1, 6)):
                b[rng.randrange(len(b))] = rng.randrange(256)
        else:
            at = rng.randrange(len(b))
            b[at:at] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 20)))
        path.write_bytes(bytes(b))
        try:
            X_loaded, y_loaded = data.load(path)
            assert X_loaded.ndim == 2 and len(X_loaded) == len(y_loaded) and np.isfinite(X_loaded).all()
            outcomes["loaded"] += 1
        except data.DataError:
            outcomes["refused"] += 1
    assert outcomes["refused"] > 100, outcomes


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # two epochs on purpose
@pytest.mark.parametrize("change, match", [
    (dict(change_meta=lambda m: {**m, "format_version": True}), "model format version True"),
    (dict(change_meta=lambda m: {**m, "n_iter": 10**30}), r"'n_iter' must be an integer in \[0, 2\*\*62\)"),
    (dict(change_meta=lambda m: {**m, "loss_curve": [True]}), "'loss_curve' must be a list of numbers"),
    (dict(change_meta=lambda m: {**m, "final_eta": float("inf")}), "'final_eta' must be a positive finite number"),
    (dict(change_meta=lambda m: {**m, "schedule": {"shift": 3}}), "'schedule' must be an object of shift, floor"),
    (dict(change_meta=lambda m: {**m, "schedule": {"shift": 65, "floor": 0, "best": None, "lowest": None, "stale": 0,
                                                   "halvings": 0, "since": 0, "flat": 0}}), "'schedule' must be"),
    (dict(change_meta=lambda m: {**m, "schedule": {"shift": 5, "floor": 0, "best": "1", "lowest": None, "stale": 0,
                                                   "halvings": 0, "since": 0, "flat": 0}}), "'schedule' must be"),
    (dict(change_meta=lambda m: {**m, "checksum": 5}), "checksum mismatch"),
    (dict(change_arrays=lambda a: a.update(models=np.full_like(a["models"], np.nan))), "'models' contains NaN"),
    (dict(change_arrays=lambda a: a.update(hi=np.full_like(a["hi"], np.inf))), "'hi' contains NaN or infinity"),
    (dict(change_arrays=lambda a: a.update(inv=-a["inv"])), "scaling needs lo <= hi and inv >= 0"),
    (dict(change_arrays=lambda a: a.update(lo=a["hi"] + 1)), "scaling needs lo <= hi and inv >= 0"),
    (dict(change_arrays=lambda a: a.update(label_scale=np.zeros_like(a["label_scale"]))),
     "'label_scale' must be positive"),
    (dict(change_arrays=lambda a: a.update(models=np.r_[a["models"], a["models"]], label_center=np.r_[
        a["label_center"], 0.0], label_scale=np.r_[a["label_scale"], 1.0])), "a regressor has one model, the file has 2"),
])
def test_model_files_with_impossible_values_are_refused(tmp_path, change, match):
    # found by an adversarial run: each of these loaded and then predicted NaN or failed later
    with pytest.raises(ModelFileError, match=match):
        load_model(_rewritten(_model_file(tmp_path), **change))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_schedule_saved_without_its_halvings_count_resumes_with_six(tmp_path):
    est = ZipMLRegressor(bits=4, max_iter=3, random_state=0).fit(*load_diabetes(return_X_y=True))
    save_model(est, tmp_path / "m.zipml")
    assert load_model(tmp_path / "m.zipml")._schedule.max_halvings == est._schedule.max_halvings
    older = load_model(_rewritten(tmp_path / "m.zipml", change_meta=lambda m: {**m, "schedule": {
        k: v for k, v in m["schedule"].items()
        if k not in ("max_halvings", "halve_every", "raises", "fast", "previous")}}))
    assert older._schedule.max_halvings == 6 and older._schedule.shift == est._schedule.shift
    assert older._schedule.halve_every == 20
    assert (older._schedule.raises, older._schedule.fast, older._schedule.previous) == (0, 0, np.inf)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_schedules_doublings_and_last_loss_survive_a_model_file(tmp_path):
    X, y = make_regression(3000, 200, noise=5, random_state=1)
    est = ZipMLRegressor(bits=1, max_iter=2, random_state=0).fit(X, y)  # damped: doublings left
    assert est._schedule.raises > 0 and est._schedule.fast == 1 and np.isfinite(est._schedule.previous)
    save_model(est, tmp_path / "m.zipml")
    loaded = load_model(tmp_path / "m.zipml")._schedule
    assert [getattr(loaded, k) for k in ("raises", "fast", "previous")] == \
        [getattr(est._schedule, k) for k in ("raises", "fast", "previous")]
    for key, bad in (("raises", 65), ("raises", -1), ("fast", 1.5), ("previous", "x"), ("previous", -1.0),
                     ("max_halvings", 129)):
        with pytest.raises(ModelFileError, match="raises"):
            load_model(_rewritten(tmp_path / "m.zipml", change_meta=lambda m, key=key, bad=bad: {
                **m, "schedule": {**m["schedule"], key: bad}}))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_the_halving_period_of_weighted_rows_survives_partial_fit_and_a_model_file(tmp_path):
    X, y = load_diabetes(return_X_y=True)
    w = np.random.default_rng(0).exponential(size=len(y)) ** 2  # E[u^2] / E[u]^2 about 6: 80 epochs
    # rows that step once by their weight (unshuffled; shuffled ones are split into visits
    # of at most the mean weight, which spread far less: 28)
    assert ZipMLRegressor(bits=4, max_iter=3, random_state=0).fit(X, y, sample_weight=w)._schedule.halve_every == 28
    est = ZipMLRegressor(bits=4, max_iter=3, shuffle=False, random_state=0).fit(X, y, sample_weight=w)
    assert est._schedule.halve_every == 80
    save_model(est, tmp_path / "m.zipml")
    assert load_model(tmp_path / "m.zipml")._schedule.halve_every == 80
    for shuffle, every in ((False, 80), (True, 28)):  # partial_fit splits shuffled rows too
        fresh = ZipMLRegressor(bits=4, shuffle=shuffle, random_state=0)
        fresh.partial_fit(X, y, sample_weight=w)
        assert fresh._schedule.halve_every == every
    for bad in (0, -1, 20.0, True, "20", None, 1 << 21):
        with pytest.raises(ModelFileError, match="halve_every"):
            load_model(_rewritten(tmp_path / "m.zipml", change_meta=lambda m, bad=bad: {
                **m, "schedule": {**m["schedule"], "halve_every": bad}}))


def test_partial_fits_window_survives_a_model_file(tmp_path):
    # 100-row calls fill the adaptive schedule's window of PARTIAL_FIT_WINDOW rows across a
    # save and a load: the update comes after as many rows as without them.
    from zipml_hls.linear_model import PARTIAL_FIT_WINDOW

    X, y = load_diabetes(return_X_y=True)
    calls = -(-PARTIAL_FIT_WINDOW // 100)
    assert calls > 2
    known = dict(bits=4, random_state=0, feature_range=(X.min(axis=0), X.max(axis=0)))
    straight, saved = ZipMLRegressor(**known), ZipMLRegressor(**known)
    for call in range(calls):
        rows = slice(call * 100 % 400, call * 100 % 400 + 100)
        straight.partial_fit(X[rows], y[rows])
        saved.partial_fit(X[rows], y[rows])
        save_model(saved, tmp_path / "m.zipml")
        saved = load_model(tmp_path / "m.zipml")
        assert saved._schedule.state() == straight._schedule.state()
        assert straight._schedule.since == (call + 1) // calls
    for name, bad in (("window_rows", -1), ("window_rows", 1.5), ("window_total", -1.0), ("window_squares", "0")):
        with pytest.raises(ModelFileError, match="window_rows"):
            load_model(_rewritten(tmp_path / "m.zipml", change_meta=lambda m, name=name, bad=bad: {
                **m, "schedule": {**m["schedule"], name: bad}}))


def test_loader_findings_of_an_adversarial_run(tmp_path):
    import os

    def write(name, text):
        (tmp_path / name).write_text(text)
        return tmp_path / name

    with pytest.raises(data.DataError, match="line 2: an empty value in column 1"):
        data.load_csv(write("a.csv", "1,2\n,\n3,4\n"))  # was dropped as a blank line
    with pytest.raises(data.DataError, match=r"line 2: non-numeric value '2\\n5' in column 2"):
        data.load_csv(write("q.csv", '1,"2\n5"\n3,4\n'))  # a quoted line break stays in its field
    X, _ = data.load_csv(write("e.csv", "1,2\n3,4\n5,6\n"), has_header=True)
    assert X.shape == (2, 1)  # the first line skipped although it is numeric
    with pytest.raises(TypeError, match="label_column must be an integer, got 1.5"):
        data.load_csv(write("d.csv", "1,2,3\n3,4,5\n"), label_column=1.5)
    for name, text in (("f.libsvm", ""), ("g.libsvm", "# only a comment\n")):
        with pytest.raises(data.DataError, match="no data: X has shape"):
            data.load_svmlight(write(name, text))
    np.savez(tmp_path / "empty.npz", X=np.empty((0, 3)), y=np.empty(0))
    with pytest.raises(data.DataError, match=r"no data: X has shape \(0, 3\)"):
        data.load_npz(tmp_path / "empty.npz")
    (tmp_path / "h.gz").write_bytes(b"\x1f\x8b\x08garbage")
    with pytest.raises(data.DataError, match="h.gz: cannot read it as LIBSVM data"):
        data.load(tmp_path / "h.gz")
    os.mkfifo(tmp_path / "pipe.csv")
    for loader in (data.load_csv, data.load_svmlight, data.load_npz, data.load):
        with pytest.raises(data.DataError, match="pipe.csv: not a regular file"):  # reading it would block
            loader(tmp_path / "pipe.csv")
    with pytest.raises(FileNotFoundError, match="missing.csv: no such file"):
        data.load_csv(tmp_path / "missing.csv")


def test_compressed_files_are_read_by_the_suffix_before_the_compression(tmp_path):
    import bz2
    import gzip

    X, y = load_diabetes(return_X_y=True)
    plain = tmp_path / "d.csv"
    np.savetxt(plain, np.column_stack([y, X]), delimiter=",", fmt="%.17g", header="y," + ",".join("abcdefghij"),
               comments="")
    libsvm = tmp_path / "d.libsvm"
    from sklearn.datasets import dump_svmlight_file

    dump_svmlight_file(X, y, str(libsvm), zero_based=False)
    X_csv, y_csv = data.load(plain)
    X_svm, y_svm = data.load(libsvm)
    for source, name, opener, want in ((plain, "d.csv.gz", gzip.open, (X_csv, y_csv)),
                                       (plain, "D.TSV.BZ2", bz2.open, (X_csv, y_csv)),
                                       (libsvm, "d.libsvm.GZ", gzip.open, (X_svm, y_svm)),
                                       (libsvm, "news20.bz2", bz2.open, (X_svm, y_svm))):
        with opener(tmp_path / name, "wb") as f:
            f.write(source.read_bytes())
        for got in (data.load(tmp_path / name), (data.load_csv if source == plain else data.load_svmlight)(
                tmp_path / name)):
            assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1]), name
    assert data.csv_label_index(tmp_path / "d.csv.gz", "c") == 3
    blocks = list(data.csv_blocks(tmp_path / "D.TSV.BZ2", block_bytes=4096))
    assert np.array_equal(np.concatenate([b[0] for b in blocks]), X_csv)
    assert data.data_format(tmp_path / "x.CSV.gz") == ("csv", ".gz")
    assert data.data_format(tmp_path / "x.gz", "csv") == ("csv", ".gz")
    assert data.data_format(tmp_path / "a9a.t") == ("libsvm", None)
    assert data.data_format(tmp_path / "x.parquet") == ("parquet", None)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    with gzip.open(tmp_path / "d.npz.gz", "wb") as f:
        f.write((tmp_path / "d.npz").read_bytes())
    (tmp_path / "d.csv.xz").write_bytes(b"\xfd7zXZ\x00")
    (tmp_path / "bad.csv.gz").write_bytes(gzip.compress(plain.read_bytes())[:-30])  # the stream cut short
    for name, match in (("d.npz.gz", "d.npz.gz: a compressed npz file is not read; decompress it"),
                        ("d.csv.xz", r"d.csv.xz: .xz files are not read; decompress it"),
                        ("bad.csv.gz", "bad.csv.gz: cannot read it as compressed CSV")):
        with pytest.raises(data.DataError, match=match):
            data.load(tmp_path / name)
    with pytest.raises(data.DataError, match="bad.csv.gz: cannot read it as compressed CSV"):
        list(data.csv_blocks(tmp_path / "bad.csv.gz"))
    with pytest.raises(data.DataError, match="d.npz.gz: a compressed npz file"):
        data.load_npz(tmp_path / "d.npz.gz")
