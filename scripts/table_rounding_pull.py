"""Held-out R^2 of 2-, 3- and 4-bit least squares on features of two shapes (5 Gaussian and 5
lognormal columns, 6000 rows, a 75/25 split), with uniform levels, per-feature optimal tables
and one shared table, each with and without the stored-rounding correction.

Double data store each value once on a grid four times finer than its levels; the two
samples share that stored rounding, whose variance pulls the fit towards zero like a ridge
penalty (docs/FORMATS.md section 5). The estimators cancel it (rounding_correction) at the
levels the data are quantized with; without it the pull costs most where a table's intervals
are wide over a feature's values: a shared table over the lognormal columns.

Usage: python scripts/table_rounding_pull.py [--seed 0]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from sklearn.model_selection import train_test_split

from zipml_hls import ZipMLRegressor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    n = 6000
    X = np.column_stack([rng.normal(size=(n, 5)), rng.lognormal(sigma=1.0, size=(n, 5))])
    y = X @ rng.normal(size=10) + 0.1 * rng.normal(size=n)
    a, b, c, d = train_test_split(X, y, random_state=args.seed)
    plain = dict(rounding_correction=False)
    per_feature, shared = dict(levels="optimal"), dict(levels="optimal", levels_method="shared")
    contenders = {"uniform": dict(), "uniform, no correction": plain,
                  "per-feature tables": per_feature, "per-feature, no correction": per_feature | plain,
                  "shared table": shared, "shared, no correction": shared | plain}
    print("bits | " + " | ".join(contenders))
    for bits in (2, 3, 4):
        scores = []
        for kw in contenders.values():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # max_iter warnings: the scores are the point
                model = ZipMLRegressor(bits=bits, random_state=args.seed, **kw).fit(a, c)
            scores.append(f"{model.score(b, d):.4f}")
        print(f"{bits} | " + " | ".join(scores))


if __name__ == "__main__":
    main()
