"""Epoch time of the SGD kernel at 3 and 6 bits against the next power-of-two width (4 and
8 bits) on the same data, fast path and portable kernel.

The bench's float32 problem (zipml-hls bench: uniform features, a linear target), n x d,
quantized at each width with uniform levels; least squares, one epoch per kernel call
from a zero model, step 2^-12 as the bench. For each sampling the four widths' fast-path
epochs are timed in turn, `--repeats` rounds, and the medians reported; "speed vs pair"
is the pair's epoch time over this width's (3 against 4 bits, 6 against 8: at least 0.8x
is the aim). The portable (synthesizable) kernel, what 3 and 6 bits ran before the AVX2
path took them, is timed once per width (`--portable`). The machine may be shared:
compare ratios within one run only.

Usage: python scripts/natural_widths_speed.py [--rows 131072] [--features 512]
                                              [--sampling double naive] [--repeats 7] [--portable]
"""

from __future__ import annotations

import argparse

import numpy as np

from zipml_hls import quantize
from zipml_hls.backend import get_backend
from zipml_hls.bench import epoch_times, problem
from zipml_hls.scaling import LabelScaling
from zipml_hls.spec import format as F

PAIRS = {3: 4, 6: 8}  # each natural-order width and the power of two above it


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=131072)
    parser.add_argument("--features", type=int, default=512)
    parser.add_argument("--sampling", nargs="+", default=["double", "naive"], choices=F.TRAINING_SAMPLINGS)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--portable", action="store_true")
    args = parser.parse_args()
    n, d = args.rows, args.features
    X, y = problem(n, d)
    labels = LabelScaling.fit(y).to_fixed(y)
    hls = get_backend("hls")
    zeros = np.zeros(d + 1, np.int32)
    print(f"{n} x {d}, least squares, median of {args.repeats}; SGD fast path {hls.info()['fast_sgd']}")
    print("sampling | bits | lines MiB | fast s/epoch | speed vs pair" + (" | portable s/epoch" if args.portable
                                                                        else ""))
    widths = sorted(set(PAIRS) | set(PAIRS.values()))
    for sampling in args.sampling:
        data = {bits: quantize(X, bits, sampling=sampling, seed=1) for bits in widths}

        def epoch(bits, **kw):
            return lambda: hls.sgd_linear(data[bits].lines, labels, d, bits, sampling, 1, 12, 0, F.dot_mult(bits),
                                          zeros, **kw)

        times = {bits: [] for bits in widths}
        for _ in range(args.repeats):
            for bits in widths:
                times[bits].append(epoch_times(epoch(bits), 1)[0])
        med = {bits: float(np.median(t)) for bits, t in times.items()}
        for bits in widths:
            pair = f"{med[PAIRS[bits]] / med[bits]:.2f}x ({PAIRS[bits]} bits)" if bits in PAIRS else "-"
            line = f"{sampling} | {bits} | {data[bits].lines.nbytes / 2**20:.0f} | {med[bits]:.4f} | {pair}"
            if args.portable:
                line += f" | {epoch_times(epoch(bits, portable=True), 1)[0]:.3f}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
