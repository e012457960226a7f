"""fit_intercept=False against the closed form: the training loss of ZipMLRegressor without
intercept over that of least squares without intercept (np.linalg.lstsq on X without a
ones column), next to fit_intercept=True over least squares with one, at every width, with
the estimators' defaults, 5 seeds (min-max).

Data: diabetes (442 x 10, every feature spans 0: no 1-bit fit without intercept), and
generated 20000 x 8 non-negative features (uniform and log-normal columns, a one-hot
column) whose true intercept is 3, so the two problems differ.

Usage: python scripts/no_intercept.py
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning

from zipml_hls import ZipMLRegressor


def least_squares_loss(X, y, intercept: bool) -> float:
    A = np.column_stack([X, np.ones(len(X))]) if intercept else X
    sol = np.linalg.lstsq(A, y, rcond=None)[0]
    return 0.5 * float(np.mean((A @ sol - y) ** 2))


def generated(n=20000, seed=0):
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.uniform(0, 1, (n, 4)), rng.lognormal(0, 1, (n, 3)), rng.random(n) < 0.05])
    y = X @ rng.standard_normal(8) + 3.0 + rng.standard_normal(n)
    return X, y


def main() -> None:
    datasets = {"diabetes": load_diabetes(return_X_y=True), "generated, intercept 3": generated()}
    seeds = range(5)
    print("training loss over least squares' (without intercept | with), seeds 0-4, min-max:")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, (X, y) in datasets.items():
            best = {fit: least_squares_loss(X, y, fit) for fit in (False, True)}
            for bits in (32, 8, 4, 2, 1):
                cells = []
                for fit in (False, True):
                    try:
                        ratios = []
                        for s in seeds:
                            m = ZipMLRegressor(bits=bits, fit_intercept=fit, random_state=s).fit(X, y)
                            ratios.append(0.5 * np.mean((m.predict(X) - y) ** 2) / best[fit])
                        cells.append(f"{min(ratios):.4f}-{max(ratios):.4f}x")
                    except ValueError:  # 1 bit without intercept on features that span 0
                        cells.append("refused")
                print(f"  {name}, {bits} bits: {cells[0]} | {cells[1]}")


if __name__ == "__main__":
    main()
