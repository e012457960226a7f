"""What quantizing X again every epoch buys and costs (``requantize``): double sampling
with the defaults, 20 epochs (``--max-iter``), seeds 0-4, each data set with one stored copy that the kernel
draws every epoch's samples from (False) and quantized again every epoch (True): the final
model's training loss over the least-squares loss (min-max over seeds) and the median fit
time over fp32's (same seeds, same run). ``requantize='auto'`` picks True up to 2**20 values.

Usage: python scripts/requantize.py [--max-iter 20]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning

from zipml_hls import ZipMLRegressor
from zipml_hls.datasets import make_synthetic_regression, make_tabular_regression
from zipml_hls.experiments import least_squares_loss, training_loss


def timed_loss(X, y, **kw) -> tuple[float, float]:
    start = time.perf_counter()
    model = ZipMLRegressor(**kw).fit(X, y)
    return training_loss(model, X, y), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-iter", type=int, default=20)
    epochs = parser.parse_args().max_iter
    sets = {"diabetes 442x10": load_diabetes(return_X_y=True),
            "tabular 50000x63": make_tabular_regression(50000)[:2],
            "synthetic 20000x200": make_synthetic_regression(20000, 200, random_state=0)[:2]}
    seeds = range(5)
    print(f"{epochs} epochs, seeds 0-4: training loss / least squares (min-max), median fit time / fp32's")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, (X, y) in sets.items():
            X = np.ascontiguousarray(X, dtype=np.float32)
            best = least_squares_loss(X, y)
            fp32_time = np.median([timed_loss(X, y, bits=32, random_state=s, max_iter=epochs)[1] for s in seeds])
            print(f"  {name} ({X.size} values)", flush=True)
            for bits in (1, 2, 4):
                cells = []
                for requantize in (False, True):
                    runs = [timed_loss(X, y, bits=bits, random_state=s, requantize=requantize, max_iter=epochs)
                            for s in seeds]
                    ratios = [loss / best for loss, _ in runs]
                    cells.append(f"requantize={requantize!s:5s} {min(ratios):.3f}-{max(ratios):.3f}x, "
                                 f"time {np.median([t for _, t in runs]) / fp32_time:.2f}x")
                print(f"    {bits}-bit: " + "; ".join(cells), flush=True)


if __name__ == "__main__":
    main()
