"""n_jobs: convergence at equal epochs and speed of a sharded epoch against one worker.

1. Convergence: the estimators' defaults for 20 epochs, seeds 0-2, n_jobs=2 against
   n_jobs=1: the median final training loss (full precision) of each, and their ratio.
2. Speed on 131072 x 512 (float32 uniform data): an epoch's row order (host work), one
   epoch's kernel work timed at the engine (the sharded pass with its two workers against
   one kernel call over the same rows in the same order; median of 7), and fit() for 20
   epochs with each n_jobs.

Usage: python scripts/parallel.py [--quick]   (--quick: speed only)
"""

from __future__ import annotations

import sys
import time
import warnings
from dataclasses import replace

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning

from zipml_hls import ZipMLRegressor, engine
from zipml_hls.datasets import make_synthetic_regression, make_tabular_regression
from zipml_hls.experiments import training_loss

BITS = (1, 2, 4, 8, 32)


def convergence() -> None:
    rng = np.random.default_rng(0)
    wide = rng.uniform(size=(65536, 512)).astype(np.float32)
    sets = {"tabular 50000x63": make_tabular_regression(50000)[:2],
            "synthetic 100000x200": make_synthetic_regression(100000, 200)[:2],
            "uniform 65536x512": (wide, wide @ rng.standard_normal(512) + rng.standard_normal(65536)),
            "diabetes 442x10": load_diabetes(return_X_y=True)}
    print("1. final training loss after 20 epochs (defaults), median of seeds 0-2: n_jobs=2 over n_jobs=1")
    for name, (X, y) in sets.items():
        ratios = []
        for bits in BITS:
            median = [np.median([training_loss(ZipMLRegressor(bits=bits, max_iter=20, random_state=s, n_jobs=jobs)
                                               .fit(X, y), X, y) for s in range(3)]) for jobs in (1, 2)]
            ratios.append(f"{'fp32' if bits == 32 else f'{bits}-bit'} {median[1] / median[0]:.3f}")
        print(f"  {name:22s}", ", ".join(ratios), flush=True)


def speed() -> None:
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(131072, 512)).astype(np.float32)
    y = X @ rng.standard_normal(512) + rng.standard_normal(131072)
    times = []
    for epoch in range(7):
        start = time.perf_counter()
        engine.epoch_order(0, epoch, X.shape[0])
        times.append(time.perf_counter() - start)
    print(f"2. 131072 x 512: one epoch's row order (host work) {np.median(times) * 1e3:.1f} ms; one epoch's "
          "kernel work (median of 7) and fit() for 20 epochs (median of 3)")
    for bits in BITS:
        est = ZipMLRegressor(bits=bits, max_iter=1, decay_epochs=0, random_state=0).fit(X, y)
        config = est._config(est._step_shift, 0, 0)
        data = engine.EpochData(X.astype(np.float32), est.scaling_, config)
        run = est._runs(y.reshape(-1, 1), config)[0]
        prepared, order = data.epoch(0, prefetch=False)
        model = est._models[0].copy()
        sharded = engine.EpochData(X.astype(np.float32), est.scaling_, replace(config, n_jobs=2))
        one, two = [], []
        for _ in range(7):
            start = time.perf_counter()
            run(prepared, 1, config.step_shift, 0, model, order, 1)
            one.append(time.perf_counter() - start)
            start = time.perf_counter()
            engine.sharded_pass(run, prepared, order, model, config.step_shift, 1, 2, config.block_rows, sharded.map)
            two.append(time.perf_counter() - start)
        sharded.close()
        data.close()
        fits = []
        for jobs in (1, 2):
            times = []
            for _ in range(3):
                start = time.perf_counter()
                ZipMLRegressor(bits=bits, max_iter=20, decay_epochs=0, random_state=0, n_jobs=jobs).fit(X, y)
                times.append(time.perf_counter() - start)
            fits.append(np.median(times))
        label = "fp32" if bits == 32 else f"{bits}-bit double"
        print(f"  {label:14s} epoch: 1 worker {np.median(one) * 1e3:6.1f} ms, 2 workers {np.median(two) * 1e3:6.1f} ms "
              f"({np.median(one) / np.median(two):.2f}x); fit: {fits[0]:.2f} s -> {fits[1]:.2f} s "
              f"({fits[0] / fits[1]:.2f}x)", flush=True)


def main() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if "--quick" not in sys.argv:
            convergence()
        speed()


if __name__ == "__main__":
    main()
