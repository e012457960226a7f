"""Diabetes at 1 and 2 bits with the estimators' defaults, 20 epochs, 5 seeds: the final
model's training loss over fp32's, with and without conditioning, early stopping, the
stored-rounding correction and quantizing again every epoch (the defaults do on these 442
rows), and
(defaults) the final model's loss over the best epoch's (a rise shows as > 1; a run of k
epochs is the first k epochs of the 20-epoch run, so each epoch's model is refitted).

Usage: python scripts/diabetes_low_bits.py
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning

from zipml_hls import ZipMLRegressor
from zipml_hls.experiments import training_loss


def main() -> None:
    X, y = load_diabetes(return_X_y=True)
    seeds = range(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fp32 = np.median([training_loss(ZipMLRegressor(bits=32, max_iter=20, random_state=s).fit(X, y), X, y)
                          for s in seeds])
        print(f"diabetes 442 x 10, 20 epochs, seeds 0-4; fp32 training loss {fp32:.1f}; ratios to it:")
        for bits in (1, 2):
            for label, kw in (("defaults", {}), ("early_stopping=True", {"early_stopping": True}),
                              ("precondition=False", {"precondition": False}),
                              ("rounding_correction=False", {"rounding_correction": False}),
                              ("requantize=False", {"requantize": False})):
                ratios = [training_loss(ZipMLRegressor(bits=bits, max_iter=20, random_state=s, **kw).fit(X, y), X, y)
                          / fp32 for s in seeds]
                print(f"  {bits}-bit double, {label}: {min(ratios):.3f}-{max(ratios):.3f}x")
            rises = []
            for s in seeds:
                curve = [training_loss(ZipMLRegressor(bits=bits, max_iter=k, random_state=s).fit(X, y), X, y)
                         for k in range(1, 21)]
                rises.append(curve[-1] / min(curve))
            print(f"  {bits}-bit double, defaults, final over best epoch: {min(rises):.3f}-{max(rises):.3f}")


if __name__ == "__main__":
    main()
