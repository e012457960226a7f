"""Kernel epoch time with and without conditioning (per-feature centers and step
multipliers) on 32768 x 2048 double-sampled data at 1, 2, 4, 8 bits, median of 5 epochs.

Usage: python scripts/conditioning_cost.py [--rows 32768] [--features 2048]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from zipml_hls.backend import get_backend
from zipml_hls.quantize import quantize_checked
from zipml_hls.scaling import FeatureScaling
from zipml_hls.spec import format as F


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=32768)
    parser.add_argument("--features", type=int, default=2048)
    args = parser.parse_args()
    n, d = args.rows, args.features
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d)).astype(np.float32)
    y = X[:, :10].sum(axis=1)
    scaling = FeatureScaling.fit(X)
    kernels = get_backend("hls")
    labels = F.to_fixed((y - y.mean()) / y.std(), F.LABEL_FRAC)
    model = np.zeros(d + 1, np.int32)
    print(f"{n} x {d}, one epoch at step 2^-20, median of 5")
    for bits in (1, 2, 4, 8):
        q = quantize_checked(X, bits, "double", "uniform", 1, 1, "hls", scaling)
        conditioning = dict(feature_shifts=np.full(d, 6, np.uint8), centers=np.full(d, F.max_code(bits) // 2, np.int32))
        medians = []
        for kw in ({}, conditioning):
            times = []
            for _ in range(5):
                start = time.perf_counter()
                kernels.sgd_linear(q.lines, labels, d, bits, "double", 1, 20, 0, F.dot_mult(bits), model, **kw)
                times.append(time.perf_counter() - start)
            medians.append(float(np.median(times)))
        print(f"  {bits}-bit double: plain {medians[0]:.4f} s, conditioned {medians[1]:.4f} s "
              f"({medians[1] / medians[0]:.2f}x)")


if __name__ == "__main__":
    main()
