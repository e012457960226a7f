"""What conditioning does for loss='log_loss': held-out accuracy of ZipMLClassifier at 32, 8
and 4 bits without conditioning (precondition=False), with its default (features centred at
their means, one shared step) and with the per-feature step multipliers of the linear-kernel
losses added (linear_model.LOG_LOSS_MULTIPLIERS), on the sets of classifier_losses.py
(70/30 stratified splits of seeds 0-2, model seed 0). Each cell: the accuracy range over the
splits and the epochs the adaptive schedule ran (of max_iter=100).

Usage: python scripts/log_loss_conditioning.py
"""

from __future__ import annotations

import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from classifier_losses import data_sets
from zipml_hls import ZipMLClassifier, linear_model

VARIANTS = {"none": (False, False), "centred (default)": (True, False), "centred + multipliers": (True, True)}
BITS = (32, 8, 4)


def main() -> None:
    print("| data | " + " | ".join(f"{v}, {b}-bit" for v in VARIANTS for b in BITS) + " |")
    print("|---" * (1 + len(VARIANTS) * len(BITS)) + "|")
    for name, (X, y) in data_sets().items():
        cells = [name]
        for precondition, multipliers in VARIANTS.values():
            linear_model.LOG_LOSS_MULTIPLIERS = multipliers
            for bits in BITS:
                scores, epochs = [], []
                for split in range(3):
                    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=split, stratify=y)
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", ConvergenceWarning)
                        m = ZipMLClassifier(loss="log_loss", bits=bits, precondition=precondition,
                                            random_state=0).fit(Xtr, ytr)
                    scores.append(m.score(Xte, yte))
                    epochs.append(m.n_iter_)
                cells.append(f"{min(scores):.3f}-{max(scores):.3f}, {min(epochs)}-{max(epochs)} ep")
        print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
