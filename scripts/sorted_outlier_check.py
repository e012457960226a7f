"""Training on data the project was not tuned on: generated tabular data (one-hot,
log-normal and wide-range columns, seed 7) with one outlier, training rows sorted by the
label; estimator defaults at every precision against least squares and scikit-learn.

Usage: python scripts/sorted_outlier_check.py
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, SGDRegressor
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from zipml_hls import ZipMLRegressor
from zipml_hls.datasets import make_tabular_regression
from zipml_hls.experiments import training_loss


def main() -> None:
    X, y, _ = make_tabular_regression(30000, n_numeric=5, n_skewed=4, categories=(9, 20), random_state=7)
    X[123, 0] *= 100.0  # one outlier
    Xtr, Xte, ytr, yte = train_test_split(X, y, random_state=1)
    order = np.argsort(ytr)
    Xtr, ytr = Xtr[order], ytr[order]  # training rows sorted by the label
    A = np.hstack([Xtr, np.ones((len(Xtr), 1))])
    best = 0.5 * np.mean((A @ np.linalg.lstsq(A, ytr, rcond=None)[0] - ytr) ** 2)
    exact = LinearRegression().fit(Xtr, ytr)
    print(f"{Xtr.shape[0]} x {Xtr.shape[1]}, rows sorted by y, one outlier; least squares: train loss {best:.4g}, "
          f"test R^2 {exact.score(Xte, yte):.4f}")
    sgd = make_pipeline(StandardScaler(), SGDRegressor(random_state=0)).fit(Xtr, ytr)
    print(f"  StandardScaler + SGDRegressor: train loss / least squares "
          f"{0.5 * np.mean((sgd.predict(Xtr) - ytr) ** 2) / best:.3f}, test R^2 {sgd.score(Xte, yte):.4f}")
    runs = ([(bits, {}) for bits in (32, 8, 4, 2, 1)] + [(4, {"shuffle": False, "fresh_samples": False})]
            + [(bits, {"rounding_correction": False}) for bits in (2, 1)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the last run: sorted rows, one copy
        for bits, kw in runs:
            start = time.perf_counter()
            model = ZipMLRegressor(bits=bits, random_state=0, **kw).fit(Xtr, ytr)
            print(f"  {bits:2d} bits {kw or '(defaults)'}: train loss / least squares "
                  f"{training_loss(model, Xtr, ytr) / best:.3f}, test R^2 {model.score(Xte, yte):.4f}, {model.n_iter_} epochs, "
                  f"{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
