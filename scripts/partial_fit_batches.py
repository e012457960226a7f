"""partial_fit in small batches against fit: held-out balanced accuracy of ZipMLClassifier at
8 bits after 10 shuffled passes of 256-row batches, with the adaptive schedule reading the
calls' losses a window of linear_model.PARTIAL_FIT_WINDOW rows at a time (the default) and
call by call (a window of 0), next to fit on the same rows; the final step over the start.
Data: a 95/5 make_classification set (8000 x 20), digits, a balanced make_classification set;
70/30 stratified split of seed 0, feature_range from the training rows.

Then least squares at 2 bits from 60 calls of 1000 shuffled rows (3 passes over 20000 x 10
Gaussian rows, as tests/test_regressor.py), model seeds 0-2: the training loss over least
squares' with windows of 0 (call by call), the default and 4096 rows.

Usage: python scripts/partial_fit_batches.py
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.datasets import load_digits, make_classification
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split

from zipml_hls import ZipMLClassifier, ZipMLRegressor, linear_model

BATCH, PASSES = 256, 10


def batches(X, y, window: int, loss: str) -> ZipMLClassifier:
    """The model after PASSES shuffled passes of BATCH-row partial_fit calls."""
    est = ZipMLClassifier(loss=loss, bits=8, random_state=0, feature_range=(X.min(axis=0), X.max(axis=0)))
    rng, classes = np.random.default_rng(0), np.unique(y)
    default, linear_model.PARTIAL_FIT_WINDOW = linear_model.PARTIAL_FIT_WINDOW, window
    try:
        for _ in range(PASSES):
            order = rng.permutation(len(y))
            for start in range(0, len(y), BATCH):
                rows = order[start:start + BATCH]
                est.partial_fit(X[rows], y[rows], classes=classes)
    finally:
        linear_model.PARTIAL_FIT_WINDOW = default
    return est


def regression_calls() -> None:
    """The least-squares run of the module's docstring."""
    rng = np.random.default_rng(8)
    Z = rng.normal(size=(20000, 10))
    y = Z @ rng.normal(size=10) + 0.5 * rng.normal(size=20000) + 5
    A = np.column_stack([Z, np.ones(len(y))])
    best = 0.5 * np.mean((A @ np.linalg.lstsq(A, y, rcond=None)[0] - y) ** 2)
    calls = [b for _ in range(3) for b in np.array_split(rng.permutation(20000), 20)]
    default = linear_model.PARTIAL_FIT_WINDOW
    print("\n2-bit least squares, 60 calls of 1000 rows: loss over least squares', seeds 0-2")
    for window in (0, default, 4096):
        linear_model.PARTIAL_FIT_WINDOW = window
        try:
            ratios = []
            for seed in range(3):
                est = ZipMLRegressor(bits=2, random_state=seed, feature_range=(Z.min(axis=0), Z.max(axis=0)))
                for rows in calls:
                    est.partial_fit(Z[rows], y[rows])
                ratios.append(0.5 * np.mean((est.predict(Z) - y) ** 2) / best)
        finally:
            linear_model.PARTIAL_FIT_WINDOW = default
        print(f"  window {window}: " + ", ".join(f"{r:.3f}" for r in ratios))


def main() -> None:
    sets = {"95/5": make_classification(8000, 20, n_informative=5, weights=[0.95], flip_y=0.01, random_state=0),
            "digits": load_digits(return_X_y=True),
            "balanced": make_classification(8000, 20, n_informative=5, random_state=0)}
    print("| data | loss | fit | partial_fit, window | partial_fit, call by call |")
    print("|---|---|---|---|---|")
    for name, (X, y) in sets.items():
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
        for loss in ("log_loss", "squared_hinge"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # (fit's ConvergenceWarning, if any, is not the point here)
                fitted = ZipMLClassifier(loss=loss, bits=8, random_state=0).fit(X_train, y_train)
                cells = [f"{balanced_accuracy_score(y_test, fitted.predict(X_test)):.3f}"]
                for window in (linear_model.PARTIAL_FIT_WINDOW, 0):
                    est = batches(X_train, y_train, window, loss)
                    cells.append(f"{balanced_accuracy_score(y_test, est.predict(X_test)):.3f} "
                                 f"(step {est.final_eta_ / est.eta_:.2g}x)")
            print(f"| {name} | {loss} | " + " | ".join(cells) + " |", flush=True)
    regression_calls()


if __name__ == "__main__":
    main()
