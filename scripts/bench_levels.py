"""Time of the optimal-levels programs: exact against N, grid against M.

Usage: python scripts/bench_levels.py
"""

from __future__ import annotations

import numpy as np

from zipml_hls import optimal_levels
from zipml_hls.backend import get_backend
from zipml_hls.bench import epoch_times


def seconds(fn, repeats: int = 3) -> float:
    return float(np.median(epoch_times(fn, repeats)))


def main() -> None:
    rng = np.random.default_rng(0)
    native = get_backend("hls")
    print("exact, 16 levels, lognormal values (median of 3):")
    for n in (500, 1000, 2000, 4000, 8000, 16000):
        v = rng.lognormal(size=n)
        x, c = np.unique(v, return_counts=True)
        fast = seconds(lambda: optimal_levels(v, 16))
        slow = seconds(lambda: native.levels_dp(x, c.astype(float), 15, monotone=False), 1) if n <= 8000 else float("nan")
        print(f"  N={n:6d}: fast search {fast * 1e3:8.2f} ms   plain O(sN^2) {slow * 1e3:9.2f} ms")
    print("grid, 2048 features x 10000 rows, 16 levels (one call over all columns):")
    pos = (rng.lognormal(size=(10000, 2048)) * 1e5).astype(np.uint32)
    for m in (64, 256, 1024, 4096):
        print(f"  M={m:5d}: {seconds(lambda: native.grid_level_columns(pos, 15, m), 1):.3f} s")


if __name__ == "__main__":
    main()
