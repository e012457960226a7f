"""What ``average_epochs`` buys: the mean of the last k epochs' models at the final step
against the last model, double sampling, seeds 0-2. Schedules: the defaults (adaptive),
the automatic step held for 40 epochs, and the kernel's fixed schedule halving it every 10
epochs for 40 epochs (its last 10 at one step). Printed: the final model's training loss
over the least-squares loss (min-max over seeds) and the median fit time over fp32's
default fit (same run).

Usage: python scripts/epoch_averaging.py
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from zipml_hls import ZipMLRegressor
from zipml_hls.bench import problem
from zipml_hls.datasets import make_tabular_regression
from zipml_hls.experiments import least_squares_loss, training_loss

SCHEDULES = {"adaptive": {}, "constant step, 40 epochs": {"decay_epochs": 0, "max_iter": 40},
             "halve every 10, 40 epochs": {"decay_epochs": 10, "max_iter": 40}}
SEEDS = range(3)


def fitted(X, y, **kw) -> tuple[float, float]:
    start = time.perf_counter()
    model = ZipMLRegressor(**kw).fit(X, y)
    return training_loss(model, X, y), time.perf_counter() - start


def main() -> None:
    sets = {"synthetic 131072x512 (bench's time to accuracy)": problem(131072, 512, seed=1),
            "tabular 50000x63": make_tabular_regression(50000)[:2]}
    print("training loss / least squares (min-max over seeds 0-2), median fit time / fp32's default fit")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, (X, y) in sets.items():
            X = np.ascontiguousarray(X, dtype=np.float32)
            best = least_squares_loss(X, y)
            fp32 = [fitted(X, y, bits=32, random_state=s) for s in SEEDS]
            base = np.median([t for _, t in fp32])
            print(f"\n{name}: fp32 default fit {min(r for r, _ in fp32) / best:.4f}-"
                  f"{max(r for r, _ in fp32) / best:.4f}")
            for schedule, kw in SCHEDULES.items():
                for bits in (2, 4, 8):
                    cells = []
                    for k in (0, 10):
                        runs = [fitted(X, y, bits=bits, average_epochs=k, random_state=s, **kw) for s in SEEDS]
                        ratios = [r / best for r, _ in runs]
                        cells.append(f"k={k}: {min(ratios):.4f}-{max(ratios):.4f} "
                                     f"({np.median([t for _, t in runs]) / base:.2f}x)")
                    print(f"  {schedule}, {bits}-bit: " + "; ".join(cells), flush=True)


if __name__ == "__main__":
    main()
