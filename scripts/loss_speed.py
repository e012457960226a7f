"""Kernel epoch time of each loss against least squares at the same bits.

131072 x 512 uniform float32 data, labels +-1 from a random hyperplane (least squares
reads them as targets), double sampling, the estimators' conditioning off, one shuffled
epoch per kernel call from a model trained for 3 epochs (so the margin losses see the
mix of zero-residual, stepping and refetched rows of a run); median of 7 calls (portable:
3), the losses' calls interleaved.
Columns: the module's kernels (the SIMD fast path where built: AVX-512 or AVX2 for the linear
losses, AVX2 for log_loss), the portable kernel, and the ratio of each loss's epoch to least
squares' at the same bits. log_loss runs the polynomial kernel of degree 5 (6 samples per
value drawn in the kernel).

Usage: python scripts/loss_speed.py [--rows 131072] [--features 512] [--losses squared_error log_loss]
       [--bits 1 2 4 8]
"""

from __future__ import annotations

import argparse

import numpy as np

from zipml_hls import quantize
from zipml_hls.backend import get_backend
from zipml_hls.bench import epoch_times
from zipml_hls.engine import epoch_order
from zipml_hls.polynomial import logistic_polynomial
from zipml_hls.spec import format as F

LOSSES = ("squared_error", "squared_hinge", "hinge", "hinge without refetching", "log_loss")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=131072)
    parser.add_argument("--features", type=int, default=512)
    parser.add_argument("--losses", nargs="+", choices=LOSSES, default=list(LOSSES),
                        help="losses to time (least squares always, as the base)")
    parser.add_argument("--bits", nargs="+", type=int, choices=(1, 2, 4, 8), default=[1, 2, 4, 8])
    args = parser.parse_args()
    losses = ["squared_error"] + [loss for loss in LOSSES[1:] if loss in args.losses]
    n, d = args.rows, args.features
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(n, d)).astype(np.float32)
    labels = np.where(X @ rng.standard_normal(d) > 0, 1 << F.LABEL_FRAC, -(1 << F.LABEL_FRAC)).astype(np.int32)
    native = get_backend("hls")
    order = epoch_order(0, 0, n)
    poly = logistic_polynomial(5, 4.0)
    print(f"{n} x {d}, double sampling, one shuffled epoch per call (median of 7, portable of 3): seconds, "
          "and / least squares")
    for bits in args.bits:
        q = quantize(X, bits, sampling="double", seed=0)
        full = native.positions(X, q.scaling.lo, q.scaling.inv)

        def epoch(loss, portable=False, epochs=1, model=None):
            model = np.zeros(d + 1, np.int32) if model is None else model
            if loss == "log_loss":  # the polynomial kernel: degree + 1 samples per value from the stored grid
                return native.sgd_logistic(q.lines, labels[order], d, bits, "double", 6, epochs, 6, 0,
                                           F.dot_mult(bits), poly.fixed_coef(), poly.range_q16(), model,
                                           rows=order, portable=portable)
            name = loss.split()[0]
            return native.sgd_linear(q.lines, labels[order], d, bits, "double", epochs, 6, 0, F.dot_mult(bits),
                                     model, loss=name, full=full if loss == "hinge" else None, rows=order,
                                     portable=portable)

        def refetched(model) -> str:
            result = epoch("hinge", model=model)
            return f", {result.refetches[-1] / n:.0%} of rows refetched"

        trained = {loss: epoch(loss, epochs=3).history[-1] for loss in losses}
        times = {(loss, portable): [] for loss in losses for portable in (False, True)}
        for repeat in range(7):  # the losses interleaved, so a change of load or clock hits them alike
            for loss in losses:
                for portable in (False, True) if repeat < 3 else (False,):
                    times[loss, portable] += epoch_times(lambda: epoch(loss, portable, model=trained[loss]), 1)
        base = float(np.median(times["squared_error", False]))
        for loss in losses:
            fast, portable = (float(np.median(times[loss, p])) for p in (False, True))
            print(f"  {bits}-bit {loss:25s} {fast:.4f} s ({fast / base:.2f}x), portable {portable:.4f} s"
                  + (refetched(trained[loss]) if loss == "hinge" else ""), flush=True)

if __name__ == "__main__":
    main()
