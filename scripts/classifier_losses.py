"""Which classification loss makes the better default: held-out accuracy of ZipMLClassifier
with each loss at 8 and 4 bits, or the widths --bits gives (defaults otherwise, seeds 0-2, min-max) next to
StandardScaler + LogisticRegression, on scikit-learn's small real sets (iris, breast
cancer, wine, digits; 70/30 stratified split) and a 97/3 imbalanced make_classification
set (5000 x 20), where the count of test rows predicted positive is printed too (the
test split holds 53 positives). Each cell: accuracy, epochs the adaptive schedule ran
(of max_iter=100), and how many fits ended at max_iter with a ConvergenceWarning.

Usage: python scripts/classifier_losses.py [--floor F] [--bits B ...]
(--floor: the adaptive schedule's floor for margin losses, a fraction of the zero model's
loss; default the library's, 0 the plain relative rule)
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from zipml_hls import ZipMLClassifier, linear_model
from zipml_hls.spec.losses import CLASSIFIER_LOSSES

SEEDS = range(3)


def data_sets() -> dict:
    return {"iris": load_iris(return_X_y=True), "breast cancer": load_breast_cancer(return_X_y=True),
            "wine": load_wine(return_X_y=True), "digits": load_digits(return_X_y=True),
            "imbalanced 97/3": make_classification(5000, 20, weights=[0.97], random_state=0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--floor", type=float, default=linear_model.MARGIN_LOSS_FLOOR)
    parser.add_argument("--bits", type=int, nargs="+", default=[8, 4])
    args = parser.parse_args()
    linear_model.MARGIN_LOSS_FLOOR = args.floor
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
                if caught:
                    cell += f", {len(caught)} warned"
                if name.startswith("imbalanced"):
                    positives = [int(np.sum(m.predict(Xte) == 1)) for m in fits]
                    cell += f" ({min(positives)}-{max(positives)} +)"
                cells.append(cell)
        print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
