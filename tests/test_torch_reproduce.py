"""Report section 8 on ``zipml-hls reproduce``'s worker processes (its cells run there
alongside sections 3-6). Needs torch; CI runs the tests/test_torch*.py files after installing it."""

import pytest

pytest.importorskip("torch")


def test_deep_learning_cells_on_workers_give_the_in_process_experiment_and_report_failure():
    # Section 8's cells run in other interpreters: the same numbers as the whole experiment in
    # this process (one thread, seeded), and a failure there is an error here.
    from zipml_hls import deep_learning, experiments, reproduce

    settings = {"networks": ("mlp",), "seeds": 2, "epochs": 1}
    sizes = {**reproduce.DEFAULT, "synthetic": (100, 3), "skewed": (100, 3), "limits": (100, 3),
             "deep_learning": settings}
    datasets = experiments.regression_datasets(*sizes["synthetic"])
    runs, combine = reproduce._untimed_plan(datasets, None, True, sizes, torch=True)["deep_learning"]
    with reproduce._Workers(2, torch=True) as pool:
        pool.wait_ready()
        results = {}
        pool.run(runs, results.__setitem__)
    there = combine([results[i] for i in range(len(runs))])
    here = deep_learning.experiment(networks=("mlp",), seeds=range(2), epochs=1)
    for task in here["results"]:
        rows = [(r["scheme"], r["bits"], r["accuracies"]) for r in here["results"][task]["mlp"]["rows"]]
        assert rows == [(r["scheme"], r["bits"], r["accuracies"]) for r in there["results"][task]["mlp"]["rows"]]
        assert here["results"][task]["mlp"]["ranking"] == there["results"][task]["mlp"]["ranking"]
    assert list(there["results"]) == list(here["results"]) and there["seeds"] == here["seeds"] == [0, 1]
    assert there["seconds"] > 0
    with pytest.raises(RuntimeError, match="worker process of the report failed"):
        with reproduce._Workers(1, torch=True) as pool:
            pool.run([(reproduce._deep_learning_cell, ("digits", "no such network", ("fp32", 32), 1, 1))],
                     lambda i, r: None)
