"""NumPy twin of the level solver in hls/include/zipml_cpu/optimal_levels.hpp: the plain
O(s N^2) dynamic program over the candidate points (the test oracle of the fast solver)."""

from __future__ import annotations

import numpy as np


def levels_dp(x: np.ndarray, c: np.ndarray, s: int) -> np.ndarray:
    """NumPy O(s N^2) dynamic program over the points (the test oracle)."""
    n = x.size
    s0, s1, s2 = (np.concatenate([[0.0], np.cumsum(c * x**p)]) for p in (0, 1, 2))
    a, b = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    S0, S1, S2 = (t[b + 1] - t[a] for t in (s0, s1, s2))
    cost = np.maximum(-S2 + (x[a] + x[b]) * S1 - x[a] * x[b] * S0, 0.0)
    cost[a >= b] = np.inf
    f = cost[0].copy()
    args = []
    for _ in range(2, s + 1):
        total = f[:, None] + cost
        arg = np.argmin(total, axis=0)
        args.append(arg)
        f = total[arg, np.arange(n)]
    idx = [n - 1]
    for arg in reversed(args):
        idx.append(int(arg[idx[-1]]))
    idx.append(0)
    return x[np.array(idx[::-1])]
