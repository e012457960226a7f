"""Held-out R^2 of ZipMLRegressor (defaults) with sample weights against weighted Ridge:
Gaussian rows, linear labels with noise, weights drawn from a distribution of your choice,
a 75/25 split, seeds 0 to 2. ``--times``: each fit's seconds and epochs too.

Usage: python scripts/weighted_rows.py [--rows 3000] [--features 600] [--weights exponential]
       [--bits 32 8 4 2] [--times]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score

from zipml_hls import ZipMLRegressor

WEIGHTS = {"exponential": lambda rng, n: rng.exponential(size=n),
           "lognormal": lambda rng, n: rng.lognormal(0.0, 1.5, n),
           "none": lambda rng, n: np.ones(n)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--features", type=int, default=600)
    parser.add_argument("--weights", choices=sorted(WEIGHTS), default="exponential")
    parser.add_argument("--bits", type=int, nargs="+", default=[32, 8, 4, 2])
    parser.add_argument("--times", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    n, d = args.rows, args.features
    print("seed | weighted Ridge | " + " | ".join(f"{b} bits" for b in args.bits))
    for seed in range(3):
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((n, d))
        y = X @ rng.standard_normal(d) + 0.5 * np.sqrt(d) / 5 * rng.standard_normal(n)
        w = WEIGHTS[args.weights](rng, n)
        train, test = slice(0, 3 * n // 4), slice(3 * n // 4, None)
        ridge = Ridge(alpha=1e-3).fit(X[train], y[train], sample_weight=w[train])
        cells = [f"{r2_score(y[test], ridge.predict(X[test])):.3f}"]
        for bits in args.bits:
            start = time.perf_counter()
            model = ZipMLRegressor(bits=bits, random_state=0).fit(X[train], y[train], sample_weight=w[train])
            seconds = time.perf_counter() - start
            cells.append(f"{r2_score(y[test], model.predict(X[test])):.3f}" +
                         (f" ({seconds:.3f} s, {model.n_iter_} epochs)" if args.times else ""))
        print(f"{seed} | " + " | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
