"""Wall time of fit() for 20 epochs on 131072 x 512 float32 at each precision (medians of
3 runs), with the estimators' defaults (fresh samples, shuffled rows) and with one reused
copy, next to scikit-learn's StandardScaler + SGDRegressor for the same epochs (and the same
penalty; scikit-learn's default alpha 1e-4 where --alpha is 0); with --loss a classifier
loss instead, ZipMLClassifier against SGDClassifier on the signs of the same targets
(accuracy for R^2); --model-bits and --grad-bits round the quantized runs' model and
steps (model_quantization grid, or qsgd); with --profile instead where the wall time of one 4-bit, 8-bit and
fp32 regression fit goes (cProfile of the calling thread): the kernel calls and, outside
them, each piece of host work in seconds.

Usage: python scripts/fit_speed.py [--rows 131072] [--features 512] [--epochs 20]
                                   [--penalty l2 --alpha 1e-4] [--loss log_loss]
                                   [--model-bits 8 --grad-bits 8 [--model-quantization qsgd]]
                                   [--profile [--bits 4 8 32] [--kernel-seconds 0.63]]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier, SGDRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from zipml_hls import ZipMLClassifier, ZipMLRegressor
from zipml_hls.spec import format as F


def median_seconds(make, X, y, repeats: int = 3) -> tuple[float, object]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model = make().fit(X, y)
        times.append(time.perf_counter() - start)
    return float(np.median(times)), model


#: Host work outside the kernel calls: the functions (file, name) whose cumulative time it is.
PIECES = {
    "validation": [("validation.py", "validate_data")],
    "feature summary": [("~", "<built-in method zipml_hls._kernels.feature_summary>")],
    "rounding variances": [("step_size.py", "of")],
    "step bound": [("~", "<built-in method zipml_hls._kernels.weighted_row_bound>")],
    "quantizer": [("~", "<built-in method zipml_hls._kernels.quantize>")],
    "scaled copy": [("scaling.py", "transform")],  # fp32: the rows the fp32 kernel reads
}
KERNELS = [("~", f"<built-in method zipml_hls._kernels.{name}>") for name in ("sgd_linear", "sgd_fp32")]


def profile_fit(X, y, bits: int, epochs: int, kernel_seconds: float) -> None:
    """One fit under cProfile (after an untimed small fit): the kernel calls' seconds, those
    of each piece of host work outside them (PIECES; "epochs": the rest of engine.train,
    i.e. each epoch's host work, its pass loss included; "other set-up": the rest), and the
    kernel's share of the wall time as measured and were the kernel to take
    ``kernel_seconds`` (4-bit fits)."""
    make = lambda n: ZipMLRegressor(bits=bits, max_iter=n, decay_epochs=3, random_state=0)  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        make(1).fit(X[:4096], y[:4096])
        profile = cProfile.Profile()
        start = time.perf_counter()
        profile.enable()
        make(epochs).fit(X, y)
        profile.disable()
        wall = time.perf_counter() - start
    stats = pstats.Stats(profile).stats

    def cumulative(functions) -> float:
        return sum(entry[3] for (path, _, name), entry in stats.items()
                   if any(name == f and path.endswith(suffix) for suffix, f in functions))

    kernel = cumulative(KERNELS)
    pieces = {name: cumulative(names) for name, names in PIECES.items()}
    pieces["epochs"] = cumulative([("engine.py", "train")]) - kernel
    pieces["other set-up"] = wall - kernel - sum(pieces.values())
    outside = wall - kernel
    print(f"  {F.precision_label(bits, 'double')}: {wall:.3f} s, kernel {kernel:.3f} s ({kernel / wall:.0%}); "
          f"outside it {outside:.3f} s: " + ", ".join(f"{name} {t:.3f}" for name, t in pieces.items()))
    if bits == 4:
        print(f"    the kernel's share were it {kernel_seconds:.2f} s: "
              f"{kernel_seconds / (kernel_seconds + outside):.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=131072)
    parser.add_argument("--features", type=int, default=512)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--penalty", default="l2", help="the estimators' penalty (with --alpha)")
    parser.add_argument("--alpha", type=float, default=0.0, help="the estimators' alpha (default 0: no penalty)")
    parser.add_argument("--model-bits", type=int, default=None, help="the estimators' model_bits (quantized runs)")
    parser.add_argument("--grad-bits", type=int, default=None, help="the estimators' grad_bits (quantized runs)")
    parser.add_argument("--model-quantization", default="grid", choices=("grid", "qsgd"))
    parser.add_argument("--loss", default="squared_error", choices=("squared_error", "squared_hinge", "hinge",
                                                                    "log_loss"),
                        help="a classifier loss fits ZipMLClassifier and SGDClassifier on the targets' signs")
    parser.add_argument("--profile", action="store_true",
                        help="instead, where the wall time of one 4-bit, 8-bit and fp32 fit goes (cProfile)")
    parser.add_argument("--bits", type=int, nargs="+", default=[4, 8, 32], help="with --profile: the precisions")
    parser.add_argument("--kernel-seconds", type=float, default=0.63,
                        help="with --profile: also a 4-bit fit's kernel share were its calls to take this long "
                             "in all (default: theirs on an AVX-512 machine)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.rows, args.features)).astype(np.float32)
    y = X @ rng.standard_normal(args.features) + rng.standard_normal(args.rows)
    if args.profile:
        print(f"{args.rows} x {args.features} float32, {args.epochs} epochs: seconds of one fit under cProfile")
        for bits in args.bits:
            profile_fit(X, y, bits, args.epochs, args.kernel_seconds)
        return
    runs = [dict(bits=b) for b in (32, 8, 4, 2)] + [dict(bits=4, fresh_samples=False),
                                                    dict(bits=4, fresh_samples=False, shuffle=False)]
    classify = args.loss != "squared_error"
    if classify:
        y = np.where(y >= 0, 1, -1)
    score = "accuracy" if classify else "R^2"
    print(f"{args.rows} x {args.features} float32, {args.loss}, {args.epochs} epochs (fixed count: decay_epochs=3), "
          f"penalty {args.penalty!r}, alpha {args.alpha:g}, model_bits {args.model_bits}, grad_bits {args.grad_bits} "
          f"({args.model_quantization})")
    rounding = dict(model_bits=args.model_bits, grad_bits=args.grad_bits, model_quantization=args.model_quantization)
    estimator = ZipMLClassifier if classify else ZipMLRegressor
    extra = {"loss": args.loss} if classify else {}
    baseline = (SGDClassifier if classify else SGDRegressor)(
        max_iter=args.epochs, tol=None, random_state=0, penalty=args.penalty, alpha=args.alpha or 1e-4, **extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for kw in runs:
            seconds, model = median_seconds(
                lambda: estimator(max_iter=args.epochs, decay_epochs=3, random_state=0, penalty=args.penalty,
                                  alpha=args.alpha, **extra, **(rounding if kw["bits"] < 32 else {}), **kw), X, y)
            print(f"  {kw}: {seconds:.2f} s, {score} {model.score(X, y):.4f}")
        seconds, model = median_seconds(lambda: make_pipeline(StandardScaler(), baseline), X, y, repeats=2)
        print(f"  StandardScaler + {type(baseline).__name__} (alpha {baseline.alpha:g}): {seconds:.2f} s, "
              f"{score} {model.score(X, y):.4f}")


if __name__ == "__main__":
    main()
