"""The automatic step of loss='log_loss': ZipMLClassifier from least squares' start (the
loss's curvature bound taken as 1) and from the default one (``Loss.flatter``: its
curvature of at most 1/4, a step up to 4x larger), on the sets of classifier_losses.py
(70/30 stratified splits of seeds 0-2, model seed = split seed, defaults otherwise).

Each cell: the mean training log loss (full precision, one-vs-rest targets averaged),
the held-out accuracy range and the epochs the adaptive schedule ran. The reference is
one-vs-rest LogisticRegression (C=1e4, lbfgs) on standardized features, the same
objective's minimum up to its tiny penalty.

Usage: python scripts/log_loss_start.py [--bits B ...]
"""

from __future__ import annotations

import argparse
import dataclasses
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from classifier_losses import data_sets
from zipml_hls import ZipMLClassifier
from zipml_hls.spec import losses

SEEDS = range(3)


def one_vs_rest_loss(scores: np.ndarray, y: np.ndarray, classes: np.ndarray) -> float:
    """Mean over one-vs-rest targets of the binary log loss of decision scores (binary: one column)."""
    scores = scores.reshape(len(y), -1)
    targets = [classes[1:]] if scores.shape[1] == 1 else [[c] for c in classes]
    return float(np.mean([np.mean(np.logaddexp(0.0, -np.where(np.isin(y, t), 1.0, -1.0) * s))
                          for t, s in zip(targets, scores.T)]))


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


if __name__ == "__main__":
    main()
