"""The command line: train / predict / info / reproduce, and clean failures."""

import json
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import dump_svmlight_file, load_breast_cancer, load_diabetes

from zipml_hls.cli import main
from zipml_hls.model_io import load_model


@pytest.fixture
def diabetes_csv(tmp_path):
    X, y = load_diabetes(return_X_y=True)
    path = tmp_path / "diabetes.csv"
    np.savetxt(path, np.column_stack([y, X]), delimiter=",", header="y," + ",".join(f"x{i}" for i in range(10)))
    return path


@pytest.fixture
def cancer_libsvm(tmp_path):
    X, y = load_breast_cancer(return_X_y=True)
    path = tmp_path / "cancer.libsvm"
    dump_svmlight_file(X, np.where(y == 1, 1, -1), str(path), zero_based=False)
    return path


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")  # a model of a named CSV header
def test_train_and_predict_regression(diabetes_csv, tmp_path, capsys):
    model = tmp_path / "m.zipml"
    assert main(["train", str(diabetes_csv), "--bits", "4", "--seed", "3", "--model-out", str(model),
                 "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "final training loss" in out and "R^2" in out
    est = load_model(model)
    assert est.bits == 4 and est.n_features_in_ == 10
    preds = tmp_path / "p.txt"
    assert main(["predict", str(model), str(diabetes_csv), "--output", str(preds)]) == 0
    X, y = load_diabetes(return_X_y=True)
    np.testing.assert_allclose(np.loadtxt(preds), est.predict(X))


def test_library_messages_speak_the_options_but_leave_names_and_paths_alone():
    from zipml_hls.cli import cli_words

    assert cli_words("max_iter must be >= 1") == "--epochs must be >= 1"
    assert cli_words("levels='optimal' with bits=32; or levels='uniform'") == "--levels optimal with --bits 32; or " \
                                                                            "--levels uniform"
    assert cli_words("fit_intercept=False at bits=1: use more bits or fit_intercept=True") == \
        "--no-intercept at --bits 1: use more bits or the intercept (no --no-intercept)"
    assert cli_words("early_stopping=True needs decay_epochs=None") == "--early-stopping needs no --decay-epochs"
    # paths and quoted names (a folder 'bits=2', a column 'n_jobs'), and English words, stay as written
    for text in ("runs/bits=2/bad.zml: not a zipml-hls model file", "runs/n_jobs/seed.csv: line 3: bad value",
                 "d.csv: the model's feature(s) 'n_jobs' are not in the header (line 1: 'max_iter', 'y')",
                 "the training loss and the bits of the levels"):
        assert cli_words(text) == text


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")  # a model of a named CSV header
def test_predict_on_a_file_without_the_training_header_finds_the_label_by_place(tmp_path, capsys):
    # Trained on a CSV file whose header names the label (last column, 'target'); the test
    # rows come without a header: the label is read at the place it had (it once looked for
    # a column 'target' in a file that has none and stopped).
    X, y = load_diabetes(return_X_y=True)
    table = np.column_stack([X, y])
    named, bare = tmp_path / "named.csv", tmp_path / "bare.csv"
    np.savetxt(named, table, delimiter=",", header=",".join([f"x{i}" for i in range(10)] + ["target"]), comments="")
    np.savetxt(bare, table, delimiter=",")
    model = tmp_path / "m.zipml"
    assert main(["train", str(named), "--label-column", "target", "--bits", "4", "--model-out", str(model),
                 "--quiet"]) == 0
    capsys.readouterr()
    assert main(["predict", str(model), str(bare), "-o", str(tmp_path / "p.txt")]) == 0
    err = capsys.readouterr().err
    assert "label column 10 (counted from 0), the place of 'target' in the model's training file" in err
    assert "R^2 against the file's labels: 0." in err
    np.testing.assert_allclose(np.loadtxt(tmp_path / "p.txt"), load_model(model).predict(X))
    assert err.count("note: label column") == 1
    # a classifier of text labels too (its file is read again for them)
    text = np.where(y > np.median(y), "high", "low")
    named, bare = tmp_path / "named_text.csv", tmp_path / "bare_text.csv"
    rows = [",".join([*map(repr, x), t]) for x, t in zip(X.tolist(), text)]
    named.write_text(",".join([f"x{i}" for i in range(10)] + ["target"]) + "\n" + "\n".join(rows) + "\n")
    bare.write_text("\n".join(rows) + "\n")
    assert main(["train", str(named), "--label-column", "target", "--bits", "8", "--model-out", str(model),
                 "--quiet"]) == 0
    capsys.readouterr()
    assert main(["predict", str(model), str(bare), "-o", str(tmp_path / "t.txt")]) == 0
    assert "accuracy against the file's labels" in capsys.readouterr().err
    assert set(np.loadtxt(tmp_path / "t.txt", dtype=str)) <= {"high", "low"}


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")  # a model of a named CSV header
def test_predict_writes_into_devices_and_pipes(diabetes_csv, tmp_path, capsys):
    # /dev/null and a FIFO are written into (a rename over them would replace the device);
    # a folder is still refused, before the data are read.
    import os
    import threading

    model = tmp_path / "m.zipml"
    assert main(["train", str(diabetes_csv), "--epochs", "2", "--model-out", str(model), "--quiet"]) == 0
    assert main(["predict", str(model), str(diabetes_csv), "--output", os.devnull]) == 0
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    assert main(["predict", str(model), str(diabetes_csv), "--output", str(fifo)]) == 0
    reader.join(timeout=60)
    X, _ = load_diabetes(return_X_y=True)
    est = load_model(model)
    np.testing.assert_allclose(np.array(got[0].split(), float), est.predict(X))
    assert fifo.exists() and not fifo.is_file()  # still the pipe
    capsys.readouterr()
    assert main(["predict", str(model), str(diabetes_csv), "--output", str(tmp_path)]) == 2
    assert "not a regular file" in capsys.readouterr().err


def test_requantize_flag_reaches_the_estimator_and_its_file(diabetes_csv, tmp_path, capsys):
    X, y = load_diabetes(return_X_y=True)
    for flag, value in ((None, "auto"), ("--requantize", True), ("--no-requantize", False)):
        model = tmp_path / f"m{value}.zipml"
        argv = ["train", str(diabetes_csv), "--bits", "2", "--epochs", "3", "--decay-epochs", "0", "--seed", "1",
                "--model-out", str(model), "--quiet"] + ([flag] if flag else [])
        assert main(argv) == 0
        est = load_model(model)
        assert est.requantize == value
        again = type(est)(**est.get_params()).fit(X, y)  # the file's params refit to the same model
        np.testing.assert_array_equal(again.coef_, est.coef_)


def test_average_epochs_flag_reaches_the_estimator_and_its_file(diabetes_csv, tmp_path):
    X, y = load_diabetes(return_X_y=True)
    model = tmp_path / "m.zipml"
    assert main(["train", str(diabetes_csv), "--bits", "2", "--epochs", "6", "--decay-epochs", "0", "--seed", "1",
                 "--average-epochs", "4", "--model-out", str(model), "--quiet"]) == 0
    est = load_model(model)
    assert est.average_epochs == 4
    again = type(est)(**est.get_params()).fit(X, y)
    np.testing.assert_array_equal(again.coef_, est.coef_)
    assert not np.array_equal(type(est)(**{**est.get_params(), "average_epochs": 0}).fit(X, y).coef_, est.coef_)


def test_train_classification_on_libsvm(cancer_libsvm, tmp_path, capsys):
    model = tmp_path / "c.zipml"
    assert main(["train", str(cancer_libsvm), "--bits", "8", "--model-out", str(model), "--quiet"]) == 0
    out = capsys.readouterr().out
    acc = float(out.split("training accuracy")[1].split("|")[0])
    assert acc > 0.93
    est = load_model(model)
    assert list(est.classes_) == [-1.0, 1.0]


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")  # a model of a named CSV header
def test_text_class_labels_in_csv_train_predict_and_score(tmp_path, capsys):
    # iris as most CSV files hold it: a header and the species as text, here in the last column
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    data, model, preds = tmp_path / "iris.csv", tmp_path / "iris.zipml", tmp_path / "p.txt"
    data.write_text("sepal_length,sepal_width,petal_length,petal_width,species\n"
                    + "".join(",".join(f"{v:g}" for v in x) + f", {n}\n" for x, n in zip(X, names)))
    assert main(["train", str(data), "--label-column", "species", "--seed", "0", "--model-out", str(model)]) == 0
    out = capsys.readouterr().out
    assert "classification: the labels are text, 3 classes" in out
    assert float(out.split("training accuracy")[1].split("|")[0]) > 0.9
    est = load_model(model)
    assert list(est.classes_) == ["setosa", "versicolor", "virginica"]
    assert main(["predict", str(model), str(data), "--output", str(preds)]) == 0  # the label column from the file
    assert preds.read_text().split() == list(est.predict(X))
    assert "accuracy against the file's labels: 0.9" in capsys.readouterr().err
    unlabelled = tmp_path / "new.csv"
    unlabelled.write_text("".join(",".join(f"{v:g}" for v in x) + "\n" for x in X[:5]))
    assert main(["predict", str(model), str(unlabelled)]) == 0
    assert capsys.readouterr().out.split() == list(est.predict(X[:5]))


def test_text_labels_mixed_with_numbers_are_all_text_and_need_classification(tmp_path):
    from zipml_hls.data import DataError, load_csv

    data = tmp_path / "d.csv"
    data.write_text("1,0.5,2\nyes,0.1,3\n2,0.7,1\n")
    X, y = load_csv(data, text_labels=True)
    assert y.tolist() == ["1", "yes", "2"] and X.tolist() == [[0.5, 2], [0.1, 3], [0.7, 1]]
    with pytest.raises(DataError, match="line 2: non-numeric value 'yes' in column 1"):
        load_csv(data)  # numbers only, as before, unless asked
    numeric = tmp_path / "n.csv"
    numeric.write_text("1,0.5\n2,0.1\n")
    assert load_csv(numeric, text_labels=True)[1].dtype == np.float64
    proc = subprocess.run([sys.executable, "-m", "zipml_hls", "train", str(data), "--task", "regression"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "the labels are text ('1', '2', 'yes'); --task regression needs numbers" in proc.stderr


def test_no_command_shows_the_commands():
    proc = subprocess.run([sys.executable, "-m", "zipml_hls"], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("usage: zipml-hls")
    for command in ("train", "predict", "quantize", "reproduce", "bench"):
        assert command in proc.stderr


def test_usage_errors_point_to_help(diabetes_csv):
    proc = subprocess.run([sys.executable, "-m", "zipml_hls", "train", str(diabetes_csv), "--bits", "5"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.strip().endswith("(--help lists the options)")


@pytest.mark.parametrize("argv, match", [
    (["train", "/nonexistent/file.libsvm"], "no such file"),
    (["train", "DATA", "--bits", "5"], "invalid choice"),
    (["trian", "DATA"], "invalid choice: 'trian' (choose from"),
    (["train", "DATA", "--eta0", "-1"], "must be 'auto' or a positive number"),
    (["train", "DATA", "--epochs", "0"], "--epochs must be >= 1, got 0"),
    (["train", "DATA", "--seed", "-1"], "--seed must be"),
    (["train", "DATA", "--jobs", "0"], "--jobs must be a positive number of threads"),
    (["train", "DATA", "--bits", "32", "--levels", "optimal"], "--levels optimal places the levels of quantized data; "
                                                               "--bits 32 trains on float32 values"),
    (["predict", "/nonexistent/model", "DATA"], "no such model file"),
    (["train", "BAD"], "line 2"),
    (["train", "DATA", "--validation-fraction", "0.2"], "--validation-fraction applies with --early-stopping"),
    (["train", "DATA", "--early-stopping", "--decay-epochs", "3"], "it needs no --decay-epochs, got"),
    (["train", "ZERO", "--one-based"], "feature index 0 is below the first index, 1 (0-based files, as scikit-learn's "
                        "dump_svmlight_file writes them, need zero_based=True; on the command line --zero-based)"),
    (["train", "ZERO", "--zero-based", "--max-dense-gib", "1e-9"], "needs 48 bytes, above the limit of 1 bytes"),
    (["train", "ZERO", "--max-dense-gib", "-1"], "must be a positive number of GiB below 2^33, got '-1'"),
    (["train", "ZERO", "--max-dense-gib", "inf"], "must be a positive number of GiB below 2^33, got 'inf'"),
    (["train", "DATA", "--copies", "3"], "--copies applies with --no-fresh-samples"),
    (["train", "DATA", "--average-epochs", "-2"], "--average-epochs must be >= 0, got -2"),
])
def test_bad_input_exits_2_with_one_line(argv, match, diabetes_csv, tmp_path):
    bad = tmp_path / "bad.libsvm"
    bad.write_text("1 1:0.5 2:1\n-1 1:0.3 2:x\n")
    zero = tmp_path / "zero.libsvm"  # 0-based indices, as dump_svmlight_file writes them
    zero.write_text("1 0:1 2:3\n0 1:2\n")
    argv = [str(diabetes_csv) if a == "DATA" else str(bad) if a == "BAD" else str(zero) if a == "ZERO" else a
            for a in argv]
    proc = subprocess.run([sys.executable, "-m", "zipml_hls", *argv], capture_output=True, text=True)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and match in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.fixture
def bad_files(tmp_path, diabetes_csv):
    X, y = load_diabetes(return_X_y=True)
    files = {"DATA": diabetes_csv, "NPZ": tmp_path / "d.npz"}
    np.savez(files["NPZ"], X=X, y=y)
    (tmp_path / "huge.libsvm").write_text("1 1000000000000:1\n")
    (tmp_path / "long.csv").write_text("1," + "1" * 200_000 + "\n2,3\n")
    (tmp_path / "cell.csv").write_text("1,,3\n4,5,6\n")
    with_nan = X.copy()
    with_nan[3, 2] = np.nan
    np.savez(tmp_path / "nan.npz", X=with_nan, y=y)
    np.savez(tmp_path / "oned.npz", X=X[:, 0], y=y)
    np.savez(tmp_path / "complex.npz", X=X.astype(complex), y=y)
    (tmp_path / "damaged.npz").write_bytes(files["NPZ"].read_bytes()[:500])
    files.update({name.upper().replace(".", "_"): tmp_path / name for name in (
        "huge.libsvm", "long.csv", "cell.csv", "nan.npz", "oned.npz", "complex.npz", "damaged.npz")})
    files["FOLDER"] = tmp_path
    return files


@pytest.mark.parametrize("argv, match", [
    (["train", "HUGE_LIBSVM"], "line 1: feature index 1000000000000 is too large (at most 2^31 - 1)"),
    (["train", "LONG_CSV"], "line 1: field larger than field limit"),
    (["train", "CELL_CSV"], "line 1: an empty value in column 2"),
    (["train", "NAN_NPZ"], "X has a NaN or infinite value (1 in all; the first at row 4, feature 3)"),
    (["train", "ONED_NPZ"], "X must be 2-D, got shape (442,)"),
    (["train", "COMPLEX_NPZ"], "X must hold real numbers, got dtype complex128"),
    (["train", "DAMAGED_NPZ"], "not a readable .npz file"),
    (["train", "NPZ", "--no-fresh-samples", "--copies", "3000000000"], "--copies must be in [1, 2147483647]"),
    (["train", "NPZ", "--no-fresh-samples", "--copies", "100000000"], "quantized copies of 442 x 10 values would need"),
    (["train", "NPZ", "--epochs", "2147483648", "--decay-epochs", "0"], "the model history of 2147483648 epochs"),
    (["bench", "--rows", "10000000000"], "the benchmark's 10000000000 x 2048 float32 data would need"),
    (["bench", "--quick", "--repeats", "1000000000000"], "--repeats must be at most 1000"),  # ran for hours
    (["train", "NPZ", "--model-out", ""], "--model-out needs a file name"),  # trained and wrote nothing
    (["hls", "synth", "--clock", "nan"], "--clock: must be a clock period in [0.1, 1000] ns, got 'nan'"),
    (["hls", "synth", "--clock", "0"], "--clock: must be a clock period in [0.1, 1000] ns, got '0'"),
    (["hls", "synth", "--part", "a;b"], "--part: must be an FPGA part name"),
    (["train", "NPZ", "--model-out", "FOLDER/missing/m.zipml"], "does not exist"),
    (["train", "NPZ", "--model-out", "FOLDER"], "exists and is not a regular file; refusing to replace it"),
])
def test_damaged_and_oversized_input_exits_2_with_one_line(argv, match, bad_files):
    # each fails before any work with one line (these were tracebacks, MemoryErrors,
    # pybind11 messages printing the data, or a failure after training)
    argv = [str(bad_files[a]) if a in bad_files else a.replace("FOLDER", str(bad_files["FOLDER"])) for a in argv]
    proc = subprocess.run([sys.executable, "-m", "zipml_hls", *argv, "--quiet"] if argv[0] == "train"
                          else [sys.executable, "-m", "zipml_hls", *argv], capture_output=True, text=True, timeout=120)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and match in lines[0], proc.stderr[-3000:]


def test_predict_with_stdout_closed_asks_for_an_output_file(bad_files, tmp_path):
    model = tmp_path / "m.zipml"
    assert main(["train", str(bad_files["NPZ"]), "--epochs", "2", "--decay-epochs", "0", "--quiet",
                 "--model-out", str(model)]) == 0
    base = f"{sys.executable} -m zipml_hls predict {model} {bad_files['NPZ']}"
    proc = subprocess.run(["bash", "-c", f"{base} >&-"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "stdout is closed; write the predictions with --output FILE" in proc.stderr
    out = tmp_path / "p.txt"
    proc = subprocess.run(["bash", "-c", f"{base} --output {out} >&-"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and len(out.read_text().splitlines()) == 442


def test_info_lists_kernels(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "max features" in out and "4-bit: double 80 (6 bits)" in out and "flags" in out


def test_reproduce_writes_report(tmp_path):
    from zipml_hls.reproduce import reproduce

    r = reproduce(tmp_path, quiet=True, sizes={"synthetic": (2000, 30), "epochs": 6, "throughput": (512, 256),
                                               "skewed": (1000, 10), "levels_epochs": 6, "limits": (300, 5),
                                               "limits_seeds": 2,
                                               "deep_learning": {"networks": ("mlp",), "seeds": 2, "epochs": 1}})
    for name in ("report.md", "results.json", "convergence.png", "final_loss_vs_bits.png", "speedup.png",
                 "levels_vs_bits.png", "levels_variance.png", "precision_limits.png", "nonlinear.png"):
        assert (tmp_path / name).stat().st_size > 0
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["convergence"].keys() == r["convergence"].keys()
    rows = saved["convergence"]["synthetic 2000x30"]
    assert {(x["bits"], x["sampling"]) for x in rows} >= {(32, "fp32"), (8, "double"), (1, "naive")}
    assert all(len(x["loss_curve"]) == 6 for x in rows)
    report = (tmp_path / "report.md").read_text()
    assert "## 3. Naive sampling is biased" in report and "FPGA projection" in report
    assert "Data movement per epoch" in report and "| 4-bit double, end to end |" in report
    assert "## 4. Variance-optimal levels" in report and "## 6. Non-linear models" in report
    # section 8 runs where torch is installed, and says how to get it where not
    assert "## 8. A little bit of deep learning" in report
    if r["deep_learning"] is None:
        assert 'pip install "zipml-hls[torch]"' in report
    else:
        assert "| digits | mlp | optimal |" in report and (tmp_path / "deep_learning.png").stat().st_size > 0
    limits = saved["precision_limits"]
    assert list(limits) == ["diabetes 442x10", "ill-conditioned 300x5", "tabular 300x63"]
    assert [x["bits"] for x in limits["tabular 300x63"]["end_to_end"]["rows"]] == [2, 3, 4, 6, 8]
    assert "## 5. Precision limits" in report and "| ill-conditioned 300x5 | 4 | " in report
    assert {"log_loss", "hinge"} == saved["nonlinear"]["breast cancer"].keys()
    assert {"double", "naive"} <= saved["levels"]["lognormal 1000x10"].keys()
    assert len(saved["levels_variance"]["lognormal 1000x10"]) == 5 and "| lognormal 1000x10 | 2 |" in report
    # the two-worker rows have no FPGA projection (it is of one kernel instance)
    assert "| fp32 C++ kernel | " in report and "| fp32 C++ kernel, 2 workers |" in report
    two = next(line for line in report.splitlines() if line.startswith("| fp32 C++ kernel, 2 workers |"))
    assert two.rstrip().endswith("| - |")


def test_reproduce_runs_on_the_users_data(tmp_path):
    # --data: the least-squares sections and (for classes) the classification section run on
    # the given set, named in the report; three classes become the most frequent against the rest
    from zipml_hls.reproduce import reproduce, user_datasets

    rng = np.random.default_rng(0)
    X = rng.uniform(size=(400, 6))
    y = np.digitize(X @ np.arange(1.0, 7.0), [5, 9])  # classes 0, 1, 2
    sets, split = user_datasets("mine.csv", X, y.astype(float), "classification")
    (name, (_, target)), = sets.items()
    common = np.bincount(y).argmax()
    assert name == f"mine.csv, class {common} against the rest" and set(target) == {-1.0, 1.0}
    assert np.array_equal(target == 1, y == common) and len(split["mine.csv"][0]) == 300
    r = reproduce(tmp_path, quiet=True, data=("mine.csv", X, y.astype(float), "classification"),
                  sizes={"epochs": 3, "throughput": (512, 256), "levels_epochs": 3, "limits_seeds": 1,
                         "deep_learning": {"networks": ("mlp",), "seeds": 1, "epochs": 1}})
    report = (tmp_path / "report.md").read_text()
    assert "**Data: mine.csv** (400 x 6, classification)" in report
    assert list(r["convergence"]) == [name] and list(r["nonlinear"]) == ["mine.csv"]
    assert list(r["levels"]) == [name] and f"| {name} | 2 |" in report
    assert list(r["precision_limits"]) == [name] and f"| {name} | 8 | " in report
    proc = subprocess.run([sys.executable, "-m", "zipml_hls", "reproduce", "--task", "regression", "--out",
                           str(tmp_path / "x")], capture_output=True, text=True)
    assert proc.returncode == 2 and "--task applies with --data" in proc.stderr


def test_sparse_limit_from_the_command_line(cancer_libsvm):
    proc = subprocess.run([sys.executable, "-m", "zipml_hls", "train", str(cancer_libsvm), "--max-dense-gib", "1e-6",
                           "--quiet"], capture_output=True, text=True)
    assert proc.returncode == 2 and "--max-dense-gib" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_train_warns_in_the_command_lines_words(diabetes_csv, capsys):
    assert main(["train", str(diabetes_csv), "--epochs", "2", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "warning: Maximum number of epochs (--epochs 2) reached" in err and "raise --epochs" in err
    # without --model-out the model is not kept, and the command says so
    assert "note: the model is not kept: --model-out FILE saves it" in err


@pytest.mark.parametrize("sig, code, word", [("SIGINT", 130, "interrupted"), ("SIGTERM", 143, "terminated")])
def test_signals_stop_training_quickly_and_leave_no_temporary_file(tmp_path, sig, code, word):
    # A fixed schedule of many epochs on 65536 x 256 float32: the kernels run one epoch
    # per call, so the signal takes effect within one epoch (measured 0.04-0.17 s to the
    # message on 262144 x 512, idle machine); SIGTERM unwinds like Ctrl-C, so cleanup runs
    # (exit 143). The bound, to the process's exit, leaves room for a loaded machine
    # (0.9 s measured at load 10 on 2 cores).
    import signal
    import time

    data = tmp_path / "d.npz"
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(65536, 256)).astype(np.float32)
    np.savez(data, X=X, y=X @ rng.standard_normal(256))
    argv = ["zipml-hls", "train", str(data), "--bits", "32", "--epochs", "100000", "--decay-epochs", "0",
            "--model-out", str(tmp_path / "m.zipml")]
    # Ctrl-C's handler as a command started in the foreground has it: a run started in the
    # background (`cmd &` in a script) inherits SIGINT ignored, and Python keeps it so.
    start_cli = ("import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
                 f"sys.argv = {argv!r}; runpy.run_module('zipml_hls', run_name='__main__')")
    proc = subprocess.Popen([sys.executable, "-c", start_cli], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    while "epoch 2," not in proc.stderr.readline():  # a line per epoch: training is under way
        assert proc.poll() is None
    start = time.monotonic()
    proc.send_signal(getattr(signal, sig))
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError(f"{sig} did not stop training within 60 s") from None
    assert time.monotonic() - start < 3.0 and proc.returncode == code and err.strip().endswith(word), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.npz"]


def test_predict_writes_its_predictions_when_the_labels_cannot_be_scored(tmp_path, capsys):
    # a model of string classes on a file of numeric labels: the predictions are the
    # command's product; the score is skipped with a note (it exited 2 after writing them)
    from zipml_hls import ZipMLClassifier
    from zipml_hls.model_io import save_model

    X, y = load_breast_cancer(return_X_y=True)
    save_model(ZipMLClassifier(max_iter=2, decay_epochs=0).fit(X, np.where(y == 1, "yes", "no")), tmp_path / "m.zipml")
    dump_svmlight_file(X, y, str(tmp_path / "d.libsvm"), zero_based=False)
    out = tmp_path / "p.txt"
    assert main(["predict", str(tmp_path / "m.zipml"), str(tmp_path / "d.libsvm"), "--output", str(out)]) == 0
    assert len(out.read_text().splitlines()) == len(y)
    assert "no accuracy: the file's labels do not match the model's" in capsys.readouterr().err


def test_train_and_predict_read_compressed_csv(diabetes_csv, tmp_path, capsys):
    import bz2

    packed = tmp_path / "diabetes.csv.bz2"
    packed.write_bytes(bz2.compress(diabetes_csv.read_bytes()))
    models = [tmp_path / "plain.zipml", tmp_path / "packed.zipml"]
    for data, model in zip((diabetes_csv, packed), models):
        assert main(["train", str(data), "--bits", "4", "--seed", "3", "--model-out", str(model), "--quiet"]) == 0
    assert np.array_equal(load_model(models[0]).coef_, load_model(models[1]).coef_)
    outputs = [tmp_path / "plain.txt", tmp_path / "packed.txt"]
    for data, out in zip((diabetes_csv, packed), outputs):
        assert main(["predict", str(models[1]), str(data), "--output", str(out)]) == 0
    assert outputs[0].read_text() == outputs[1].read_text()
    capsys.readouterr()
    (tmp_path / "d.csv.zst").write_bytes(b"(\xb5/\xfd")
    assert main(["train", str(tmp_path / "d.csv.zst")]) == 2
    err = capsys.readouterr().err
    assert ".zst files are not read" in err and err.count("\n") == 1
