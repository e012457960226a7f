"""Adversarial sweep of the public entry points and the command line with bad input.

Every API case must raise a ValueError or TypeError (or a subclass; an OSError for a
missing file or folder) whose message is one line, or succeed where the case says the
input is good; every command-line case must exit with the expected status and, on error,
print exactly one line on stderr and no traceback. SIGINT and SIGTERM during training must
end it within 5 s with one line and nothing left behind. Anything else (another exception
type, a multi-line message, a traceback, a wrong status, a hang past the time limit, bad
input accepted) is a failure, printed with the case.

Usage: python scripts/adversarial.py [--only api|cli|signals] [--verbose]
Exit status 1 when any case fails.
"""

from __future__ import annotations

import argparse
import gzip
import os
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

TIME_LIMIT = 60  # seconds per case: past it, a hang


class _Hang(Exception):
    pass


def _on_alarm(signum, frame):
    raise _Hang


def api_cases(tmp: Path):
    """(name, callable, good): ``good`` cases must succeed, the others fail cleanly."""
    import scipy.sparse as sp

    from zipml_hls import ZipMLClassifier, ZipMLRegressor, load_quantized, optimal_levels, quantize
    from zipml_hls import data
    from zipml_hls.model_io import load_model, save_model

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = X @ [1.0, 2.0, 3.0]
    yc = (y > 0).astype(int)
    reg = lambda **kw: ZipMLRegressor(max_iter=2, decay_epochs=0, random_state=0, **kw)  # noqa: E731
    clf = lambda **kw: ZipMLClassifier(max_iter=2, decay_epochs=0, random_state=0, **kw)  # noqa: E731
    fitted = reg().fit(X, y)
    fitted_c = clf().fit(X, yc)
    mixed = X.astype(object)
    mixed[3, 1] = "2.5"
    bad_X = {
        "1-D": X[:, 0], "scalar": X[0, 0], "3-D": X[:, :, None], "complex": X + 1j, "NaN": np.where(X > 1, np.nan, X),
        "inf": np.where(X > 1, np.inf, X), "-inf": np.where(X > 1, -np.inf, X), "above float32": X * 1e300,
        "no rows": X[:0], "no features": X[:, :0], "numeric strings": X.astype(str),
        "object numeric strings": X.astype(str).astype(object), "object text": np.full((60, 3), "a", dtype=object),
        "bytes": X.astype("S8"), "object with one string": mixed, "datetime": X.astype("datetime64[s]"),
        "timedelta": X.astype("timedelta64[s]"), "ragged list": [[1.0, 2.0], [3.0]] * 30, "None": None,
        "a string": "X", "a dict": {"a": [1, 2]}, "list of dicts": [{"a": 1}] * 60,
        "sparse NaN": sp.csr_matrix(np.where(X > 1, np.nan, X)), "sparse complex": sp.csr_matrix(X + 1j),
        "70000 features": np.zeros((2, 70000)),
    }
    good_X = {"object numbers": X.astype(object), "list": X.tolist(), "bool": X > 0, "int": (X * 10).astype(int),
              "float32": X.astype(np.float32), "Fortran order": np.asfortranarray(X), "sparse": sp.csr_matrix(X)}
    bad_y = {"NaN": np.where(y > 1, np.nan, y), "inf": np.where(y > 1, np.inf, y),
             "+-1e308": np.where(y > 0, 1e308, -1e308),
             "3-D": np.c_[y, y][:, :, None], "short": y[:10], "complex": y + 1j, "text": y.astype(str), "None": None,
             "datetime": y.astype("datetime64[s]"), "object text": np.full(60, "a", dtype=object)}
    cases = []
    for name, Xb in bad_X.items():
        cases.append((f"ZipMLRegressor.fit X {name}", lambda Xb=Xb: reg().fit(Xb, y), False))
        cases.append((f"ZipMLClassifier.fit X {name}", lambda Xb=Xb: clf().fit(Xb, yc), False))
        if name not in ("no features", "70000 features"):  # float64 predictions take values above float32's range
            cases.append((f"predict X {name}", lambda Xb=Xb: fitted.predict(Xb), name == "above float32"))
            cases.append((f"decision_function X {name}", lambda Xb=Xb: fitted_c.decision_function(Xb),
                          name == "above float32"))
    for name, Xg in good_X.items():
        cases.append((f"ZipMLRegressor.fit X {name}", lambda Xg=Xg: reg().fit(Xg, y), True))
        cases.append((f"predict X {name}", lambda Xg=Xg: fitted.predict(Xg), True))
    for name, yb in bad_y.items():
        cases.append((f"ZipMLRegressor.fit y {name}", lambda yb=yb: reg().fit(X, yb), False))
    cases += [
        ("ZipMLRegressor.fit y 2-D (one model per column)", lambda: reg().fit(X, np.c_[y, y]), True),
        ("ZipMLClassifier.fit y one class", lambda: clf().fit(X, np.zeros(60)), False),
        ("ZipMLClassifier.fit y text labels", lambda: clf().fit(X, np.where(yc, "a", "b")), True),
        ("predict overflow", lambda: reg().fit(X * 1e-3, y).predict(np.full((2, 3), 1e308)), False),
        ("decision_function overflow",
         lambda: clf().fit(X * 1e-3, yc).decision_function(np.full((2, 3), 1e308)), False),
        ("predict near overflow", lambda: fitted.predict(np.full((2, 3), 1e300)), True),
        ("predict wrong width", lambda: fitted.predict(X[:, :2]), False),
        ("predict unfitted", lambda: reg().predict(X), False),
        ("sample_weight NaN", lambda: reg().fit(X, y, sample_weight=np.full(60, np.nan)), False),
        ("sample_weight 2-D", lambda: reg().fit(X, y, sample_weight=np.ones((60, 2))), False),
        ("sample_weight negative", lambda: reg().fit(X, y, sample_weight=-np.ones(60)), False),
        ("sample_weight text", lambda: reg().fit(X, y, sample_weight=np.full(60, "a")), False),
    ]
    params = {"bits": 5, "bits ": "8", "max_iter": -1, "eta0": float("nan"), "eta0 ": -1.0, "n_copies": 10**9,
              "decay_epochs": 2**40, "tol": float("inf"), "random_state": -1, "sampling": "x", "levels": 3,
              "n_jobs": 0, "alpha": float("nan"), "validation_fraction": 1.5}
    for name, value in params.items():
        kw = {name.strip(): value}
        if name.strip() == "n_copies":
            kw["fresh_samples"] = False
        cases.append((f"ZipMLRegressor({name.strip()}={value!r})", lambda kw=kw: reg(**kw).fit(X, y), False))
    cases += [
        ("quantize bits=5", lambda: quantize(X, 5), False),
        ("quantize X NaN", lambda: quantize(np.full((3, 3), np.nan), 4), False),
        ("quantize X 1-D", lambda: quantize(X[:, 0], 4), False),
        ("quantize X text", lambda: quantize(X.astype(str), 4), False),
        ("quantize scaling='minmax'", lambda: quantize(X, 4, scaling="minmax"), False),
        ("quantize grid_size 10**9",
         lambda: quantize(X, 2, levels="optimal", levels_method="grid", grid_size=10**9), False),
        ("optimal_levels 10**9", lambda: optimal_levels([1.0, 2.0, 3.0], 10**9), False),
        ("optimal_levels complex", lambda: optimal_levels(np.array([1 + 1j, 2]), 3), False),
        ("optimal_levels grid_size=0", lambda: optimal_levels([1.0, 2.0, 3.0], 3, method="grid", grid_size=0), False),
    ]
    model = tmp / "m.zipml"
    save_model(fitted, model)
    blob = model.read_bytes()
    files = {"empty": b"", "truncated": blob[: len(blob) // 2], "text": b"hello\n", "zeros": bytes(4096),
             "flipped": blob[:200] + bytes([blob[200] ^ 0xFF]) + blob[201:]}
    for name, content in files.items():
        path = tmp / f"{name}.zipml"
        path.write_bytes(content)
        cases.append((f"load_model {name}", lambda p=path: load_model(p), False))
        cases.append((f"load_quantized {name}", lambda p=path: load_quantized(p), False))
        for ext in (".npz", ".csv", ".libsvm"):
            target = path.with_suffix(ext)
            target.write_bytes(content)
            cases.append((f"data.load {name}{ext}", lambda p=target: data.load(p), False))
    gz = tmp / "bad.libsvm.gz"
    with gzip.open(gz, "wb") as f:
        f.write(b"1 1:1\n0 1:2\n1 1:abc\n")
    (tmp / "huge.libsvm").write_text("1 1000000000000:1\n")
    (tmp / "long.csv").write_text("1," + "1" * 200_000 + "\n")
    np.savez(tmp / "1d.npz", X=np.arange(5.0), y=np.arange(5.0))
    np.savez(tmp / "c.npz", X=np.ones((5, 2)) + 1j, y=np.ones(5))
    os.mkfifo(tmp / "fifo.csv")
    for name in ("bad.libsvm.gz", "huge.libsvm", "long.csv", "1d.npz", "c.npz", "fifo.csv", "missing.csv", "."):
        cases.append((f"data.load {name}", lambda p=tmp / name: data.load(p), False))
    cases += [
        ("save_model /dev/full", lambda: save_model(fitted, "/dev/full"), False),
        ("save_model missing folder", lambda: save_model(fitted, tmp / "missing" / "m.zipml"), False),
        ("save_model a folder", lambda: save_model(fitted, tmp), False),
        ("save_model unfitted", lambda: save_model(reg(), tmp / "u.zipml"), False),
        ("save_model numpy scalars", lambda: save_model(ZipMLRegressor(bits=np.int64(4), max_iter=2).fit(X, y),
                                                         tmp / "s.zipml"), True),
    ]
    return cases


def run_api(tmp: Path, verbose: bool):
    failures, cases = [], api_cases(tmp)
    signal.signal(signal.SIGALRM, _on_alarm)
    for name, call, good in cases:
        signal.alarm(TIME_LIMIT)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                call()
            problem = None if good else "bad input accepted"
        except _Hang:
            problem = f"hang (> {TIME_LIMIT} s)"
        except (ValueError, TypeError, OSError) as exc:  # OSError: a missing file or folder
            text = str(exc)
            problem = (f"multi-line {type(exc).__name__}: {text[:200]!r}" if "\n" in text else
                       f"good input refused: {type(exc).__name__}: {text}" if good else None)
            if verbose and problem is None:
                print(f"  ok  {name}: {type(exc).__name__}: {text[:160]}")
        except BaseException as exc:  # noqa: BLE001 - every other kind is the finding
            problem = f"{type(exc).__name__}: {str(exc)[:200]!r}"
        finally:
            signal.alarm(0)
        if problem:
            failures.append(f"api {name}: {problem}")
    return len(cases), failures


def cli_cases(tmp: Path):
    """(name, argv, expected exit status, stdin/stdout redirection)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = X @ [1.0, 2.0, 3.0]
    good = tmp / "d.csv"
    np.savetxt(good, np.column_stack([y, X]), delimiter=",")
    model = tmp / "cli.zipml"
    subprocess.run([sys.executable, "-m", "zipml_hls", "train", str(good), "--epochs", "2", "--model-out", str(model)],
                   check=True, capture_output=True)
    blob = model.read_bytes()
    (tmp / "trunc.zipml").write_bytes(blob[: len(blob) // 2])
    (tmp / "empty.zipml").write_bytes(b"")
    np.savetxt(tmp / "big.csv", np.column_stack([y[:2], np.full((2, 3), 1e308)]), delimiter=",")
    np.savetxt(tmp / "narrow.csv", np.column_stack([y, X[:, :1]]), delimiter=",")
    (tmp / "nan.csv").write_text("1,2,3,4\n1,nan,3,4\n")
    (tmp / "text.csv").write_text("1,2,3,4\n1,x,3,4\n")
    (tmp / "bom.csv").write_bytes(b"\xef\xbb\xbf1,2,3,4\n2,3,4,5\n")
    (tmp / "empty.csv").write_text("")
    with gzip.open(tmp / "bad.libsvm.gz", "wb") as f:
        f.write(b"1 1:1\n0 1:2\n1 1:abc\n")
    (tmp / "huge.libsvm").write_text("1 1000000000000:1\n")
    np.savez(tmp / "1d.npz", X=np.arange(5.0), y=np.arange(5.0))
    np.savez(tmp / "c.npz", X=np.ones((5, 2)) + 1j, y=np.ones(5))
    out = str(tmp / "o.zipml")
    train = lambda *a: ["train", *a]  # noqa: E731
    cases = [(f"train {f}", train(str(tmp / f), "--model-out", out), 2, None) for f in
             ("nan.csv", "text.csv", "empty.csv", "bad.libsvm.gz", "huge.libsvm", "1d.npz", "c.npz", "missing.csv",
              "trunc.zipml")]
    cases += [
        ("train folder", train(str(tmp), "--model-out", out), 2, None),
        ("train BOM csv", train(str(tmp / "bom.csv"), "--model-out", out, "--epochs", "2"), 0, None),
        ("train --max-dense-gib inf", train(str(good), "--max-dense-gib", "inf", "--model-out", out), 2, None),
        ("train --copies 3e9", train(str(good), "--copies", "3000000000", "--no-fresh-samples", "--model-out", out), 2,
         None),
        ("train --copies 1e8", train(str(good), "--copies", "100000000", "--no-fresh-samples", "--model-out", out), 2,
         None),
        ("train --decay-epochs 2^40", train(str(good), "--decay-epochs", "1099511627776", "--epochs", "2",
                                            "--model-out", out), 0, None),  # a constant step: fine
        ("train --epochs 2^31", train(str(good), "--epochs", "2147483648", "--decay-epochs", "0", "--model-out", out),
         2, None),
        ("train --bits 5", train(str(good), "--bits", "5", "--model-out", out), 2, None),
        ("train --eta0 nan", train(str(good), "--eta0", "nan", "--model-out", out), 2, None),
        ("train --model-out /dev/full", train(str(good), "--model-out", "/dev/full"), 2, None),
        ("train --model-out missing folder", train(str(good), "--model-out", str(tmp / "no" / "m.zipml")), 2, None),
        ("train --model-out a folder", train(str(good), "--model-out", str(tmp)), 2, None),
        ("train --model-out /proc", train(str(good), "--model-out", "/proc/self/m.zipml"), 2, None),
        ("predict truncated model", ["predict", str(tmp / "trunc.zipml"), str(good)], 2, None),
        ("predict empty model", ["predict", str(tmp / "empty.zipml"), str(good)], 2, None),
        ("predict data as model", ["predict", str(good), str(good)], 2, None),
        ("predict overflow", ["predict", str(model), str(tmp / "big.csv")], 2, None),
        ("predict wrong width", ["predict", str(model), str(tmp / "narrow.csv")], 2, None),
        ("predict NaN", ["predict", str(model), str(tmp / "nan.csv")], 2, None),
        ("predict stdout closed", ["predict", str(model), str(good)], 2, "close-stdout"),
        ("predict stdout /dev/full", ["predict", str(model), str(good)], 2, "dev-full"),
        ("predict --output /dev/full", ["predict", str(model), str(good), "--output", "/dev/full"], 2, None),
        ("predict --output missing folder", ["predict", str(model), str(good), "--output", str(tmp / "no" / "p")], 2,
         None),
        ("quantize NaN", ["quantize", str(tmp / "nan.csv"), "--bits", "4", "--out", str(tmp / "q.zq")], 2, None),
        ("quantize --bits 7", ["quantize", str(good), "--bits", "7", "--out", str(tmp / "q.zq")], 2, None),
        ("bench --rows 1e10", ["bench", "--rows", "10000000000", "--out", str(tmp / "b")], 2, None),
        ("info stdout closed", ["info"], 0, "close-stdout"),
        ("unknown command", ["frobnicate"], 2, None),
        ("train no arguments", ["train"], 2, None),
    ]
    return cases


def run_cli(tmp: Path, verbose: bool):
    failures, cases = [], cli_cases(tmp)
    for name, argv, status, redirect in cases:
        cmd = [sys.executable, "-m", "zipml_hls", *argv]
        kwargs = dict(stderr=subprocess.PIPE, text=True, timeout=TIME_LIMIT)
        if redirect == "close-stdout":  # started with stdout closed (the shell's >&-)
            cmd = ["sh", "-c", '"$@" >&-', "sh", *cmd]
        elif redirect == "dev-full":
            kwargs["stdout"] = open("/dev/full", "w")
        else:
            kwargs["stdout"] = subprocess.DEVNULL
        try:
            proc = subprocess.run(cmd, **kwargs)
        except subprocess.TimeoutExpired:
            failures.append(f"cli {name}: hang (> {TIME_LIMIT} s)")
            continue
        finally:
            if redirect == "dev-full":
                kwargs["stdout"].close()
        lines = [line for line in proc.stderr.splitlines() if not line.startswith(("note:", "warning:"))]
        problems = []
        if proc.returncode != status:
            problems.append(f"exit {proc.returncode}, expected {status}")
        if "Traceback" in proc.stderr:
            problems.append("traceback")
        if status != 0 and len(lines) != 1:
            problems.append(f"{len(lines)} lines on stderr")
        if problems:
            failures.append(f"cli {name}: {', '.join(problems)}: {proc.stderr.strip()[-300:]!r}")
        elif verbose:
            print(f"  ok  {name}: {proc.stderr.strip()[:160]}")
    return len(cases), failures


def run_signals(tmp: Path):
    """SIGINT and SIGTERM during a long fixed-schedule training: exit 130 / 143 within 5 s,
    one line, the model path untouched, no temporary file."""
    data = tmp / "sig.npz"
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(65536, 64)).astype(np.float32)
    np.savez(data, X=X, y=X @ rng.standard_normal(64))
    failures = []
    for sig, status in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        folder = tmp / f"sig{status}"
        folder.mkdir()
        proc = subprocess.Popen([sys.executable, "-m", "zipml_hls", "train", str(data), "--bits", "32", "--epochs",
                                 "100000", "--decay-epochs", "0", "--model-out", str(folder / "m.zipml")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        while "epoch 2," not in proc.stderr.readline():
            if proc.poll() is not None:
                break
        start = time.monotonic()
        proc.send_signal(sig)
        with proc.stderr:
            err = proc.stderr.read()
        try:
            proc.wait(timeout=TIME_LIMIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            failures.append(f"signal {sig.name}: hang")
            continue
        last = err.strip().splitlines()[-1] if err.strip() else ""
        took = time.monotonic() - start
        if proc.returncode != status or took > 5 or "Traceback" in err or list(folder.iterdir()) or \
                not last.endswith(("interrupted", "terminated")):
            failures.append(f"signal {sig.name}: exit {proc.returncode} after {took:.1f} s, {last!r}, "
                            f"left {[p.name for p in folder.iterdir()]}")
    return 2, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("api", "cli", "signals"))
    parser.add_argument("--verbose", action="store_true", help="also print every passing case's message")
    args = parser.parse_args()
    total, failures = 0, []
    with tempfile.TemporaryDirectory() as folder:
        for part, run in (("api", run_api), ("cli", run_cli), ("signals", lambda t, v: run_signals(t))):
            if args.only in (None, part):
                (Path(folder) / part).mkdir()
                n, found = run(Path(folder) / part, args.verbose)
                total += n
                failures += found
                print(f"{part}: {n} cases, {len(found)} failures", file=sys.stderr)
    for line in failures:
        print(line)
    print(f"{total} cases, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
