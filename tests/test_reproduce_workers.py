"""`zipml-hls reproduce` runs its untimed sections as independent, seeded runs on worker
processes: the same results as in this process, and as the experiments' own functions."""

import numpy as np
import pytest

from zipml_hls import experiments as E
from zipml_hls import reproduce as R

SIZES = {**R.DEFAULT, "synthetic": (600, 8), "epochs": 3, "skewed": (400, 6), "levels_epochs": 3,
         "limits": (200, 4), "limits_seeds": 2}
CLASSES = {"breast cancer": E.classification_datasets()["breast cancer"]}


def _untimed(workers: int) -> dict:
    datasets = E.regression_datasets(*SIZES["synthetic"])
    plan = R._untimed_plan(datasets, CLASSES, True, SIZES, torch=False)
    with R._Workers(workers, torch=False) as pool:
        pool.wait_ready()
        done = []
        results = R._run_plan(pool, plan, done.append)
    assert sorted(done) == sorted(R.SECTION_TITLES[s].split(":")[0] for s in plan)
    return results


def test_untimed_sections_give_the_same_results_on_workers_as_here_and_as_the_experiments():
    here, there = _untimed(0), _untimed(2)
    assert here == there  # exact: every run is seeded
    assert here["deep_learning"] is None
    # the parts put together again are the experiments' own results
    X, y = E.regression_datasets(*SIZES["synthetic"])["synthetic 600x8"]
    assert here["naive_bias"] == {b: E.naive_bias(X, y, bits=b, epochs=6) for b in (1, 2)}
    skewed = E.skewed_datasets(*SIZES["skewed"])
    assert here["levels"] == {n: E.levels_claim(Xs, ys, epochs=3) for n, (Xs, ys) in skewed.items()}
    lognormal, cancer = skewed
    assert here["levels_variance"] == {lognormal: [E.levels_variance(E.lognormal_regression(400, 6, seed)[0])
                                                   for seed in range(5)],
                                       cancer: [E.levels_variance(skewed[cancer][0])]}
    assert here["precision_limits"] == {n: E.precision_limits(Xl, yl, seeds=range(2), epochs=3)
                                        for n, (Xl, yl) in E.limits_datasets(200, 4).items()}
    assert here["nonlinear"] == {n: E.nonlinear(split, epochs=3) for n, split in CLASSES.items()}


def test_workers_return_each_runs_result_and_fail_loudly():
    runs = [(np.arange, (n,)) for n in range(7)]
    got = {}
    with R._Workers(2, torch=False) as pool:
        pool.wait_ready()
        pool.run(runs, got.__setitem__)
    assert sorted(got) == list(range(7)) and all(np.array_equal(got[n], np.arange(n)) for n in got)
    with pytest.raises(RuntimeError, match="worker process of the report failed"):
        with R._Workers(2, torch=False) as pool:
            pool.run([(int, ("not a number",))] + runs, lambda i, r: None)
