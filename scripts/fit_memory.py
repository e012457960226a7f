"""Peak memory and wall time of ZipMLRegressor.fit on 1 GiB of float32 (131072 x 2048),
with fresh samples every epoch or one reused copy.

Usage: python scripts/fit_memory.py BITS {fresh,reuse} [--epochs 3]
(run each configuration in its own process: the peak RSS is per process)
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from zipml_hls import ZipMLRegressor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bits", type=int)
    parser.add_argument("mode", choices=("fresh", "reuse"))
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    X = np.random.default_rng(0).random((131_072, 2048), dtype=np.float32)
    y = X[:, :16].sum(axis=1).astype(np.float64)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    kw = dict(bits=args.bits, max_iter=args.epochs, decay_epochs=0, random_state=0)
    if args.mode == "reuse":
        kw.update(fresh_samples=False, shuffle=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        ZipMLRegressor(**kw).fit(X, y)
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"{args.bits} bits, {args.mode}: X {X.nbytes / 2**30:.2f} GiB, peak RSS {peak:.2f} GiB "
          f"(before fit {before:.2f}), fit {seconds:.1f} s for {args.epochs} epochs")


if __name__ == "__main__":
    main()
