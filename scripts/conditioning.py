"""Training loss against the least-squares optimum on generated tabular data (one-hot,
log-normal and wide-range numeric columns, 50000 rows): how well min/max-scaled SGD is
conditioned at each precision, next to scikit-learn's StandardScaler + SGDRegressor.

The loss is that of the final model on the full data (the estimators' ``loss_curve_`` is the
kernels' pass estimate). Usage: python scripts/conditioning.py [--epochs 20] [--rows 50000]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDRegressor
from sklearn.preprocessing import StandardScaler

from zipml_hls import ZipMLRegressor
from zipml_hls.datasets import make_tabular_regression
from zipml_hls.experiments import training_loss
from zipml_hls.spec.format import precision_label


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--rows", type=int, default=50_000)
    args = parser.parse_args()
    X, y, _ = make_tabular_regression(args.rows)
    A = np.hstack([X, np.ones((len(X), 1))])
    best = 0.5 * np.mean((A @ np.linalg.lstsq(A, y, rcond=None)[0] - y) ** 2)
    print(f"{X.shape[0]} x {X.shape[1]}, {args.epochs} epochs; final training loss / least-squares loss")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        runs = [(bits, {}) for bits in (32, 8, 4, 2)] + [(bits, {"rounding_correction": False}) for bits in (4, 2)]
        for bits, kw in runs:
            model = ZipMLRegressor(bits=bits, max_iter=args.epochs, random_state=0, **kw).fit(X, y)
            label = precision_label(bits, "double") + (" (no rounding correction)" if kw else "")
            print(f"  {label:14s} {training_loss(model, X, y) / best:.3f}x ({model.n_iter_} epochs)")
        Xs = StandardScaler().fit_transform(X)
        sgd = SGDRegressor(max_iter=args.epochs, tol=None, random_state=0).fit(Xs, y)
        print(f"  {'StandardScaler + SGDRegressor':14s} {0.5 * np.mean((sgd.predict(Xs) - y) ** 2) / best:.3f}x")


if __name__ == "__main__":
    main()
