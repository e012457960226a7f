"""One level table shared by every feature (``levels_method='shared'``) against per-feature
optimal tables and uniform levels: the total rounding variance of the scaled features on
scikit-learn's data sets and two skewed ones, relative to uniform levels, and the time to
find the tables for the bench's 20000 x 2048 problem.

Usage: python scripts/shared_levels.py
"""

from __future__ import annotations

import time

import numpy as np
from sklearn import datasets

from zipml_hls import quantize
from zipml_hls.backend import get_backend
from zipml_hls.bench import problem
from zipml_hls.levels import quantization_variance
from zipml_hls.spec import format as F


def total_variance(X: np.ndarray, q) -> float:
    """Sum over features of the rounding variance of the scaled values to q's levels."""
    pos = get_backend("hls").positions(X, q.scaling.lo, q.scaling.inv).astype(np.float64) / F.POS_ONE
    s = F.max_code(q.bits)
    return sum(quantization_variance(pos[:, j], np.arange(s + 1) / s if q.level_table is None
                                     else q.level_table[j] / F.POS_ONE) for j in range(X.shape[1]))


def main() -> None:
    rng = np.random.default_rng(0)
    sets = {"diabetes": datasets.load_diabetes().data, "breast cancer": datasets.load_breast_cancer().data,
            "digits": datasets.load_digits().data, "wine": datasets.load_wine().data,
            "lognormal (sigma 2)": rng.lognormal(0, 2, (5000, 20)),
            "mixed: Gaussian, lognormal, 5% one-hot": np.hstack([rng.normal(size=(5000, 10)),
                                                                 rng.lognormal(0, 2, (5000, 10)),
                                                                 rng.random((5000, 5)) < 0.05]),
            "uniform random": rng.random((20000, 8))}
    print("rounding variance relative to uniform levels (per-feature tables / shared table)")
    print("| data | 2 bits | 4 bits | 8 bits |\n|---|---|---|---|")
    for name, X in sets.items():
        X = X.astype(np.float32)
        cells = []
        for bits in (2, 4, 8):
            uniform = total_variance(X, quantize(X, bits))
            per_feature = total_variance(X, quantize(X, bits, levels="optimal"))
            shared = total_variance(X, quantize(X, bits, levels="optimal", levels_method="shared"))
            cells.append(f"{per_feature / uniform:.3f} / {shared / uniform:.3f}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    X, _ = problem(20000, 2048)
    print("\ntime to quantize 20000 x 2048 with optimal levels (tables included), seconds")
    print("| bits | per feature | shared | uniform levels |\n|---|---|---|---|")
    for bits in (4, 8):
        times = []
        for kw in (dict(levels="optimal"), dict(levels="optimal", levels_method="shared"), {}):
            start = time.perf_counter()
            quantize(X, bits, seed=1, **kw)
            times.append(time.perf_counter() - start)
        print(f"| {bits} | " + " | ".join(f"{t:.2f}" for t in times) + " |")


if __name__ == "__main__":
    main()
