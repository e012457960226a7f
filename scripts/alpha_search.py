"""Does an L2 penalty chosen by cross-validation help? For digits and breast cancer
(ZipMLClassifier) and a generated regression with more features than the rows support well
(ZipMLRegressor), GridSearchCV picks ``alpha`` on the training split (5-fold) and the script
prints the test score of that choice next to alpha = 0 (the unregularised fit), at 8 and 2
bits. Features are standardized first (a Pipeline), as for scikit-learn's SGD.

Usage: python scripts/alpha_search.py [--seed 0]
"""

from __future__ import annotations

import argparse
import warnings

from sklearn.datasets import load_breast_cancer, load_digits, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from zipml_hls import ZipMLClassifier, ZipMLRegressor

ALPHAS = [0.0, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]


def datasets(seed: int):
    X, y = load_digits(return_X_y=True)
    yield "digits (1797 x 64, 10 classes)", X, y, ZipMLClassifier
    X, y = load_breast_cancer(return_X_y=True)
    yield "breast cancer (569 x 30)", X, y, ZipMLClassifier
    X, y = make_regression(n_samples=300, n_features=150, n_informative=20, noise=20.0, random_state=seed)
    yield "regression (300 x 150, 20 informative)", X, y, ZipMLRegressor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print("| data | bits | test score, alpha = 0 | alpha chosen | test score, chosen |")
    print("|---|---|---|---|---|")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, X, y, cls in datasets(args.seed):
            X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=args.seed)
            for bits in (8, 2):
                model = make_pipeline(StandardScaler(), cls(bits=bits, random_state=args.seed))
                plain = model.fit(X_train, y_train).score(X_test, y_test)
                search = GridSearchCV(model, {f"{cls.__name__.lower()}__alpha": ALPHAS}, cv=5)
                search.fit(X_train, y_train)
                chosen = search.best_params_[f"{cls.__name__.lower()}__alpha"]
                print(f"| {name} | {bits} | {plain:.4f} | {chosen:g} | {search.score(X_test, y_test):.4f} |",
                      flush=True)


if __name__ == "__main__":
    main()
