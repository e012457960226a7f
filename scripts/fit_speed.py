"""Wall time of fit() for 20 epochs on 131072 x 512 float32 at each precision (medians of
3 runs), with the estimators' defaults (fresh samples, shuffled rows) and with one reused
copy, next to scikit-learn's StandardScaler + SGDRegressor for the same epochs.

Usage: python scripts/fit_speed.py [--rows 131072] [--features 512] [--epochs 20] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from zipml_hls import ZipMLRegressor


def median_seconds(make, X, y, repeats: int = 3) -> tuple[float, object]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model = make().fit(X, y)
        times.append(time.perf_counter() - start)
    return float(np.median(times)), model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=131072)
    parser.add_argument("--features", type=int, default=512)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--profile", action="store_true",
                        help="also where one 4-bit fit's wall time goes (cProfile), and the kernel's share "
                             "if set-up were only the two passes it cannot do without")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.rows, args.features)).astype(np.float32)
    y = X @ rng.standard_normal(args.features) + rng.standard_normal(args.rows)
    runs = [dict(bits=b) for b in (32, 8, 4, 2)] + [dict(bits=4, fresh_samples=False),
                                                    dict(bits=4, fresh_samples=False, shuffle=False)]
    print(f"{args.rows} x {args.features} float32, {args.epochs} epochs (fixed count: decay_epochs=3)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for kw in runs:
            seconds, model = median_seconds(
                lambda: ZipMLRegressor(max_iter=args.epochs, decay_epochs=3, random_state=0, **kw), X, y)
            print(f"  {kw}: {seconds:.2f} s, R^2 {model.score(X, y):.4f}")
        seconds, model = median_seconds(
            lambda: make_pipeline(StandardScaler(), SGDRegressor(max_iter=args.epochs, tol=None, random_state=0)),
            X, y, repeats=2)
        print(f"  StandardScaler + SGDRegressor: {seconds:.2f} s, R^2 {model.score(X, y):.4f}")
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            ZipMLRegressor(bits=4, max_iter=args.epochs, decay_epochs=3, random_state=0).fit(X, y)
            profile.disable()
            stats = pstats.Stats(profile).stats

            def seconds(name: str, cumulative: bool = False) -> float:
                return sum(entry[3 if cumulative else 2] for key, entry in stats.items() if key[2] == name)

            total = max(entry[3] for entry in stats.values())  # the outermost call: fit
            kernel = seconds("<built-in method zipml_hls._kernels.sgd_linear>")
            quantize = seconds("<built-in method zipml_hls._kernels.quantize>")
            epochs = seconds("train", cumulative=True)  # engine.train: the epochs
            summary = seconds("<built-in method zipml_hls._kernels.feature_summary>")
            print(f"  4-bit fit under cProfile: {total:.2f} s; kernel {kernel:.2f} s ({kernel / total:.0%}), "
                  f"host work between epochs {epochs - kernel:.2f} s, quantizer {quantize:.2f} s, feature summary "
                  f"(ranges and moments, one pass) {summary:.2f} s, other set-up (validation, rounding variances, "
                  f"step bound) {total - epochs - quantize - summary:.2f} s")
            print(f"  the kernel's share if set-up were only the summary pass and the quantizer: "
                  f"{kernel / (kernel + summary + quantize):.0%}")


if __name__ == "__main__":
    main()
