"""Training R^2 of ZipMLRegressor (defaults) at each precision on scikit-learn's
make_regression (200000 x 500, float32), against Ridge, on the same rows.

Usage: python scripts/wide_regression.py [--rows 200000] [--features 500] [--noise 10] [--bits 32 8 4 2]
       [--eta0 auto]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge

from zipml_hls import ZipMLRegressor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=500)
    parser.add_argument("--noise", type=float, default=10.0)
    parser.add_argument("--bits", type=int, nargs="+", default=[32, 8, 4, 2])
    parser.add_argument("--eta0", type=lambda v: v if v == "auto" else float(v), default="auto",
                        help="the estimators' eta0 at every width (default: auto)")
    args = parser.parse_args()
    X, y = make_regression(args.rows, args.features, noise=args.noise, random_state=0)
    X = X.astype(np.float32)
    ridge = Ridge(alpha=1.0).fit(X, y).score(X, y)
    print(f"{args.rows} x {args.features}, noise {args.noise}: Ridge R^2 {ridge:.5f}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for bits in args.bits:
            start = time.perf_counter()
            model = ZipMLRegressor(bits=bits, eta0=args.eta0, random_state=0).fit(X, y)
            r2 = model.score(X, y)
            print(f"  {bits:2d} bits: R^2 {r2:.5f} (gap to Ridge {ridge - r2:.5f}), eta0 {model.eta_:.3g}, "
                  f"{model.n_iter_} epochs, "
                  f"{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
