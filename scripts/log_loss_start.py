"""The automatic step and the polynomial of loss='log_loss'.

The table: ZipMLClassifier from least squares' start (the loss's curvature bound taken as
1) and from the default one (``Loss.flatter``: its curvature of at most 1/4, a step up to
4x larger), on the sets of classifier_losses.py (70/30 stratified splits of seeds 0-2,
model seed = split seed, defaults otherwise). Each cell: the mean training log loss (full
precision, one-vs-rest targets averaged), the held-out accuracy range and the epochs the
adaptive schedule ran. The reference is one-vs-rest LogisticRegression (C=1e4, lbfgs) on
standardized features, the same objective's minimum up to its tiny penalty.

Then the long run that the polynomial's pinned tails are for (``polynomial.PINNED_TAILS``):
97/3 classes (make_classification(3500, 20, weights=[0.97], random_state=0)), 8 bits, a
constant step of 1/16 for 100 epochs, with plain Chebyshev interpolation of the logistic
derivative and with the default pinned polynomial: the training log loss over
LogisticRegression's, and the last epoch's pass loss over the lowest of the first 20.

Then what the pinned tails cost in calibration: 90/10 classes
(make_classification(20000, 20, n_informative=6, weights=[0.9], random_state=1), 70/30
stratified split of seed 0), 8 bits, defaults: held-out log loss and expected calibration
error (10 equal-width bins) with plain and pinned polynomials, each from both starts, and
the default wrapped in CalibratedClassifierCV (sigmoid, 3 folds).

Last, 20 one-hot blocks of 8 columns (6000 rows, labels of a random linear score plus
logistic noise above its median), where centred rows' R is largest against the uncentred
R that the start reads: training log loss at 8 bits from starts 1x, 2x and 4x least
squares' (Loss.flatter 0, 1, 2).

Usage: python scripts/log_loss_start.py [--bits B ...]
"""

from __future__ import annotations

import argparse
import dataclasses
import warnings

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from classifier_losses import data_sets
from zipml_hls import ZipMLClassifier, polynomial
from zipml_hls.spec import losses

SEEDS = range(3)


def binary_log_loss(positive: np.ndarray, scores: np.ndarray) -> float:
    """Mean log loss (the library's objective) of decision scores for the rows where ``positive``."""
    return float(np.mean(losses.LOSSES["log_loss"].objective(np.where(positive, 1.0, -1.0), scores)))


def one_vs_rest_loss(scores: np.ndarray, y: np.ndarray, classes: np.ndarray) -> float:
    """Mean over one-vs-rest targets of the binary log loss of decision scores (binary: one column)."""
    scores = scores.reshape(len(y), -1)
    targets = [classes[1:]] if scores.shape[1] == 1 else [[c] for c in classes]
    return float(np.mean([binary_log_loss(np.isin(y, t), s) for t, s in zip(targets, scores.T)]))


def reference(Xtr, Xte, ytr, yte) -> tuple[float, float]:
    """(training loss, held-out accuracy) of one-vs-rest LogisticRegression on standardized features."""
    scaler = StandardScaler().fit(Xtr)
    classes = np.unique(ytr)
    targets = [classes[1:]] if classes.size == 2 else [[c] for c in classes]
    models = [LogisticRegression(C=1e4, max_iter=20000).fit(scaler.transform(Xtr), np.isin(ytr, t)) for t in targets]
    train = np.column_stack([m.decision_function(scaler.transform(Xtr)) for m in models])
    test = np.column_stack([m.decision_function(scaler.transform(Xte)) for m in models])
    predicted = classes[(test[:, 0] > 0).astype(int)] if classes.size == 2 else classes[np.argmax(test, axis=1)]
    return one_vs_rest_loss(train, ytr, classes), float(np.mean(predicted == yte))


def drift() -> None:
    """The long constant-step run of the module's docstring, plain and pinned."""
    X, y = make_classification(3500, 20, weights=[0.97], random_state=0)
    scaled = StandardScaler().fit_transform(X)
    best = binary_log_loss(y == 1, LogisticRegression(C=1e4, max_iter=10000).fit(scaled, y).decision_function(scaled))
    print(f"\n97/3 classes, 8 bits, step 1/16, 100 epochs; LogisticRegression's training log loss {best:.4f}")
    for pinned in (False, True):
        polynomial.PINNED_TAILS = pinned
        try:
            m = ZipMLClassifier(loss="log_loss", bits=8, eta0=2**-4, decay_epochs=0, max_iter=100,
                                random_state=0).fit(X, y)
        finally:
            polynomial.PINNED_TAILS = True
        curve = np.ravel(m.loss_curve_)
        ours = binary_log_loss(y == 1, m.decision_function(X))
        print(f"  {'pinned' if pinned else 'plain interpolation'}: {ours / best:.3f}x LogisticRegression's, "
              f"last pass loss {curve[-1] / np.min(curve[:20]):.3f}x the lowest of the first 20 epochs")


def calibration() -> None:
    """The calibration run of the module's docstring."""
    X, y = make_classification(20000, 20, n_informative=6, weights=[0.9], random_state=1)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    default = losses.LOSSES["log_loss"]
    print("\n90/10 classes, 8 bits: held-out log loss, expected calibration error")
    for pinned in (False, True):
        for flatter in (0, default.flatter):
            polynomial.PINNED_TAILS = pinned
            losses.LOSSES["log_loss"] = dataclasses.replace(default, flatter=flatter)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    m = ZipMLClassifier(loss="log_loss", bits=8, random_state=0).fit(X_train, y_train)
            finally:
                polynomial.PINNED_TAILS, losses.LOSSES["log_loss"] = True, default
            p = m.predict_proba(X_test)[:, 1]
            held_out = binary_log_loss(y_test == 1, m.decision_function(X_test))
            bins = np.minimum((p * 10).astype(int), 9)
            ece = sum(abs(p[bins == b].mean() - y_test[bins == b].mean()) * np.mean(bins == b)
                      for b in range(10) if np.any(bins == b))
            print(f"  {'pinned' if pinned else 'plain interpolation'}, start {2**flatter}x least squares': "
                  f"log loss {held_out:.4f}, ECE {ece:.4f}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        wrapped = CalibratedClassifierCV(ZipMLClassifier(loss="log_loss", bits=8, random_state=0), cv=3)
        p = wrapped.fit(X_train, y_train).predict_proba(X_test)[:, 1]
    print(f"  the default in CalibratedClassifierCV(cv=3): log loss {log_loss(y_test, p):.4f}")


def one_hot_blocks() -> None:
    """The one-hot run of the module's docstring."""
    rng = np.random.default_rng(0)
    X = np.concatenate([np.eye(8)[rng.integers(0, 8, 6000)] for _ in range(20)], axis=1)
    score = X @ rng.normal(size=X.shape[1])
    y = (score + 0.5 * rng.logistic(size=6000) > np.median(score)).astype(int)
    best = binary_log_loss(y == 1, LogisticRegression(C=1e4, max_iter=10000).fit(X, y).decision_function(X))
    default = losses.LOSSES["log_loss"]
    cells = []
    for flatter in range(default.flatter + 1):
        losses.LOSSES["log_loss"] = dataclasses.replace(default, flatter=flatter)
        try:
            m = ZipMLClassifier(loss="log_loss", bits=8, random_state=0).fit(X, y)
        finally:
            losses.LOSSES["log_loss"] = default
        cells.append(f"{2**flatter}x {binary_log_loss(y == 1, m.decision_function(X)):.4f}")
    print(f"\n20 one-hot blocks of 8, 8 bits; LogisticRegression {best:.4f}; start " + ", ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bits", type=int, nargs="+", default=[32, 8, 4, 2])
    args = parser.parse_args()
    default = losses.LOSSES["log_loss"]
    starts = {"least squares' start": dataclasses.replace(default, flatter=0), "default": default}
    print("| data | LogisticRegression | " + " | ".join(f"{s}, {b}-bit" for s in starts for b in args.bits) + " |")
    print("|---" * (2 + len(starts) * len(args.bits)) + "|")
    for name, (X, y) in data_sets().items():
        splits = [train_test_split(X, y, test_size=0.3, random_state=s, stratify=y) for s in SEEDS]
        refs = [reference(*split) for split in splits]
        cells = [name, f"{np.mean([r[0] for r in refs]):.4f}, {min(r[1] for r in refs):.3f}-"
                       f"{max(r[1] for r in refs):.3f}"]
        for loss in starts.values():
            losses.LOSSES["log_loss"] = loss
            try:
                for bits in args.bits:
                    train, scores, epochs = [], [], []
                    for seed, (Xtr, Xte, ytr, yte) in zip(SEEDS, splits):
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore", ConvergenceWarning)
                            warnings.simplefilter("ignore", UserWarning)  # (the outlier column's notice)
                            m = ZipMLClassifier(loss="log_loss", bits=bits, random_state=seed).fit(Xtr, ytr)
                        train.append(one_vs_rest_loss(m.decision_function(Xtr), ytr, m.classes_))
                        scores.append(m.score(Xte, yte))
                        epochs.append(m.n_iter_)
                    cells.append(f"{np.mean(train):.4f}, {min(scores):.3f}-{max(scores):.3f}, "
                                 f"{min(epochs)}-{max(epochs)} ep")
            finally:
                losses.LOSSES["log_loss"] = default
        print("| " + " | ".join(cells) + " |", flush=True)
    drift()
    calibration()
    one_hot_blocks()


if __name__ == "__main__":
    main()
