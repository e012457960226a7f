"""Which classification loss makes the better default: held-out accuracy of ZipMLClassifier
with each loss at 8 and 4 bits, or the widths --bits gives (defaults otherwise, seeds 0-2, min-max) next to
StandardScaler + LogisticRegression, on scikit-learn's small real sets (iris, breast
cancer, wine, digits; 70/30 stratified split), a 97/3 imbalanced make_classification
set (5000 x 20), where the count of test rows predicted positive is printed too (the
test split holds 53 positives), a 3-class 70/20/10 set with skewed, one-hot and outlying
columns (mixed_columns) and a 60/40 set of 50 Gaussian features (gaussian), where the share
of test rows predicted as the majority class is. Each cell: accuracy, epochs the adaptive schedule ran
(of max_iter=100), and how many fits ended at max_iter with a ConvergenceWarning.

Usage: python scripts/classifier_losses.py [--floor F] [--bits B ...] [--doublings N]
(--floor: the adaptive schedule's floor for margin losses, a fraction of the zero model's
loss; default the library's, 0 the plain relative rule; --doublings: the hinge and squared
hinge's doublings of the automatic start, Loss.doublings; default the library's)
"""

from __future__ import annotations

import argparse
import dataclasses
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from zipml_hls import ZipMLClassifier, linear_model
from zipml_hls.spec.losses import CLASSIFIER_LOSSES, LOSSES

SEEDS = range(3)


def data_sets() -> dict:
    return {"iris": load_iris(return_X_y=True), "breast cancer": load_breast_cancer(return_X_y=True),
            "wine": load_wine(return_X_y=True), "digits": load_digits(return_X_y=True),
            "imbalanced 97/3": make_classification(5000, 20, weights=[0.97], random_state=0),
            "3-class 70/20/10, mixed columns": mixed_columns(), "Gaussian 60/40, 20000 x 50": gaussian()}


def gaussian():
    """20000 x 50 standard normal features, labels 1 where x.w + logistic noise > 2 (w
    standard normal): 60/40, LogisticRegression's training accuracy 0.929."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20000, 50))
    return X, (X @ rng.normal(size=50) + rng.logistic(size=20000) > 2).astype(int)


def mixed_columns():
    """6000 x 39: 3 classes at 70/20/10 (30 columns), a lognormal column (sigma 1.5), an
    8-way one-hot block and one 1e3 outlier, the rows sorted by class."""
    rng = np.random.default_rng(0)
    X, y = make_classification(6000, 30, n_informative=12, n_classes=3, weights=[0.7, 0.2, 0.1], random_state=0)
    X = np.hstack([X, np.exp(1.5 * rng.normal(size=(len(y), 1))), np.eye(8)[rng.integers(0, 8, len(y))]])
    X[5, 3] = 1e3
    order = np.argsort(y, kind="stable")
    return X[order], y[order]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--floor", type=float, default=linear_model.MARGIN_LOSS_FLOOR)
    parser.add_argument("--bits", type=int, nargs="+", default=[8, 4])
    parser.add_argument("--doublings", type=int, default=None,
                        help="the hinge and squared hinge's doublings of the automatic start (default the library's)")
    args = parser.parse_args()
    linear_model.MARGIN_LOSS_FLOOR = args.floor
    if args.doublings is not None:
        for name in ("hinge", "squared_hinge"):
            LOSSES[name] = dataclasses.replace(LOSSES[name], doublings=args.doublings)
    print("| data | LogisticRegression | " + " | ".join(f"{loss} {bits}-bit" for loss in CLASSIFIER_LOSSES
                                                       for bits in args.bits) + " |")
    print("|---" * (2 + len(args.bits) * len(CLASSIFIER_LOSSES)) + "|")
    for name, (X, y) in data_sets().items():
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
        reference = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(Xtr, ytr)
        cells = [name, f"{reference.score(Xte, yte):.3f}"]
        for loss in CLASSIFIER_LOSSES:
            for bits in args.bits:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", ConvergenceWarning)
                    fits = [ZipMLClassifier(loss=loss, bits=bits, random_state=s).fit(Xtr, ytr) for s in SEEDS]
                scores, epochs = [m.score(Xte, yte) for m in fits], [m.n_iter_ for m in fits]
                cell = f"{min(scores):.3f}-{max(scores):.3f}, {min(epochs)}-{max(epochs)} ep"
                stopped = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
                if stopped:
                    cell += f", {len(stopped)} warned"
                if name.startswith("imbalanced"):
                    positives = [int(np.sum(m.predict(Xte) == 1)) for m in fits]
                    cell += f" ({min(positives)}-{max(positives)} +)"
                if name.startswith(("3-class", "Gaussian")):
                    majority = [100 * np.mean(m.predict(Xte) == 0) for m in fits]
                    cell += f" ({min(majority):.0f}-{max(majority):.0f}% as class 0)"
                cells.append(cell)
        print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
