"""Concurrent saves to one path: in each trial two threads save different fitted models to
the same file at once; afterwards the file must load and equal one of the two, and no
temporary file may be left. Prints the counts of corrupt files, errors and leftovers.

    python scripts/concurrent_saves.py [--trials 1000]
"""
import argparse
import os
import tempfile
import threading
import warnings

import numpy as np

from zipml_hls import ZipMLRegressor
from zipml_hls.model_io import load_model, save_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5))
    y = X @ rng.standard_normal(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 3 epochs are enough for two distinct models
        models = [ZipMLRegressor(bits=b, max_iter=3, random_state=s).fit(X, y) for b, s in ((4, 1), (8, 2))]
    folder = tempfile.mkdtemp()
    path = os.path.join(folder, "m.zipml")
    corrupt = errors = 0
    for _ in range(args.trials):
        failures = []

        def save(model):
            try:
                save_model(model, path)
            except Exception as exc:  # counted: any error is a failure here
                failures.append(exc)

        threads = [threading.Thread(target=save, args=(m,)) for m in models]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        errors += len(failures)
        try:
            coef = load_model(path).coef_
            corrupt += not any(np.array_equal(coef, m.coef_) for m in models)
        except Exception:
            corrupt += 1
    leftovers = [f for f in os.listdir(folder) if f != "m.zipml"]
    print(f"trials {args.trials}: corrupt files {corrupt}, errors {errors}, temporary files left {len(leftovers)}")


if __name__ == "__main__":
    main()
