"""What scikit-learn and LIBLINEAR users do on the command line: scikit-learn's 0-based
LIBSVM dumps and LIBLINEAR's 1-based files without flags (the model remembers which),
CSV headers as DataFrame.to_csv writes them, label columns by name, unlabeled data to
predict, probabilities and decision values, labels as they were read, output paths checked
before training, defaults in --help."""

import argparse
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import dump_svmlight_file, load_breast_cancer, load_diabetes, load_iris

from zipml_hls import ZipMLRegressor
from zipml_hls.cli import build_parser
from zipml_hls.cli import main as cli_main
from zipml_hls.model_io import load_model, load_model_and_format


def main(argv):
    return cli_main([str(a) for a in argv])


def run(*argv):
    return subprocess.run([sys.executable, "-m", "zipml_hls", *map(str, argv)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def cancer():
    return load_breast_cancer(return_X_y=True)


@pytest.mark.parametrize("zero_based", [True, False])
def test_libsvm_index_base_is_detected_and_remembered(cancer, tmp_path, zero_based, capsys):
    X, y = cancer
    data = tmp_path / "cancer.libsvm"
    dump_svmlight_file(X, y, str(data), zero_based=zero_based)
    model = tmp_path / "m.zipml"
    assert main(["train", data, "--model-out", model, "--quiet", "--seed", "0"]) == 0
    est, data_format = load_model_and_format(model)
    assert data_format == {"zero_based": zero_based} and est.n_features_in_ == 30
    # predict needs no flag: the rows are read as in training, so the predictions are the estimator's
    out = tmp_path / "p.txt"
    assert main(["predict", model, data, "--output", out]) == 0
    assert np.array_equal(np.loadtxt(out), est.predict(X))
    assert "accuracy against the file's labels" in capsys.readouterr().err


def test_a_one_based_reading_of_a_zero_based_file_names_the_flag(cancer, tmp_path):
    X, y = cancer
    data = tmp_path / "zero.libsvm"
    dump_svmlight_file(X[:20], y[:20], str(data), zero_based=True)
    proc = run("train", data, "--one-based")
    assert proc.returncode == 2 and "--zero-based" in proc.stderr


def _numbered_csv(path, X, y, header=True):
    """What pandas.DataFrame(np.column_stack([X, y])).to_csv(index=False) writes: a header of
    the column numbers."""
    table = np.column_stack([X, y])
    lines = [",".join(str(k) for k in range(table.shape[1]))] if header else []
    lines += [",".join(repr(float(v)) for v in row) for row in table]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_header_of_column_numbers_is_a_header_and_says_so(cancer, tmp_path, capsys):
    X, y = cancer
    data = _numbered_csv(tmp_path / "numbered.csv", X[:426], y[:426])
    assert main(["train", data, "--label-column", "-1", "--epochs", "2", "--decay-epochs", "0"]) == 0
    captured = capsys.readouterr()
    assert "on 426 samples x 30 features" in captured.out
    assert "line 1 (0, 1, 2, 3, ...) is read as a header of column numbers" in captured.err
    assert main(["train", data, "--label-column", "-1", "--no-header", "--epochs", "2", "--decay-epochs", "0"]) == 0
    assert "on 427 samples" in capsys.readouterr().out


def test_a_typo_in_the_first_row_is_an_error_not_a_header(cancer, tmp_path):
    X, y = cancer
    data = _numbered_csv(tmp_path / "typo.csv", X[:50], y[:50], header=False)
    lines = data.read_text().splitlines()
    cells = lines[0].split(",")
    cells[3] = "1.2.3"
    data.write_text("\n".join([",".join(cells)] + lines[1:]) + "\n")
    proc = run("train", data, "--label-column", "-1")
    assert proc.returncode == 2
    assert "line 1: non-numeric value '1.2.3' in column 4 among numbers" in proc.stderr and "--header" in proc.stderr
    with_flag = run("train", data, "--label-column", "-1", "--header", "--epochs", "2", "--decay-epochs", "0")
    assert with_flag.returncode == 0 and "on 49 samples" in with_flag.stdout


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")  # a model of a named CSV header
def test_label_column_by_name_and_predict_without_labels(tmp_path, capsys):
    X, y = load_iris(return_X_y=True)
    names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    data = tmp_path / "iris.csv"
    data.write_text(",".join(names + ["target"]) + "\n"
                    + "\n".join(",".join([*(repr(float(v)) for v in row), str(t)]) for row, t in zip(X, y)) + "\n")
    model = tmp_path / "iris.zipml"
    assert main(["train", data, "--label-column", "target", "--loss", "log_loss", "--model-out", model,
                 "--quiet", "--seed", "1"]) == 0
    est = load_model(model)
    assert list(est.classes_) == [0, 1, 2]
    # the model keeps the header's names as a DataFrame fit does: Python checks them too
    assert list(est.feature_names_in_) == names
    try:
        import pandas as pd
    except ImportError:  # (the [csv] extra)
        pd = None
    if pd is not None:
        with pytest.raises(ValueError, match="Feature names must be in the same order"):
            est.predict(pd.DataFrame(X[:, ::-1], columns=names[::-1]))
    unlabeled = tmp_path / "unlabeled.csv"
    unlabeled.write_text(",".join(names) + "\n" + "\n".join(",".join(repr(float(v)) for v in row) for row in X) + "\n")
    capsys.readouterr()
    assert main(["predict", model, unlabeled]) == 0
    captured = capsys.readouterr()
    printed = captured.out.split()
    assert printed == [str(int(v)) for v in est.predict(X)]  # '2', not '2.0'
    assert "no accuracy: the file has no label column" in captured.err
    assert main(["predict", model, unlabeled, "--proba"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "0,1,2"
    np.testing.assert_allclose(np.array([[float(v) for v in line.split(",")] for line in lines[1:]]),
                               est.predict_proba(X), rtol=1e-12)
    assert main(["predict", model, data, "--label-column", "target", "--decision-function"]) == 0
    values = np.array([[float(v) for v in line.split(",")] for line in capsys.readouterr().out.splitlines()[1:]])
    np.testing.assert_allclose(values, est.decision_function(X), rtol=1e-12)
    proc = run("train", data, "--label-column", "species")
    assert proc.returncode == 2 and "no column 'species' in the header" in proc.stderr


def test_predict_finds_a_dataframe_models_features_by_name_and_says_which_label_it_assumes(tmp_path, capsys):
    # A model fitted in Python on a DataFrame knows its columns' names: predict on a CSV file
    # written by DataFrame.to_csv (target last) takes the features by name and the column
    # left as the label. A model that records neither (from a quantized file) takes column
    # 0 and says so.
    pd = pytest.importorskip("pandas")
    from zipml_hls import ZipMLRegressor, quantize
    from zipml_hls.model_io import save_model

    X, y = load_diabetes(return_X_y=True, as_frame=True)
    est = ZipMLRegressor(random_state=0).fit(X, y)
    model, data = tmp_path / "m.zipml", tmp_path / "d.csv"
    save_model(est, model)
    pd.concat([X, y], axis=1).to_csv(data, index=False)
    assert main(["predict", str(model), str(data)]) == 0
    assert f"R^2 against the file's labels: {est.score(X, y):.4f}" in capsys.readouterr().err
    quantized, from_file = tmp_path / "d.zq", tmp_path / "q.zipml"
    quantize(X.to_numpy(), 8, y=y.to_numpy(), seed=0).save(quantized)
    assert main(["train", str(quantized), "--model-out", str(from_file), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["predict", str(from_file), str(data), "--label-column", "target"]) == 0
    assert "note:" not in capsys.readouterr().err
    assert main(["predict", str(from_file), str(data)]) == 0
    assert "label column 0 ('age'): the model does not record its training file's label column" in \
        capsys.readouterr().err


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")  # a model of a named CSV header
@pytest.mark.parametrize("column", ["target", "-1", "2"])
def test_predict_reads_the_label_column_the_model_was_trained_with(tmp_path, capsys, column):
    # Trained with the label in column 'target' (last, or third of five as "2") of a file with
    # a header, the model file keeps the label's and the features' names, and predict finds
    # them by name: in the training file, with the columns in another order, and with the
    # label renamed (the one column left); a label that is one of the features is an error.
    rng = np.random.default_rng(5)
    X = rng.normal(size=(400, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 3.0]) + 0.1 * rng.normal(size=400)
    position = 2 if column == "2" else 4
    table = np.insert(X, position, y, axis=1)
    header = ["a", "b", "c", "d"]
    header.insert(position, "target")

    def write(name, names, rows):
        path = tmp_path / name
        path.write_text(",".join(names) + "\n" + "\n".join(",".join(repr(float(v)) for v in r) for r in rows) + "\n")
        return path

    data = write("train.csv", header, table)
    model = tmp_path / "m.zipml"
    assert main(["train", data, "--label-column", column, "--model-out", model, "--seed", "0"]) == 0
    assert "(label 'target'; --label-column sets another)" in capsys.readouterr().out
    est, training_format = load_model_and_format(model)
    assert training_format == {"label_column": "target", "label_index": position, "feature_names": ["a", "b", "c", "d"]}
    score = est.score(X, y)
    assert score > 0.99
    order = [4, 2, 0, 3, 1]  # columns shuffled
    for path in (data, write("shuffled.csv", [header[k] for k in order], table[:, order]),
                 write("renamed.csv", [h.replace("target", "y") for h in header], table)):
        assert main(["predict", model, path]) == 0
        assert f"R^2 against the file's labels: {score:.4f}" in capsys.readouterr().err
    proc = run("predict", model, data, "--label-column", "a")
    assert proc.returncode == 2 and "the label column 'a' is one of the model's features" in proc.stderr


def test_integer_labels_taken_as_classes_say_so(tmp_path, capsys):
    # counts 0-4 look like classes to --task auto: the training line says so and how to fit numbers
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = np.clip(np.rint(X[:, 0] + 2), 0, 4)
    data = tmp_path / "counts.npz"
    np.savez(data, X=X, y=y)
    assert main(["train", data, "--epochs", "2", "--decay-epochs", "0"]) == 0
    out = capsys.readouterr().out
    assert ("training ZipMLClassifier (classification: the labels are integers with 5 values; --task regression "
            "fits them as numbers) on 300 samples") in out
    assert main(["train", data, "--epochs", "2", "--decay-epochs", "0", "--task", "regression"]) == 0
    assert "training ZipMLRegressor (regression) on 300 samples" in capsys.readouterr().out
    # 40 integer values are numbers to --task auto: the line says how to fit them as classes
    np.savez(data, X=X, y=rng.integers(0, 40, 300).astype(float))
    assert main(["train", data, "--epochs", "2", "--decay-epochs", "0"]) == 0
    assert ("training ZipMLRegressor (regression: the labels are integers with 40 values; --task classification "
            "fits them as classes) on 300 samples") in capsys.readouterr().out


def test_proba_needs_a_probabilistic_model(cancer, tmp_path):
    X, y = cancer
    data = tmp_path / "c.libsvm"
    dump_svmlight_file(X, y, str(data))
    model = tmp_path / "m.zipml"
    assert main(["train", data, "--model-out", model, "--quiet", "--epochs", "2", "--decay-epochs", "0"]) == 0
    proc = run("predict", model, data, "--proba")
    assert proc.returncode == 2 and "--proba needs a classifier trained with --loss log_loss" in proc.stderr


@pytest.mark.parametrize("target, match", [("missing/dir/m.zipml", "does not exist"),
                                           ("/proc/self/m.zipml", "cannot write a file in /proc/self")])
def test_an_unwritable_model_path_fails_before_training(cancer, tmp_path, target, match):
    X, y = cancer
    data = tmp_path / "c.libsvm"
    dump_svmlight_file(X, y, str(data))
    out = target if target.startswith("/") else tmp_path / target
    proc = run("train", data, "--model-out", out)
    assert proc.returncode == 2 and match in proc.stderr
    assert "training" not in proc.stdout  # nothing started


def _option_help(parser):
    formatter = parser._get_formatter()
    return {a.option_strings[0] if a.option_strings else a.dest: formatter._get_help_string(a) or ""
            for a in parser._actions if not isinstance(a, argparse._HelpAction)}


@pytest.mark.parametrize("command", ["train", "predict", "quantize", "bench", "reproduce"])
def test_help_shows_every_default_and_every_argument_has_help(command):
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
    helps = _option_help(sub)
    for action in sub._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        name = action.option_strings[0] if action.option_strings else action.dest
        assert helps[name], f"{command} {name} has no help"
        if action.option_strings and not any(action.default is v for v in (None, False, argparse.SUPPRESS)):
            assert "default" in helps[name], f"{command} {name}: no default shown"


def test_a_bad_random_state_is_reported_by_that_name():
    with pytest.raises(ValueError, match="random_state must be"):
        ZipMLRegressor(random_state=-1).fit(np.ones((4, 2)), np.arange(4.0))


def test_a_closed_pipe_does_not_stop_training(tmp_path):
    # `zipml-hls train ... | head -1`: the reader goes after the first line; training still
    # ends and writes its model, quietly.
    data, model = tmp_path / "d.csv", tmp_path / "m.zipml"
    X, y = load_diabetes(return_X_y=True)
    np.savetxt(data, np.column_stack([y, X]), delimiter=",")
    proc = subprocess.Popen([sys.executable, "-m", "zipml_hls", "train", str(data), "--model-out", str(model)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().startswith("training ZipMLRegressor")
    proc.stdout.close()
    assert proc.wait(timeout=120) == 0
    with proc.stderr:
        assert "Broken pipe" not in proc.stderr.read()
    assert load_model(model).n_features_in_ == 10


def test_zip_files_in_the_wrong_place_and_unknown_libsvm_features(tmp_path, capsys):
    # A model file given as data, or data as the model: one line saying what it is. A LIBSVM
    # file to predict that names a feature the training file never had: that feature has no
    # weight, so it is left out, and a note says so.
    train, test, model = tmp_path / "tr.libsvm", tmp_path / "te.libsvm", tmp_path / "m.zipml"
    train.write_text("1 1:0.5 2:1\n-1 1:0.3 3:2\n1 2:0.1\n-1 3:0.3\n")
    test.write_text("1 1:0.5 5:1\n-1 1:0.3 2:2\n")
    assert main(["train", train, "--model-out", model, "--quiet"]) == 0
    proc = run("train", model)
    assert proc.returncode == 2 and "a zip archive (a model file, or .npz data under another name)" in proc.stderr
    proc = run("predict", train, model)
    assert proc.returncode == 2 and proc.stderr.strip().endswith("not a zipml-hls model file (not a zip archive)")
    capsys.readouterr()
    assert main(["predict", model, test]) == 0
    out, err = capsys.readouterr()
    assert "1 value(s) in features beyond the model's 3: it has no weight for them (left out)" in err
    est = load_model(model)
    assert out.split() == [str(int(v)) for v in est.predict(np.array([[0.5, 0, 0], [0.3, 2, 0]]))]


def test_numbers_with_thousands_separators_and_a_csv_named_txt_say_what_they_are(tmp_path):
    # '147,621' labels were read as text: 500 classes and accuracy 0.01, exit 0; a CSV file
    # named .txt whose header's first cell has a space was "label 'mean' is not a number".
    rng = np.random.default_rng(0)
    area = rng.uniform(50, 300, 200)
    prices = tmp_path / "prices.csv"
    prices.write_text("area,price\n" + "".join(f'{a:.1f},"{a * 1500:,.0f}"\n' for a in area))
    proc = run("train", prices, "--label-column", "price")
    assert proc.returncode == 2 and "the labels are numbers written with thousands separators" in proc.stderr
    assert run("train", prices, "--label-column", "price", "--task", "classification").returncode == 0
    named_txt = tmp_path / "cancer.txt"
    named_txt.write_text("mean radius,mean texture,target\n1.0,2.0,1\n3.0,4.0,0\n")
    proc = run("train", named_txt)
    assert proc.returncode == 2 and "a CSV file? name it .csv, or pass --format csv" in proc.stderr


def test_a_repeated_header_name_is_an_error_and_an_unnamed_column_a_note(tmp_path, capsys):
    # A repeated name would let predict match two columns by one name (swapped without a
    # word where the file orders them otherwise); an unnamed column (to_csv's index) trains
    # as a feature, positionally, and says so.
    X, y = load_diabetes(return_X_y=True)
    rows = "".join(",".join(repr(float(v)) for v in (*x, t)) + "\n" for x, t in zip(X, y))
    names = [f"x{i}" for i in range(10)]
    repeated = tmp_path / "repeated.csv"
    repeated.write_text(",".join(names[:9] + ["x8", "target"]) + "\n" + rows)
    proc = run("train", repeated, "--label-column", "target")
    assert proc.returncode == 2 and "the header names columns 8 and 9 (counted from 0) both 'x8'" in proc.stderr
    unnamed = tmp_path / "unnamed.csv"
    unnamed.write_text(",".join([""] + names[1:] + ["target"]) + "\n" + rows)
    model = tmp_path / "m.zipml"
    assert main(["train", unnamed, "--label-column", "target", "--model-out", model, "--quiet"]) == 0
    assert "column(s) 0 of the header have no name" in capsys.readouterr().err
    est, training_format = load_model_and_format(model)
    assert not hasattr(est, "feature_names_in_") and "feature_names" not in training_format
    # the label by default is column 0; a header column called 'target' gets a note
    last = tmp_path / "last.csv"
    last.write_text(",".join(names + ["target"]) + "\n" + rows)
    assert main(["train", last, "--quiet"]) == 0
    assert ("the label is column 0, 'x0' (the default); the header also names 'target': --label-column target"
            in capsys.readouterr().err)


def test_text_labels_without_a_header_and_a_header_narrower_than_the_rows(tmp_path, capsys):
    # The UCI iris layout: no header, the class name last. Line 1 is data (a class name is
    # not a header name); with one feature too. A header narrower than the rows (given with
    # --header) names nothing: the model file is written and read back.
    X, y = load_iris(return_X_y=True)
    names = np.array(["Iris-setosa", "Iris-versicolor", "Iris-virginica"])[y]
    data, model = tmp_path / "iris.data", tmp_path / "m.zipml"
    data.write_text("".join(",".join(f"{v:g}" for v in x) + f",{n}\n" for x, n in zip(X, names)))
    assert main(["train", data, "--format", "csv", "--label-column", "-1", "--model-out", model, "--epochs", "30"]) == 0
    assert "on 150 samples x 4 features" in capsys.readouterr().out
    assert main(["predict", model, data, "--format", "csv"]) == 0
    assert float(capsys.readouterr().err.split("accuracy against the file's labels:")[1]) > 0.9
    one = tmp_path / "one.csv"
    one.write_text("".join(f"{n},{x[2]:g}\n" for x, n in zip(X, names)))
    assert main(["train", one, "--epochs", "30"]) == 0
    assert "on 150 samples x 1 features" in capsys.readouterr().out
    narrow = tmp_path / "narrow.csv"
    narrow.write_text("y,a\n" + "".join(f"{v},{v + 1},{2 * v}\n" for v in range(40)))
    assert main(["train", narrow, "--header", "--model-out", model, "--quiet"]) == 0
    est, training_format = load_model_and_format(model)
    assert est.n_features_in_ == 2 and training_format is None


def test_the_estimators_are_imported_on_first_use():
    # The command line's help and errors do not import scikit-learn; the estimators do.
    code = ("import sys, zipml_hls; assert 'sklearn' not in sys.modules; assert 'ZipMLRegressor' in dir(zipml_hls); "
            "zipml_hls.ZipMLClassifier; assert 'sklearn' in sys.modules\n"
            "try:\n    zipml_hls.nothing\nexcept AttributeError as e:\n    print(e)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == "module 'zipml_hls' has no attribute 'nothing'", proc.stderr


def test_a_library_warning_is_one_warning_line_on_the_command_line(monkeypatch, capsys):
    # A warning raised by a command (or by a library under it) reads "warning: ..." on one
    # line of stderr, without Python's source file and line; the report's worker processes
    # show theirs the same way. Python's own display comes back after the command.
    import warnings

    import zipml_hls.cli as cli

    def warns(args):
        warnings.warn("first line\n  second line", UserWarning)
        return 0

    monkeypatch.setattr(cli, "cmd_info", warns)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        before = warnings.showwarning
        assert cli.main(["info"]) == 0
        assert warnings.showwarning is before
    assert capsys.readouterr().err == "warning: first line second line\n"


def test_quantize_says_when_the_text_it_refuses_is_the_label(tmp_path, capsys):
    # A quantized data file holds numeric labels: text in the label column is refused with
    # a word on why and what to do; text in a feature column keeps the plain message.
    path = tmp_path / "churn.csv"
    path.write_text("f0,churn,f1\n0.5,no,1.5\n0.25,yes,2.5\n0.75,no,0.5\n")
    for label in ("churn", "1"):
        assert cli_main(["quantize", str(path), "--label-column", label, "--bits", "4", "-o",
                         str(tmp_path / "q.zq")]) == 2
        err = capsys.readouterr().err
        assert "non-numeric value 'no' in column 2 (counting from 1), the label column" in err
        assert "numeric labels" in err and err.count("\n") == 1
    assert cli_main(["quantize", str(path), "--bits", "4", "-o", str(tmp_path / "q.zq")]) == 2
    err = capsys.readouterr().err
    assert "in column 2 (counting from 1)" in err and "label column" not in err


def test_predict_notes_labels_that_are_none_of_the_models_classes(tmp_path, capsys):
    # Labels spelt otherwise than in training (upper case) score 0 against every row: a
    # note says that none of them is a class of the model; the right labels get no note.
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    train, upper = tmp_path / "train.csv", tmp_path / "upper.csv"
    for path, labels in ((train, names), (upper, np.char.upper(names))):
        path.write_text("a,b,c,d,species\n" + "".join(",".join(f"{v:g}" for v in row) + f",{label}\n"
                                                       for row, label in zip(X, labels)))
    model = tmp_path / "m.zipml"
    assert cli_main(["train", str(train), "--label-column", "species", "--model-out", str(model), "--quiet"]) == 0
    capsys.readouterr()
    assert cli_main(["predict", str(model), str(upper), "--output", str(tmp_path / "p.txt")]) == 0
    err = capsys.readouterr().err
    assert "note: none of the file's labels is a class of the model (setosa, versicolor, virginica)" in err
    assert "accuracy against the file's labels: 0.0000" in err
    assert cli_main(["predict", str(model), str(train), "--output", str(tmp_path / "p.txt")]) == 0
    assert "none of the file's labels" not in capsys.readouterr().err


def test_predict_notes_a_headerless_file_for_a_model_with_names(tmp_path, capsys):
    # A model that knows its features' names, given a file of the same width without a
    # header, reads the columns by position: a note says so (names cannot be checked).
    X, y = load_diabetes(return_X_y=True)
    train, plain = tmp_path / "train.csv", tmp_path / "plain.csv"
    rows = "".join(f"{t:g}," + ",".join(f"{v:.6g}" for v in row) + "\n" for t, row in zip(y, X))
    train.write_text("target," + ",".join(f"f{j}" for j in range(10)) + "\n" + rows)
    plain.write_text("".join(",".join(f"{v:.6g}" for v in row) + "\n" for row in X))
    model = tmp_path / "m.zipml"
    assert cli_main(["train", str(train), "--model-out", str(model), "--quiet"]) == 0
    capsys.readouterr()
    assert cli_main(["predict", str(model), str(plain), "--output", str(tmp_path / "p.txt")]) == 0
    err = capsys.readouterr().err
    assert f"note: {plain} has no header: its columns are taken as the model's features in training order " \
           "(f0, f1, f2, ...), unchecked" in err
    assert cli_main(["predict", str(model), str(train), "--output", str(tmp_path / "p.txt")]) == 0
    assert "has no header" not in capsys.readouterr().err


def test_a_negative_training_loss_gets_a_note(tmp_path, capsys):
    # At 1 bit the pass's loss estimate (from the two quantized samples of each row) can
    # fall below 0 on noise-free lognormal data: the line keeps the figure, a note says what
    # it is; 8 bits, with a positive estimate, get no note.
    rng = np.random.default_rng(0)
    X = rng.lognormal(size=(2000, 6))
    y = X @ rng.normal(size=6) * 100
    data = tmp_path / "d.csv"
    np.savetxt(data, np.column_stack([y, X]), delimiter=",", fmt="%.10g")
    assert cli_main(["train", str(data), "--bits", "1", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "final training loss -" in captured.out
    assert "note: the training loss is estimated from the quantized samples" in captured.err
    assert cli_main(["train", str(data), "--bits", "8", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "final training loss -" not in captured.out and "estimated from the quantized" not in captured.err
