"""Kernel epoch time with and without conditioning (per-feature centers and step
multipliers) on 32768 x 2048 double-sampled data at 1, 2, 4, 8 bits, median of 5 epochs.
--loss log_loss times the polynomial kernel (degree 5) with centers only, as the estimators
run it.

Usage: python scripts/conditioning_cost.py [--rows 32768] [--features 2048] [--loss squared_error|log_loss]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from zipml_hls.backend import get_backend
from zipml_hls.polynomial import logistic_polynomial
from zipml_hls.quantize import quantize_checked
from zipml_hls.scaling import FeatureScaling
from zipml_hls.spec import format as F


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=32768)
    parser.add_argument("--features", type=int, default=2048)
    parser.add_argument("--loss", choices=["squared_error", "log_loss"], default="squared_error")
    args = parser.parse_args()
    logistic = args.loss == "log_loss"
    poly = logistic_polynomial(5, 4.0)
    n, d = args.rows, args.features
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d)).astype(np.float32)
    y = X[:, :10].sum(axis=1)
    scaling = FeatureScaling.fit(X)
    kernels = get_backend("hls")
    labels = F.to_fixed(np.sign(y) if logistic else (y - y.mean()) / y.std(), F.LABEL_FRAC)
    model = np.zeros(d + 1, np.int32)
    print(f"{n} x {d}, {args.loss}, one epoch at step 2^-20, median of 5")
    for bits in (1, 2, 4, 8):
        q = quantize_checked(X, bits, "double", "uniform", 1, 1, "hls", scaling)
        centers = np.full(d, F.max_code(bits) // 2, np.int32)
        conditioning = dict(centers=centers) if logistic else dict(feature_shifts=np.full(d, 6, np.uint8),
                                                                   centers=centers)

        def epoch(**kw):
            if logistic:
                kernels.sgd_logistic(q.lines, labels, d, bits, "double", 6, 1, 20, 0, F.dot_mult(bits),
                                     poly.fixed_coef(), poly.range_q16(), model, **kw)
            else:
                kernels.sgd_linear(q.lines, labels, d, bits, "double", 1, 20, 0, F.dot_mult(bits), model, **kw)
        medians = []
        for kw in ({}, conditioning):
            times = []
            for _ in range(5):
                start = time.perf_counter()
                epoch(**kw)
                times.append(time.perf_counter() - start)
            medians.append(float(np.median(times)))
        print(f"  {bits}-bit double: plain {medians[0]:.4f} s, conditioned {medians[1]:.4f} s "
              f"({medians[1] / medians[0]:.2f}x)")


if __name__ == "__main__":
    main()
