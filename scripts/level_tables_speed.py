"""Epoch time of the SGD kernel with per-feature level tables (variance-optimal levels)
and with one table shared by every feature (levels_method='shared') against uniform
levels on the same data, at 1, 2, 4 and 8 bits.

The bench's float32 problem (zipml-hls bench: uniform features, a linear target), n x d,
quantized once with uniform and once with optimal levels; least squares, one epoch per
kernel call from a zero model, step 2^-12 as the bench. The three contenders are timed
alternately, `--repeats` rounds, and the medians reported with their ratio (the machine
may be shared: ratios within one run only). `--portable` also times the portable kernel
with the tables once (what level tables ran before the AVX2 path took them).
`--conditioned` gives every kernel per-feature centers (the middle level value) and step
exponents (1), as fit() conditions the features: the kernels' centring and multiplier
paths, which fit() runs.

Usage: python scripts/level_tables_speed.py [--rows 32768] [--features 2048] [--sampling double]
                                            [--repeats 7] [--portable] [--conditioned]
"""

from __future__ import annotations

import argparse

import numpy as np

from zipml_hls import quantize
from zipml_hls.backend import get_backend
from zipml_hls.bench import epoch_times, problem
from zipml_hls.scaling import LabelScaling
from zipml_hls.spec import format as F


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=32768)
    parser.add_argument("--features", type=int, default=2048)
    parser.add_argument("--sampling", default="double", choices=F.TRAINING_SAMPLINGS)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--portable", action="store_true")
    parser.add_argument("--conditioned", action="store_true")
    args = parser.parse_args()
    n, d = args.rows, args.features
    X, y = problem(n, d)
    labels = LabelScaling.fit(y).to_fixed(y)
    hls = get_backend("hls")
    info = hls.info()
    print(f"{n} x {d}, {args.sampling} sampling{', conditioned' if args.conditioned else ''}; SGD fast path {info['fast_sgd']}, "
          f"level tables on it: {info['fast_sgd_tables']}")
    print("bits | uniform s/epoch | level tables s/epoch | tables / uniform speed | shared table s/epoch | "
          "shared / uniform speed" +
          (" | portable, tables" if args.portable else ""))
    zeros = np.zeros(d + 1, np.int32)
    for bits in (1, 2, 4, 8):
        uniform = quantize(X, bits, sampling=args.sampling, seed=1)
        optimal = quantize(X, bits, sampling=args.sampling, levels="optimal", seed=1)
        shared = quantize(X, bits, sampling=args.sampling, levels="optimal", levels_method="shared", seed=1)

        def epoch(q, dot_mult, **kw):
            if args.conditioned:
                middle = (1 << F.LEVEL_VALUE_FRAC) // 2 if q.level_values is not None else F.max_code(bits) // 2
                kw.update(centers=np.full(d, middle, np.int32), feature_shifts=np.ones(d, np.uint8))
            return lambda: hls.sgd_linear(q.lines, labels, d, bits, args.sampling, 1, 12, 0, dot_mult, zeros,
                                          values=q.level_values, **kw)

        runs = {"uniform": epoch(uniform, F.dot_mult(bits)), "tables": epoch(optimal, F.TABLE_DOT_MULT),
                "shared": epoch(shared, F.TABLE_DOT_MULT)}
        times = {name: [] for name in runs}
        for _ in range(args.repeats):
            for name, run in runs.items():
                times[name].append(epoch_times(run, 1)[0])
        u, t, sh = (float(np.median(times[name])) for name in runs)
        line = f"{bits} | {u:.4f} | {t:.4f} | {u / t:.2f}x | {sh:.4f} | {u / sh:.2f}x"
        if args.portable:
            line += f" | {epoch_times(epoch(optimal, F.TABLE_DOT_MULT, portable=True), 1)[0]:.3f}"
        print(line)


if __name__ == "__main__":
    main()
