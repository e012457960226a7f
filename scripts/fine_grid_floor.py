"""What the stored copy's one-time rounding to the fine grid costs, with no SGD noise: the
least-squares solution of the stored values (double data's fine codes, the values every
epoch's samples are drawn from), evaluated on the exact data, over the loss of the exact
least-squares solution. Converged double sampling cannot do better than this floor.

Usage: python scripts/fine_grid_floor.py
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_diabetes

from zipml_hls import quantize
from zipml_hls.datasets import make_synthetic_regression, make_tabular_regression
from zipml_hls.spec import format as F


def floor(X: np.ndarray, y: np.ndarray, bits: int, seed: int) -> float:
    q = quantize(X, bits, seed=seed)
    exact = np.hstack([q.scaling.transform(X.astype(np.float32)).astype(np.float64), np.ones((len(y), 1))])
    stored = np.hstack([q.fine_codes() / (4 * F.max_code(bits)), np.ones((len(y), 1))])
    loss = lambda w: np.mean((exact @ w - y) ** 2)  # noqa: E731
    return loss(np.linalg.lstsq(stored, y, rcond=None)[0]) / loss(np.linalg.lstsq(exact, y, rcond=None)[0])


def main() -> None:
    sets = {"synthetic 20000x200 (reproduce's)": make_synthetic_regression(20000, 200, random_state=0)[:2],
            "diabetes 442x10": load_diabetes(return_X_y=True),
            "tabular 50000x63": make_tabular_regression(50000)[:2]}
    print("least squares on the stored fine grid / exact least squares (quantization seeds 0-4):")
    for name, (X, y) in sets.items():
        cells = []
        for bits in (1, 2, 4):
            ratios = [floor(X, y, bits, seed) for seed in range(5)]
            cells.append(f"{bits}-bit {min(ratios):.4f}-{max(ratios):.4f}")
        print(f"  {name:34s}", ", ".join(cells), flush=True)


if __name__ == "__main__":
    main()
