"""model_quantization='qsgd': the paper's norm-scaled stochastic rounding of the model and
of each update (docs/FORMATS.md section 7b), bit for bit on both backends."""

import math
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_diabetes

from zipml_hls import ZipMLRegressor, _kernels, quantize
from zipml_hls import reference as R
from zipml_hls.datasets import make_synthetic_regression
from zipml_hls.reference import fixed_point
from zipml_hls.scaling import LabelScaling
from zipml_hls.spec import format as F
from zipml_hls.spec import rng
from zipml_hls.spec.losses import LOSSES


def _draws(trial: int, d: int) -> np.ndarray:
    return rng.draw(rng.stream_key(3, rng.STREAM_MODEL, trial, 0), np.arange(d))


def _qsgd(x: np.ndarray, bits: int, trial: int) -> np.ndarray:
    t = fixed_point.qsgd_norm_shift(int(np.abs(x).max()))
    return fixed_point.qsgd_round(x, fixed_point.qsgd_norm_root(x, t), t, (1 << (bits - 1)) - 1,
                                  _draws(trial, len(x)))


def test_integer_norm_bounds_the_vector_and_cannot_overflow():
    for x in (np.array([3, -4]), np.array([1 << 31 - 1] * 7 + [-(1 << 31)]), np.array([0, 0, 5]),
              np.random.default_rng(0).integers(-(1 << 31), 1 << 31, size=65536)):
        t = fixed_point.qsgd_norm_shift(int(np.abs(x).max()))
        r = fixed_point.qsgd_norm_root(x, t)
        norm = math.sqrt(float(np.sum(x.astype(np.float64) ** 2)))
        assert norm <= r << t <= norm * (1 + math.sqrt(len(x)) * 2.0 ** -15) + (1 << t)
        assert r < 1 << 32 and np.abs(x).max() <= r << t
    assert fixed_point.qsgd_norm_root(np.array([3, -4]), 0) == 5  # exact where the norm is an integer
    assert fixed_point.qsgd_norm_root(np.array([3, 3]), 0) == 5  # ceil(sqrt(18))
    assert not np.any(_qsgd(np.zeros(5, np.int64), 4, 0))


def test_qsgd_round_by_hand():
    # x = -1 against N = 5 * 2^1 with s = 3: level 0 with remainder 3 of 10, raised when
    # rnd * 5 < 3 * 2^31 (rnd <= 1288490188: probability 3/10); level 1 is worth round(10 / 3) = 3.
    def q(x, rnd):
        return int(fixed_point.qsgd_round(np.array([x]), 5, 1, 3, np.array([rnd], np.uint32))[0])
    assert (q(-1, 1288490188), q(-1, 1288490189), q(1, 0), q(10, (1 << 32) - 1)) == (-3, 0, 3, 10)
    # 7: 7 * 3 / 10 = 2.1, level 2 (round(20 / 3) = 7) or 3 (10)
    assert (q(7, 0), q(7, (1 << 32) - 1), q(0, 0)) == (10, 7, 0)


@pytest.mark.parametrize("bits", [2, 4, 8])
def test_qsgd_is_unbiased_with_the_papers_variance(bits):
    # 4000 independent roundings of one vector (d = 64, heavy tails and zeros): every entry's
    # mean is within 4.5 standard errors of the value (plus the 1/2 of the value's rounding
    # to the nearest integer), and the mean squared error is within QSGD's bound
    # E||q - x||^2 <= min(d / s^2, sqrt(d) / s) ||x||^2, measured against N^2, the integer
    # norm (||x||^2 <= N^2 <= 1.001 ||x||^2 here); 2 bits (s = 1) is the sqrt(d) / s case.
    gen = np.random.default_rng(bits)
    x = (gen.standard_t(2, size=64) * (1 << 20)).astype(np.int64)
    x[:4] = 0
    d, s, trials = len(x), (1 << (bits - 1)) - 1, 4000
    q = np.stack([_qsgd(x, bits, trial) for trial in range(trials)])
    t = fixed_point.qsgd_norm_shift(int(np.abs(x).max()))
    norm = fixed_point.qsgd_norm_root(x, t) << t
    level = norm / s
    sd = np.maximum(np.sqrt(np.var(q, axis=0)), level / np.sqrt(trials))
    assert np.all(np.abs(q.mean(axis=0) - x) <= 4.5 * sd / np.sqrt(trials) + 0.5)
    assert not np.any(q[:, :4])  # zeros stay zero
    assert np.all(np.abs(q - x) <= level + 1)  # one of the two levels around each value
    mse = np.mean(np.sum((q - x).astype(np.float64) ** 2, axis=1))
    assert mse <= min(d / s**2, math.sqrt(d) / s) * float(norm) ** 2
    assert mse >= 0.05 * min(d / s**2, math.sqrt(d) / s) * float(norm) ** 2  # it did round (0.14-0.45 measured)


@pytest.mark.parametrize("bits", [1, 4, 8])
@pytest.mark.parametrize("sampling", ["double", "naive", "nearest"])
@pytest.mark.parametrize("loss", [name for name, spec in LOSSES.items() if spec.kernel == "linear"])
@pytest.mark.parametrize("model_bits, grad_bits", [(8, 0), (0, 8), (4, 6), (2, 2)])
def test_qsgd_kernels_bit_exact(bits, sampling, loss, model_bits, grad_bits):
    gen = np.random.default_rng(bits + 10 * model_bits + grad_bits)
    n, d = 30, 37
    X = gen.uniform(size=(n, d))
    y = X @ gen.standard_normal(d)
    q = quantize(X, bits, sampling=sampling, seed=2, n_copies=2)
    labels = LabelScaling.fit(y).to_fixed(y)
    full = None
    if LOSSES[loss].margin:
        labels = np.where(y > np.median(y), 1 << F.LABEL_FRAC, -(1 << F.LABEL_FRAC)).astype(np.int32)
    if LOSSES[loss].refetch:
        full = R.scaled_position(X.astype(np.float32), q.scaling.lo, q.scaling.inv)  # the rows to refetch
    init = gen.integers(-(1 << 24), 1 << 24, size=d + 1).astype(np.int32)
    args = (q.lines, labels, d, bits)
    tail = (3, 4, 1, F.dot_mult(bits), init)
    kw = dict(loss=LOSSES[loss].kernel_id, model_bits=model_bits, grad_bits=grad_bits, seed=9, full=full)
    cpp = _kernels.sgd_linear(*args, F.sampling_id(sampling), *tail, model_quantization=1, **kw)
    fast = _kernels.sgd_linear(*args, F.sampling_id(sampling), *tail, model_quantization=1, portable=True, **kw)
    ref = R.sgd_linear(*args, sampling, *tail, model_quantization="qsgd", **dict(kw, loss=loss))
    for got, again, want in zip(cpp, fast, ref):  # history, predictions, saturations, refetches
        assert np.array_equal(got, want) and np.array_equal(again, want)
    grid = _kernels.sgd_linear(*args, F.sampling_id(sampling), *tail, **kw)
    if cpp[3].sum() == 3 * n:
        return  # the hinge refetched every row: exact rows and unrounded steps, whatever the rounding
    assert not (np.array_equal(cpp[0], grid[0]) and np.array_equal(cpp[1], grid[1]))  # not the grid's rounding


def test_qsgd_bit_exact_with_tables_conditioning_and_penalties():
    gen = np.random.default_rng(5)
    n, d, bits = 25, 21, 4
    X = gen.uniform(size=(n, d)).astype(np.float32)
    y = X @ gen.standard_normal(d)
    q = quantize(X, bits, sampling="double", levels="optimal", seed=4)
    labels = LabelScaling.fit(y).to_fixed(y)
    values = F.level_values(q.level_table)
    init = gen.integers(-(1 << 22), 1 << 22, size=d + 1).astype(np.int32)
    kw = dict(values=values, model_bits=5, grad_bits=4, seed=3,
              feature_shifts=gen.integers(0, 4, size=d).astype(np.uint8),
              centers=gen.integers(0, 1025, size=d).astype(np.int32),
              sample_weights=gen.integers(0, 1 << 17, size=n).astype(np.int32),
              decay=gen.integers(0, 1 << 28, size=d).astype(np.int32),
              l1=gen.integers(0, 1 << 20, size=d).astype(np.int32))
    tail = (labels, d, bits)
    cpp = _kernels.sgd_linear(q.lines, *tail, F.sampling_id("double"), 3, 8, 0, F.TABLE_DOT_MULT, init,
                              model_quantization=1, **kw)
    ref = R.sgd_linear(q.lines, *tail, "double", 3, 8, 0, F.TABLE_DOT_MULT, init, model_quantization="qsgd", **kw)
    for got, want in zip(cpp, ref):
        assert np.array_equal(got, want)


def test_qsgd_golden_vectors_run_on_the_native_kernel():
    # The golden model wrote them (scripts/make_golden_vectors.py); the C++ gives the same.
    root = Path(__file__).resolve().parents[1] / "testbench" / "vectors"
    cases = [line.split()[1] for line in (root / "index.txt").read_text().splitlines() if "qsgd" in line]
    assert len(cases) >= 10
    for name in cases:
        folder = root / name
        p = dict(line.split() for line in (folder / "params.txt").read_text().splitlines())
        p = {k: int(v) for k, v in p.items()}
        assert p["model_quantization"] == 1

        def arr(fname, dtype):
            return np.fromfile(folder / fname, dtype=dtype)
        n, d = p["n"], p["d"]
        opt = {k: arr(f"{k}.i32", np.int32) for k in ("sample_weights", "decay", "l1")
               if (folder / f"{k}.i32").exists()}
        if p["feature_shifts"]:
            opt.update(feature_shifts=arr("feature_shifts.u8", np.uint8), centers=arr("centers.i32", np.int32))
        if (folder / "full.u32").exists():
            opt["full"] = arr("full.u32", np.uint32).reshape(n, d)
        hist, pred, sat, _ = _kernels.sgd_linear(
            arr("data.u64", np.uint64).reshape(p["n_copies"], n, -1), arr("labels.i32", np.int32), d, p["bits"],
            p["sampling"], p["epochs"], p["step_shift"], p["decay_epochs"], p["dot_mult"],
            arr("model_in.i32", np.int32), values=arr("values.i32", np.int32).reshape(d, -1) if p["tables"] else None,
            loss=p["loss"], model_bits=p["model_bits"], grad_bits=p["grad_bits"], model_quantization=1,
            seed=p["rng_seed"], **opt)
        assert np.array_equal(hist.ravel(), arr("expected.i32", np.int32)), name
        assert np.array_equal(pred.ravel(), arr("predictions.i32", np.int32)), name
        assert np.array_equal(sat, arr("saturations.i32", np.int32)), name


def test_least_squares_with_qsgd_model_and_gradient_converges_to_the_closed_form():
    # 8-bit data, model and updates, all QSGD-rounded: the coefficients within 2% (relative
    # 2-norm) of the least-squares solution, and the training loss within 5% of its loss.
    X, y, _ = make_synthetic_regression(4000, 20, random_state=1)
    A = np.column_stack([X, np.ones(len(X))])
    solution = np.linalg.lstsq(A, y, rcond=None)[0]
    best = np.mean((A @ solution - y) ** 2) / 2
    est = ZipMLRegressor(bits=8, model_bits=8, grad_bits=8, model_quantization="qsgd", random_state=0).fit(X, y)
    coef = np.append(est.coef_, est.intercept_)
    assert np.linalg.norm(coef - solution) <= 0.02 * np.linalg.norm(solution)
    assert np.mean((est.predict(X) - y) ** 2) / 2 <= 1.05 * best


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # ends at max_iter on purpose
def test_estimator_backends_agree_and_the_parameter_is_checked(tmp_path):
    X, y = load_diabetes(return_X_y=True)
    kw = dict(bits=4, model_bits=6, grad_bits=6, model_quantization="qsgd", max_iter=2, random_state=5)
    a = ZipMLRegressor(**kw).fit(X[:100], y[:100])
    b = ZipMLRegressor(**kw, backend="reference").fit(X[:100], y[:100])
    assert np.array_equal(a.coef_, b.coef_)
    grid = ZipMLRegressor(**dict(kw, model_quantization="grid")).fit(X[:100], y[:100])
    assert not np.array_equal(a.coef_, grid.coef_)
    from zipml_hls.model_io import load_model, save_model
    save_model(a, tmp_path / "m.zmodel")
    again = load_model(tmp_path / "m.zmodel")
    assert again.model_quantization == "qsgd" and np.array_equal(again.predict(X), a.predict(X))
    with pytest.raises(ValueError, match="model_quantization must be one of"):
        ZipMLRegressor(model_quantization="QSGD").fit(X, y)
    with pytest.raises(ValueError, match="model_quantization must be 0"):
        _kernels.sgd_linear(*(np.zeros((1, 1, 8), np.uint64), np.zeros(1, np.int32), 1, 8, 0, 1, 3, 0,
                              F.dot_mult(8), np.zeros(2, np.int32)), model_quantization=2)


def test_cli_flag_reaches_the_estimator_and_its_file(tmp_path, capsys):
    from zipml_hls.cli import main
    from zipml_hls.model_io import load_model
    X, y = load_diabetes(return_X_y=True)
    path = tmp_path / "diabetes.csv"
    np.savetxt(path, np.column_stack([y, X]), delimiter=",", header="y," + ",".join(f"x{i}" for i in range(10)))
    model = tmp_path / "m.zipml"
    assert main(["train", str(path), "--bits", "4", "--model-bits", "6", "--grad-bits", "6", "--model-quantization",
                 "qsgd", "--epochs", "3", "--decay-epochs", "0", "--seed", "1", "--model-out", str(model),
                 "--quiet"]) == 0
    est = load_model(model)
    assert (est.model_quantization, est.model_bits, est.grad_bits) == ("qsgd", 6, 6)
    again = type(est)(**est.get_params()).fit(X, y)  # the file's params refit to the same model
    np.testing.assert_array_equal(again.coef_, est.coef_)
    with pytest.raises(SystemExit) as exit_info:
        main(["train", str(path), "--model-quantization", "norm"])
    assert exit_info.value.code == 2 and "invalid choice: 'norm'" in capsys.readouterr().err
