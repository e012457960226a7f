"""Held-out R^2 of ZipMLRegressor (defaults) on sparse and wide data against Ridge: rows
of Gaussian values with a share ``--density`` of them non-zero (``signed``; ``positive``:
their absolute values; ``dense``: every value), linear labels with noise (sd 0.3), 2000
held-out rows, seeds 0 and 1. Each cell: R^2, then the automatic step's exponent and the
epochs run. ``--own-ranges``: quantize with each feature's own min/max range instead of
the estimator's scaling (x = 0 then lies between two levels wherever the range spans 0)
and fit the quantized data (the estimator's scaling before zeros were put on levels).
``--no-doublings``: the adaptive schedule's start where rounding is quiet does not double
towards S's rule (``step_size.QUIET_ROUNDING`` set below 0). ``--eta0``: a fixed
initial step instead of 'auto'.

Usage: python scripts/sparse_regression.py [--kind signed] [--rows 3500] [--features 2000]
       [--density 0.01] [--bits 32 8 4 2] [--own-ranges] [--no-doublings] [--eta0 E]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score

from zipml_hls import ZipMLRegressor, quantize, step_size
from zipml_hls.scaling import FeatureSummary


def data(kind: str, n: int, d: int, density: float, seed: int):
    rng = np.random.default_rng(seed)
    rows = n + 2000
    if kind == "dense":
        X = rng.standard_normal((rows, d))
    else:
        X = sp.random(rows, d, density=density, random_state=seed, data_rvs=rng.standard_normal).toarray()
        X = np.abs(X) if kind == "positive" else X
    y = X @ rng.standard_normal(d) + 0.3 * rng.standard_normal(rows)
    return X[:n], y[:n], X[n:], y[n:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=["signed", "positive", "dense"], default="signed")
    parser.add_argument("--rows", type=int, default=3500)
    parser.add_argument("--features", type=int, default=2000)
    parser.add_argument("--density", type=float, default=0.01)
    parser.add_argument("--bits", type=int, nargs="+", default=[32, 8, 4, 2])
    parser.add_argument("--own-ranges", action="store_true")
    parser.add_argument("--no-doublings", action="store_true")
    parser.add_argument("--eta0", type=float, default=None)
    args = parser.parse_args()
    if args.no_doublings:
        step_size.QUIET_ROUNDING = -1.0
    warnings.simplefilter("ignore", ConvergenceWarning)
    print(f"{args.kind}, {args.rows} x {args.features}, density {args.density}"
          f"{', own ranges' if args.own_ranges else ''}{', no doublings' if args.no_doublings else ''}")
    print("seed | Ridge | " + " | ".join(f"{b} bits" for b in args.bits))
    for seed in (0, 1):
        X, y, Xt, yt = data(args.kind, args.rows, args.features, args.density, seed)
        cells = [f"{r2_score(yt, Ridge(1e-3).fit(X, y).predict(Xt)):.4f}"]
        for bits in args.bits:
            model = ZipMLRegressor(bits=bits, random_state=seed, eta0="auto" if args.eta0 is None else args.eta0)
            if args.own_ranges and bits != 32:
                X32 = X.astype(np.float32)
                model.fit(quantize(X32, bits, scaling=FeatureSummary.of(X32).scaling, seed=seed, y=y))
            else:
                model.fit(X, y)
            cells.append(f"{r2_score(yt, model.predict(Xt)):.4f} (2^-{-np.log2(model.eta_):.0f}, {model.n_iter_})")
        print(f"{seed} | " + " | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
