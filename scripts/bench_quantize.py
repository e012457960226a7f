"""Quantize-and-pack throughput: the module's quantizer, the portable one, the golden model.

Usage: python scripts/bench_quantize.py [--rows N] [--features D] [--repeats R]
Prints GB/s of float32 input (median of R runs) per bits x encoding: the module's default
path (its fast path for uniform levels where compiled in: info()['fast_quantize'], AVX-512
or AVX2), the portable (synthesizable) quantizer, and the NumPy golden model (timed on a
slice of the rows, scaled to GB/s the same way), with the ratios of the first to the
second and to the last. The module splits the rows among the cores (one part per 4096
rows, at most one per core), the golden model runs on one.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from zipml_hls.backend import get_backend
from zipml_hls.bench import epoch_times
from zipml_hls.spec import format as F
from zipml_hls.scaling import FeatureScaling


def median_seconds(fn, repeats: int = 3) -> float:
    return float(np.median(epoch_times(fn, repeats)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=65536)
    parser.add_argument("--features", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--golden-rows", type=int, default=2048)
    args = parser.parse_args()
    X = np.random.default_rng(0).standard_normal((args.rows, args.features), dtype=np.float32)
    sc = FeatureScaling.fit(X)
    native, golden = get_backend("hls"), get_backend("reference")
    small = X[: args.golden_rows]
    print(f"{args.rows} x {args.features} float32 ({X.nbytes / 2**30:.2f} GiB), {os.cpu_count()} cores, "
          f"median of {args.repeats}; fast path: {native.info()['fast_quantize']}")
    print(f"{'bits':>4} {'encoding':>8} {'C++ GB/s':>9} {'portable':>9} {'fast/port':>9} {'golden GB/s':>12} "
          f"{'ratio':>6}")
    for bits in F.SUPPORTED_BITS:
        for sampling in F.TRAINING_SAMPLINGS:
            t = median_seconds(lambda: native.quantize(X, sc.lo, sc.inv, None, bits, sampling, 0, 1), args.repeats)
            p = median_seconds(lambda: native.quantize(X, sc.lo, sc.inv, None, bits, sampling, 0, 1, portable=True),
                               args.repeats)
            g = median_seconds(lambda: golden.quantize(small, sc.lo, sc.inv, None, bits, sampling, 0, 1), 1)
            cpp, port, gold = X.nbytes / t / 1e9, X.nbytes / p / 1e9, small.nbytes / g / 1e9
            print(f"{bits:>4} {sampling:>8} {cpp:>9.2f} {port:>9.2f} {cpp / port:>8.1f}x {gold:>12.3f} "
                  f"{cpp / gold:>6.0f}x")


if __name__ == "__main__":
    main()
