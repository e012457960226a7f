"""Epoch time of the SGD kernels with and without sample weights, a frozen intercept and
penalties (medians).

One epoch over 16384 x 512 uniform-level data (double sampling, conditioned as fit()
conditions it) at 4 and 8 bits: the plain call (the SIMD path where the build has it),
with sample weights (the same path), with a frozen intercept (fit_intercept=False), with
L2 decay and L1, with the model and with the steps rounded to 8 bits on a grid (these
three: the AVX2 path; the portable kernel on AVX-512 builds), the portable kernel plain,
with L2 decay and L1 and with the model and steps rounded, and the fp32 kernel plain and
penalized.
Then the classification losses on the labels' signs, plain and with L2 decay and L1 (as
engine.KernelRun runs them for fit(), unconditioned): log_loss (the polynomial kernel,
degree 5) and the hinge with its refetching (on AVX-512 builds: the portable kernel with
the penalties), each epoch timed from the model that one untimed epoch leaves (the mix of
rows of a run: past the margin, stepping, refetched).
Run it with two builds (e.g. before and after a kernel change) to compare the default
path: a build without sample weights and penalties prints n/a for those rows.

Usage: python scripts/kernel_options_speed.py [--rows 16384] [--features 512] [--repeats 7]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from zipml_hls import _kernels
from zipml_hls.engine import KernelRun, Penalty, SgdConfig, prepare
from zipml_hls.scaling import FeatureScaling
from zipml_hls.spec import format as F


def median_ms(call, repeats: int) -> str:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        try:
            call()
        except TypeError:  # a build without the keyword
            return "n/a"
        times.append(time.perf_counter() - start)
    return f"{1000.0 * float(np.median(times)):.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=16384)
    parser.add_argument("--features", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    n, d, reps = args.rows, args.features, args.repeats
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d)).astype(np.float32)
    y = X @ rng.standard_normal(d)
    sc = FeatureScaling.fit(X)
    labels = np.round(y / np.abs(y).max() * (1 << F.LABEL_FRAC)).astype(np.int32)
    # (the formats' fractions as numbers: a build before them has no constants for them)
    weights = rng.integers(0, 3 << 16, size=n).astype(np.int32)  # Q16: up to 3
    penalty = {"decay": np.full(d, 1 << 20, np.int32), "l1": np.full(d, 1 << 16, np.int32)}
    print(f"one epoch, {n} x {d}, double sampling, conditioned; median of {reps}, ms")
    for bits in (4, 8):
        data = _kernels.quantize(X, sc.lo, sc.inv, None, bits, F.sampling_id("double"), 1, 1, 2, False, None)
        common = dict(seed=1, feature_shifts=np.full(d, 2, np.uint8), centers=np.full(d, F.max_code(bits) // 2,
                                                                                     np.int32))

        def run(**extra):
            return lambda: _kernels.sgd_linear(data, labels, d, bits, F.sampling_id("double"), 1, 12, 0,
                                               F.dot_mult(bits), np.zeros(d + 1, np.int32), **common, **extra)
        rows = {"plain": run(), "sample weights": run(sample_weights=weights), "frozen intercept": run(fit_intercept=False),
                "L2 + L1": run(**penalty), "model 8 bits": run(model_bits=8), "steps 8 bits": run(grad_bits=8),
                "portable": run(portable=True), "portable, L2 + L1": run(portable=True, **penalty),
                "portable, model and steps 8 bits": run(portable=True, model_bits=8, grad_bits=8)}
        for name, call in rows.items():
            print(f"  {bits}-bit {name}: {median_ms(call, reps)}")
    Xs = sc.transform(X)
    yf = (y / np.abs(y).max()).astype(np.float32)
    m0 = np.zeros(d + 1, np.float32)
    print(f"  fp32 plain: {median_ms(lambda: _kernels.sgd_fp32(Xs, yf, 1, 12, 0, m0), reps)}")
    pen = {k: (v.astype(np.float32) / 2.0**32) for k, v in penalty.items()}  # the same coefficients
    print(f"  fp32 L2 + L1: {median_ms(lambda: _kernels.sgd_fp32(Xs, yf, 1, 12, 0, m0, **pen), reps)}")
    signs = np.where(y >= 0, 1.0, -1.0)
    penalized = Penalty(*(v.astype(np.float64) / 2.0**F.PENALTY_FRAC for v in penalty.values()))
    for bits in (4, 8):
        for loss in ("log_loss", "hinge"):
            config = SgdConfig(bits, "double", "uniform", 12, 0, 1, 0, "hls", loss=loss)
            data = prepare(X, sc, config)  # the hinge: with its refetch positions
            for name, run in (("plain", KernelRun(signs, config)),
                              ("L2 + L1", KernelRun(signs, config, penalty=penalized))):
                trained = run(data, 1, 12, 0, np.zeros(d + 1)).history[0]
                print(f"  {bits}-bit {loss} {name}: {median_ms(lambda: run(data, 1, 12, 0, trained), reps)}")


if __name__ == "__main__":
    main()
